"""Self-test of mock_anthropic (no nginx, no module): it really speaks the Messages API wire format
(docs/wire-formats.md, "Anthropic Messages"), so a gateway test that fails against it can be
trusted to be the gateway's fault."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

import pytest

from mock_anthropic import AReply, MockAnthropic

HEADERS = {"x-api-key": "sk-ant-mock-a", "anthropic-version": "2023-06-01",
           "content-type": "application/json"}


@pytest.fixture
def mock():
    m = MockAnthropic(name="claude").start()
    yield m
    m.stop()
    assert not m.errors, m.errors


def body(stream: bool = False, **extra) -> dict:
    b = {"model": "claude-sonnet-4-5", "max_tokens": 64,
         "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    if stream:
        b["stream"] = True
    b.update(extra)
    return b


def post(m: MockAnthropic, payload, headers=None, path="/v1/messages"):
    """(status, headers, raw body) via urllib; HTTP errors are answers, not exceptions."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(m.base_url() + path, data=data, method="POST",
                                 headers=HEADERS if headers is None else headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def events(raw: bytes) -> list:
    """[(event name, data object)] of an Anthropic SSE body."""
    out = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, datas = None, []
        for ln in block.split(b"\n"):
            if ln.startswith(b"event:"):
                name = ln[6:].strip().decode()
            elif ln.startswith(b"data:"):
                datas.append(ln[5:].strip())
        if datas:
            out.append((name, json.loads(b"\n".join(datas))))
    return out


def test_json_message_and_recording(mock):
    st, hdrs, raw = post(mock, body())
    assert st == 200 and hdrs["Content-Type"] == "application/json"
    assert hdrs.get("request-id", "").startswith("req_")
    msg = json.loads(raw)
    assert msg["type"] == "message" and msg["role"] == "assistant"
    assert msg["model"] == "claude-sonnet-4-5" and msg["id"].startswith("msg_")
    assert msg["content"] == [{"type": "text", "text": "Hello from mock"}]
    assert msg["stop_reason"] == "end_turn"
    assert {"input_tokens", "output_tokens", "cache_read_input_tokens",
            "cache_creation_input_tokens"} <= set(msg["usage"])
    r = mock.wait_requests(1)[0]
    assert r.method == "POST" and r.path == "/v1/messages"
    assert r.header("x-api-key") == "sk-ant-mock-a" and r.header("anthropic-version") == "2023-06-01"
    assert r.auth_secret() == "sk-ant-mock-a" and r.json["max_tokens"] == 64


def test_keepalive_and_compatible_base_path(mock):
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for path in ("/v1/messages", "/anthropic/v1/messages"):
        conn.request("POST", path, body=json.dumps(body()),
                     headers={"Authorization": "Bearer tok", "anthropic-version": "2023-06-01"})
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["type"] == "message"
    conn.close()
    reqs = mock.wait_requests(2)
    assert reqs[0].conn_id == reqs[1].conn_id and [r.conn_seq for r in reqs] == [1, 2]
    assert reqs[1].auth_secret() == "tok"


def test_stream_wire_format(mock):
    st, hdrs, raw = post(mock, body(stream=True))
    assert st == 200 and hdrs["Content-Type"].startswith("text/event-stream")
    assert hdrs.get("Transfer-Encoding") == "chunked"
    ev = events(raw)
    names = [n for n, _ in ev]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    assert all(n == d["type"] for n, d in ev)
    assert ev[0][1]["message"]["model"] == "claude-sonnet-4-5"
    text = "".join(d["delta"]["text"] for n, d in ev if n == "content_block_delta")
    assert text == "Hello from mock"
    assert ev[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert ev[-2][1]["usage"]["output_tokens"] > 0


def test_tool_use_stream_with_input_json_delta(mock):
    args = {"city": "Oslo", "units": "metric", "days": [1, 2, 3]}
    mock.enqueue(AReply.stream(["Checking."], tool_calls=[{"name": "get_weather", "input": args},
                                                          {"name": "now", "input": {}}], fragment=5))
    ev = events(post(mock, body(stream=True))[2])
    starts = [d for n, d in ev if n == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use", "tool_use"]
    assert starts[1]["content_block"]["name"] == "get_weather"
    assert starts[1]["content_block"]["id"].startswith("toolu_")
    frags = [d["delta"]["partial_json"] for n, d in ev
             if n == "content_block_delta" and d["index"] == starts[1]["index"]]
    assert frags[0] == "" and len(frags) > 3 and all(len(f) <= 5 for f in frags)
    assert json.loads("".join(frags)) == args
    assert ev[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_thinking_stream_and_json(mock):
    mock.enqueue(AReply.stream(["4"], thinking=["2+2", " is 4"]))
    ev = events(post(mock, body(stream=True))[2])
    kinds = [d["delta"]["type"] for n, d in ev if n == "content_block_delta"]
    assert kinds == ["thinking_delta", "thinking_delta", "signature_delta", "text_delta"]
    mock.enqueue(AReply.message("4", thinking="2+2 is 4"))
    msg = json.loads(post(mock, body())[2])
    assert [c["type"] for c in msg["content"]] == ["thinking", "text"]


def test_error_statuses(mock):
    mock.enqueue(AReply.overloaded(), AReply.rate_limited(retry_after=3), AReply.spend_limited(),
                 AReply.error(400, "prompt is too long: 210000 tokens > 200000 maximum"))
    st, _, raw = post(mock, body())
    assert st == 529 and json.loads(raw)["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert json.loads(raw)["type"] == "error"
    st, hdrs, raw = post(mock, body())
    assert st == 429 and hdrs["retry-after"] == "3"
    assert json.loads(raw)["error"]["type"] == "rate_limit_error"
    st, _, raw = post(mock, body())
    assert st == 429
    assert json.loads(raw)["error"]["details"]["error_code"] == "enforced_spend_limit_reached"
    st, _, raw = post(mock, body())
    assert st == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error"


def test_mid_stream_error_event(mock):
    mock.enqueue(AReply.stream(["a", "b", "c"], error_after=4))
    ev = events(post(mock, body(stream=True))[2])
    assert len(ev) == 5
    assert ev[-1][0] == "error" and ev[-1][1]["error"]["type"] == "overloaded_error"
    assert "message_stop" not in [n for n, _ in ev]


def test_stream_without_message_stop(mock):
    mock.enqueue(AReply.stream(["a"], complete=False))
    st, _, raw = post(mock, body(stream=True))
    names = [n for n, _ in events(raw)]
    assert st == 200 and names[-1] == "message_delta" and "message_stop" not in names


@pytest.mark.parametrize("mid_event", [False, True])
def test_dropped_connection(mock, mid_event):
    mock.enqueue(AReply.stream(["a", "b", "c"], drop_after=4, drop_mid_event=mid_event))
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    conn.request("POST", "/v1/messages", body=json.dumps(body(stream=True)), headers=HEADERS)
    r = conn.getresponse()
    assert r.status == 200
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        r.read()
    conn.close()


def test_strict_checks_do_not_consume_script(mock):
    mock.enqueue(AReply.overloaded())
    st, _, raw = post(mock, body(), headers={"x-api-key": "k"})
    assert st == 400 and "anthropic-version" in json.loads(raw)["error"]["message"]
    st, _, _ = post(mock, body(), headers={"anthropic-version": "2023-06-01"})
    assert st == 401
    st, _, _ = post(mock, body(), path="/v1/chat/completions")
    assert st == 404
    b = body()
    del b["max_tokens"]
    st, _, raw = post(mock, b)
    assert st == 400 and "max_tokens" in json.loads(raw)["error"]["message"]
    st, _, _ = post(mock, body(messages=[{"role": "system", "content": "x"}]))
    assert st == 400
    st, _, _ = post(mock, body())
    assert st == 529  # the scripted reply was still there


def test_per_event_delay(mock):
    import time
    mock.enqueue(AReply.stream(["a", "b"], delay=0.15))
    t0 = time.monotonic()
    post(mock, body(stream=True))
    assert time.monotonic() - t0 > 0.15 * 6  # 8 events, 7 gaps
