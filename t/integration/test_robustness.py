"""Transport robustness: client aborts, upstream keep-alive edge cases, framing variants."""

from __future__ import annotations

import http.client
import socket
import threading
import time

from helpers import Snapshot, chat_body, read_to_end, sse_events
from mock_provider import Reply, chunk_body


def _post_then_close(port: int, vkey: str, body: bytes, read_first: bool, wait: float) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + vkey.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    got = b""
    if read_first:
        got = s.recv(65536)
    time.sleep(wait)
    s.close()
    return got


def _key(basic):
    return basic.gw.key_status(basic.snap.key_id(basic.secret))


def test_client_abort_before_answer_does_not_park_key(basic):
    """A client that hangs up while the upstream is still working is not the provider's fault:
    the key must not be cooled down or counted as failed."""
    basic.mock.enqueue(Reply.completion("slow", delay=1.0))
    _post_then_close(basic.gw.port, basic.vkey, b'{"model":"gpt-4o","messages":'
                     b'[{"role":"user","content":"x"}]}', read_first=False, wait=0.3)
    time.sleep(1.2)
    k = _key(basic)
    assert k["cooldown_remaining_ms"] == 0 and k["failures"] == 0, \
        f"client abort parked the provider key: {k}"
    assert k["inflight"] == 0, k
    r = basic.chat(chat_body("gpt-4o"))
    assert r.status == 200 and r.header("X-RouteShift-Attempts") == "1", r.describe()


def test_client_abort_mid_stream(basic):
    basic.mock.set_default(Reply.stream([f"c{i} " for i in range(15)], delay=0.2))
    got = _post_then_close(basic.gw.port, basic.vkey,
                           b'{"model":"gpt-4o","stream":true,"messages":'
                           b'[{"role":"user","content":"x"}]}', read_first=True, wait=0.1)
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    deadline = time.monotonic() + 4
    while basic.mock.aborted_streams < 1:
        assert time.monotonic() < deadline, "gateway kept the upstream stream open after the " \
                                            "client went away"
        time.sleep(0.05)
    time.sleep(0.2)
    k = _key(basic)
    assert k["inflight"] == 0, k
    assert k["cooldown_remaining_ms"] == 0 and k["failures"] == 0, \
        f"client abort mid-stream parked the provider key: {k}"
    basic.mock.set_default(Reply.completion())
    assert basic.chat(chat_body("gpt-4o")).status == 200


def test_upstream_idle_close_is_not_a_failure(basic):
    """The provider closes idle keep-alive connections (its keepalive_timeout); the next request
    must not fail or park the key because of a stale cached connection."""
    basic.mock.idle_timeout = 0.2
    for i in range(3):
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status == 200, f"request {i}: {r.describe()}"
        assert r.header("X-RouteShift-Attempts") == "1", r.describe()
        time.sleep(0.6)
    assert basic.mock.idle_closes >= 1
    k = _key(basic)
    assert k["failures"] == 0 and k["cooldown_remaining_ms"] == 0, k


def test_upstream_connection_close_header_respected(basic):
    basic.mock.set_default(Reply.completion(close=True))
    for i in range(4):
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status == 200 and r.header("X-RouteShift-Attempts") == "1", r.describe()
    assert all(q.conn_seq == 1 for q in basic.mock.requests)
    assert _key(basic)["failures"] == 0


def test_chunked_json_upstream(basic):
    basic.mock.set_default(Reply.completion("chunked body", chunked=True,
                                            usage={"prompt_tokens": 3, "completion_tokens": 4,
                                                   "total_tokens": 7}))
    r = basic.chat(chat_body("gpt-4o"))
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == "chunked body"
    e = basic.gw.wait_access(1)[-1]
    assert (e["pt"], e["ct"]) == ("3", "4"), e
    r = basic.chat(chat_body("gpt-4o"))   # the connection is still usable afterwards
    assert r.status == 200, r.describe()


def test_large_completion(basic):
    content = "0123456789abcdef" * 65536      # 1 MiB
    basic.mock.set_default(Reply.completion(content))
    r = basic.chat(chat_body("gpt-4o"), timeout=60)
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == content


def test_sse_events_split_across_writes(basic, sdk):
    basic.mock.set_default(Reply.stream(["split ", "into ", "tiny ", "pieces"], split=7,
                                        usage={"prompt_tokens": 9, "completion_tokens": 4,
                                               "total_tokens": 13}))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert res.get("completed"), res
    chunks = [c["chunk"] for c in res["chunks"]]
    assert all(c["choices"] for c in chunks), f"usage chunk relayed unasked: {chunks[-1]}"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "split into tiny pieces"
    e = basic.gw.wait_access(1)[-1]
    assert (e["pt"], e["ct"]) == ("9", "4"), e


def test_sse_crlf_framing(basic, sdk):
    basic.mock.set_default(Reply.stream(["cr", "lf"], crlf=True,
                                        usage={"prompt_tokens": 2, "completion_tokens": 2,
                                               "total_tokens": 4}))
    res = sdk({"baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert res.get("completed") and "error" not in res, res
    chunks = [c["chunk"] for c in res["chunks"]]
    assert "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in chunks if c["choices"]) == "crlf"
    assert all(c["choices"] for c in chunks), "usage chunk relayed unasked"
    e = basic.gw.wait_access(1)[-1]
    assert (e["pt"], e["ct"]) == ("2", "2"), e


def test_upstream_keepalive_after_streams(basic):
    basic.mock.set_default(Reply.stream(["k"]))
    for _ in range(4):
        r = basic.chat(chat_body("gpt-4o", stream=True))
        assert r.status == 200 and sse_events(r.body)[-1] == "[DONE]", r.describe()
    basic.mock.set_default(Reply.completion())
    for _ in range(4):
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status == 200, r.describe()
    reqs = basic.mock.requests
    reused = [q for q in reqs if q.conn_seq >= 2]
    assert reused, "no upstream connection reused after complete streams"
    assert _key(basic)["failures"] == 0


def test_client_keepalive_mixed_requests(basic):
    c = http.client.HTTPConnection("127.0.0.1", basic.gw.port, timeout=10)
    hdr = {"Authorization": f"Bearer {basic.vkey}", "Content-Type": "application/json"}
    import json as _json

    def post(body):
        c.request("POST", "/v1/chat/completions", body=_json.dumps(body), headers=hdr)
        r = c.getresponse()
        return r.status, r.read()

    basic.mock.handler = lambda q: (Reply.stream(["s"]) if (q.json or {}).get("stream")
                                    else Reply.completion())
    assert post(chat_body("gpt-4o"))[0] == 200
    st, body = post(chat_body("gpt-4o", stream=True))
    assert st == 200 and sse_events(body)[-1] == "[DONE]"
    assert post(chat_body("no-such-model"))[0] == 404
    st, body = post(chat_body("gpt-4o"))
    assert st == 200 and b"Hello from mock" in body
    c.close()


def test_inflight_visible_during_stream(basic):
    basic.mock.set_default(Reply.stream(["a", "b", "c", "d"], delay=0.4))
    out = {}
    t = threading.Thread(target=lambda: out.setdefault(
        "r", basic.chat(chat_body("gpt-4o", stream=True))))
    t.start()
    seen = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and seen == 0:
        seen = _key(basic)["inflight"]
        time.sleep(0.05)
    t.join(10)
    assert seen == 1, "inflight never showed the running stream"
    assert out["r"].status == 200
    assert _key(basic)["inflight"] == 0


def test_stream_read_timeout_mid_stream_is_error(gw_factory, mocks, sdk):
    # the error path is the subject: with mid-stream continuation (docs/design.md §19, on by default)
    # the second key would finish the answer (test_stream_continuation.py covers a stall continued)
    gw = gw_factory(location_extra="routeshift_read_timeout 1s; routeshift_stream_continuation off;")
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p, weight=10)
    s.key(p, weight=1)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    # the first event carries content (it reaches the client at once: a stream is held only until
    # its first content), then the provider stalls past the read timeout
    first = chunk_body("chatcmpl-stall", 0, "gpt-4o", {"role": "assistant", "content": "first "})
    m.set_default(Reply.stream([first, "second"], delay=2.5))
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body("gpt-4o")})
    assert "error" in res and not res.get("completed"), res
    assert len(m.requests) == 1, "no retry once bytes were relayed"


def test_expect_100_continue(basic):
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"' + b"e" * 3000 + b'"}]}'
    s = socket.create_connection(("127.0.0.1", basic.gw.port), timeout=5)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + basic.vkey.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 100 Continue"), first[:200]
    s.sendall(body)
    data = read_to_end(s)
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:300]
    assert b"Hello from mock" in data


def test_http10_client_stream(basic):
    basic.mock.set_default(Reply.stream(["ten"]))
    body = b'{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}'
    s = socket.create_connection(("127.0.0.1", basic.gw.port), timeout=5)
    s.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer "
              + basic.vkey.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    data = read_to_end(s)
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"chunked" not in head.lower(), head
    ev = sse_events(rest)
    assert ev[-1] == "[DONE]" and "ten" in rest.decode(), rest[:500]
