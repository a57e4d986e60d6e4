"""Retries across keys/providers before the first byte, cooldowns, error relaying."""

from __future__ import annotations

import time

import pytest

from helpers import Snapshot, assert_openai_error, chat_body, closed_port
from mock_provider import Reply


def test_429_retry_after_parks_key_then_key_returns(pair):
    gw, m, s, ka, kb, vk = (pair[k] for k in ("gw", "m", "s", "ka", "kb", "vk"))
    m.enqueue(Reply.error(429, "rate limited", headers={"Retry-After": "2"}), key=ka)
    t429 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Attempts") == "2", r.describe()
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    st = gw.key_status(s.key_id(ka))
    assert 0 < st["cooldown_remaining_ms"] <= 2000, \
        f"Retry-After: 2 must park key A for ~2 s (not its 30 s cooldown_seconds): {st}"
    assert st["last_status"] == 429, st
    assert gw.key_status(s.key_id(kb))["cooldown_remaining_ms"] == 0
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "429,200" and e["attempts"] == "2", e
    # while A cools down, everything goes to B (whichever worker serves the request)
    for _ in range(8):
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200 and r.header("X-RouteShift-Attempts") == "1", r.describe()
    assert len(m.requests_for(ka)) == 1 and len(m.requests_for(kb)) == 9
    # after ~2 s A is used again
    deadline = t429 + 4.0
    while gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0:
        assert time.monotonic() < deadline, "cooldown of key A never ended"
        time.sleep(0.1)
    assert time.monotonic() - t429 >= 1.5, "cooldown ended well before Retry-After"
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert m.requests[-1].auth_secret() == ka, "key A not used again after its cooldown"


def test_retry_after_ms_honoured(pair):
    gw, m, s, ka, vk = (pair[k] for k in ("gw", "m", "s", "ka", "vk"))
    m.enqueue(Reply.error(429, "rl", headers={"retry-after-ms": "1500", "Retry-After": "20"}),
              key=ka)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    st = gw.key_status(s.key_id(ka))
    assert 0 < st["cooldown_remaining_ms"] <= 1500, f"retry-after-ms wins over Retry-After: {st}"


@pytest.mark.parametrize("status", [500, 502, 503, 529, 408, 409])
def test_retryable_statuses(pair, status):
    gw, m, ka, kb, vk = (pair[k] for k in ("gw", "m", "ka", "kb", "vk"))
    m.enqueue(Reply.error(status, f"upstream {status}"), key=ka)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, f"{status} should be retried on key B: {r.describe()}"
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == f"{status},200", e


@pytest.mark.parametrize("status", [401, 403])
def test_provider_credential_rejected_retries_and_parks_key(pair, status):
    # a 401/403 from the provider means that key is broken or revoked: another key can serve
    # the request, and the broken one stops receiving traffic for its cooldown
    gw, m, ka, kb, vk = (pair[k] for k in ("gw", "m", "ka", "kb", "vk"))
    m.enqueue(Reply.error(status, "Incorrect API key provided", code="invalid_api_key"), key=ka)
    m.set_default(Reply.completion("from B"), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == f"{status},200"
    st = gw.key_status(pair["s"].key_id(ka))
    assert st["cooldown_remaining_ms"] > 0, st


def test_insufficient_quota_429_not_retried(pair):
    # "a 429 that means an empty balance" is not worth another attempt (issue 4 /
    # docs/wire-formats.md, OpenAI Chat Completions → Errors and statuses); the key is parked for a
    # long time
    gw, m, ka, kb, vk = (pair[k] for k in ("gw", "m", "ka", "kb", "vk"))
    m.enqueue(Reply.error(429, "You exceeded your current quota", code="insufficient_quota",
                          type_="insufficient_quota"), key=ka)
    m.set_default(Reply.completion("from B"), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    e = assert_openai_error(r, 429)
    assert e.get("code") == "insufficient_quota", r.describe()
    assert len(m.requests) == 1, "an insufficient_quota 429 must not be retried"
    st = gw.key_status(pair["s"].key_id(ka))
    assert st["cooldown_remaining_ms"] > 5 * 60 * 1000, st


@pytest.mark.parametrize("status", [400, 404, 422])
def test_non_retryable_4xx_relayed(pair, status):
    gw, m, ka, vk = (pair[k] for k in ("gw", "m", "ka", "vk"))
    m.enqueue(Reply.error(status, f"upstream says {status}", code="upstream_code",
                          param="temperature"), key=ka)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    e = assert_openai_error(r, status)
    assert "upstream says" in e["message"], r.describe()
    assert len(m.requests) == 1, "non-retryable 4xx must not be retried"


def test_all_keys_fail_last_error_relayed_then_503(pair):
    gw, m, s, ka, kb, vk = (pair[k] for k in ("gw", "m", "s", "ka", "kb", "vk"))
    m.set_default(Reply.error(500, "A exploded"), key=ka)
    m.set_default(Reply.error(429, "B is rate limited", code="rate_limit_exceeded",
                              headers={"Retry-After": "30"}), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    e = assert_openai_error(r, 429)
    assert "B is rate limited" in e["message"], f"last upstream error expected: {r.describe()}"
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    log = gw.wait_access(1)[-1]
    assert log["statuses"] == "500,429" and log["attempts"] == "2", log
    # every key is cooling now: 503 + Retry-After without touching the upstream
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert_openai_error(r, 503)
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and 25 <= int(ra) <= 30, \
        f"Retry-After should be the shortest remaining cooldown (~30 s): {r.describe()}"
    assert len(m.requests) == 2


def test_retry_budget_limits_attempts(gw, mocks):
    m = mocks.new("a")
    s = Snapshot(retry_budget=2)
    p = s.provider("openai", "openai", m.base_url())
    keys = [s.key(p, weight=100 - i) for i in range(4)]
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    m.set_default(Reply.error(503, "overloaded"))
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert_openai_error(r, 503)
    assert len(m.requests) == 2, f"settings.retry_budget=2 allows 2 attempts, saw {len(m.requests)}"
    assert len({q.auth_secret() for q in m.requests}) == 2 and keys


@pytest.mark.parametrize("shape", ["openai_json", "html", "string_error"])
def test_upstream_error_body_secret_redacted(gw, mocks, shape):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    sec = s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    if shape == "openai_json":
        m.set_default(Reply.error(500, f"invalid key {sec} provided"))
    elif shape == "html":
        m.set_default(Reply.raw(502, f"<html>bad gateway for {sec}</html>",
                                headers={"Content-Type": "text/html"}))
    else:
        m.set_default(Reply.json({"error": f"key {sec[:14]} is not valid"}, status=500))
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert_openai_error(r, 502 if shape == "html" else 500)
    assert sec[:12].encode() not in r.body, f"provider secret leaked to the client: {r.describe()}"
    assert vk.encode() not in r.body


def test_connect_refused_retried_on_other_provider(gw, mocks):
    m = mocks.new("alive")
    s = Snapshot()
    dead = s.provider("dead", "openai", f"http://127.0.0.1:{closed_port()}/v1")
    alive = s.provider("alive", "openai", m.base_url())
    kd = s.key(dead, weight=1000)
    s.key(alive, weight=1)
    s.model(dead, "gpt-4o")
    s.model(alive, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == "alive", r.describe()
    assert r.header("X-RouteShift-Attempts") == "2", r.describe()
    e = gw.wait_access(1)[-1]
    assert e["attempts"] == "2" and e["statuses"].endswith(",200"), e
    st = gw.key_status(s.key_id(kd))
    assert st["cooldown_remaining_ms"] > 0 and st["failures"] >= 1, st


def test_read_timeout_retried(gw_factory, mocks):
    gw = gw_factory(location_extra="routeshift_read_timeout 1s;")
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    slow = s.key(p, weight=1000)
    fast = s.key(p, weight=1)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    m.enqueue(Reply.completion("too late", delay=3), key=slow)
    t0 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == "Hello from mock"
    assert time.monotonic() - t0 < 2.8, "read timeout of 1s not applied"
    assert [q.auth_secret() for q in m.requests] == [slow, fast]


def test_stream_retried_before_first_byte(pair, sdk):
    gw, m, ka, kb, vk = (pair[k] for k in ("gw", "m", "ka", "kb", "vk"))
    m.enqueue(Reply.error(429, "busy", headers={"Retry-After": "5"}), key=ka)
    m.set_default(Reply.stream(["from ", "B"]), key=kb)
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert res.get("completed") and "error" not in res, res
    text = "".join(c["chunk"]["choices"][0]["delta"].get("content") or ""
                   for c in res["chunks"] if c["chunk"]["choices"])
    assert text == "from B"
    assert res["headers"].get("x-routeshift-attempts") == "2", res["headers"]


def test_request_rebuilt_per_attempt_across_kinds(gw, mocks, dns):
    """Attempt 1 to Azure (api-key, deployment URL, body model = deployment) fails with 429;
    attempt 2 must be rebuilt for OpenAI (Bearer, /v1 path, body model = its upstream model) on
    another host reached through DNS; attempt 3 goes over TLS to a third provider."""
    az = mocks.new("azure")
    oa = mocks.new("openai")
    tl = mocks.new("tls", tls=True)
    s = Snapshot()
    p_az = s.provider("az", "azure", az.base_url(path=""))
    p_oa = s.provider("oa", "openai", oa.base_url(host="mock-oa.test"))
    p_tl = s.provider("tl", "together", tl.base_url(host="mock-tls.test"))
    k_az = s.key(p_az, weight=1000, metadata={"api_version": "2024-10-21", "deployment": "az-dep"})
    k_oa = s.key(p_oa, weight=100)
    k_tl = s.key(p_tl, weight=1)
    s.model(p_az, "gpt-4o")
    s.model(p_oa, "gpt-4o", "gpt-4o-2024-11-20")
    s.model(p_tl, "gpt-4o", "openai/gpt-4o-together")
    vk = s.vkey()
    gw.push(s)
    az.set_default(Reply.error(429, "azure busy", headers={"retry-after": "10"}))
    oa.set_default(Reply.error(503, "openai overloaded"))
    r = gw.chat(chat_body("gpt-4o", temperature=0.5), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == "tl" and r.header("X-RouteShift-Attempts") == "3"
    (qa,), (qo,), (qt,) = az.requests, oa.requests, tl.requests
    assert qa.path == "/openai/deployments/az-dep/chat/completions", qa.target
    assert qa.header("api-key") == k_az and qa.header("authorization") is None
    assert qo.path == "/v1/chat/completions" and qo.json["model"] == "gpt-4o-2024-11-20"
    assert qo.header("authorization") == f"Bearer {k_oa}" and qo.header("api-key") is None
    assert qo.header("host") == f"mock-oa.test:{oa.port}"
    assert qt.sni == "mock-tls.test" and qt.json["model"] == "openai/gpt-4o-together"
    assert qt.header("authorization") == f"Bearer {k_tl}"
    for q in (qa, qo, qt):
        assert q.json["temperature"] == 0.5 and not q.carries(vk)
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "429,503,200" and e["provider"] == "tl", e


def test_retry_after_http_date(pair):
    import email.utils
    gw, m, s, ka, vk = (pair[k] for k in ("gw", "m", "s", "ka", "vk"))
    when = email.utils.formatdate(time.time() + 4, usegmt=True)
    m.enqueue(Reply.error(429, "rl", headers={"Retry-After": when}), key=ka)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    st = gw.key_status(s.key_id(ka))
    assert 1000 <= st["cooldown_remaining_ms"] <= 5000, f"Retry-After {when}: {st}"


def test_cooldown_seconds_zero_keeps_key_in_rotation(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, weight=1000, cooldown_seconds=0)
    kb = s.key(p, weight=1)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    m.enqueue(Reply.error(500, "blip"), key=ka)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] == 0
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200 and m.requests[-1].auth_secret() == ka, \
        "a key with cooldown_seconds 0 must stay in rotation"
    assert kb
