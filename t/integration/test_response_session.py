"""The response session (docs/design.md §10): held answers, completeness of streams, malformed
events, stale pooled connections. Each test asserts what the client received, how many attempts
each key saw, and the attempt statuses in the access log."""

from __future__ import annotations

import json
import time


from helpers import Snapshot, assert_openai_error, chat_body, raw_request, sse_events
from mock_provider import Reply, chunk_body, completion_body



def one_key(gw, mocks):
    """Provider "openai" on mock a with a single key: (mock, the key's secret, a virtual key)."""
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    secret = s.key(p, label="only")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    return m, secret, vk

def unpack(pair, *names):
    return (pair[n] for n in names)


# ---- held answers (non-streaming) --------------------------------------------------------------

def test_truncated_200_fails_over_before_headers(pair):
    gw, m, s, ka, kb, vk = unpack(pair, "gw", "m", "s", "ka", "kb", "vk")
    full = json.dumps(completion_body("never seen", "gpt-4o")).encode()
    # Content-Length promises the whole body, the connection closes after half of it
    m.enqueue(Reply.raw(200, full[: len(full) // 2], headers={"Content-Type": "application/json",
                                                              "Content-Length": str(len(full))},
                        close=True), key=ka)
    m.set_default(Reply.completion("served by B"), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == "served by B", r.describe()
    assert r.header("X-RouteShift-Attempts") == "2", r.describe()
    assert r.header("Content-Length") == str(len(r.body)), "a held answer is sent with its length"
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "cut,200", e
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0, "a key that cut its answer cools down"


def test_malformed_200_fails_over(pair):
    gw, m, ka, kb, vk = unpack(pair, "gw", "m", "ka", "kb", "vk")
    m.enqueue(Reply.raw(200, b'{"id":"x","choices":[{"message":', headers={"Content-Type": "application/json"}),
              key=ka)
    m.set_default(Reply.completion("fine", chunked=True), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200 and r.json["choices"][0]["message"]["content"] == "fine", r.describe()
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "invalid,200"
    assert "sent a truncated or malformed answer" in gw.error_log()


def test_malformed_200_without_fallback_is_502_openai_error(gw, mocks):
    m, secret, vk = one_key(gw, mocks)
    m.set_default(Reply.raw(200, b"<html>not json " + secret.encode() + b"</html>",
                            headers={"Content-Type": "application/json"}))
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert_openai_error(r, 502)
    assert "malformed" in r.json["error"]["message"], r.describe()
    assert secret.encode() not in r.body
    assert gw.wait_access(1)[-1]["statuses"] == "invalid"


def test_untranslatable_anthropic_200_fails_over_to_openai(gw, mocks):
    bad = mocks.new("anthropic-bad")
    good = mocks.new("openai-good")
    s = Snapshot()
    pa = s.provider("claude", "anthropic", bad.base_url(path=""))
    po = s.provider("openai", "openai", good.base_url())
    ka = s.key(pa, weight=1000, label="claude")
    ko = s.key(po, weight=1, label="openai")
    s.model(pa, "gpt-4o")
    s.model(po, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    # a Messages answer cut inside its content: the translation cannot complete
    bad.set_default(Reply.raw(200, b'{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text",',
                              headers={"Content-Type": "application/json"}))
    good.set_default(Reply.completion("from openai"))
    for _ in range(4):  # whichever key the balancer tries first, the client gets a whole answer
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200, r.describe()
        assert r.json["choices"][0]["message"]["content"] == "from openai", r.describe()
    assert len(good.requests) == 4
    statuses = [e["statuses"] for e in gw.wait_access(4)]
    assert all(st in ("200", "invalid,200") for st in statuses), statuses
    assert any(st == "invalid,200" for st in statuses) or len(bad.requests) == 0, statuses
    assert len(bad.requests) == sum(st == "invalid,200" for st in statuses)


def test_2xx_error_naming_the_key_is_scrubbed(gw, mocks):
    m, secret, vk = one_key(gw, mocks)
    m.set_default(Reply.json({"error": {"message": f"key {secret} is over quota", "type": "x"}}))
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert secret.encode() not in r.body, r.describe()
    assert "over quota" in r.body.decode()


# ---- streams: completeness and malformed events -------------------------------------------------

def test_stream_finished_without_done_is_complete(pair, sdk):
    gw, m, s, ka, vk = unpack(pair, "gw", "m", "s", "ka", "vk")
    m.set_default(Reply.stream(["short ", "answer"], done=False))
    for include_usage in (False, True):
        req = chat_body("gpt-4o", stream=True)
        if include_usage:
            req["stream_options"] = {"include_usage": True}
        res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream", "request": req})
        assert res.get("completed") and "error" not in res, res
        got = "".join((c["chunk"]["choices"][0]["delta"].get("content") or "")
                      for c in res["chunks"] if c["chunk"].get("choices"))
        assert got == "short answer", res
    st = gw.key_status(s.key_id(ka))
    assert st["cooldown_remaining_ms"] == 0 and "cooling down" not in gw.error_log(), st
    # on the wire the gateway ends the stream itself
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {vk}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n").encode()
    body = json.dumps(chat_body("gpt-4o", stream=True)).encode()
    r = raw_request(gw.port, head + b"Content-Length: %d\r\n\r\n" % len(body), body)
    assert sse_events(r.body)[-1] == "[DONE]", r.describe()


def test_stream_without_finish_or_asked_usage_is_still_an_error(pair, sdk):
    gw, m, vk = unpack(pair, "gw", "m", "vk")
    rid, now = "chatcmpl-x", int(time.time())
    # a finish_reason but not the usage chunk the client asked for, and no [DONE]
    m.set_default(Reply.stream([chunk_body(rid, now, "gpt-4o", {"content": "partial"}),
                                chunk_body(rid, now, "gpt-4o", {}, finish_reason="stop")], done=False))
    req = chat_body("gpt-4o", stream=True, stream_options={"include_usage": True})
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream", "request": req})
    assert not res.get("completed") and "error" in res, res


def test_malformed_event_is_skipped_and_logged(pair, sdk):
    gw, m, vk = unpack(pair, "gw", "m", "vk")
    rid, now = "chatcmpl-x", int(time.time())
    m.set_default(Reply.stream([chunk_body(rid, now, "gpt-4o", {"role": "assistant", "content": ""}),
                                chunk_body(rid, now, "gpt-4o", {"content": "one "}),
                                b'{"id":"chatcmpl-x","choices":[{"delta":{"content":"bro',
                                chunk_body(rid, now, "gpt-4o", {"content": "two"}),
                                chunk_body(rid, now, "gpt-4o", {}, finish_reason="stop")]))
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body("gpt-4o", stream=True)})
    assert res.get("completed") and "error" not in res, f"the SDK saw the malformed event: {res}"
    got = "".join((c["chunk"]["choices"][0]["delta"].get("content") or "")
                  for c in res["chunks"] if c["chunk"].get("choices"))
    assert got == "one two", res
    assert "skipped 1 malformed event(s)" in gw.error_log()


# ---- pooled connections ------------------------------------------------------------------------

def test_silent_provider_on_reused_connection_is_not_retried_for_free(gw_factory, mocks):
    """A key whose pooled connection is accepted, then closed after a while, is a failed attempt
    (cooldown, next key), not a stale keep-alive retried without bound."""
    gw = gw_factory(workers=1)  # one worker: the second request reuses the first one's connection
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    ka = s.key(p, weight=1000, label="A", cooldown_seconds=30)
    kb = s.key(p, weight=1, label="B")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    a.enqueue(Reply.completion("first"), key=ka)
    a.set_default(Reply.drop(delay=1.0, rst=False), key=ka)
    a.set_default(Reply.completion("backup"), key=kb)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200 and r.json["choices"][0]["message"]["content"] == "first", r.describe()
    t0 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    took = time.monotonic() - t0
    assert r.status == 200 and r.json["choices"][0]["message"]["content"] == "backup", r.describe()
    sent_a = a.requests_for(ka)
    assert len(sent_a) == 2, f"the silent key was retried: {len(sent_a)} requests"
    assert sent_a[1].conn_id == sent_a[0].conn_id, "the test needs a reused connection"
    assert took < 5, took
    e = gw.wait_access(2)[-1]
    assert e["statuses"] == "502,200", e
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0


# ---- time limits -------------------------------------------------------------------------------

def test_first_token_timeout_fails_over_and_parks_the_silent_key(gw_factory, mocks):
    gw = gw_factory(location_extra="routeshift_first_token_timeout 500ms;")
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    ka = s.key(p, weight=1000, label="A", cooldown_seconds=30)
    kb = s.key(p, weight=1, label="B")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    a.set_default(Reply.drop(delay=4.0, rst=False), key=ka)  # accepts, then says nothing
    a.set_default(Reply.stream(["fast ", "answer"]), key=kb)
    t0 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o", stream=True), key=vk)
    took = time.monotonic() - t0
    assert r.status == 200, r.describe()
    got = "".join((e["choices"][0]["delta"].get("content") or "") for e in sse_events(r.body)
                  if isinstance(e, dict) and e.get("choices"))
    assert got == "fast answer" and sse_events(r.body)[-1] == "[DONE]", r.describe()
    assert took < 3.0, f"the first-token limit did not cut the silent attempt short: {took:.2f}s"
    assert [q.auth_secret() for q in a.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "ttft,200"
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0
