"""Balancing strategies across two nginx workers (docs/design.md §9): latency-based moves traffic to
the fast key and explores a recovered one; least-busy spreads long streams evenly; priority tiers
keep a backup idle until the primary is cooling or limited."""

from __future__ import annotations

import threading
import time
from collections import Counter

from helpers import Snapshot, chat_body
from mock_provider import Reply


def secrets_used(m, secrets) -> list[str]:
    return [next(s for s in secrets if q.carries(s)) for q in m.requests]


def run_parallel(gw, n, body, vk) -> list:
    results = [None] * n

    def one(i):
        results[i] = gw.chat(body, key=vk, timeout=30)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_latency_moves_traffic_to_the_fast_key_and_explores_a_recovered_one(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    s.settings["latency_window_seconds"] = 5  # five 1-second buckets: the test stays short
    p = s.provider("openai", "openai", m.base_url())
    s.providers[-1]["balancing"] = "latency"
    slow = s.key(p, label="slow")
    fast = s.key(p, label="fast", weight=1)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    m.set_default(Reply.completion("slow", delay=0.3), key=slow)
    m.set_default(Reply.completion("fast", delay=0.01), key=fast)
    for _ in range(12):
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200, r.describe()
    used = secrets_used(m, [slow, fast])
    assert Counter(used)[slow] == 1, f"the slow key is explored once, then avoided: {used}"
    assert used[2:] == [fast] * 10, used
    st_slow, st_fast = gw.key_status(s.key_id(slow)), gw.key_status(s.key_id(fast))
    assert st_slow["strategy"] == "latency" and st_slow["latency_samples"] == 1, st_slow
    assert st_fast["p50_ms"] is not None and st_slow["p50_ms"] is not None
    assert st_fast["p50_ms"] * 4 < st_slow["p50_ms"], (st_fast, st_slow)

    # the slow key recovers; its samples age out of the window while the fast key keeps serving
    m.set_default(Reply.completion("recovered", delay=0.01), key=slow)
    deadline = time.monotonic() + 8
    while gw.key_status(s.key_id(slow))["p50_ms"] is not None:
        assert time.monotonic() < deadline, "the slow key's samples never left the window"
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
        time.sleep(0.3)
    before = len(m.requests_for(slow))
    for _ in range(6):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert len(m.requests_for(slow)) > before, "a key without samples must be explored again"
    assert gw.key_status(s.key_id(slow))["p50_ms"] is not None


def test_least_busy_spreads_long_streams_evenly(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.providers[-1]["balancing"] = "least_busy"
    keys = [s.key(p, label="heavy", weight=10), s.key(p, label="k2"), s.key(p, label="k3")]
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    m.set_default(Reply.stream(["a", "b", "c", "d", "e"], delay=0.3))  # ~1.8 s per stream
    results = run_parallel(gw, 6, chat_body("gpt-4o", stream=True), vk)
    assert all(r.status == 200 for r in results), [r.describe() for r in results if r.status != 200]
    counts = Counter(secrets_used(m, keys))
    # smooth WRR by weight would send ~5 of 6 to the heavy key; least-busy: 2 each
    assert [counts[k] for k in keys] == [2, 2, 2], counts
    st = gw.key_status(s.key_id(keys[0]))
    assert st["strategy"] == "least_busy" and st["inflight"] == 0, st


def test_priority_tiers_backup_only_while_primary_cools_or_is_limited(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    primary = s.key(p, label="primary", weight=1, cooldown_seconds=1)
    backup = s.key(p, label="backup", weight=1000)
    s.provider_keys[-1]["priority"] = 1
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    for _ in range(6):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert secrets_used(m, [primary, backup]) == [primary] * 6, "a 1000:1 weight never beats the tier"
    assert gw.key_status(s.key_id(backup))["priority"] == 1

    # primary fails: the request fails over to the backup, which serves while primary cools
    m.enqueue(Reply.error(500, "down"), key=primary)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200 and r.header("X-RouteShift-Attempts") == "2", r.describe()
    for _ in range(3):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert secrets_used(m, [primary, backup])[6:] == [primary, backup, backup, backup, backup]
    time.sleep(1.2)  # cooldown over: back to the primary
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert m.requests[-1].carries(primary)

    # a limited primary also hands over to the backup
    s.provider_keys[0]["rpm"] = 2
    gw.push(s.bump())
    m.reset()
    for _ in range(4):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    used = secrets_used(m, [primary, backup])
    assert Counter(used)[backup] >= 2 and Counter(used)[primary] <= 2, used
