"""Streaming robustness: many parallel streams, broken upstream streams must surface as errors."""

from __future__ import annotations

from helpers import chat_body, raw_request, sse_events
from mock_provider import Reply, chunk_body


def test_200_parallel_streams(basic, sdk):
    basic.mock.set_default(Reply.stream(["alpha ", "beta ", "gamma"], delay=0.05))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "parallel_streams",
               "count": 200, "request": chat_body("gpt-4o"), "timeoutMs": 60000}, timeout=120)
    assert res.get("ok") == 200, f"parallel streams: {res}"
    assert res["contents"] == {"alpha beta gamma": 200}, res["contents"]
    assert len(basic.mock.requests) == 200
    entries = basic.gw.wait_access(200, timeout=10)
    assert all(e["status"] == "200" for e in entries), [e for e in entries if e["status"] != "200"]
    st = basic.gw.key_status(basic.snap.key_id(basic.secret))
    assert st["requests"] == 200 and st["inflight"] == 0, st


def test_mid_stream_drop_reaches_sdk_as_error(basic, sdk):
    basic.mock.set_default(Reply.stream(["part1 ", "part2 ", "part3 ", "part4"], delay=0.1,
                                        drop_after=3))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert not res.get("completed") and "error" in res, \
        f"a dropped upstream stream looked like a complete answer to the SDK: {res}"
    got = "".join(c["chunk"]["choices"][0]["delta"].get("content") or ""
                  for c in res["chunks"] if c["chunk"].get("choices"))
    assert got.startswith("part1"), f"chunks before the drop should have been relayed: {res}"
    assert len(basic.mock.requests) == 1, "no retry once bytes reached the client"


def test_mid_stream_drop_raw_wire(basic):
    """On the wire: no [DONE] and no clean end that hides the failure."""
    basic.mock.set_default(Reply.stream(["a", "b", "c"], drop_after=2, rst=False))
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{basic.vkey}\r\nContent-Type: application/json\r\nConnection: close\r\n").encode()
    body = b'{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}'
    r = raw_request(basic.gw.port, head + b"Content-Length: %d\r\n\r\n" % len(body), body)
    assert r.status == 200
    ev = sse_events(r.body)
    assert "[DONE]" not in ev, f"[DONE] sent for a broken stream: {ev}"
    errors = [e for e in ev if isinstance(e, dict) and "error" in e]
    # either an explicit error event or an unterminated chunked body
    assert errors or not r.complete, \
        f"broken upstream stream ended cleanly without an error event: {r.describe()}"
    if errors:
        assert isinstance(errors[-1]["error"], dict) and errors[-1]["error"].get("message")


def test_clean_end_without_done_is_error(basic, sdk):
    # no [DONE] and no finish_reason: the answer is not complete (a stream that did carry its
    # finish_reason is complete without [DONE]: test_response_session.py)
    basic.mock.set_default(Reply.stream([chunk_body("chatcmpl-x", 1, "gpt-4o", {"content": "short "}),
                                         chunk_body("chatcmpl-x", 1, "gpt-4o", {"content": "answer"})],
                                        done=False))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert not res.get("completed") and "error" in res, \
        f"upstream ended without [DONE] or finish_reason; the client must see an error, got {res}"


def test_upstream_error_event_passed_through(basic, sdk):
    err = {"error": {"message": "upstream broke mid-way", "type": "server_error",
                     "param": None, "code": "internal"}}
    basic.mock.set_default(Reply.stream(["ok ", err], done=False))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert "error" in res and "upstream broke" in res["error"]["message"], res


def test_stream_include_usage_not_leaked_in_plain_sse(basic):
    basic.mock.set_default(Reply.stream(["u"]))
    r = basic.chat(chat_body("gpt-4o", stream=True))
    ev = sse_events(r.body)
    assert ev[-1] == "[DONE]"
    assert all(e.get("choices") for e in ev[:-1]), f"usage-only chunk relayed unasked: {ev}"
    assert all(e.get("usage") is None for e in ev[:-1]), ev
