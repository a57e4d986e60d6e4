"""The OpenAI endpoints other than chat, relayed to OpenAI-wire providers (docs/design.md §21), with
the official openai SDK (t/js/openai_endpoints.mjs) against the strict endpoint mocks of
mock_provider.OpenAIEndpoints: completions, responses (plain, streamed, stored and read back),
moderations, images (generate, edit with a PNG upload), audio (a ~1 MB transcription upload checked
byte for byte, speech bytes), rerank; model routing (aliases), a model served only by another wire,
bad input, the body limit, failover before the first byte, and the virtual key never upstream."""

from __future__ import annotations

import hashlib
import os
import struct
import time
import zlib

import pytest

from helpers import Snapshot, http_request, raw_request, run_sdk
from mock_provider import OpenAIEndpoints, Reply


def run_endpoints(job: dict) -> dict:
    return run_sdk(job, script="openai_endpoints.mjs")


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes([255, 0, 0, 255] * 4) for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class World:
    def __init__(self, gw, mocks, keys: int = 1):
        self.gw = gw
        self.mock = mocks.new("oa")
        self.ep = OpenAIEndpoints(self.mock)
        self.other = mocks.new("claude")  # an Anthropic-wire provider: never reached by the relay
        s = Snapshot()
        p = s.provider("openai", "openai", self.mock.base_url())
        self.secrets = [s.key(p, label=f"K{i}", cooldown_seconds=30) for i in range(keys)]
        s.model(p, "text-alias", "gpt-3.5-turbo-instruct")
        s.model(p, "resp-alias", "gpt-4o-mini")
        s.model(p, "whisper-alias", "whisper-1")
        for name in ("omni-moderation-latest", "gpt-image-1", "tts-1", "rerank-english-v3.0"):
            s.model(p, name)
        pa = s.provider("anthropic", "anthropic", self.other.base_url())
        s.key(pa, label="A")
        s.model(pa, "claude-only", "claude-sonnet-4-5")
        s.settings["files_provider"] = "openai"
        self.vk = s.vkey()
        self.snap = s
        gw.push(s)

    def job(self, mode: str, **fields) -> dict:
        return run_endpoints({"baseURL": self.gw.base_url, "apiKey": self.vk, "mode": mode, **fields})

    def no_virtual_key_upstream(self):
        for m in (self.mock, self.other):
            for req in m.requests:
                assert not req.carries(self.vk), req.target
        assert not self.other.requests


@pytest.fixture
def world(gw, mocks, sdk):
    return World(gw, mocks)


def test_completions_plain_and_streamed(world):
    res = world.job("completions", request={"model": "text-alias", "prompt": "Say this is a test", "max_tokens": 7})
    assert "error" not in res, res
    c = res["completion"]
    assert c["object"] == "text_completion" and c["choices"][0]["text"] == "completed by oa", c
    up = world.mock.requests[-1]
    assert up.method == "POST" and up.path == "/v1/completions"
    assert up.json == {"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", "max_tokens": 7}
    assert up.header("authorization") == f"Bearer {world.secrets[0]}"
    e = world.gw.wait_access(1)[-1]
    assert e["status"] == "200" and e["pt"] == "5" and e["ct"] == "3", e
    assert e["model"] == "gpt-3.5-turbo-instruct" and e["provider"] == "openai", e

    res = world.job("completions_stream", request={"model": "text-alias", "prompt": "x",
                                                   "stream_options": {"include_usage": True}})
    assert res.get("completed") and "error" not in res, res
    text = " ".join(ch["choices"][0]["text"] for ch in res["chunks"] if ch["choices"])
    assert text == "completed by oa"
    assert res["chunks"][-1]["usage"]["total_tokens"] == 8
    e = world.gw.wait_access(2)[-1]
    assert e["pt"] == "5" and e["ct"] == "3", e
    world.no_virtual_key_upstream()


def test_responses_plain_streamed_stored_and_read_back(world):
    res = world.job("responses", request={"model": "resp-alias", "input": "Hello"})
    assert "error" not in res, res
    r = res["response"]
    assert r["output"][0]["content"][0]["text"] == "response from oa"
    assert r["id"].startswith("resp_rs1-"), r["id"]  # the client id names the key that stores it
    assert world.mock.requests[-1].json["model"] == "gpt-4o-mini"
    e = world.gw.wait_access(1)[-1]
    assert e["pt"] == "11" and e["ct"] == "4", e  # Responses usage: input/output tokens

    got = world.job("response_get", id=r["id"])
    assert "error" not in got and got["response"]["id"] == r["id"], got
    assert world.mock.requests[-1].method == "GET"
    assert world.mock.requests[-1].path.startswith("/v1/responses/resp_oa")

    # a follow-up turn names the stored response: decoded for the provider, same key
    res2 = world.job("responses", request={"model": "resp-alias", "input": "More", "previous_response_id": r["id"]})
    assert "error" not in res2, res2
    assert world.mock.requests[-1].json["previous_response_id"].startswith("resp_oa")
    assert res2["response"]["previous_response_id"] == r["id"]

    st = world.job("responses_stream", request={"model": "resp-alias", "input": "Hi"})
    assert st.get("completed") and "error" not in st, st
    types = [ev["type"] for ev in st["events"]]
    assert types[0] == "response.created" and types[-1] == "response.completed", types
    assert st["final"]["id"].startswith("resp_rs1-") and st["events"][0]["response"]["id"] == st["final"]["id"]
    assert world.mock.requests[-1].json["stream"] is True
    e = world.gw.wait_access(4)[-1]
    assert e["pt"] == "11" and e["ct"] == "4", e

    deleted = world.job("response_delete", id=st["final"]["id"])
    assert deleted.get("deleted"), deleted
    gone = world.job("response_get", id=st["final"]["id"])
    assert gone["error"]["status"] == 404, gone
    world.no_virtual_key_upstream()


def test_moderations_images_speech_rerank(world):
    res = world.job("moderations", request={"model": "omni-moderation-latest", "input": "I will kill it"})
    assert "error" not in res and res["moderation"]["results"][0]["flagged"] is True, res
    assert world.mock.requests[-1].path == "/v1/moderations"
    # no model: the files provider serves it, body untouched
    res = world.job("moderations", request={"input": "hello"})
    assert "error" not in res, res
    assert world.mock.requests[-1].json == {"input": "hello"}

    res = world.job("images_generate", request={"model": "gpt-image-1", "prompt": "a red square"})
    assert "error" not in res and res["images"]["data"][0]["b64_json"] == "aW1hZ2U=", res
    e = world.gw.wait_access(3)[-1]
    assert e["pt"] == "7" and e["ct"] == "50", e  # token-billed images report usage

    png = tiny_png()
    path = world.gw.prefix / "image.png"
    path.write_bytes(png)
    res = world.job("images_edit", imagePath=str(path), request={"model": "gpt-image-1", "prompt": "bluer"})
    assert "error" not in res, res
    kind, secret, filename, data, model = world.ep.uploads[-1]
    assert kind == "images/edits" and data == png and model == b"gpt-image-1"

    res = world.job("speech", request={"model": "tts-1", "input": "Hello there", "voice": "alloy"})
    assert "error" not in res, res
    expected = OpenAIEndpoints.speech_bytes("Hello there")
    assert res["sha256"] == hashlib.sha256(expected).hexdigest() and res["bytes"] == len(expected), res
    assert res["contentType"] == "audio/mpeg"

    res = world.job("rerank", request={"model": "rerank-english-v3.0", "query": "red fruit",
                                       "documents": ["a blue car", "a red fruit", "green"], "top_n": 2})
    assert res["status"] == 200, res
    assert res["body"]["results"][0] == {"index": 1, "relevance_score": 1.0}, res
    assert len(res["body"]["results"]) == 2
    assert world.mock.requests[-1].path == "/v1/rerank"
    world.no_virtual_key_upstream()


def test_transcription_upload_streamed_byte_for_byte(world):
    audio = os.urandom(1 << 20)
    path = world.gw.prefix / "speech.mp3"
    path.write_bytes(audio)
    res = world.job("transcription", filePath=str(path), request={"model": "whisper-alias"})
    assert "error" not in res, res
    assert res["transcription"]["text"] == f"heard {len(audio)} bytes"
    kind, secret, filename, data, model = world.ep.uploads[-1]
    assert kind == "audio/transcriptions" and filename == "speech.mp3"
    assert data == audio  # the upload reached the provider unchanged
    assert model == b"whisper-1"  # the alias resolved inside the form
    up = world.mock.requests[-1]
    assert up.header("content-type").startswith("multipart/form-data; boundary=")
    assert up.header("authorization") == f"Bearer {world.secrets[0]}"
    e = world.gw.wait_access(1)[-1]
    assert e["pt"] == "30" and e["ct"] == "6", e
    world.no_virtual_key_upstream()


def test_model_of_another_wire_and_bad_input(world):
    port = world.gw.port
    auth = {"Authorization": f"Bearer {world.vk}"}
    r = http_request(port, "POST", "/v1/completions", {"model": "claude-only", "prompt": "x"}, headers=auth)
    assert r.status == 400, r.describe()
    assert r.json["error"]["code"] == "endpoint_not_available_for_model" and "/v1/completions" in r.json["error"]["message"]
    r = http_request(port, "POST", "/v1/completions", {"model": "nope-model", "prompt": "x"}, headers=auth)
    assert r.status in (400, 404), r.describe()

    r = raw_request(port, (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.vk}\r\n"
                           "Content-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n").encode(),
                    b'{"model":')
    assert r.status == 400 and r.json["error"]["code"] == "invalid_json", r.describe()
    r = http_request(port, "POST", "/v1/audio/speech", {"input": "x", "voice": "alloy"}, headers=auth)
    assert r.status == 400 and r.json["error"]["param"] == "model", r.describe()
    r = http_request(port, "POST", "/v1/completions", {"model": 5, "prompt": "x"}, headers=auth)
    assert r.status == 400 and r.json["error"]["param"] == "model", r.describe()
    r = http_request(port, "POST", "/v1/completions", {"model": "text-alias", "prompt": "x", "stream": "yes"}, headers=auth)
    assert r.status == 400 and r.json["error"]["param"] == "stream", r.describe()
    # multipart without a boundary, and one that is never closed
    body = b"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
    for ctype in ("multipart/form-data", "multipart/form-data; boundary=b", "application/json"):
        r = raw_request(port, (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.vk}\r\n"
                               f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode(), body)
        assert r.status == 400 and r.json["error"]["type"] == "invalid_request_error", (ctype, r.describe())
    # over the body limit (routeshift_max_body_size, 4 MiB by default): 413 in OpenAI shape
    big = 5 << 20
    r = raw_request(port, (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.vk}\r\n"
                           f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {big}\r\nConnection: close\r\n\r\n").encode())
    assert r.status == 413 and r.json["error"]["code"] == "request_too_large", r.describe()
    # wrong method: 405 with Allow
    r = http_request(port, "PUT", "/v1/files", None, headers=auth)
    assert r.status == 405 and r.header("allow") == "GET, POST", r.describe()
    # no virtual key: 401, nothing upstream
    r = http_request(port, "POST", "/v1/moderations", {"input": "x"})
    assert r.status == 401, r.describe()
    assert not world.mock.requests and not world.other.requests


def test_failover_before_the_first_byte(gw, mocks, sdk):
    w = World(gw, mocks, keys=2)
    # a 429 on a model-less call (the files provider's two keys): the other key answers
    w.ep.fail_next("/v1/moderations", Reply.error(429, "slow down", headers={"Retry-After": "1"}))
    res = w.job("moderations", request={"input": "z"})
    assert "error" not in res, res
    assert w.mock.requests[-2].auth_secret() != w.mock.requests[-1].auth_secret()
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "429,200" and e["attempts"] == "2", e
    time.sleep(1.5)  # the 429's Retry-After
    # a 500 on a call with a model
    w.ep.fail_next("/v1/completions", Reply.error(500, "boom"))
    res = w.job("completions", request={"model": "text-alias", "prompt": "x"})
    assert "error" not in res, res
    first, second = w.mock.requests[-2], w.mock.requests[-1]
    assert first.auth_secret() != second.auth_secret()
    e = gw.wait_access(2)[-1]
    assert e["statuses"] == "500,200" and e["attempts"] == "2", e
    # the failed key cools down: the next call goes to the other key at once
    res = w.job("completions", request={"model": "text-alias", "prompt": "y"})
    assert "error" not in res and w.mock.requests[-1].auth_secret() == second.auth_secret(), res
    w.no_virtual_key_upstream()


def test_azure_v1_key_names_its_deployment_in_relayed_bodies(gw, mocks, sdk):
    # Azure's v1 API (/openai/v1/...) reads the deployment from the body's model, JSON or form
    # field: a key whose metadata names one sends it instead of the upstream model (§21)
    m = mocks.new("az")
    ep = OpenAIEndpoints(m, azure_deployments={"dep-v1"})
    s = Snapshot()
    p = s.provider("azure", "azure", m.base_url(path=""))
    secret = s.key(p, metadata={"resource_name": "ignored-when-base-url", "api_version": "v1", "deployment": "dep-v1"})
    s.model(p, "text-alias", "gpt-3.5-turbo-instruct")
    s.model(p, "whisper-alias", "whisper-1")
    vk = s.vkey()
    gw.push(s)
    res = run_endpoints({"baseURL": gw.base_url, "apiKey": vk, "mode": "completions",
                         "request": {"model": "text-alias", "prompt": "x"}})
    assert "error" not in res, res
    q = m.requests[-1]
    assert q.path == "/openai/v1/completions" and q.json["model"] == "dep-v1", (q.target, q.json)
    audio = os.urandom(200000)
    path = gw.prefix / "az.mp3"
    path.write_bytes(audio)
    res = run_endpoints({"baseURL": gw.base_url, "apiKey": vk, "mode": "transcription", "filePath": str(path),
                         "request": {"model": "whisper-alias"}})
    assert "error" not in res, res
    kind, got_secret, filename, data, model = ep.uploads[-1]
    assert (kind, got_secret, model) == ("audio/transcriptions", secret, b"dep-v1") and data == audio
    assert m.requests[-1].path == "/openai/v1/audio/transcriptions"
    for q in m.requests:
        assert not q.carries(vk)
