"""`routeshift-sync serve` push protocol against a fake admin endpoint (no nginx needed): initial
push, NOTIFY -> push within 1 s, restart detection by generation polling, rejected pushes, invalid
rows, nginx down/up, Postgres down/up, start without Postgres, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from sync_fake_admin import FakeAdmin
from sync_helpers import PSQL, PgCluster, Sync, free_port, new_master_secret, psql, wait_until


@pytest.fixture
def fake():
    f = FakeAdmin(free_port()).start()
    yield f
    f.stop()


def basic_config(db: Sync) -> None:
    db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "local", "--model", "m1")
    db.run("provider-key", "add", "--provider", "local", "--label", "main", input="sk-local-secret-1")
    db.run("alias", "set", "--alias", "smart", "--target", "m1")


def wait_generation(fake: FakeAdmin, gen: int, timeout: float = 5.0) -> None:
    try:
        wait_until(lambda: fake.generation == gen, timeout, what=f"fake admin at generation {gen}")
    except AssertionError as e:  # the generation it holds at the deadline, not at the start
        raise AssertionError(f"{e} (it holds {fake.generation})") from None


def test_initial_push_then_each_change_within_1s(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    wait_generation(fake, db.generation())
    assert fake.doc["model_aliases"] == [{"team_id": None, "alias": "smart", "target": "m1"}]
    assert fake.doc["provider_keys"][0]["secret"] == "sk-local-secret-1"
    for target in ("m2", "m3", "m1"):
        n = fake.push_count()
        db.sql(f"UPDATE model_aliases SET target = '{target}'")
        t0 = time.monotonic()
        wait_until(lambda: fake.push_count() > n, 1.0, 0.005, "push after UPDATE")
        p = fake.pushes[-1]
        assert p["t"] - t0 < 1.0
        assert p["generation"] == db.generation()
        assert p["doc"]["model_aliases"][0]["target"] == target
    srv.wait_log(r"pushed generation \d+ to http://127\.0\.0\.1")
    # several changes in one transaction -> one generation
    g = db.generation()
    db.sql("BEGIN; UPDATE model_aliases SET target = 'x1'; UPDATE model_aliases SET target = 'x2'; COMMIT;")
    wait_generation(fake, g + 1)
    assert fake.doc["model_aliases"][0]["target"] == "x2"


def test_change_notified_while_another_query_runs_is_pushed(db: Sync, fake: FakeAdmin, serve):
    """A NOTIFY that reaches the sync while it is inside another query or transaction (here its
    rebuild, held up by a lock on virtual_keys) comes with that query's answer and libpq keeps it:
    the socket never turns readable for it, so the serve loop must take the notifications libpq
    already holds before it sleeps. The poll interval is a minute, so no periodic re-read of the
    generation can hide a lost notification (the full suite lost pushes this way under load)."""
    basic_config(db)
    serve(db, "--nginx", fake.target, "--poll-ms", "60000")
    wait_generation(fake, db.generation())
    holder = subprocess.Popen([PSQL, db.db_url, "-XAtq", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write("BEGIN;\nLOCK TABLE virtual_keys IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "locked"
        db.sql("UPDATE model_aliases SET target = 'first'")  # the rebuild it starts waits for the lock
        wait_until(lambda: psql(db.db_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                           " AND wait_event_type = 'Lock' AND query LIKE '%virtual_keys%'") == "1",
                   10.0, what="the sync's rebuild waiting for the lock")
        db.sql("UPDATE model_aliases SET target = 'second'")  # notified to a session inside a transaction
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
        wait_generation(fake, db.generation(), timeout=5.0)
        assert fake.doc["model_aliases"][0]["target"] == "second"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_restart_detected_and_repushed(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    gen = db.generation()
    wait_generation(fake, gen)
    n = fake.push_count()
    time.sleep(1.5)
    assert fake.push_count() == n, "no re-push while nginx reports the pushed generation"
    fake.restart()
    t0 = time.monotonic()
    wait_generation(fake, gen, timeout=3.0)
    assert time.monotonic() - t0 < 2.5
    srv.wait_log(r"reports generation 0, expected \d+ \(nginx restarted\): re-pushing")
    # invalidations bump the epoch: not a restart
    with fake.lock:
        fake.epoch += 3
    n = fake.push_count()
    time.sleep(1.5)
    assert fake.push_count() == n
    # an epoch going backwards (a new zone that loaded a snapshot file with the same generation) is
    with fake.lock:
        fake.epoch = 0
    wait_until(lambda: fake.push_count() > n, 3.0, what="re-push after epoch reset")


def test_first_contact_pushes_even_with_equal_generation(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    with fake.lock:
        fake.generation = db.generation()  # e.g. loaded from a snapshot file
    serve(db, "--nginx", fake.target)
    wait_until(lambda: fake.push_count() == 1, 5.0, what="first push")
    time.sleep(1.2)
    assert fake.push_count() == 1


def test_invalid_row_quarantined_rest_pushed(db: Sync, fake: FakeAdmin, serve):
    """A row only the module's validator rejects is quarantined (issue 12): its last good version
    keeps serving, every other change of the same commit is pushed, the row is reported."""
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    good = db.generation()
    wait_generation(fake, good)
    kid = db.sql("SELECT id FROM provider_keys")
    db.sql("BEGIN; UPDATE provider_keys SET metadata = '{\"auth_header\": \"cookie\"}';"
           " UPDATE model_aliases SET target = 'm2'; COMMIT;")
    m = srv.wait_log(r"config generation (\d+): QUARANTINED provider_keys id " + kid +
                     r" \(its last good version is served\): provider_keys\[0\] \(id " + kid + r"\).*auth_header")
    assert int(m.group(1)) == good + 1
    wait_generation(fake, good + 1)
    assert fake.doc["model_aliases"][0]["target"] == "m2"  # the rest of the commit flows
    assert fake.doc["provider_keys"][0]["metadata"] == {}  # the key in its last good version
    q = fake.doc["quarantined"]
    assert q[0]["table"] == "provider_keys" and q[0]["id"] == int(kid) and q[0]["kept_previous"] is True, q
    # nginx restarting meanwhile gets the newest snapshot back
    fake.restart()
    wait_generation(fake, good + 1, timeout=3.0)
    # fixing the row ships it and ends the quarantine
    db.sql("UPDATE provider_keys SET metadata = '{\"auth_header\": \"api-key\"}'")
    wait_generation(fake, good + 2)
    assert fake.doc["provider_keys"][0]["metadata"] == {"auth_header": "api-key"}
    assert "quarantined" not in fake.doc


def test_undecryptable_secret_quarantined(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    db.run("provider-key", "add", "--provider", "local", "--label", "second", input="sk-local-secret-2")
    srv = serve(db, "--nginx", fake.target)
    good = db.generation()
    wait_generation(fake, good)
    db.sql("UPDATE provider_keys SET secret_ciphertext = (SELECT secret_ciphertext FROM provider_keys WHERE label='main'),"
           " secret_nonce = (SELECT secret_nonce FROM provider_keys WHERE label='main') WHERE label = 'second'")
    srv.wait_log(r"QUARANTINED provider_keys id \d+ \(its last good version is served\): "
                 r"provider_keys id \d+ \(provider local, label second\): secret does not decrypt")
    wait_generation(fake, good + 1)
    secrets = {k["label"]: k["secret"] for k in fake.doc["provider_keys"]}
    assert secrets == {"main": "sk-local-secret-1", "second": "sk-local-secret-2"}
    assert "sk-local-secret" not in srv.log()


def test_rejected_push_is_logged_and_not_retried(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    good = db.generation()
    wait_generation(fake, good)
    fake.reject = "snapshot rejected: routeshift_zone is too small; key sk-local-secret-1 leaked?"
    db.sql("UPDATE model_aliases SET target = 'm9'")
    srv.wait_log(r"rejected generation \d+ \(HTTP 400\): snapshot rejected: routeshift_zone is too small; "
                 r"key \[redacted\] leaked\?; its previous snapshot stays active")
    n = fake.push_count()
    time.sleep(2.2)
    assert fake.push_count() == n, "a rejected generation is not pushed again"
    assert fake.generation == good
    assert "sk-local-secret-1" not in srv.log()
    fake.reject = None
    db.sql("UPDATE model_aliases SET target = 'm1'")
    wait_generation(fake, db.generation())


def test_first_push_rejected_then_restarted_target_gets_it(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    fake.reject = "snapshot rejected: this nginx build is too old"
    srv = serve(db, "--nginx", fake.target)
    srv.wait_log(r"rejected generation \d+ \(HTTP 400\): snapshot rejected: this nginx build is too old")
    time.sleep(1.5)
    assert fake.push_count() == 1 and fake.generation == 0
    fake.reject = None  # e.g. upgraded and restarted
    with fake.lock:
        fake.generation, fake.epoch = 0, 0
        fake.pushes.clear()
    # still generation 0: nothing says it restarted, so it is not re-pushed...
    time.sleep(1.5)
    assert fake.push_count() == 0
    # ...but a target that disappears and comes back is
    fake.stop()
    srv.wait_log(r"nginx target http://127\.0\.0\.1:\d+/admin: ")
    fake.start()
    wait_generation(fake, db.generation(), timeout=4.0)


def test_nginx_down_then_back(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    wait_generation(fake, db.generation())
    fake.stop()
    db.sql("UPDATE model_aliases SET target = 'm5'")
    srv.wait_log(r"nginx target http://127\.0\.0\.1:\d+/admin: ")
    fake.restart()
    fake.start()
    wait_generation(fake, db.generation(), timeout=4.0)
    assert fake.doc["model_aliases"][0]["target"] == "m5"
    srv.wait_log(r"is reachable again")


def test_two_targets(db: Sync, serve):
    a, b = FakeAdmin(free_port()).start(), FakeAdmin(free_port()).start()
    try:
        basic_config(db)
        serve(db, "--nginx", a.target, "--nginx", b.target)
        wait_generation(a, db.generation())
        wait_generation(b, db.generation())
        db.sql("UPDATE model_aliases SET target = 'mm'")
        wait_generation(a, db.generation(), 1.0)
        wait_generation(b, db.generation(), 1.0)
    finally:
        a.stop()
        b.stop()


def test_postgres_down_and_back(fake: FakeAdmin, serve, sync_bin, transcript):
    pg = PgCluster().start()
    try:
        db = Sync(pg.new_database(), new_master_secret(), transcript)
        db.run("migrate")
        basic_config(db)
        srv = serve(db, "--nginx", fake.target, "--backoff-max-ms", "500")
        good = db.generation()
        wait_generation(fake, good)
        pg.stop()
        srv.wait_log(r"lost the Postgres connection")
        time.sleep(1.0)
        assert srv.alive() and fake.generation == good
        # nginx restarts while Postgres is down: the last good snapshot comes from memory
        fake.restart()
        wait_generation(fake, good, timeout=3.0)
        pg.start()
        srv.wait_log(r"connected to Postgres again", timeout=10)
        db.sql("UPDATE model_aliases SET target = 'after-restart'")
        wait_generation(fake, good + 1, timeout=3.0)
        assert fake.doc["model_aliases"][0]["target"] == "after-restart"
    finally:
        pg.destroy()


def test_start_without_postgres_then_it_appears(fake: FakeAdmin, serve, sync_bin, transcript):
    pg = PgCluster().start()
    try:
        db = Sync(pg.new_database(), new_master_secret(), transcript)
        db.run("migrate")
        basic_config(db)
        pg.stop()
        srv = serve(db, "--nginx", fake.target, "--backoff-max-ms", "400")
        srv.wait_log(r"cannot use Postgres")
        time.sleep(1.0)
        assert srv.alive() and fake.push_count() == 0
        pg.start()
        wait_generation(fake, db.generation(), timeout=5.0)
    finally:
        pg.destroy()


def test_unmigrated_database_is_waited_for(pg_cluster, fake: FakeAdmin, serve, transcript):
    db = Sync(pg_cluster.new_database(), new_master_secret(), transcript)
    srv = serve(db, "--nginx", fake.target, "--backoff-max-ms", "300")
    srv.wait_log(r"run `routeshift-sync migrate`")
    db.run("migrate")
    wait_generation(fake, db.generation(), timeout=5.0)


def test_signals(db: Sync, fake: FakeAdmin, serve):
    basic_config(db)
    srv = serve(db, "--nginx", fake.target)
    wait_generation(fake, db.generation())
    n = fake.push_count()
    os.kill(srv.proc.pid, signal.SIGHUP)  # rebuild and re-push
    wait_until(lambda: fake.push_count() > n, 3.0, what="push after SIGHUP")
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=5) == 0
    assert "received SIGINT, exiting" in srv.log()
    srv2 = serve(db, "--nginx", fake.target)
    srv2.wait_log(r"nginx target")
    t0 = time.monotonic()
    assert srv2.stop() == 0
    assert time.monotonic() - t0 < 2.0
    assert "received SIGTERM, exiting" in srv2.log()


def test_fatal_config_errors_exit_2(db: Sync, fake: FakeAdmin):
    r = db.run("serve", "--nginx", fake.target, env=db.env(PROVIDER_KEY_SECRET="short"), expect=2)
    assert "too short" in r.stderr
    db.run("serve", "--nginx", "https://127.0.0.1:1/admin", expect=2)
    db.run("serve", "--nginx", fake.target, "--poll-ms", "0", expect=2)
