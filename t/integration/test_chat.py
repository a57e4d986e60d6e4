"""Chat through the gateway with the official openai SDK: plain, streamed, finalChatCompletion;
incremental delivery; RouteShift response headers; usage handling (include_usage forced upstream,
usage chunk relayed only when the client asked)."""

from __future__ import annotations

from helpers import assert_resolved, chat_body, sse_events
from mock_provider import Reply

UPSTREAM_MODEL = "gpt-4o-2024-11-20"


def test_plain_chat_via_sdk(basic, sdk):
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "plain",
               "request": chat_body("gpt-4o", "Hello?")})
    assert "error" not in res, res
    c = res["completion"]
    assert c["object"] == "chat.completion"
    assert c["choices"][0]["message"]["content"] == "Hello from mock"
    assert c["model"] == UPSTREAM_MODEL
    assert c["usage"]["total_tokens"] == 18
    h = res["headers"]
    assert h.get("x-routeshift-provider") == "openai", h
    assert_resolved(h.get("x-routeshift-resolved-model"), "gpt-4o", UPSTREAM_MODEL, "openai")
    assert h.get("x-routeshift-attempts") == "1", h
    assert h.get("content-type", "").startswith("application/json"), h
    (req,) = basic.mock.requests
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.json["model"] == UPSTREAM_MODEL
    assert req.json["messages"] == [{"role": "user", "content": "Hello?"}]
    assert req.header("authorization") == f"Bearer {basic.secret}"
    e = basic.gw.wait_access(1)[-1]
    assert e["status"] == "200" and e["provider"] == "openai" and e["attempts"] == "1", e
    assert e["statuses"] == "200", e
    assert e["vk"] == str(basic.snap.vkey_id(basic.vkey)), e
    assert (e["pt"], e["ct"]) == ("11", "7"), e


def test_stream_chat_via_sdk(basic, sdk):
    basic.mock.set_default(Reply.stream(["Hel", "lo", "!"]))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert res.get("completed") and "error" not in res, res
    chunks = [c["chunk"] for c in res["chunks"]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c["choices"])
    assert text == "Hello!"
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    # the client did not ask for usage: the chunk the gateway forced upstream must not leak
    assert all(c["choices"] for c in chunks), f"usage-only chunk relayed unasked: {chunks[-1]}"
    assert res["headers"].get("content-type", "").startswith("text/event-stream"), res["headers"]
    assert res["headers"].get("x-routeshift-provider") == "openai"
    (req,) = basic.mock.requests
    assert req.json["stream"] is True
    assert req.json.get("stream_options", {}).get("include_usage") is True, \
        f"gateway must force stream_options.include_usage upstream: {req.json}"
    e = basic.gw.wait_access(1)[-1]
    assert (e["pt"], e["ct"]) == ("11", "3"), f"usage from the forced usage chunk: {e}"


def test_stream_usage_chunk_when_asked(basic, sdk):
    basic.mock.set_default(Reply.stream(["a", "b"], usage={"prompt_tokens": 5,
                                                           "completion_tokens": 2,
                                                           "total_tokens": 7}))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o", stream_options={"include_usage": True})})
    assert res.get("completed"), res
    last = res["chunks"][-1]["chunk"]
    assert last["choices"] == [] and last["usage"]["total_tokens"] == 7, last
    e = basic.gw.wait_access(1)[-1]
    assert (e["pt"], e["ct"]) == ("5", "2"), e


def test_stream_chunks_arrive_incrementally(basic, sdk):
    basic.mock.set_default(Reply.stream(["one ", "two ", "three ", "four ", "five"], delay=0.3))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert res.get("completed"), res
    ts = [c["t"] for c in res["chunks"]]
    assert len(ts) >= 7, res["chunks"]
    spread = ts[-1] - ts[0]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    big_gaps = [g for g in gaps if g >= 200]
    # the role chunk is held until the first content (docs/design.md §10.1) and arrives with it;
    # from there on every chunk goes out as it comes: 5 gaps of ~300 ms
    assert spread >= 1200, f"chunks bunched: arrival times (ms) {ts}"
    assert len(big_gaps) >= 5, f"expected ~300 ms gaps between chunks, got {gaps}"
    assert ts[0] - res["startMs"] < 1000, "first chunk should arrive before the upstream ends"


def test_final_chat_completion(basic, sdk):
    basic.mock.set_default(Reply.stream(["The ", "answer ", "is 42."]))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "final",
               "request": chat_body("gpt-4o")})
    assert "error" not in res, res
    c = res["completion"]
    assert c["choices"][0]["message"]["content"] == "The answer is 42."
    assert c["choices"][0]["finish_reason"] == "stop"


def test_headers_plain_and_stream_http_client(basic):
    r = basic.chat(chat_body("gpt-4o"))
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert_resolved(r.header("X-RouteShift-Resolved-Model"), "gpt-4o", UPSTREAM_MODEL, "openai")
    assert r.header("X-RouteShift-Attempts") == "1", r.describe()
    basic.mock.set_default(Reply.stream(["x", "y"]))
    r = basic.chat(chat_body("gpt-4o", stream=True))
    assert r.status == 200, r.describe()
    assert r.header("Content-Type").startswith("text/event-stream"), r.describe()
    assert r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert r.header("X-RouteShift-Resolved-Model"), r.describe()
    ev = sse_events(r.body)
    assert ev[-1] == "[DONE]", ev
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in ev[:-1]) == "xy"


def test_x_api_key_header_accepted(basic):
    r = basic.gw.chat(chat_body("gpt-4o"), headers={"x-api-key": basic.vkey})
    assert r.status == 200, r.describe()
    assert basic.mock.requests[0].header("x-api-key") is None


def test_upstream_keepalive_reused(basic):
    for _ in range(6):
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status == 200, r.describe()
    reqs = basic.mock.requests
    assert len(reqs) == 6
    assert max(r.conn_seq for r in reqs) >= 2, \
        f"routeshift_keepalive: no upstream connection carried 2 requests " \
        f"(connections {[r.conn_id for r in reqs]})"
