"""Request logs end to end (docs/design.md §11): nginx + RouteShift spool every request, `routeshift-sync
serve --log-spool` ships them to request_logs. Requests of several outcomes are sent while the shipper
is killed with -9, Postgres is stopped for a while, nginx is reloaded and restarted and the spool
rotates (4 KiB files): afterwards request_logs holds exactly one row per request, with the right
status, cost and tags. Also: the lag from the response to the row (p99 printed and bounded), monthly
partitions and retention, `ship --once` replays nothing twice."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

import sync_helpers
from sync_helpers import Nginx, http_call, new_provider_secret, wait_until

SPOOL_DIRECTIVE = "    routeshift_log_spool {spool} file_size=4k file_time=1s;\n"


@pytest.fixture
def spool_nginx(monkeypatch, tmp_path):
    """nginx factory whose config carries routeshift_log_spool <prefix>/spool (world-writable: the
    workers run as nobody)."""
    # directly under /tmp: the workers (nobody) cannot pass pytest's 0700 directories
    spool = Path(tempfile.mkdtemp(prefix="rs-spool-"))
    os.chmod(spool, 0o777)
    conf = sync_helpers.NGINX_CONF.replace(
        "    routeshift_zone routeshift 16m;\n",
        "    routeshift_zone routeshift 16m;\n" + SPOOL_DIRECTIVE.format(spool=spool))
    monkeypatch.setattr(sync_helpers, "NGINX_CONF", conf)
    started: list[Nginx] = []

    def make(prefix: Path) -> Nginx:
        n = Nginx(prefix)
        n.spool = spool
        started.append(n)
        return n

    yield make
    for n in started:
        n.stop()
    shutil.rmtree(spool, ignore_errors=True)


class LogStack:
    def __init__(self, db, upstream, nginx: Nginx, serve):
        self.db, self.upstream, self.nginx, self.serve = db, upstream, nginx, serve
        self.spool = nginx.spool
        db.nginx = [nginx.admin_target]
        db.run("provider", "add", "--name", "mock", "--kind", "openai_compat", "--base-url", upstream.base_url)
        db.run("model", "add", "--provider", "mock", "--model", "m1")
        db.run("model", "add", "--provider", "mock", "--model", "echo-auth")
        db.run("provider-key", "add", "--provider", "mock", "--label", "k1", "--cooldown", "0",
               input=new_provider_secret("k1") + "\n")
        # 1 microcent per prompt token, 2 per completion token: the mock's usage 3/1 costs 5
        db.sql("INSERT INTO model_prices (provider_id, model, input_microcents_per_mtok, "
               "output_microcents_per_mtok, effective_from) SELECT id, 'm1', 1000000, 2000000, "
               "'2000-01-01' FROM providers WHERE name = 'mock'")
        db.run("rule", "add", "--action", '{"tag": {"labels": ["logged"]}}', "--name", "tag-all")
        self.vkey = db.run("virtual-key", "create", "--team", "default", "--name", "logs").stdout.strip()
        self.srv = None

    def start_sync(self):
        self.srv = self.serve(self.db, "--backoff-max-ms", "500", "--log-spool", str(self.spool))
        self.wait_synced()

    def wait_synced(self, timeout: float = 10.0):
        gen = self.db.generation()
        wait_until(lambda: self.nginx.generation() == gen, timeout, what=f"nginx at generation {gen}")

    def send(self, outcome: str) -> int:
        body = {"model": "m1", "messages": [{"role": "user", "content": "hi"}], "metadata": {"run": "logs"}}
        headers = {"Authorization": f"Bearer {self.vkey}"}
        if outcome == "auth":
            headers["Authorization"] = "Bearer sk-proxy-wrong"
        elif outcome == "bad_request":
            body = {"model": "m1", "messages": "not a list"}
        elif outcome == "upstream_error":
            body["model"] = "echo-auth"  # the mock answers 400 (an upstream error relayed)
        r = http_call(self.nginx.port, "POST", "/v1/chat/completions", body=body, headers=headers)
        return r.status

    def rows(self, where: str = "true") -> int:
        return int(self.db.sql(f"SELECT count(*) FROM request_logs WHERE {where}"))


OUTCOMES = {"ok": 200, "auth": 401, "bad_request": 400, "upstream_error": 400}


def test_every_request_exactly_once_through_faults(db, pg_cluster, upstream, spool_nginx, serve, tmp_path):
    nginx = spool_nginx(tmp_path / "nginx").start()
    stack = LogStack(db, upstream, nginx, serve)
    stack.start_sync()
    sent: dict[str, int] = {k: 0 for k in OUTCOMES}

    def burst(n: int):
        for i in range(n):
            outcome = list(OUTCOMES)[i % len(OUTCOMES)]
            status = stack.send(outcome)
            assert status == OUTCOMES[outcome], (outcome, status, nginx.logs()[-2000:])
            sent[outcome] += 1

    burst(20)
    wait_until(lambda: stack.rows() == 20, 10,
               what=f"the first 20 rows (spool: {sorted(p.name for p in stack.spool.iterdir())}; "
                    f"sync log: {stack.srv.log()[-1500:]}; nginx: {nginx.logs()[-1500:]})")

    # kill -9 of the shipper (serve) in the middle of traffic, then start it again
    burst(8)
    os.kill(stack.srv.proc.pid, signal.SIGKILL)
    stack.srv.proc.wait(timeout=10)
    stack.srv.proc = None
    stack.srv.log_f.close()
    burst(12)
    stack.start_sync()

    # Postgres down for a while: nginx keeps spooling
    pg_cluster.stop()
    try:
        burst(16)
        time.sleep(1.5)
    finally:
        pg_cluster.start()

    # nginx -s reload and a restart: every worker's file is closed, nothing lost
    burst(8)
    os.kill(nginx.proc.pid, signal.SIGHUP)
    burst(8)
    time.sleep(1.0)
    nginx.stop()
    nginx.start()
    stack.wait_synced(timeout=15)
    burst(8)

    total = sum(sent.values())
    wait_until(lambda: stack.rows() == total, 20,
               what=f"{total} rows (have {stack.rows()}; sync log: {stack.srv.log()[-2000:]})")
    time.sleep(1.0)  # no late duplicates either
    assert stack.rows() == total
    assert int(db.sql("SELECT count(DISTINCT (request_id, ts)) FROM request_logs")) == total
    assert stack.rows("status = 200") == sent["ok"]
    assert stack.rows("status = 401") == sent["auth"]
    assert stack.rows("status = 400") == sent["bad_request"] + sent["upstream_error"]
    assert stack.rows("status = 400 AND attempts = 1 AND attempt_statuses = '{400}'") == sent["upstream_error"]
    # cost: usage 3 prompt × 1 + 1 completion × 2 microcents
    assert stack.rows("status = 200 AND cost_microcents = 5 AND prompt_tokens = 3 AND completion_tokens = 1") == sent["ok"]
    assert stack.rows("status = 200 AND tags = '{logged}' AND metadata = '{\"run\": \"logs\"}'") == sent["ok"]
    assert stack.rows("status = 401 AND virtual_key_id IS NULL") == sent["auth"]
    assert stack.rows("status = 200 AND endpoint = 'chat_completions'") == sent["ok"]
    # sessions: every successful request is the same first turn with the same answer, so one
    # inferred session (docs/design.md §12), whichever node state, worker or shipper run logged it
    assert stack.rows("status = 200 AND session_id LIKE 'ses\\_%'") == sent["ok"]
    assert db.sql("SELECT count(DISTINCT session_id) FROM request_logs WHERE status = 200") == "1"
    assert stack.rows("status = 200 AND jsonb_array_length(attempt_details) = 1 AND "
                      "attempt_details->0->>'provider' = 'mock'") == sent["ok"]
    # rotated files are deleted once shipped; what is left is the live files of the current workers
    wait_until(lambda: all(p.name.endswith(".part") for p in stack.spool.glob("rs-*")), 10,
               what=f"closed spool files deleted ({sorted(p.name for p in stack.spool.glob('rs-*'))})")
    log = stack.srv.log()
    assert "secret" not in db.sql("SELECT string_agg(metadata::text || attempt_details::text, '') FROM request_logs")
    assert stack.vkey not in db.sql("SELECT string_agg(request_logs::text, '') FROM request_logs")
    assert stack.vkey not in log


def test_lag_p99_under_2s(db, upstream, spool_nginx, serve, tmp_path):
    nginx = spool_nginx(tmp_path / "nginx").start()
    stack = LogStack(db, upstream, nginx, serve)
    stack.start_sync()
    lags = []
    for i in range(40):
        assert stack.send("ok") == 200
        t0 = time.monotonic()
        wait_until(lambda: stack.rows() == i + 1, 5, interval=0.01, what=f"row {i + 1}")
        lags.append(time.monotonic() - t0)
    lags.sort()
    p50, p99 = lags[len(lags) // 2], lags[min(len(lags) - 1, math.ceil(len(lags) * 0.99) - 1)]
    print(f"\nrequest-log lag over {len(lags)} requests: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    assert p99 <= 2.0, lags


def test_ship_once_replays_nothing_twice_and_skips_torn_lines(db, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    rec = {"request_id": "r-1", "ts": "2026-01-05T10:00:00.000Z", "node": "n", "status": 200, "attempts": 1,
           "attempt_statuses": [200], "stream": False, "prompt_tokens": 3, "completion_tokens": 1,
           "cached_tokens": None, "cost_microcents": 5, "metadata": {"a": 1}, "tags": ["t"],
           "matched_rules": [7], "attempt_details": [], "usage_estimated": True}
    lines = [json.dumps(dict(rec, request_id=f"r-{i}")) for i in range(5)]
    # a closed file with a torn line in the middle, and a live file ending in an unfinished line
    (spool / "rs-0000000000001-1-000001.jsonl").write_text("\n".join(lines[:3]) + "\n{\"torn\n")
    dead_pid = 99_999_999  # beyond any pid_max: no such process
    (spool / f"rs-0000000000002-{dead_pid}-000001.jsonl.part").write_text("\n".join(lines[3:]) + "\n{\"half")
    env = db.env(ROUTESHIFT_LOG_SPOOL=str(spool))
    r = db.run("ship", "--once", env=env, expect=1)  # the torn line is refused and reported
    assert "shipped 5 records (5 new, 1 refused)" in r.stdout, r.stdout + r.stderr
    assert int(db.sql("SELECT count(*) FROM request_logs")) == 5
    assert db.sql("SELECT usage_estimated, matched_rules, tags FROM request_logs WHERE request_id = 'r-0'") \
        == "t|{7}|{t}"
    assert not list(spool.glob("rs-*")), "shipped files (closed, or of a dead writer) are deleted"
    # the same records again (a crash before the state was saved): nothing is duplicated
    (spool / "rs-0000000000003-1-000001.jsonl").write_text("\n".join(lines) + "\n")
    r = db.run("ship", "--once", env=env)
    assert "shipped 5 records (0 new, 0 refused)" in r.stdout, r.stdout
    assert int(db.sql("SELECT count(*) FROM request_logs")) == 5


def test_partitions_ahead_and_retention(db):
    months = db.sql("SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'request_logs'::regclass")
    names = months.split(",")
    assert "request_logs_default" in names
    assert len([n for n in names if n != "request_logs_default"]) == 3, names  # this month + 2 ahead
    # a row of an old month in the default partition, then a partition for that month appears
    db.sql("INSERT INTO request_logs (ts, request_id, status) VALUES (now() - interval '400 days', 'old', 200), "
           "(now(), 'new', 200)")
    db.sql("UPDATE settings SET request_log_retention_days = 30")
    assert db.sql("SELECT request_logs_apply_retention()") == "0"  # no monthly partition is that old
    assert db.sql("SELECT string_agg(request_id, ',') FROM request_logs") == "new"
    # a partition that ended before the cut-off is dropped
    db.sql("CREATE TABLE request_logs_2001_01 PARTITION OF request_logs FOR VALUES FROM ('2001-01-01 00:00:00+00') "
           "TO ('2001-02-01 00:00:00+00')")
    assert db.sql("SELECT request_logs_apply_retention()") == "1"
    assert db.sql("SELECT to_regclass('request_logs_2001_01') IS NULL") == "t"
