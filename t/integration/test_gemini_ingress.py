"""The Gemini native ingress (docs/design.md §18 "Gemini native") with the official @google/genai SDK
(httpOptions.baseUrl = the gateway), through the gateway to a Gemini-wire, an OpenAI-wire and an
Anthropic-wire mock; raw HTTP for the other key sources, the alias paths and the errors."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_anthropic import AReply, MockAnthropic
from mock_gemini import GeminiReply, MockGemini
from mock_provider import Reply

WEATHER_TOOL = {"functionDeclarations": [{
    "name": "get_weather", "description": "The weather of a city",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}


class World:
    def __init__(self, gw, mocks):
        self.gw = gw
        self.gemini = MockGemini(name="gem").start()
        self.claude = MockAnthropic(name="claude").start()
        self.openai = mocks.new("oa")
        self.openai2 = mocks.new("oa2")
        s = Snapshot()
        pg = s.provider("google", "gemini", self.gemini.base_url(path=""))
        self.gemini_secret = s.key(pg, label="G")
        pa = s.provider("anthropic", "anthropic", self.claude.base_url())
        self.anthropic_secret = s.key(pa, label="A")
        po = s.provider("openai", "openai", self.openai.base_url())
        self.openai_secret = s.key(po, label="O")
        po2 = s.provider("openai2", "openai", self.openai2.base_url())
        self.openai2_secret = s.key(po2, label="O2")
        s.model(pg, "gem-alias", "gemini-2.5-flash")
        s.model(po, "gpt-alias", "gpt-4o")
        s.model(pa, "claude-alias", "claude-sonnet-4-5")
        s.model(po, "both", "gpt-4o")
        s.model(po2, "both", "gpt-4o-mini")
        self.vk = s.vkey()
        gw.push(s)

    def job(self, mode: str, request: dict, api_key: str | None = None) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_sdk({"baseUrl": base, "apiKey": api_key or self.vk, "mode": mode, "request": request},
                       script="gemini.mjs")

    def no_virtual_key_upstream(self):
        for m in (self.gemini, self.claude, self.openai, self.openai2):
            for req in m.requests:
                assert self.vk not in req.body.decode(errors="replace")
                assert self.vk not in req.path
                for _, v in req.header_list:
                    assert self.vk not in v, req.header_list

    def stop(self):
        self.gemini.stop()
        self.claude.stop()


@pytest.fixture
def world(gw_factory, mocks, sdk):  # `sdk` installs the npm clients
    # the request line is logged too: a key sent as ?key= must not reach it
    w = World(gw_factory(extra_log_fields=',"request":"$request","args":"$args"'), mocks)
    yield w
    w.stop()


def request(model: str, text: str = "Hi", **config) -> dict:
    r = {"model": model, "contents": [{"role": "user", "parts": [{"text": text}]}]}
    if config:
        r["config"] = config
    return r


def test_gemini_wire_body_relayed(world):
    world.gemini.enqueue(GeminiReply.text("Hello from gemini"))
    res = world.job("plain", request("gem-alias", systemInstruction="Be terse.", temperature=0.3, topK=5))
    assert "error" not in res, res
    assert res["text"] == "Hello from gemini", res
    assert res["response"]["usageMetadata"]["promptTokenCount"] == 11, res
    up = world.gemini.requests[-1]
    assert up.model == "gemini-2.5-flash" and up.method_name == "generateContent", up.path
    assert up.api_key == world.gemini_secret
    # the client's body as it sent it: nothing added, nothing dropped
    assert up.json["generationConfig"] == {"temperature": 0.3, "topK": 5}, up.json
    assert up.json["systemInstruction"]["parts"][0]["text"] == "Be terse.", up.json
    world.no_virtual_key_upstream()
    e = world.gw.wait_access(1)[-1]
    assert e["pt"] == "11" and e["ct"] == "1", e  # usage accounted from the relayed answer


def test_gemini_wire_stream_relayed(world):
    world.gemini.enqueue(GeminiReply.text("Hello", chunks=["Hel", "lo"]))
    res = world.job("stream", request("gem-alias"))
    assert res.get("completed") and "error" not in res, res
    assert res["text"] == "Hello", res
    assert res["chunks"][-1]["candidates"][0]["finishReason"] == "STOP"
    up = world.gemini.requests[-1]
    assert up.stream and up.method_name == "streamGenerateContent", up.path
    world.no_virtual_key_upstream()


def test_openai_wire_translated(world):
    world.openai.set_default(Reply.completion("Hello from openai"))
    res = world.job("plain", request("gpt-alias", systemInstruction="Be terse.", maxOutputTokens=64,
                                     stopSequences=["END"], temperature=0.2, topP=0.9))
    assert "error" not in res, res
    assert res["text"] == "Hello from openai", res
    cand = res["response"]["candidates"][0]
    assert cand["finishReason"] == "STOP" and cand["content"]["role"] == "model", cand
    usage = res["response"]["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"], usage
    assert res["response"]["modelVersion"] == "gpt-4o", res
    up = world.openai.requests[-1]
    assert up.path == "/v1/chat/completions" and up.json["model"] == "gpt-4o"
    assert up.json["messages"] == [{"role": "system", "content": "Be terse."},
                                   {"role": "user", "content": [{"type": "text", "text": "Hi"}]}], up.json
    assert up.json["max_tokens"] == 64 and up.json["stop"] == ["END"], up.json
    assert up.json["temperature"] == 0.2 and up.json["top_p"] == 0.9, up.json
    assert up.header("authorization") == f"Bearer {world.openai_secret}"
    world.no_virtual_key_upstream()


def test_openai_wire_stream(world):
    world.openai.set_default(Reply.stream(["Str", "eamed"]))
    res = world.job("stream", request("gpt-alias"))
    assert res.get("completed") and "error" not in res, res
    assert res["text"] == "Streamed", res
    last = res["chunks"][-1]
    assert last["candidates"][0]["finishReason"] == "STOP", last
    assert "usageMetadata" in last, last
    assert world.openai.requests[-1].json["stream"] is True


def test_anthropic_wire_translated(world):
    world.claude.enqueue(AReply.message("Hello from claude"))
    res = world.job("plain", request("claude-alias", maxOutputTokens=100))
    assert "error" not in res, res
    assert res["text"] == "Hello from claude", res
    assert res["response"]["usageMetadata"]["promptTokenCount"] == 11, res
    assert res["response"]["usageMetadata"]["candidatesTokenCount"] == 7, res
    up = world.claude.requests[-1].json
    assert up["max_tokens"] == 100 and up["messages"][0]["role"] == "user", up
    world.claude.enqueue(AReply.stream(["A", "B"]))
    res = world.job("stream", request("claude-alias"))
    assert res.get("completed") and res["text"] == "AB", res
    world.no_virtual_key_upstream()


def test_function_calling_round_trip(world):
    tool_answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                   "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                       "role": "assistant", "content": None, "tool_calls": [
                           {"id": "call_7", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]}}],
                   "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}
    world.openai.set_default(Reply.json(tool_answer))
    req = request("gpt-alias", "Weather in Oslo?", tools=[WEATHER_TOOL],
                  toolConfig={"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
    res = world.job("plain", req)
    assert "error" not in res, res
    assert res["functionCalls"] == [{"id": "call_7", "name": "get_weather", "args": {"city": "Oslo"}}], res
    assert res["response"]["candidates"][0]["finishReason"] == "STOP"
    up = world.openai.requests[-1].json
    assert up["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}, up
    params = up["tools"][0]["function"]["parameters"]
    assert params == {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, params

    # the follow-up turn: the model's call and the function's response, as the SDK user sends them
    world.openai.set_default(Reply.completion("3 degrees"))
    follow = request("gpt-alias", "Weather in Oslo?", tools=[WEATHER_TOOL])
    follow["contents"] += [
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 3}}}]}]
    res = world.job("plain", follow)
    assert res.get("text") == "3 degrees", res
    sent = world.openai.requests[-1].json["messages"]
    call_id = sent[1]["tool_calls"][0]["id"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}, sent
    assert sent[2] == {"role": "tool", "tool_call_id": call_id, "content": "{\"temp\":3}"}, sent

    # streamed from an OpenAI-wire provider: the call (argument deltas) arrives whole in the last chunk
    world.openai.set_default(Reply.stream([
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [
            {"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 0, "id": "call_8", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [
            {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":\"Oslo\"}"}}]}}]},
    ], finish_reason="tool_calls"))
    res = world.job("stream", req)
    assert res.get("completed") and "error" not in res, res
    assert res["functionCalls"] == [{"id": "call_8", "name": "get_weather", "args": {"city": "Oslo"}}], res
    assert res["chunks"][-1]["candidates"][0]["finishReason"] == "STOP", res

    # streamed from a Gemini-wire provider: relayed
    world.gemini.enqueue(GeminiReply.function_call("get_weather", {"city": "Oslo"}))
    req["model"] = "gem-alias"
    res = world.job("stream", req)
    assert res.get("completed") and res["functionCalls"][0]["name"] == "get_weather", res
    assert res["functionCalls"][0]["args"] == {"city": "Oslo"}, res
    assert world.gemini.requests[-1].json["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


def test_count_tokens(world):
    res = world.job("count", {"model": "gpt-alias", "contents": [{"role": "user", "parts": [{"text": "one two three four"}]}]})
    assert "error" not in res, res
    assert isinstance(res["count"]["totalTokens"], int) and res["count"]["totalTokens"] > 0, res
    assert not world.openai.requests and not world.gemini.requests


def test_errors_in_google_shape(world):
    # 400: invalid body (a role Gemini does not have)
    res = world.job("plain", {"model": "gpt-alias", "contents": [{"role": "system", "parts": [{"text": "x"}]}]})
    assert res["error"]["status"] == 400 and "INVALID_ARGUMENT" in res["error"]["message"], res
    assert "contents[0].role" in res["error"]["message"], res
    # 401: a key the gateway does not know
    res = world.job("plain", request("gpt-alias"), api_key="sk-proxy-not-a-key")
    assert res["error"]["status"] == 401 and "UNAUTHENTICATED" in res["error"]["message"], res
    # 404: unknown model
    res = world.job("plain", request("no-such-model"))
    assert res["error"]["status"] == 404 and "NOT_FOUND" in res["error"]["message"], res
    assert not world.openai.requests and not world.gemini.requests
    # the last upstream error, in Google's shape
    world.openai.enqueue(Reply.error(400, "bad things"))
    res = world.job("plain", request("gpt-alias"))
    assert res["error"]["status"] == 400 and "bad things" in res["error"]["message"], res


def test_upstream_429_fails_over(world):
    world.openai.set_default(Reply.error(429, "slow down", headers={"Retry-After": "30"}))
    world.openai2.set_default(Reply.completion("rescued"))
    for _ in range(2):
        res = world.job("plain", request("both"))
        assert "error" not in res, res
        assert res["text"] == "rescued", res


def test_key_sources_alias_paths_and_raw_errors(world):
    port = world.gw.port
    body = {"contents": [{"parts": [{"text": "Hi"}]}]}
    world.openai.set_default(Reply.completion("ok"))
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:generateContent", body)
    assert r.status == 401 and r.json["error"]["status"] == "UNAUTHENTICATED", r.describe()
    for path, headers in [
        (f"/v1beta/models/gpt-alias:generateContent?key={world.vk}", {}),
        ("/v1beta/models/gpt-alias:generateContent", {"Authorization": f"Bearer {world.vk}"}),
        ("/v1beta/models/gpt-alias:generateContent", {"x-goog-api-key": world.vk}),
        ("/v1/models/gemini/gpt-alias:generateContent", {"x-goog-api-key": world.vk}),
        ("/v1/models/gemini/gpt-alias/generateContent", {"x-goog-api-key": world.vk}),
    ]:
        r = http_request(port, "POST", path, body, headers=headers)
        assert r.status == 200, (path, r.describe())
        assert r.json["candidates"][0]["content"]["parts"] == [{"text": "ok"}], r.describe()
    world.no_virtual_key_upstream()
    lines = world.gw.access_log_path.read_text().splitlines()
    assert any("?key=xxx" in line for line in lines), lines
    for line in lines:
        assert world.vk not in line
    # without alt=sse Google streams one JSON array: this gateway answers a clear 400
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:streamGenerateContent", body,
                     headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and r.json["error"]["status"] == "INVALID_ARGUMENT", r.describe()
    assert "alt=sse" in r.json["error"]["message"]
    r = http_request(port, "GET", "/v1beta/models/gpt-alias:generateContent", headers={"x-goog-api-key": world.vk})
    assert r.status == 405 and r.json["error"]["status"] == "UNIMPLEMENTED", r.describe()
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:generateContent", "{not json",
                     headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and r.json["error"]["code"] == 400, r.describe()
    bad = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"nope": 1}}
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:generateContent", bad, headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and "Unknown name \"nope\"" in r.json["error"]["message"], r.describe()
    bad = {"contents": [{"parts": [{"fileData": {"fileUri": "gs://b/f", "mimeType": "image/png"}}]}]}
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:generateContent", bad, headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and "fileData" in r.json["error"]["message"], r.describe()
    r = http_request(port, "POST", "/v1beta/models/gpt-alias:countTokens", body, headers={"x-goog-api-key": world.vk})
    assert r.status == 200 and r.json["totalTokens"] > 0, r.describe()
