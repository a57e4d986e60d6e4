"""Issue 12, "a locked admin API": the sync authenticates the nginx it pushes to (a TCP target
needs the shared admin token, or an explicit opt-out; a unix socket is checked by its owner), and
it corrects any snapshot it did not push, also one under the same generation (nginx reports the
content digest of the snapshot it holds)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from sync_fake_admin import FakeAdmin
from sync_helpers import Sync, free_port, http_call, wait_until
from test_sync_serve import basic_config

NO_TOKEN = "has no admin token, so the sync cannot tell nginx from any process that bound that port"


@pytest.fixture
def fake():
    f = FakeAdmin(free_port()).start()
    yield f
    f.stop()


def strict_env(db: Sync, **extra) -> dict:
    """The environment without the test suite's opt-out (sync_helpers sets it for other tests)."""
    return db.env(**{"ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN": None, **extra})


def test_tcp_target_without_token_is_refused(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    env = strict_env(db)
    for args in (["push"], ["alias", "invalidate"]):
        r = db.run(*args, "--nginx", fake.target, env=env, expect=2)
        assert NO_TOKEN in r.stderr and "--allow-tcp-without-token" in r.stderr, r.stderr
    srv = serve(db, "--nginx", fake.target, env=env)
    srv.proc.wait(timeout=10)
    assert srv.proc.returncode == 2 and NO_TOKEN in srv.log()
    srv.stop()
    assert fake.polls == 0 and fake.push_count() == 0, "nothing may reach an unauthenticated TCP target"
    # The same refusal when the target comes from the environment; a bad opt-out value is refused too.
    r = db.run("push", env=strict_env(db, ROUTESHIFT_NGINX_ADMIN=fake.target), expect=2)
    assert NO_TOKEN in r.stderr
    r = db.run("push", "--nginx", fake.target, env=strict_env(db, ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN="yes"), expect=2)
    assert "ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN must be 1 or 0" in r.stderr
    r = db.run("push", "--nginx", fake.target, env=strict_env(db, ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN="0"), expect=2)
    assert NO_TOKEN in r.stderr
    assert fake.push_count() == 0
    # The explicit opt-out: pushed, with a warning naming the risk.
    r = db.run("push", "--nginx", fake.target, "--allow-tcp-without-token", env=env)
    assert "no admin token for the TCP target" in r.stderr and fake.push_count() == 1


def digest_of(port: int) -> tuple[int, str]:
    r = http_call(port, "GET", "/admin/snapshot/generation")
    assert r.status == 200, r
    return r.json["generation"], r.json["digest"]


def test_foreign_snapshot_with_the_same_generation_is_corrected(db: Sync, fake: FakeAdmin, nginx, serve, upstream):
    db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", upstream.base_url)
    db.run("model", "add", "--provider", "local", "--model", "m1")
    db.run("provider-key", "add", "--provider", "local", "--label", "k1", input="sk-foreign-test-1")
    db.run("alias", "set", "--alias", "smart", "--target", "m1")
    gen = db.generation()
    assert digest_of(nginx.admin_port) == (0, "")  # nothing loaded yet

    # A unix-socket target needs no token (the sync checks the socket's owner instead).
    srv = serve(db, "--nginx", nginx.admin_unix_target, "--poll-ms", "200", env=strict_env(db))
    srv.wait_log(r"pushed generation %d to unix:" % gen)
    held_gen, pushed = digest_of(nginx.admin_port)
    assert held_gen == gen and len(pushed) == 64
    status = http_call(nginx.admin_port, "GET", "/admin/status").json
    assert status["snapshot_digest"] == pushed

    # What the sync pushes, captured by the fake; then someone else PUTs it with one alias changed
    # and the same generation.
    db.run("push", "--nginx", fake.target)
    doc = fake.doc
    assert doc["generation"] == gen
    doc["model_aliases"][0]["target"] = "local/m1"
    foreign = json.dumps(doc).encode()
    r = http_call(nginx.admin_port, "PUT", "/admin/snapshot", body=foreign)
    assert r.status == 200 and r.json["generation"] == gen, r
    t0 = time.monotonic()
    held = digest_of(nginx.admin_port)
    # the bytes it holds: the foreign ones, unless the sync's poll (every 200 ms) already restored its own
    assert held in ((gen, hashlib.sha256(foreign).hexdigest()), (gen, pushed)), "nginx reports the digest of the bytes it holds"

    wait_until(lambda: digest_of(nginx.admin_port)[1] == pushed, 2.5, 0.02, "the sync to restore its snapshot")
    elapsed = time.monotonic() - t0
    assert elapsed < 2.0, f"corrected after {elapsed:.2f}s"
    srv.wait_log(r"holds a snapshot this sync did not push \(generation %d, digest %s, pushed %s\): re-pushing "
                 r"\(foreign snapshot 1 on this target\)" % (gen, held[1][:12], pushed[:12]))
    assert http_call(nginx.admin_port, "GET", "/admin/status").json["snapshot_digest"] == pushed

    # A second foreign push is counted as the second.
    r = http_call(nginx.admin_port, "PUT", "/admin/snapshot", body=foreign)
    assert r.status == 200
    srv.wait_log(r"foreign snapshot 2 on this target")
    wait_until(lambda: digest_of(nginx.admin_port)[1] == pushed, 2.5, 0.02, "the second correction")
    # The sync's own pushes are never mistaken for foreign ones: a change is one push, no correction.
    db.sql("UPDATE model_aliases SET target = 'local/m1'")
    srv.wait_log(r"pushed generation %d " % db.generation())
    time.sleep(0.6)
    assert "foreign snapshot 3" not in srv.log()
    assert "sk-foreign-test-1" not in srv.log()
