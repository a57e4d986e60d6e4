"""Issue 12, the sync side: bad rows refused or quarantined, the master key verified, the last good
snapshot kept on disk, fast reconnects, concurrent pushes, a client that survives hostile answers
and never hands secrets to a peer that cannot prove it is nginx."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from sync_fake_admin import FakeAdmin
from sync_helpers import PgCluster, Sync, free_port, new_master_secret, psql, wait_until
from test_sync_serve import basic_config, wait_generation


@pytest.fixture
def fake():
    f = FakeAdmin(free_port()).start()
    yield f
    f.stop()


class RawAdmin:
    """A TCP server answering every connection with `answer` (None: accept and never answer)."""

    def __init__(self, answer: bytes | None):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.connections = 0
        self.requests = b""
        threading.Thread(target=self._run, daemon=True).start()

    @property
    def target(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin"

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.answer is None:
                self.held.append(c)  # hung: never a byte back
                continue
            try:
                c.settimeout(2)
                self.requests += c.recv(65536)
                c.sendall(self.answer)
            except OSError:
                pass
            c.close()

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def test_sql_refuses_openai_compat_without_base_url(db: Sync):
    r = db.run("provider", "add", "--name", "c", "--kind", "openai_compat", expect=1)
    assert "kind openai_compat needs a base_url" in r.stderr
    assert db.sql("SELECT count(*) FROM providers") == "0"


def test_cli_refuses_a_secret_under_another_master_key(db: Sync):
    basic_config(db)
    db.run("provider-key", "add", "--provider", "local", "--label", "second", input="sk-x-0")
    other = db.env(PROVIDER_KEY_SECRET=new_master_secret())
    r = db.run("provider-key", "add", "--provider", "local", "--label", "wrong", input="sk-x-1", env=other, expect=1)
    assert "not the key that sealed them" in r.stderr and "nothing was stored" in r.stderr
    assert db.sql("SELECT count(*) FROM provider_keys") == "2"
    r = db.run("provider-key", "rotate", "--provider", "local", "--label", "main", input="sk-x-2", env=other, expect=1)
    assert "not the key that sealed them" in r.stderr
    assert "valid" in db.run("check").stdout  # nothing changed
    # the right key still works
    db.run("provider-key", "add", "--provider", "local", "--label", "right", input="sk-x-3")


def test_serve_with_a_wrong_master_secret_exits_2(db: Sync, fake: FakeAdmin):
    basic_config(db)
    r = db.run("serve", "--nginx", fake.target, env=db.env(PROVIDER_KEY_SECRET=new_master_secret()),
               expect=2, timeout=30)
    assert "wrong master secret" in r.stderr
    assert fake.push_count() == 0


def test_last_good_snapshot_serves_a_restarted_nginx_while_postgres_is_down(fake: FakeAdmin, serve, transcript,
                                                                            tmp_path):
    pg = PgCluster().start()
    try:
        db = Sync(pg.new_database(), new_master_secret(), transcript)
        db.run("migrate")
        basic_config(db)
        last_good = tmp_path / "state" / "last-good-snapshot"
        last_good.parent.mkdir()
        srv = serve(db, "--nginx", fake.target, "--last-good-file", str(last_good))
        good = db.generation()
        wait_generation(fake, good)
        wait_until(last_good.exists, 5.0, what="last good snapshot written")
        assert stat.S_IMODE(last_good.stat().st_mode) == 0o600
        content = last_good.read_bytes()
        assert b"sk-local-secret-1" not in content and b"generation" not in content  # sealed
        assert srv.stop() == 0
        pg.stop()
        fake.restart()  # nginx restarted while neither Postgres nor the sync was there
        t0 = time.monotonic()
        srv2 = serve(db, "--nginx", fake.target, "--last-good-file", str(last_good))
        wait_generation(fake, good, timeout=5.0)
        assert time.monotonic() - t0 < 3.0
        assert fake.doc["provider_keys"][0]["secret"] == "sk-local-secret-1"
        srv2.wait_log(r"loaded the last good snapshot \(generation \d+\)")
        # the same file under another master key: a clear startup failure, exit 2
        r = db.run("serve", "--nginx", fake.target, "--last-good-file", str(last_good),
                   env=db.env(PROVIDER_KEY_SECRET=new_master_secret()), expect=2, timeout=30)
        assert "wrong master secret" in r.stderr and "does not open with this master key" in r.stderr
    finally:
        pg.destroy()


def test_change_after_a_postgres_outage_is_live_within_a_second(fake: FakeAdmin, serve, transcript):
    pg = PgCluster().start()
    try:
        db = Sync(pg.new_database(), new_master_secret(), transcript)
        db.run("migrate")
        basic_config(db)
        srv = serve(db, "--nginx", fake.target)  # default backoff: 250 ms -> 1 s
        good = db.generation()
        wait_generation(fake, good)
        pg.stop()
        srv.wait_log(r"lost the Postgres connection")
        time.sleep(4.0)  # long enough for a 30 s-style backoff to have grown
        pg.start()
        # commit as soon as Postgres accepts it, then time the arrival
        deadline = time.monotonic() + 60
        while psql(db.db_url, "UPDATE model_aliases SET target = 'after' RETURNING 'ok'", check=False) != "ok":
            assert time.monotonic() < deadline, "Postgres did not come back"
            time.sleep(0.05)
        t0 = time.monotonic()
        wait_generation(fake, db.generation(), timeout=5.0)
        elapsed = time.monotonic() - t0
        assert elapsed < 1.8, f"change live {elapsed:.2f} s after commit"
        assert fake.doc["model_aliases"][0]["target"] == "after"
    finally:
        pg.destroy()


def assert_each_change_live_within_a_second(db: Sync, fake: FakeAdmin) -> None:
    for target in ("m2", "m3"):
        db.sql(f"UPDATE model_aliases SET target = '{target}'")
        t0 = time.monotonic()
        wait_generation(fake, db.generation(), timeout=2.0)
        assert time.monotonic() - t0 < 1.0


def test_a_hung_nginx_does_not_delay_the_others(db: Sync, fake: FakeAdmin, serve):
    hung = RawAdmin(None)
    try:
        basic_config(db)
        serve(db, "--nginx", hung.target, "--nginx", fake.target, "--timeout-ms", "8000")
        wait_generation(fake, db.generation(), timeout=3.0)
        assert_each_change_live_within_a_second(db, fake)
    finally:
        hung.close()


def test_a_hung_nginx_does_not_delay_a_new_generation_while_budgets_are_pushed(db: Sync, fake: FakeAdmin, serve):
    """With a budget the sync also PUTs spent amounts to every target every poll interval; a target
    that never answers holds that exchange for the whole --timeout-ms, which must not hold up the
    config: the spend push has its own thread and connection."""
    hung = RawAdmin(None)
    try:
        basic_config(db)
        db.run("virtual-key", "create", "--team", "default", "--name", "budgeted")
        db.run("budget", "set", "--key", db.sql("SELECT id FROM virtual_keys WHERE name = 'budgeted'"), "--daily", "1")
        serve(db, "--nginx", hung.target, "--nginx", fake.target, "--timeout-ms", "8000", "--poll-ms", "200")
        wait_generation(fake, db.generation(), timeout=3.0)
        wait_until(lambda: hung.connections >= 2, 5.0, what="the poll and the spend push both hanging on the hung target")
        assert_each_change_live_within_a_second(db, fake)
    finally:
        hung.close()


def test_hostile_answers_never_stop_serve(db: Sync, fake: FakeAdmin, serve):
    answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nxx\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551617\r\n\r\n{}",
    ]
    hostile = [RawAdmin(a) for a in answers]
    try:
        basic_config(db)
        srv = serve(db, "--nginx", hostile[0].target, "--nginx", hostile[1].target, "--nginx", fake.target,
                    "--poll-ms", "100")
        wait_generation(fake, db.generation())
        wait_until(lambda: all(h.connections >= 3 for h in hostile), 10.0, what="several polls of each")
        assert srv.alive()
        log = srv.log()
        assert "bad chunk size" in log and "Content-Length" in log, log[-2000:]
        db.sql("UPDATE model_aliases SET target = 'still-alive'")
        # each poll also tries the two hostile targets first (and their backoff): allow a few polls
        wait_generation(fake, db.generation(), 15.0)
    finally:
        for h in hostile:
            h.close()


def test_token_target_never_sends_secrets_to_an_impostor(db: Sync, fake: FakeAdmin, serve, tmp_path):
    """The fake admin cannot prove it holds the token (like a process that bound the port while
    nginx was down): the sync talks to it but never PUTs a snapshot."""
    token_file = tmp_path / "admin.token"
    token_file.write_text(os.urandom(24).hex() + "\n")
    basic_config(db)
    srv = serve(db, "--nginx", fake.target, "--admin-token-file", str(token_file))
    srv.wait_log(r"did not prove it holds the admin token")
    time.sleep(1.5)
    assert fake.polls >= 1 and fake.push_count() == 0
    r = db.run("push", "--nginx", fake.target, "--admin-token-file", str(token_file), expect=1)
    assert "did not prove" in r.stderr and fake.push_count() == 0
    token_file.write_text("short\n")
    r = db.run("push", "--nginx", fake.target, "--admin-token-file", str(token_file), expect=2)
    assert "at least 32 characters" in r.stderr


IMPOSTOR = r"""
import os, socket, sys
got = open(sys.argv[2], "ab")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.setgid(65534)
os.setuid(65534)  # nobody: a listening socket carries the credentials of whoever called listen()
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        got.write(c.recv(65536)); got.flush()
        c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{"generation":0,"epoch":0}\n')
    except OSError:
        pass
    c.close()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the impostor as another user")
def test_unix_socket_served_by_another_user_is_refused(db: Sync, serve, tmp_path):
    path = tmp_path / "admin.sock"
    captured = tmp_path / "captured"
    captured.write_bytes(b"")
    proc = subprocess.Popen([sys.executable, "-c", IMPOSTOR, str(path), str(captured)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        basic_config(db)
        srv = serve(db, "--nginx", f"unix:{path}:/admin")
        srv.wait_log(r"the socket is served by uid 65534 .*refusing to talk to it")
        time.sleep(1.0)
        assert captured.read_bytes() == b"", "nothing at all may be sent to the impostor"
    finally:
        proc.kill()
        proc.wait()


def test_token_handshake_with_the_real_nginx(db: Sync, serve, tmp_path, upstream):
    """nginx with routeshift_admin_token_file and the sync with the same token: pushes go through
    (signed GET proves nginx, then the PUT on the same connection); unsigned TCP requests get 401."""
    import hashlib
    import hmac
    from sync_helpers import Nginx, http_call
    token = os.urandom(24).hex()
    token_file = tmp_path / "admin.token"
    token_file.write_text(token + "\n")
    ngx = Nginx(tmp_path / "nginx-token", http_extra=f"routeshift_admin_token_file {token_file};").start()
    try:
        db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", upstream.base_url)
        db.run("model", "add", "--provider", "local", "--model", "m1")
        db.run("provider-key", "add", "--provider", "local", "--label", "k1", input="sk-token-test-1")
        srv = serve(db, "--nginx", ngx.admin_target, "--admin-token-file", str(token_file))
        srv.wait_log(r"pushed generation \d+ to http://127\.0\.0\.1")
        nonce = "00112233445566778899aabbccddeeff"
        path = "/admin/snapshot/generation"
        mac = hmac.new(token.encode(), f"routeshift-admin-request\n{nonce}\nGET\n{path}".encode(), hashlib.sha256)
        r = http_call(ngx.admin_port, "GET", path, headers={"X-RouteShift-Admin-Auth": f"{nonce}:{mac.hexdigest()}"})
        assert r.status == 200 and r.json["generation"] == db.generation(), r
        assert http_call(ngx.admin_port, "GET", path).status == 401
        db.sql("UPDATE providers SET name = 'renamed'")
        srv.wait_log(r"pushed generation %d " % db.generation())
        assert token not in srv.log()
    finally:
        ngx.stop()
