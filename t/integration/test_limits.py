"""RPM/TPM limits per provider key, virtual key and team, and the per-key circuit breaker, across
two nginx workers (docs/design.md §9)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from helpers import Snapshot, assert_openai_error, chat_body
from mock_provider import Reply


def one_provider(gw, mocks, n_keys=2, **key_kw):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    keys = [s.key(p, label=f"k{i}", **key_kw) for i in range(n_keys)]
    s.model(p, "gpt-4o")
    return m, s, keys


def test_key_rpm_limit_skips_the_key_then_429_with_retry_after(gw, mocks, sdk):
    m, s, (ka, kb) = one_provider(gw, mocks)
    s.provider_keys[0]["rpm"] = 2
    s.provider_keys[1]["rpm"] = 1
    vk = s.vkey()
    gw.push(s)
    for _ in range(3):
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200, r.describe()
    assert Counter(q.auth_secret() for q in m.requests) == {ka: 2, kb: 1}
    assert gw.key_status(s.key_id(ka))["rpm_used"] == 2
    assert gw.key_status(s.key_id(kb))["rpm_limit"] == 1
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    err = assert_openai_error(r, 429, code="rate_limit_exceeded")
    assert "rate limit" in err["message"], err
    retry_after = int(r.header("Retry-After"))
    assert 1 <= retry_after <= 120, r.describe()  # sliding window: at most two fixed windows
    assert len(m.requests) == 3, "a limited key must not be sent anything"
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain", "request": chat_body("gpt-4o")})
    assert res["error"]["status"] == 429 and res["error"]["code"] == "rate_limit_exceeded", res


def test_key_limits_follow_the_configured_window(gw, mocks):
    m, s, (ka,) = one_provider(gw, mocks, n_keys=1)
    s.settings["rate_limit_window_seconds"] = 1
    s.provider_keys[0]["rpm"] = 2
    vk = s.vkey()
    gw.push(s)
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 429 and int(r.header("Retry-After")) <= 2, r.describe()
    time.sleep(2.1)  # two windows later the key is free again
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200


def test_tpm_reserves_the_estimate_and_is_corrected_by_usage(gw, mocks):
    m, s, (ka,) = one_provider(gw, mocks, n_keys=1)
    s.provider_keys[0]["tpm"] = 1000
    vk = s.vkey()
    gw.push(s)
    # usage of the mock: 11 + 7 = 18 tokens; the reservation (prompt estimate + 600) is given back
    r = gw.chat(chat_body("gpt-4o", max_tokens=600), key=vk)
    assert r.status == 200, r.describe()
    assert gw.key_status(s.key_id(ka))["tpm_used"] == 18
    # still room for another 600-token reservation: were the estimate kept, this would be 429
    r = gw.chat(chat_body("gpt-4o", max_tokens=600), key=vk)
    assert r.status == 200, r.describe()
    assert gw.key_status(s.key_id(ka))["tpm_used"] == 36
    # a request whose own reservation cannot fit is refused without reaching the provider
    r = gw.chat(chat_body("gpt-4o", max_completion_tokens=5000), key=vk)
    assert_openai_error(r, 429, code="rate_limit_exceeded")
    assert len(m.requests) == 2


def test_virtual_key_and_team_limits(gw, mocks):
    m, s, _ = one_provider(gw, mocks)
    team = s.team("noisy")
    s.teams[-1]["rpm_limit"] = 3
    a = s.vkey(team)
    b = s.vkey(team)
    s.virtual_keys[-2]["rpm_limit"] = 2  # key a: 2 per minute of its own
    other = s.vkey()  # another team: not affected by either
    gw.push(s)
    assert gw.chat(chat_body("gpt-4o"), key=a).status == 200
    assert gw.chat(chat_body("gpt-4o"), key=a).status == 200
    r = gw.chat(chat_body("gpt-4o"), key=a)
    err = assert_openai_error(r, 429, code="rate_limit_exceeded")
    assert "virtual key" in err["message"] and int(r.header("Retry-After")) >= 1, r.describe()
    assert gw.chat(chat_body("gpt-4o"), key=b).status == 200  # the team's third request
    r = gw.chat(chat_body("gpt-4o"), key=b)
    err = assert_openai_error(r, 429, code="rate_limit_exceeded")
    assert "team" in err["message"], err
    for _ in range(4):
        assert gw.chat(chat_body("gpt-4o"), key=other).status == 200
    assert len(m.requests) == 3 + 4, "a caller over its limit never reaches a provider"
    callers = {(c["kind"], c["id"]): c for c in gw.status()["callers"]}
    assert callers[("team", team)]["rpm_used"] == 3, callers
    assert callers[("virtual_key", s.vkey_id(a))]["rpm_used"] == 2, callers


def test_virtual_key_tpm_corrected_by_usage(gw, mocks):
    m, s, _ = one_provider(gw, mocks, n_keys=1)
    vk = s.vkey()
    s.virtual_keys[-1]["tpm_limit"] = 700
    gw.push(s)
    for _ in range(3):  # each reserves ~600 + prompt, then keeps only the 18 it used
        r = gw.chat(chat_body("gpt-4o", max_tokens=600), key=vk)
        assert r.status == 200, r.describe()
    callers = {(c["kind"], c["id"]): c for c in gw.status()["callers"]}
    assert callers[("virtual_key", s.vkey_id(vk))]["tpm_used"] == 54, callers


def test_circuit_breaker_opens_lets_one_probe_and_closes(gw_factory, mocks):
    gw = gw_factory(extra_log_fields=',"breaker":"$routeshift_breaker_state","key":"$routeshift_provider_key"')
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, label="A", weight=1000, cooldown_seconds=1)
    s.provider_keys[-1]["circuit_breaker_threshold"] = 2
    kb = s.key(p, label="B", weight=1)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    kid = s.key_id(ka)
    # two consecutive failures (a cooldown apart, so A is tried both times) open the circuit
    for i in range(2):
        m.enqueue(Reply.error(502, "bad gateway"), key=ka)
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200 and r.header("X-RouteShift-Attempts") == "2", r.describe()
        if i == 0:
            assert gw.key_status(kid)["breaker"] == "closed"
            assert gw.key_status(kid)["consecutive_failures"] == 1
            time.sleep(1.1)
    st = gw.key_status(kid)
    assert st["breaker"] == "open" and st["consecutive_failures"] == 2, st
    e = gw.wait_access(2)[-1]
    assert e["key"] == "B" and e["breaker"] == "closed", e
    time.sleep(1.1)
    assert gw.key_status(kid)["breaker"] == "half_open"

    # half-open: of 4 concurrent requests exactly one (the probe) goes to A, though A weighs 1000:1
    m.reset()
    m.set_default(Reply.completion("probe", delay=1.0), key=ka)
    m.set_default(Reply.completion("b", delay=0.3), key=kb)
    results = [None] * 4

    def one(i):
        results[i] = gw.chat(chat_body("gpt-4o"), key=vk)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert all(r.status == 200 for r in results), [r.describe() for r in results]
    assert len(m.requests_for(ka)) == 1 and len(m.requests_for(kb)) == 3
    st = gw.key_status(kid)
    assert st["breaker"] == "closed" and st["consecutive_failures"] == 0, st
    probe = [e for e in gw.wait_access(6) if e["key"] == "A"]
    assert probe and probe[-1]["breaker"] == "closed", probe
    # closed again: A takes the traffic back
    m.set_default(Reply.completion("a"), key=ka)
    for _ in range(3):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    assert len(m.requests_for(ka)) == 4
