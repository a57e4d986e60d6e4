"""How the client body is read (glue/ngx_routeshift_body.cpp): with Content-Length, sent with the
headers or after them, and chunked, in sizes around nginx's buffer boundaries (the 1 KB header
buffer, a 4 KB client_body_buffer_size) so that bodies span several nginx buffers. The provider
must receive exactly the bytes a body sent in one piece produces: the client's own bytes on the
OpenAI pass-through (a compact body whose model is not renamed goes out unchanged), the same
Anthropic body on the translation arm. Over the limit, chunked too, the answer is a 413 in OpenAI
shape; a chunked snapshot push works on the admin location."""

from __future__ import annotations

import json
import socket
import time

import pytest

from helpers import Snapshot, assert_openai_error, raw_request, read_to_end
from mock_anthropic import MockAnthropic

# sizes around the 1 KB header buffer and the 4 KB body buffer, and a few large ones
SIZES = [300, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 5119, 8192, 8193, 65536, 300_001]


def payload(size: int, model: str) -> bytes:
    """A compact OpenAI chat body of exactly `size` bytes."""
    def body(text: str) -> bytes:
        return json.dumps({"model": model, "temperature": 0.2, "messages": [
            {"role": "system", "content": "be brief"}, {"role": "user", "content": text}]},
            separators=(",", ":")).encode()
    base = len(body(""))
    assert size > base
    prose = "The quick brown fox jumps over the lazy dog; the gateway reads the body. "
    return body((prose * (size // len(prose) + 1))[:size - base])


def head(vk: str, extra: str) -> bytes:
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {vk}\r\n"
            f"Content-Type: application/json\r\n{extra}Connection: close\r\n\r\n").encode()


def chunked(data: bytes, size: int) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                    for i in range(0, len(data), size)) + b"0\r\n\r\n"


def send_slowly(port: int, parts: list[bytes], pause: float = 0.05) -> bytes:
    """Sends `parts` with pauses (so nginx reads them apart) and returns the raw answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        for p in parts:
            s.sendall(p)
            time.sleep(pause)
        data = read_to_end(s)
    finally:
        s.close()
    return data


def ways(vk: str, data: bytes) -> dict:
    """The same body sent several ways: name -> list of byte strings sent with pauses between."""
    cl = head(vk, f"Content-Length: {len(data)}\r\n")
    te = head(vk, "Transfer-Encoding: chunked\r\n")
    return {
        "length_together": [cl + data],
        "length_after_head": [cl, data],
        "length_split": [cl + data[:700], data[700:5000], data[5000:]],
        "chunked_4k": [te + chunked(data, 4096)],
        "chunked_small": [te + chunked(data, 1000)],
        "chunked_split": [te, chunked(data, 8192)],
    }


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


@pytest.fixture(params=["default_buffers", "small_buffers"])
def gateway(request, gw_factory):
    extra = "client_body_buffer_size 4k;" if request.param == "small_buffers" else ""
    return gw_factory(location_extra=extra)


def test_openai_upstream_gets_the_clients_bytes(gateway, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")  # no rename: the spliced body is the client's body
    vk = s.vkey()
    gateway.push(s)
    sent = 0
    for size in SIZES:
        data = payload(size, "gpt-4o")
        assert len(data) == size
        for name, parts in ways(vk, data).items():
            raw = send_slowly(gateway.port, parts, pause=0.02 if size < 100_000 else 0.05)
            assert status_of(raw) == 200, f"{size} {name}: {raw[:400]!r}"
            sent += 1
            got = m.requests[-1].body
            assert got == data, f"{size} {name}: upstream got {len(got)} bytes, {got[:120]!r}"
    assert len(m.requests) == sent
    # nothing went through a temp file (blocking file I/O in the worker; nginx warns when it does)
    assert "buffered to a temporary file" not in gateway.error_log()


def test_anthropic_upstream_gets_the_same_body(gateway):
    m = MockAnthropic(name="claude").start()
    try:
        s = Snapshot()
        p = s.provider("anthropic", "anthropic", m.base_url())
        s.key(p)
        s.model(p, "claude-x", "claude-sonnet-4-5")
        vk = s.vkey()
        gateway.push(s)
        for size in [1023, 4097, 8193, 300_001]:
            data = payload(size, "claude-x")
            reference = None
            for name, parts in ways(vk, data).items():
                raw = send_slowly(gateway.port, parts)
                assert status_of(raw) == 200, f"{size} {name}: {raw[:400]!r}"
                got = m.requests[-1].body
                if reference is None:
                    reference = got
                    content = json.loads(got)["messages"][-1]["content"]
                    if isinstance(content, list):  # Anthropic content blocks
                        content = "".join(block["text"] for block in content)
                    assert content == json.loads(data)["messages"][-1]["content"]
                assert got == reference, f"{size} {name}: Anthropic body differs"
    finally:
        m.stop()


def test_chunked_over_the_limit_is_413(gw_factory, mocks):
    gw = gw_factory(location_extra="routeshift_max_body_size 64k; client_body_buffer_size 4k;")
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    te = head(vk, "Transfer-Encoding: chunked\r\n")
    under = payload(65536, "gpt-4o")
    r = raw_request(gw.port, te, chunked(under, 1000))
    assert r.status == 200, r.describe()
    assert m.requests[-1].body == under
    for size, chunk in [(65537, 1000), (70_000, 4096), (200_000, 65536)]:
        r = raw_request(gw.port, te, chunked(payload(size, "gpt-4o"), chunk))
        assert_openai_error(r, 413)
    assert len(m.requests) == 1


def test_chunked_snapshot_push(gw):
    s = Snapshot()
    s.provider("openai", "openai", "http://127.0.0.1:9/v1")
    for _ in range(300):  # a snapshot larger than the body buffer
        s.vkey()
    gw.secrets.update(s.vkeys)
    doc = json.dumps(s.to_dict()).encode()
    assert len(doc) > 20_000
    hd = (b"PUT /admin/snapshot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    r = raw_request(gw.admin_port, hd, chunked(doc, 3000))
    assert r.status == 200, r.describe()
    assert r.json["generation"] == s.to_dict()["generation"]
