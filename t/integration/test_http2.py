"""HTTP/2 clients (nginx `listen … http2`, cleartext prior knowledge, driven by Debian's curl with
nghttp2): request bodies arrive as DATA frames and go through the module's request-body filter
path (docs/design.md §6), with or without a content-length; the stream's cost and session go out
as a trailing HEADERS frame when the client sent `TE: trailers` (§12)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import Snapshot, free_port
from mock_provider import Reply

PER_TOKEN = 1_000_000


@pytest.fixture
def h2(gw_factory, mocks):
    port = free_port()
    gw = gw_factory(http_extra=f"""
    server {{
        listen 127.0.0.1:{port} http2;
        location /v1/ {{ routeshift_pass; }}
    }}""")
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    s.key(p, label="main")
    s.model(p, "gpt-4o", "gpt-4o-2024-11-20")
    vk = s.vkey()
    snap = s.to_dict()
    snap["model_prices"] = [{"id": 1, "provider_id": p, "model": "gpt-4o-2024-11-20",
                             "input_microcents_per_mtok": PER_TOKEN, "output_microcents_per_mtok": 2 * PER_TOKEN,
                             "cached_input_microcents_per_mtok": None, "effective_from": 0}]
    gw.push(snap)
    return dict(gw=gw, a=a, vk=vk, url=f"http://127.0.0.1:{port}/v1/chat/completions")


def curl_h2(url: str, vk: str, body: bytes, *, stdin_upload: bool = False, extra: list | None = None,
            reset_after_answer: bool = False):
    """One HTTP/2 POST; returns (status, header lines incl. trailers, body). stdin_upload sends the
    body with no content-length (curl streams stdin as DATA frames of unknown total length).
    reset_after_answer: the server answers before the upload ends and then resets the stream
    (RST_STREAM, as nginx does for a body it will not read); curl may report that reset (exit 92)
    while still sending, after the answer arrived: accepted only with a status line received."""
    with tempfile.NamedTemporaryFile() as answer:
        cmd = ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "20", "-D", "-", "-o", answer.name,
               "-H", f"Authorization: Bearer {vk}", "-H", "Content-Type: application/json", *(extra or [])]
        cmd += ["-X", "POST", "-T", "-"] if stdin_upload else ["--data-binary", "@-"]
        proc = subprocess.run(cmd + [url], input=body, capture_output=True, timeout=30)
        head = proc.stdout.decode("latin-1")
        reset = reset_after_answer and proc.returncode == 92 and head.startswith("HTTP/2 ")
        assert proc.returncode == 0 or reset, proc.stderr.decode()
        lines = [ln for ln in head.split("\r\n") if ln]
        assert lines[0].startswith("HTTP/2 "), head
        return int(lines[0].split()[1]), lines[1:], Path(answer.name).read_bytes()


def chat(content: str, **extra) -> bytes:
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": content}], **extra},
                      separators=(",", ":")).encode()


@pytest.mark.parametrize("size", [10, 70_000, 1_100_000])
@pytest.mark.parametrize("stdin_upload", [False, True], ids=["content-length", "no-length"])
def test_http2_request_body_reaches_provider_byte_for_byte(h2, size, stdin_upload):
    body = chat("x" * size)
    status, headers, answer = curl_h2(h2["url"], h2["vk"], body, stdin_upload=stdin_upload)
    assert status == 200, (headers, answer[:300])
    assert json.loads(answer)["object"] == "chat.completion"
    sent = h2["a"].requests[-1].body  # the OpenAI wire splices the model only: the rest byte for byte
    assert sent[sent.index(b'"messages"'):] == body[body.index(b'"messages"'):]
    assert json.loads(sent)["model"] == "gpt-4o-2024-11-20"
    assert "x-routeshift-cost-microcents: 25" in [h.lower() for h in headers], headers


def test_http2_body_over_the_limit_is_413(h2):
    status, _, answer = curl_h2(h2["url"], h2["vk"], chat("x" * (5 << 20)), stdin_upload=True,
                                reset_after_answer=True)
    assert status == 413, answer[:300]
    assert json.loads(answer)["error"]["type"] == "invalid_request_error"
    assert not h2["a"].requests


def test_http2_stream_cost_and_session_as_trailers(h2):
    h2["a"].set_default(Reply.stream(["Hello", " there", " friend", "!"], delay=0.05))
    status, headers, answer = curl_h2(h2["url"], h2["vk"], chat("hi", stream=True), extra=["-H", "TE: trailers"])
    assert status == 200
    text = answer.decode()
    assert text.rstrip().endswith("data: [DONE]"), text[-300:]
    lower = [h.lower() for h in headers]
    cost = [h for h in lower if h.startswith("x-routeshift-cost-microcents:")]
    session = [h for h in lower if h.startswith("x-routeshift-session-id:")]
    assert len(cost) == 1 and len(session) == 1, headers  # in the trailing HEADERS frame (or, held whole, up front)
    if any(h.startswith("trailer:") for h in lower):
        # announced: the values came after the body, as a trailing HEADERS frame
        assert lower.index(cost[0]) > lower.index(next(h for h in lower if h.startswith("trailer:")))
