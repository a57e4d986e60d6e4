"""Streams held until their first content event (docs/design.md §10.1), the per-rule first-token
limit (§10.2), bounded stream output and a stream whose translator gave up (issue 13).

Every test asserts what the client received, how many attempts each provider saw, the attempt
statuses in the access log, and a bounded wall time."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Callable, Optional

from helpers import Snapshot, assert_openai_error, chat_body, raw_request, sse_events
from mock_provider import Reply, chunk_body


def two_keys(gw, mocks, *, a_cooldown: int = 30):
    """Provider "openai" on one mock with key A (tried first) and key B: (mock, s, ka, kb, vk)."""
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, weight=1000, label="A", cooldown_seconds=a_cooldown)
    kb = s.key(p, weight=1, label="B")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    return m, s, ka, kb, vk


def streamed_text(res: dict) -> str:
    return "".join((c["chunk"]["choices"][0]["delta"].get("content") or "")
                   for c in res["chunks"] if c["chunk"].get("choices"))


def stream_via_sdk(sdk, gw, vk, model: str = "gpt-4o") -> tuple[dict, float]:
    t0 = time.monotonic()
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body(model, stream=True)})
    return res, time.monotonic() - t0


def timed_stream(gw, vk, model: str) -> tuple[float, str, list]:
    """One streamed request over plain HTTP (no SDK start-up in the time): (seconds, text, events)."""
    t0 = time.monotonic()
    r = gw.chat(chat_body(model, stream=True), key=vk)
    took = time.monotonic() - t0
    assert r.status == 200, r.describe()
    events = sse_events(r.body)
    text = "".join((e["choices"][0]["delta"].get("content") or "") for e in events
                   if isinstance(e, dict) and e.get("choices"))
    return took, text, events


ROLE = chunk_body("chatcmpl-h", 1, "gpt-4o", {"role": "assistant", "content": ""})


# ---- a provider scripted byte by byte ------------------------------------------------------------

class ScriptedProvider:
    """Answers every request on its own connection with `script(send)`, where send(bytes) writes
    raw bytes (False once the gateway closed the connection). Records each connection's request
    time and when the gateway closed it."""

    def __init__(self, script: Callable[[Callable[[bytes], bool]], None]):
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.requests: list[float] = []
        self.closed_by_peer: list[float] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def base_url(self, path: str = "/v1") -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            part = conn.recv(65536)
            if not part:
                conn.close()
                return
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            body += conn.recv(65536)
        self.requests.append(time.monotonic())

        def send(chunk: bytes) -> bool:
            try:
                conn.sendall(chunk)
                return True
            except OSError:
                return False

        try:
            self.script(send)
        finally:
            # the gateway closing its end shows as EOF (or a reset) on our side
            conn.settimeout(30)
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass
            self.closed_by_peer.append(time.monotonic())
            conn.close()


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Cache-Control: no-cache\r\n\r\n")


def scripted_and_backup(gw, mocks, script):
    """Key A on a scripted provider (tried first), key B on a normal mock: (scripted, backup, s, ka,
    kb, vk)."""
    scripted = ScriptedProvider(script)
    backup = mocks.new("backup")
    s = Snapshot()
    pa = s.provider("scripted", "openai", scripted.base_url())
    pb = s.provider("backup", "openai", backup.base_url())
    ka = s.key(pa, weight=1000, label="A", cooldown_seconds=30)
    kb = s.key(pb, weight=1, label="B")
    s.model(pa, "gpt-4o")
    s.model(pb, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    backup.set_default(Reply.stream(["from ", "backup"]))
    return scripted, backup, s, ka, kb, vk


# ---- held until the first content: failures before it fail over ------------------------------------

def test_stream_broken_after_role_chunk_fails_over_invisibly(pair, sdk):
    gw, m, s, ka, kb, vk = (pair[n] for n in ("gw", "m", "s", "ka", "kb", "vk"))
    m.set_default(Reply.stream(["never seen"], drop_after=1), key=ka)  # role chunk, then cut
    m.set_default(Reply.stream(["from ", "B"]), key=kb)
    res, took = stream_via_sdk(sdk, gw, vk)
    assert res.get("completed") and "error" not in res, res
    assert streamed_text(res) == "from B", res
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "cut,200"
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0, "a key that cut its stream cools down"
    assert took < 5, took


def test_error_event_before_content_fails_over(pair, sdk):
    gw, m, ka, kb, vk = (pair[n] for n in ("gw", "m", "ka", "kb", "vk"))
    m.set_default(Reply.stream([ROLE, {"error": {"message": "overloaded", "type": "server_error"}}]), key=ka)
    m.set_default(Reply.stream(["fine"]), key=kb)
    res, took = stream_via_sdk(sdk, gw, vk)
    assert res.get("completed") and "error" not in res, res
    assert streamed_text(res) == "fine", res
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "invalid,200"
    assert "sent an error event before its first token" in gw.error_log()
    assert took < 5, took


def test_close_delimited_stream_ending_before_content_fails_over(pair, sdk):
    gw, m, ka, kb, vk = (pair[n] for n in ("gw", "m", "ka", "kb", "vk"))
    m.set_default(Reply.stream([ROLE], done=False, chunked=False), key=ka)  # role chunk, then EOF
    m.set_default(Reply.stream(["whole"]), key=kb)
    res, took = stream_via_sdk(sdk, gw, vk)
    assert res.get("completed") and streamed_text(res) == "whole", res
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "cut,200"
    assert took < 5, took


def test_no_candidate_reaches_content_is_a_502_error_not_a_stream(pair):
    gw, m, ka, kb, vk = (pair[n] for n in ("gw", "m", "ka", "kb", "vk"))
    m.set_default(Reply.stream(["x"], drop_after=1))  # both keys: role chunk, then cut
    t0 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o", stream=True), key=vk)
    assert_openai_error(r, 502)
    assert "broke off its answer" in r.json["error"]["message"], r.describe()
    assert sorted(q.auth_secret() for q in m.requests) == sorted([ka, kb])
    assert gw.wait_access(1)[-1]["statuses"] == "cut,cut"
    assert time.monotonic() - t0 < 5


def test_held_role_chunk_and_comment_go_out_with_the_first_content(gw, mocks):
    """What came before the first content is held, not lost: the client gets the role chunk, the
    comment and the content, in order, and nothing before the content exists."""
    def script(send):
        send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        send(chunked(b"data: " + json.dumps(ROLE).encode() + b"\n\n"))
        send(chunked(b": warming up\n\n"))
        time.sleep(0.8)
        send(chunked(b"data: " + json.dumps(chunk_body("chatcmpl-h", 1, "gpt-4o", {"content": "late"})).encode()
                     + b"\n\n"))
        send(chunked(b"data: " + json.dumps(chunk_body("chatcmpl-h", 1, "gpt-4o", {}, finish_reason="stop")).encode()
                     + b"\n\n"))
        send(chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    scripted, _backup, _s, _ka, _kb, vk = scripted_and_backup(gw, mocks, script)
    try:
        body = json.dumps(chat_body("gpt-4o", stream=True)).encode()
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {vk}\r\n"
                f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        c = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        t0 = time.monotonic()
        c.sendall(head + body)
        first = c.recv(1)
        first_byte_after = time.monotonic() - t0
        rest = b""
        while True:
            part = c.recv(65536)
            if not part:
                break
            rest += part
        c.close()
        answer = first + rest
        assert first_byte_after >= 0.7, f"headers went out before the first content: {first_byte_after:.2f}s"
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        text = answer.split(b"\r\n\r\n", 1)[1]
        role_at, comment_at, late_at = text.find(b'"role"'), text.find(b": warming up"), text.find(b'"late"')
        assert 0 <= role_at < comment_at < late_at, text
        assert b"data: [DONE]" in text[late_at:], text
        assert gw.wait_access(1)[-1]["statuses"] == "200"
    finally:
        scripted.stop()


# ---- keep-alives: the first-token limit, not memory --------------------------------------------

def test_keepalives_only_meet_the_first_token_limit(gw_factory, mocks):
    gw = gw_factory(location_extra="routeshift_first_token_timeout 700ms;")

    def script(send):
        send(SSE_HEAD)
        send(chunked(b"data: " + json.dumps(ROLE).encode() + b"\n\n"))
        for _ in range(200):  # 10 s of keep-alives, never a token
            if not send(chunked(b": keep-alive\n\n")):
                return
            time.sleep(0.05)

    scripted, backup, s, ka, _kb, vk = scripted_and_backup(gw, mocks, script)
    try:
        t0 = time.monotonic()
        r = gw.chat(chat_body("gpt-4o", stream=True), key=vk)
        took = time.monotonic() - t0
        assert r.status == 200, r.describe()
        events = sse_events(r.body)
        got = "".join((e["choices"][0]["delta"].get("content") or "") for e in events
                      if isinstance(e, dict) and e.get("choices"))
        assert got == "from backup" and events[-1] == "[DONE]", r.describe()
        assert b"keep-alive" not in r.body, "the failed attempt's held bytes never reach the client"
        assert took < 3.0, f"keep-alives held the client past the first-token limit: {took:.2f}s"
        assert len(scripted.requests) == 1 and len(backup.requests) == 1
        assert gw.wait_access(1)[-1]["statuses"] == "ttft,200"
        assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0
    finally:
        scripted.stop()


def test_flood_before_content_is_bounded_and_fails_over(gw, mocks):
    def script(send):
        send(SSE_HEAD)
        comment = b": " + b"x" * 8000 + b"\n\n"
        for _ in range(2000):  # 16 MB of comments, never a token
            if not send(chunked(comment)):
                return

    scripted, backup, _s, _ka, _kb, vk = scripted_and_backup(gw, mocks, script)
    try:
        t0 = time.monotonic()
        r = gw.chat(chat_body("gpt-4o", stream=True), key=vk)
        took = time.monotonic() - t0
        assert r.status == 200, r.describe()
        assert b"xxxx" not in r.body, "the failed attempt's held bytes never reach the client"
        got = "".join((e["choices"][0]["delta"].get("content") or "") for e in sse_events(r.body)
                      if isinstance(e, dict) and e.get("choices"))
        assert got == "from backup", r.describe()
        assert len(scripted.requests) == 1 and len(backup.requests) == 1
        assert gw.wait_access(1)[-1]["statuses"] == "invalid,200"
        assert took < 5, took
        # the flooding connection is closed, not read to its end
        deadline = time.monotonic() + 5
        while not scripted.closed_by_peer and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scripted.closed_by_peer, "the gateway kept reading the flooding provider"
    finally:
        scripted.stop()


# ---- per-rule first-token limit ----------------------------------------------------------------

def test_rule_first_token_timeout_overrides_the_directive(gw_factory, mocks, sdk):
    gw = gw_factory(location_extra="routeshift_first_token_timeout 400ms;")
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, weight=1000, label="A", cooldown_seconds=30)
    kb = s.key(p, weight=1, label="B")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    doc = s.to_dict()
    doc["routing_rules"] = [
        {"id": 7, "name": "patient", "priority": 1, "match": {"model": "patient"},
         "action": {"route": {"model": "gpt-4o"}}, "first_token_timeout_ms": 5000},
        {"id": 8, "name": "hasty", "priority": 2, "match": {"model": "hasty"},
         "action": {"route": {"model": "gpt-4o"}}, "first_token_timeout_ms": 300},
    ]
    gw.push(doc)
    # headers at once, the first token after 1.2 s: longer than the directive's limit
    m.set_default(Reply.stream(["slow ", "start"], first_delay=1.2), key=ka)
    m.set_default(Reply.stream(["quick"]), key=kb)

    took, text, events = timed_stream(gw, vk, "patient")
    assert text == "slow start" and events[-1] == "[DONE]", events
    assert 1.1 < took < 5, took
    assert [q.auth_secret() for q in m.requests] == [ka]
    assert gw.wait_access(1)[-1]["statuses"] == "200"

    took, text, events = timed_stream(gw, vk, "hasty")
    assert text == "quick" and events[-1] == "[DONE]", events
    assert took < 1.1, f"the rule's 300 ms limit did not apply: {took:.2f}s"
    assert [q.auth_secret() for q in m.requests] == [ka, ka, kb]
    assert gw.wait_access(2)[-1]["statuses"] == "ttft,200"
    # the SDK reads the failed-over stream as one clean answer
    m.set_default(Reply.stream(["quick"]), key=ka)
    res, _ = stream_via_sdk(sdk, gw, vk, model="hasty")
    assert res.get("completed") and streamed_text(res) == "quick", res


def test_directive_first_token_limit_applies_without_a_rule(gw_factory, mocks, sdk):
    gw = gw_factory(location_extra="routeshift_first_token_timeout 400ms;")
    m, s, ka, kb, vk = two_keys(gw, mocks)
    m.set_default(Reply.stream(["slow"], first_delay=1.5), key=ka)  # headers at once, token late
    m.set_default(Reply.stream(["quick"]), key=kb)
    took, text, events = timed_stream(gw, vk, "gpt-4o")
    assert text == "quick" and events[-1] == "[DONE]", events
    assert took < 1.4, took
    assert [q.auth_secret() for q in m.requests] == [ka, kb]
    assert gw.wait_access(1)[-1]["statuses"] == "ttft,200"
    assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0


# ---- issue 13: bounded output, a translator that gave up ------------------------------------------

def anthropic_event(kind: str, data: dict | bytes) -> bytes:
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"


def test_translator_giving_up_ends_the_request_and_closes_the_provider(gw, mocks, sdk):
    """An endless Anthropic stream with a broken event after its first text: the client's stream ends
    at once with the error event, and the provider's connection is closed (not read forever)."""
    def script(send):
        send(SSE_HEAD)
        for ev in (anthropic_event("message_start", {"type": "message_start", "message": {
                       "id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": [],
                       "usage": {"input_tokens": 5, "output_tokens": 0}}}),
                   anthropic_event("content_block_start", {"type": "content_block_start", "index": 0,
                                                           "content_block": {"type": "text", "text": ""}}),
                   anthropic_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                           "delta": {"type": "text_delta", "text": "hello"}})):
            send(chunked(ev))
        time.sleep(0.3)  # the first text is relayed (headers out) before the broken event
        send(chunked(anthropic_event("content_block_delta", b'{"type":"content_block_delta","index":0,"delta":{')))
        for _ in range(600):  # a minute of pings
            if not send(chunked(anthropic_event("ping", {"type": "ping"}))):
                return
            time.sleep(0.1)

    scripted = ScriptedProvider(script)
    try:
        s = Snapshot()
        p = s.provider("claude", "anthropic", scripted.base_url(path=""))
        s.key(p, label="only")
        s.model(p, "gpt-4o")
        vk = s.vkey()
        gw.push(s)
        res, took = stream_via_sdk(sdk, gw, vk)
        assert streamed_text(res) == "hello", res
        assert "error" in res and not res.get("completed"), res
        assert took < 8, f"the client's request did not end promptly: {took:.2f}s"
        deadline = time.monotonic() + 3
        while not scripted.closed_by_peer and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scripted.closed_by_peer, "the provider's connection stayed open after the translator gave up"
        assert scripted.closed_by_peer[0] - scripted.requests[0] < 8
        assert gw.wait_access(1)[-1]["statuses"] == "invalid"
    finally:
        scripted.stop()


def worker_peak_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_growing_events_do_not_grow_the_worker(gw_factory, mocks):
    """Events of growing size (64 KiB .. 3 MiB): the output buffers are reused, so the worker's peak
    memory follows the largest event, not the sum of all sizes (~73 MiB)."""
    gw = gw_factory(workers=1)
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p, label="only")
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    sizes = [64 * 1024 * i for i in range(1, 49)]
    m.set_default(Reply.stream(["y" * n for n in sizes]))
    (pid,) = gw.worker_pids()
    m.enqueue(Reply.stream(["warm-up"]))
    gw.chat(chat_body("gpt-4o", stream=True), key=vk)  # warm-up: pools, caches
    before = worker_peak_kib(pid)
    t0 = time.monotonic()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {vk}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n").encode()
    body = json.dumps(chat_body("gpt-4o", stream=True)).encode()
    r = raw_request(gw.port, head + b"Content-Length: %d\r\n\r\n" % len(body), body, timeout=60)
    took = time.monotonic() - t0
    grown_mib = (worker_peak_kib(pid) - before) / 1024
    got = sum(len(e["choices"][0]["delta"].get("content") or "") for e in sse_events(r.body)
              if isinstance(e, dict) and e.get("choices"))
    assert got == sum(sizes), (got, sum(sizes))
    if not os.environ.get("ROUTESHIFT_ASAN"):  # ASan's quarantine keeps freed memory: its RSS says nothing
        assert grown_mib < 32, f"the worker grew {grown_mib:.0f} MiB for one stream"
    assert took < 60, took
    assert gw.wait_access(2)[-1]["statuses"] == "200"
