"""Self-tests of the Gemini mock (no nginx, no module): pin down what it sends so a gateway test
that fails can be trusted to be the gateway's fault."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mock_gemini import GeminiReply, MockGemini, Reply

KEY = "AIzaSyMOCK-0000000000000000000000000000"
DATA = Path(__file__).resolve().parents[1] / "unit" / "data" / "gemini"
BODY = {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}],
        "generationConfig": {"maxOutputTokens": 64}}


@pytest.fixture
def gm():
    m = MockGemini(name="g").start()
    yield m
    m.stop()
    assert not m.errors, m.errors


def post(m: MockGemini, path: str, body=BODY, key: str | None = KEY, timeout: float = 10.0):
    """(status, headers, raw body bytes) via urllib; HTTP errors are returned, not raised."""
    req = urllib.request.Request(f"http://127.0.0.1:{m.port}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **({"x-goog-api-key": key} if key else {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sse(raw: bytes) -> list:
    """The `data:` payloads of a Gemini SSE body (CRLF framing required)."""
    assert b"\r\n\r\n" in raw and not raw.replace(b"\r\n", b"").count(b"\n"), "events must be CRLF-framed"
    out = []
    for block in raw.split(b"\r\n\r\n"):
        lines = [ln[5:].strip() for ln in block.split(b"\r\n") if ln.startswith(b"data:")]
        if lines:
            out.append(json.loads(b"\n".join(lines)))
    return out


UNARY = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def test_unary_text_and_recording(gm):
    st, hdrs, raw = post(gm, UNARY)
    assert st == 200 and hdrs["Content-Type"].startswith("application/json")
    j = json.loads(raw)
    c = j["candidates"][0]
    assert c["content"] == {"parts": [{"text": "Hello from gemini mock"}], "role": "model"}
    assert c["finishReason"] == "STOP" and j["modelVersion"] == "gemini-2.5-flash"
    assert j["usageMetadata"]["promptTokenCount"] == 11 and j["usageMetadata"]["candidatesTokenCount"] == 1
    r = gm.wait_requests(1)[0]
    assert r.api_key == KEY and r.model == "gemini-2.5-flash" and not r.stream
    assert r.method_name == "generateContent" and r.json == BODY and r.path == UNARY


def test_sse_stream_framing_and_timing(gm):
    gm.set_default(GeminiReply.text(chunks=["Hel", "lo", "!"], thoughts=["Thinking."], delay=0.25))
    t0 = time.monotonic()
    st, hdrs, raw = post(gm, STREAM)
    assert time.monotonic() - t0 > 0.7, "per-event delay not applied"
    assert st == 200 and hdrs["Transfer-Encoding"] == "chunked"
    assert hdrs["Content-Type"].startswith("text/event-stream")
    assert b"[DONE]" not in raw  # Gemini streams simply end
    ev = sse(raw)
    assert len(ev) == 4
    assert ev[0]["candidates"][0]["content"]["parts"][0] == {"text": "Thinking.", "thought": True}
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in ev[1:]) == "Hello!"
    assert [("finishReason" in e["candidates"][0]) for e in ev] == [False, False, False, True]
    assert all("usageMetadata" in e for e in ev[1:])  # running counts on every chunk, last is final
    assert ev[-1]["usageMetadata"]["candidatesTokenCount"] == 3
    assert len({e["responseId"] for e in ev}) == 1
    assert gm.requests[0].stream
    # the same script on the unary endpoint is aggregated
    st, _, raw = post(gm, UNARY)
    parts = json.loads(raw)["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "Thinking.", "thought": True}, {"text": "Hello!"}]


def test_function_call_with_thought_signature(gm):
    gm.enqueue(GeminiReply.function_call("get_weather", {"city": "Oslo"}, thought_signature="CiQBVKhc7+/=",
                                         more=[("get_time", {"tz": "CET"})], thoughts=["Two calls."]))
    ev = sse(post(gm, STREAM)[2])
    parts = ev[-1]["candidates"][0]["content"]["parts"]
    assert parts[0] == {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "CiQBVKhc7+/="}
    assert parts[1] == {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}}  # only the first is signed
    assert ev[-1]["candidates"][0]["finishReason"] == "STOP"
    assert ev[-1]["usageMetadata"]["thoughtsTokenCount"] == 45
    gm.enqueue(GeminiReply.function_call("now", call_id="fc_1"))
    j = json.loads(post(gm, UNARY)[2])
    assert j["candidates"][0]["content"]["parts"] == [{"functionCall": {"name": "now", "args": {}, "id": "fc_1"}}]


def test_auth(gm):
    st, _, raw = post(gm, UNARY, key=None)
    assert st == 403
    err = json.loads(raw)["error"]
    assert err["status"] == "PERMISSION_DENIED" and err["code"] == 403 and "unregistered callers" in err["message"]
    # the legacy ?key= query is accepted too
    assert post(gm, UNARY + "?key=" + KEY, key=None)[0] == 200
    gm.valid_keys = {"AIza-good"}
    st, _, raw = post(gm, UNARY, key="AIza-bad")
    err = json.loads(raw)["error"]
    assert st == 400 and err["status"] == "INVALID_ARGUMENT" and err["details"][0]["reason"] == "API_KEY_INVALID"
    assert post(gm, UNARY, key="AIza-good")[0] == 200
    assert [r.api_key for r in gm.requests] == [None, KEY, "AIza-bad", "AIza-good"]


def test_error_replies_and_key_scoping(gm):
    gm.enqueue(GeminiReply.rate_limited("38s"), key="AIza-a")
    gm.enqueue(GeminiReply.unavailable(list_wrapped=True), key="AIza-b")
    gm.set_default(GeminiReply.internal(), key="AIza-c")
    st, hdrs, raw = post(gm, UNARY, key="AIza-a")
    assert st == 429 and "Retry-After" not in hdrs  # Gemini documents no Retry-After header
    err = json.loads(raw)["error"]
    assert err["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"} in err["details"]
    assert "PerMinute" in err["details"][0]["violations"][0]["quotaId"]
    st, _, raw = post(gm, STREAM, key="AIza-b")
    assert st == 503 and json.loads(raw)[0]["error"]["status"] == "UNAVAILABLE"
    assert post(gm, UNARY, key="AIza-c")[0] == 500
    assert post(gm, UNARY, key="AIza-a")[0] == 200  # queue consumed
    gm.enqueue(GeminiReply.rate_limited(None, per_day=True), GeminiReply.unknown_model())
    err = json.loads(post(gm, UNARY)[2])["error"]
    assert "PerDay" in err["details"][0]["violations"][0]["quotaId"]
    assert not any("RetryInfo" in d["@type"] for d in err["details"])
    st, _, raw = post(gm, UNARY)
    assert st == 404 and json.loads(raw)["error"]["status"] == "NOT_FOUND"
    # unknown paths
    st, _, raw = post(gm, "/v1beta/models/x:countTokens")
    assert st == 404 and json.loads(raw)["error"]["status"] == "NOT_FOUND"


def test_incomplete_streams(gm):
    # no finishReason at all: ends cleanly (terminating chunk) without the completion signal
    gm.enqueue(GeminiReply.text(chunks=["a", "b"], finish=False))
    st, _, raw = post(gm, STREAM)
    ev = sse(raw)
    assert st == 200 and len(ev) == 2 and all("finishReason" not in e["candidates"][0] for e in ev)
    # connection dropped after the first event
    gm.enqueue(GeminiReply.text(chunks=["a", "b", "c"], drop_after=1))
    conn = http.client.HTTPConnection("127.0.0.1", gm.port, timeout=10)
    conn.request("POST", STREAM, body=json.dumps(BODY), headers={"x-goog-api-key": KEY})
    resp = conn.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        resp.read()
    conn.close()
    # raw JSON error appended after data events (as recorded)
    gm.enqueue(GeminiReply.mid_stream_error(["First ", "Second "]))
    raw = post(gm, STREAM)[2]
    head, _, tail = raw.partition(b'{\n  "error"')
    assert len(sse(head)) == 2 and b"data:" not in tail
    assert json.loads(b'{\n  "error"' + tail)["error"]["status"] == "CANCELLED"
    gm.enqueue(GeminiReply.mid_stream_error(as_data=True, code=500, status="INTERNAL", message="boom"))
    assert sse(post(gm, STREAM)[2])[-1]["error"]["message"] == "boom"
    # prompt blocked
    gm.enqueue(GeminiReply.prompt_blocked("PROHIBITED_CONTENT"))
    ev = sse(post(gm, STREAM)[2])
    assert ev == [{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "safetyRatings": [
        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash"}]


def test_json_array_stream_keepalive_and_replay(gm):
    gm.set_default(GeminiReply.text(chunks=["x", "y"]))
    conn = http.client.HTTPConnection("127.0.0.1", gm.port, timeout=10)
    for path in ("/v1beta/models/gemini-3-pro-preview:streamGenerateContent", UNARY):
        conn.request("POST", path, body=json.dumps(BODY), headers={"x-goog-api-key": KEY})
        r = conn.getresponse()
        data = json.loads(r.read())
        assert r.status == 200
    conn.close()
    reqs = gm.wait_requests(2)
    assert reqs[0].conn_id == reqs[1].conn_id
    # without alt=sse: one JSON array
    conn = http.client.HTTPConnection("127.0.0.1", gm.port, timeout=10)
    conn.request("POST", "/v1beta/models/gemini-3-pro-preview:streamGenerateContent", body=json.dumps(BODY),
                 headers={"x-goog-api-key": KEY})
    arr = json.loads(conn.getresponse().read())
    conn.close()
    assert isinstance(arr, list) and len(arr) == 2 and arr[1]["candidates"][0]["finishReason"] == "STOP"
    assert arr[0]["modelVersion"] == "gemini-3-pro-preview"
    assert isinstance(data, dict)
    # recorded fixtures served verbatim
    rec = DATA / "firebase-googleai_streaming-success-basic-reply-short.sse"
    gm.enqueue(GeminiReply.replay(rec))
    assert post(gm, STREAM)[2] == rec.read_bytes()
    gm.enqueue(GeminiReply.replay(DATA / "firebase-googleai_unary-failure-unknown-model.json", status=404))
    st, _, raw = post(gm, UNARY)
    assert st == 404 and json.loads(raw)["error"]["code"] == 404
    # and a plain connection drop before any answer
    gm.enqueue(Reply.drop())
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.RemoteDisconnected)):
        post(gm, UNARY)
