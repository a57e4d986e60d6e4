"""The request-log spool (docs/design.md §11): every request of a routeshift_pass location becomes
exactly one JSON line in the spool, whatever its outcome — success, rate-limited (429), blocked by a
rule, auth failure, bad request (400), upstream error, client gone — across spool rotation and an
nginx reload. The spool's backlog is in the status JSON; a full spool drops records, counts them
and says so in the error log. (Shipping to Postgres: t/sync/integration/test_sync_log_shipping.py.)"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from helpers import Snapshot, chat_body
from mock_provider import Reply


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)

PER_TOKEN = 1_000_000  # microcents per Mtok: 1 microcent per token




def records(spool: Path) -> list[dict]:
    out = []
    for f in sorted(spool.glob("rs-*")):
        for line in f.read_text().splitlines():
            out.append(json.loads(line))
    return out


def world_with_spool(gw, mocks):
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    s.key(p, label="main", cooldown_seconds=0)
    s.model(p, "gpt-4o", "gpt-4o-2024-11-20")
    s.model(p, "*")
    vk = s.vkey()
    limited = s.vkey()
    s.virtual_keys[-1]["rpm_limit"] = 1
    snap = s.to_dict()
    snap["model_prices"] = [{"id": 1, "provider_id": p, "model": "gpt-4o-2024-11-20",
                             "input_microcents_per_mtok": PER_TOKEN, "output_microcents_per_mtok": 2 * PER_TOKEN,
                             "cached_input_microcents_per_mtok": None, "effective_from": 0}]
    snap["routing_rules"] = [
        {"id": 1, "name": "tag", "priority": 1, "match": {}, "action": {"tag": {"labels": ["logged"]}},
         "conditions": {}},
        {"id": 2, "name": "block", "priority": 2, "match": {"content_regex": "FORBIDDEN"},
         "action": {"block": {"status": 403, "message": "no"}}, "conditions": {}},
    ]
    gw.push(snap)
    return a, s, vk, limited


def client_gone(gw, key: str) -> None:
    """Sends a request and closes the connection before the (delayed) answer."""
    body = json.dumps(chat_body("gpt-4o", "slow")).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", gw.port)) as sock:
        sock.sendall(head + body)
        time.sleep(0.3)


def test_every_outcome_exactly_once(spool, gw_factory, mocks):  # spool first: removed last
    gw = gw_factory(http_extra=f"routeshift_log_spool {spool} file_size=4k file_time=1s;")
    a, s, vk, limited = world_with_spool(gw, mocks)
    n = 4
    expected = {}  # status -> count
    for _ in range(n):
        assert gw.chat(chat_body("gpt-4o", "hi", metadata={"team": "x", "route_hint": "gpt-4o"}), key=vk).status == 200
        assert gw.chat(chat_body("gpt-4o", "FORBIDDEN"), key=vk).status == 403
        assert gw.chat(chat_body("gpt-4o", "hi"), key="sk-proxy-wrong").status == 401
        assert gw.chat({"model": "gpt-4o", "messages": "x"}, key=vk).status == 400
        a.enqueue(Reply.error(500))
        assert gw.chat(chat_body("gpt-4o", "hi"), key=vk).status == 500
    assert gw.chat(chat_body("gpt-4o", "hi"), key=limited).status == 200
    for _ in range(n):
        assert gw.chat(chat_body("gpt-4o", "hi"), key=limited).status == 429
    gw.reload()  # old workers close their files; new ones start new ones
    for _ in range(n):
        a.enqueue(Reply.completion("late", delay=1.5))
        client_gone(gw, vk)
    time.sleep(2.0)
    expected = {200: n + 1, 403: n, 401: n, 400: n, 500: n, 429: n, 0: n}
    recs = records(spool)
    by_status: dict[int, list] = {}
    for r in recs:
        by_status.setdefault(r["status"], []).append(r)
    assert {k: len(v) for k, v in by_status.items()} == expected, [(r["status"], r["error"]) for r in recs]
    assert len({(r["request_id"], r["ts"]) for r in recs}) == len(recs)
    ok = by_status[200][0]
    assert ok["cost_microcents"] == 11 + 7 * 2, ok  # the mock's usage 11/7 at 1 and 2 microcents
    assert ok["tags"] == ["logged"] and ok["matched_rules"] == [1], ok
    assert ok["metadata"] == {"team": "x"}, ok  # route_hint is ours, not the client's analytics
    assert ok["provider"] == "openai" and ok["resolved_model"] == "gpt-4o-2024-11-20"
    assert ok["attempt_details"][0]["cost_microcents"] == 25
    blocked = by_status[403][0]
    assert blocked["error"] == "blocked_by_rule" and blocked["attempts"] == 0
    assert by_status[401][0]["virtual_key_id"] is None and by_status[401][0]["error"] == "invalid_api_key"
    assert by_status[500][0]["attempt_statuses"] == [500]
    assert by_status[500][0]["attempt_details"][0]["error_class"] == "http_500"
    assert by_status[429][0]["error"] == "rate_limit_exceeded"
    gone = by_status[0][0]
    assert gone["error"] == "client_closed_request", gone
    # rotation: several files, names sorting by creation time
    files = sorted(p.name for p in spool.glob("rs-*"))
    assert len(files) > 2, files
    text = "".join(p.read_text() for p in spool.glob("rs-*"))
    for secret in s.secrets + s.vkeys:
        assert secret not in text
    # the status JSON shows the backlog (scanned once a second)
    size = sum(p.stat().st_size for p in spool.glob("rs-*"))
    wait_until(lambda: gw.status()["spool"]["backlog_bytes"] == size, 5, what="backlog in the status JSON")
    st = gw.status()["spool"]
    assert st["dir"] == str(spool) and st["backlog_files"] == len(files) and st["dropped_records"] == 0, st


def test_full_spool_drops_counts_and_says_so(spool, gw_factory, mocks):
    gw = gw_factory(http_extra=f"routeshift_log_spool {spool} max_size=4k;")
    a, s, vk, _ = world_with_spool(gw, mocks)
    sent = 0
    while gw.status()["spool"]["dropped_records"] == 0:
        assert gw.chat(chat_body("gpt-4o", "hi"), key=vk).status == 200
        sent += 1
        assert sent < 100, "the 4 KiB spool never filled"
    st = gw.status()["spool"]
    kept = len(records(spool))
    assert kept + st["dropped_records"] == sent, (kept, st, sent)
    assert st["limit_bytes"] == 4096
    log = gw.error_log()
    assert "is filling" in log and "over 80%" in log, log[-2000:]
    assert "DROPPED" in log, log[-2000:]


def test_unpriced_model_cost_is_unknown_not_zero(spool, gw_factory, mocks):
    """Tokens used at a model without a price row: the cost is unknown — no cost header, an empty
    $routeshift_cost_microcents, NULL in the record — never a free-looking 0. A request that used
    no tokens (a 401) cost 0."""
    gw = gw_factory(http_extra=f"routeshift_log_spool {spool} file_time=1s;",
                    extra_log_fields=',"cost":"$routeshift_cost_microcents"')
    a, s, vk, _ = world_with_spool(gw, mocks)
    unpriced = gw.chat(chat_body("openai/gpt-4o-mini", "hi"), key=vk)  # served by the "*" row: no price
    assert unpriced.status == 200 and unpriced.header("X-RouteShift-Cost-Microcents") is None, unpriced.describe()
    priced = gw.chat(chat_body("gpt-4o", "hi"), key=vk)
    assert priced.status == 200 and priced.header("X-RouteShift-Cost-Microcents") == "25", priced.describe()
    denied = gw.chat(chat_body("gpt-4o", "hi"), key="sk-proxy-wrong")
    assert denied.status == 401 and denied.header("X-RouteShift-Cost-Microcents") == "0", denied.describe()
    assert [e["cost"] for e in gw.wait_access(3)[-3:]] == ["", "25", "0"]
    wait_until(lambda: len(records(spool)) == 3, 5, what="three records")
    recs = records(spool)
    mini = next(r for r in recs if r["status"] == 200 and r["requested_model"] == "openai/gpt-4o-mini")
    assert mini["cost_microcents"] is None and mini["attempt_details"][0]["cost_microcents"] is None, mini
    assert mini["prompt_tokens"] == 11 and mini["completion_tokens"] == 7, mini  # the tokens are still logged
    assert next(r for r in recs if r["requested_model"] == "gpt-4o")["cost_microcents"] == 25
    assert next(r for r in recs if r["status"] == 401)["cost_microcents"] == 0
