"""Self-tests of mock_bedrock (no nginx needed): Converse JSON / ConverseStream event-stream shape,
CRCs, botocore SigV4 verification (accepts a correct signature, rejects a wrong one like AWS),
scripted throttling / 503 / mid-stream exception / dropped connection / incomplete stream.

When the unit-test build of the core library exists (make -C t/unit), the request bytes produced by
the gateway's own C++ signer (bedrock_http_request) are sent too, so botocore checks our SigV4."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mock_bedrock import (MockBedrock, bedrock_answer, bedrock_error, bedrock_recorded_stream,
                          bedrock_throttling, bedrock_unavailable, decode_frames, encode_frame)

ROOT = Path(__file__).resolve().parents[2]
AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PATH = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = json.dumps({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}).encode()


@pytest.fixture
def mock():
    m = MockBedrock(credentials={AKID: SECRET, "ASIATEMP": (SECRET, "SESSION/TOKEN=="), }).start()
    yield m
    m.stop()


def signed_headers(host: str, path: str, body: bytes, akid=AKID, secret=SECRET, token=None,
                   region="us-east-1", stream=False) -> dict:
    req = AWSRequest(method="POST", url=f"http://{host}{path}", data=body,
                     headers={"Content-Type": "application/json",
                              "Accept": "application/vnd.amazon.eventstream" if stream else "application/json"})
    SigV4Auth(Credentials(akid, secret, token), "bedrock", region).add_auth(req)
    h = dict(req.headers.items())
    h["Host"] = host
    return h


def post(port: int, path: str, body: bytes, headers: dict):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    return r, data


def test_encoder_reproduces_the_reference_vector():
    # docs/wire-formats.md, Bedrock Converse → Event-stream framing: headers :event-type,
    # :content-type, :message-type; CRCs c37babff / f2ace5ff
    f = encode_frame([(":event-type", "contentBlockDelta"), (":content-type", "application/json"),
                      (":message-type", "event")], b'{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}')
    assert len(f) == 159 and f[8:12].hex() == "c37babff" and f[-4:].hex() == "f2ace5ff"
    assert encode_frame([], b"").hex() == "000000100000000005c248eb7d98c8ff"
    (h, p), = decode_frames(f)
    assert h[":event-type"] == "contentBlockDelta" and json.loads(p)["delta"]["text"] == "Hi"
    bad = bytearray(f)
    bad[100] ^= 1
    with pytest.raises(ValueError, match="Message checksum"):
        decode_frames(bytes(bad))


def test_converse_json_and_signature_ok(mock):
    host = f"127.0.0.1:{mock.port}"
    r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY))
    assert r.status == 200, data
    j = json.loads(data)
    assert j["output"]["message"]["content"][0]["text"] == "Hello from mock bedrock"
    assert j["stopReason"] == "end_turn" and j["usage"]["totalTokens"] == 18
    req = mock.wait_requests(1)[0]
    assert req.sigv4["ok"] and req.sigv4["region"] == "us-east-1" and req.model_id == MODEL
    assert mock.requests_for(AKID) == [req]


def test_bad_signatures_are_refused_like_aws(mock):
    host = f"127.0.0.1:{mock.port}"
    h = signed_headers(host, PATH, BODY)
    r, data = post(mock.port, PATH, BODY + b" ", h)  # body changed after signing
    assert r.status == 403 and r.getheader("x-amzn-ErrorType").startswith("InvalidSignatureException")
    assert "signature" in json.loads(data)["message"]
    r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY, secret="wrong"))
    assert r.status == 403
    r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY, akid="AKIDUNKNOWN"))
    assert r.status == 403 and r.getheader("x-amzn-ErrorType").startswith("UnrecognizedClientException")
    # signed for another host than the one sent
    h = signed_headers("bedrock-runtime.us-east-1.amazonaws.com", PATH, BODY)
    h["Host"] = host
    r, _ = post(mock.port, PATH, BODY, h)
    assert r.status == 403
    # single-encoded canonical path (a classic SigV4 bug: the model id must be double-encoded)
    h = signed_headers(host, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", BODY)
    r, _ = post(mock.port, PATH, BODY, h)
    assert r.status == 403
    # session token: required, and must be signed
    r, _ = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY, akid="ASIATEMP"))
    assert r.status == 403
    r, _ = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY, akid="ASIATEMP", token="SESSION/TOKEN=="))
    assert r.status == 200
    # too old
    mock.max_skew = -1
    r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY))
    assert r.status == 403 and "expired" in json.loads(data)["message"]
    assert mock.signature_failures == 7


def test_stream_shape(mock):
    host = f"127.0.0.1:{mock.port}"
    mock.enqueue(bedrock_answer(chunks=["Hel", "lo"], reasoning=["think"],
                                tool_calls=[{"name": "get_weather", "input": {"city": "Oslo"}}],
                                usage={"inputTokens": 5, "outputTokens": 3, "cacheReadInputTokens": 2}))
    sp = PATH + "-stream"
    r, data = post(mock.port, sp, BODY, signed_headers(host, sp, BODY, stream=True))
    assert r.status == 200 and r.getheader("Content-Type") == "application/vnd.amazon.eventstream"
    assert r.getheader("Transfer-Encoding") == "chunked"
    frames = decode_frames(data)
    types = [h[":event-type"] for h, _ in frames]
    assert types[0] == "messageStart" and types[-2:] == ["messageStop", "metadata"]
    payloads = [json.loads(p) for _, p in frames]
    assert all("p" in p for p in payloads)  # Bedrock's padding
    text = "".join(p["delta"]["text"] for h, p in zip(types, payloads)
                   if h == "contentBlockDelta" and "text" in p["delta"])
    args = "".join(p["delta"]["toolUse"]["input"] for h, p in zip(types, payloads)
                   if h == "contentBlockDelta" and "toolUse" in p["delta"])
    assert text == "Hello" and json.loads(args) == {"city": "Oslo"}
    assert payloads[-2]["stopReason"] == "tool_use"
    assert payloads[-1]["usage"] == {"inputTokens": 5, "outputTokens": 3, "cacheReadInputTokens": 2, "totalTokens": 10}


def test_scripted_failures(mock):
    host = f"127.0.0.1:{mock.port}"
    sp = PATH + "-stream"
    mock.enqueue(bedrock_throttling(), bedrock_unavailable(),
                 bedrock_error(400, "ValidationException", "Input is too long for requested model.", with_header=False))
    for status, etype in ((429, "ThrottlingException"), (503, "ServiceUnavailableException")):
        r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY))
        assert r.status == status and r.getheader("x-amzn-ErrorType").startswith(etype + ":")
        assert json.loads(data)["message"]
    r, data = post(mock.port, PATH, BODY, signed_headers(host, PATH, BODY))
    assert r.status == 400 and json.loads(data)["__type"].endswith("#ValidationException")

    # mid-stream exception frame after 2 events
    mock.enqueue(bedrock_answer("abcdefghi", exception=("throttlingException", "slow down", 2)))
    r, data = post(mock.port, sp, BODY, signed_headers(host, sp, BODY, stream=True))
    frames = decode_frames(data)
    assert len(frames) == 3 and frames[-1][0][":message-type"] == "exception"
    assert frames[-1][0][":exception-type"] == "throttlingException"

    # clean end without messageStop/metadata
    mock.enqueue(bedrock_answer("abc", complete=False))
    r, data = post(mock.port, sp, BODY, signed_headers(host, sp, BODY, stream=True))
    types = [h[":event-type"] for h, _ in decode_frames(data)]
    assert "messageStop" not in types and "metadata" not in types

    # corrupt frame
    mock.enqueue(bedrock_answer("abc", corrupt_event=1))
    r, data = post(mock.port, sp, BODY, signed_headers(host, sp, BODY, stream=True))
    with pytest.raises(ValueError, match="checksum"):
        decode_frames(data)

    # connection dropped after 2 events
    mock.enqueue(bedrock_answer("abcdefghi", drop_after=2, delay=0.01))
    c = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    c.request("POST", sp, body=BODY, headers=signed_headers(host, sp, BODY, stream=True))
    r = c.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        r.read()


def test_recorded_replay_and_keepalive(mock):
    host = f"127.0.0.1:{mock.port}"
    sp = PATH + "-stream"
    rec = ROOT / "t/unit/data/bedrock/vercel-ai_amazon-bedrock-tool-call.1.eventstream"
    mock.enqueue(bedrock_recorded_stream(str(rec), split=7))
    c = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    c.request("POST", sp, body=BODY, headers=signed_headers(host, sp, BODY, stream=True))
    r = c.getresponse()
    assert r.read() == rec.read_bytes()
    c.request("POST", PATH, body=BODY, headers=signed_headers(host, PATH, BODY))
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["stopReason"] == "end_turn"
    reqs = mock.wait_requests(2)
    assert reqs[0].conn_id == reqs[1].conn_id


def test_api_key_auth():
    m = MockBedrock(api_keys={"ABSK-test"}).start()
    try:
        r, _ = post(m.port, PATH, BODY, {"Authorization": "Bearer ABSK-test", "Content-Type": "application/json"})
        assert r.status == 200
        r, _ = post(m.port, PATH, BODY, {"Authorization": "Bearer nope", "Content-Type": "application/json"})
        assert r.status == 403
    finally:
        m.stop()


def _core_lib() -> Path | None:
    """The core library `make` builds for the module (ROUTESHIFT_CORE_LIB overrides)."""
    p = Path(os.environ.get("ROUTESHIFT_CORE_LIB", ROOT / "build/core/librouteshift_core.a"))
    if not p.exists() or shutil.which("ar") is None:
        return None
    members = subprocess.run(["ar", "t", str(p)], capture_output=True, text=True).stdout.split()
    return p if "bedrock_endpoint.o" in members and "sigv4.o" in members else None


def test_gateway_signer_verified_by_botocore(mock, tmp_path):
    """The gateway's own bedrock_http_request bytes, checked by botocore in the mock."""
    assert _core_lib() is not None, "build/core/librouteshift_core.a with the Bedrock adapter (run make)"
    src = tmp_path / "req.cpp"
    src.write_text(r'''
#include "config/key_metadata.hpp"
#include "egress/provider_adapter.hpp"
#include "util/json_util.hpp"
#include <cstdio>
#include <cstdlib>
using namespace routeshift;
int main(int argc, char** argv) {
    ProviderKey k; k.provider = 0; k.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    std::string tok = argv[5];
    k.metadata = json_parse(std::string("{\"region\":\"us-east-1\",\"access_key_id\":\"") + argv[4] + "\"" +
                            (tok.empty() ? "" : ",\"session_token\":\"" + tok + "\"") + "}", nullptr);
    std::string merr;  // the typed fields parse_snapshot fills
    if (!parse_key_metadata(k.metadata.get(), ProviderKind::bedrock, &k.meta, &merr)) { fprintf(stderr, "%s\n", merr.c_str()); return 1; }
    std::string body = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"H\xc3\xa9llo \\u2713\"}]}]}";
    std::string out, err;
    bool stream = argv[3][0] == '1';
    if (!bedrock_http_request("127.0.0.1", argv[1], bedrock_path(argv[2], stream), k, stream, body,
                              atoll(argv[6]), &out, &err)) { fprintf(stderr, "%s\n", err.c_str()); return 1; }
    fwrite(out.data(), 1, out.size(), stdout);
}''')
    exe = tmp_path / "req"
    flags = []
    subprocess.run(["g++", "-std=c++20", f"-I{ROOT}/ngx_routeshift_module/core", str(src), str(_core_lib()),
                    *flags, "-ljansson", "-lssl", "-lcrypto", "-o", str(exe)], check=True)
    cases = [(MODEL, "1", AKID, ""),
             ("arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
              "0", AKID, ""),
             ("us.meta.llama3-2-1b-instruct-v1:0", "0", "ASIATEMP", "SESSION/TOKEN==")]
    for model, stream, akid, tok in cases:
        raw = subprocess.run([str(exe), f"127.0.0.1:{mock.port}", model, stream, akid, tok, str(int(time.time()))],
                             check=True, capture_output=True).stdout
        s = socket.create_connection(("127.0.0.1", mock.port), timeout=10)
        s.sendall(raw)
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += s.recv(65536)
        s.close()
        assert resp.startswith(b"HTTP/1.1 200"), resp[:300]
    reqs = mock.wait_requests(3)
    assert all(r.sigv4["ok"] for r in reqs)
    assert [r.model_id for r in reqs] == [c[0] for c in cases]
    assert reqs[0].stream and not reqs[1].stream
