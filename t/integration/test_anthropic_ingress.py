"""The Anthropic Messages ingress (docs/design.md §18) with the official @anthropic-ai/sdk, both lines
(1.x: Bearer; 0.x: x-api-key), through the gateway to an Anthropic-wire and an OpenAI-wire mock."""

from __future__ import annotations

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_anthropic import AReply, MockAnthropic
from mock_provider import Reply

SDKS = ["1", "0"]


def run_anthropic(job: dict) -> dict:
    return run_sdk(job, script="anthropic.mjs")


class World:
    def __init__(self, gw, mocks):
        self.gw = gw
        self.claude = MockAnthropic(name="claude").start()
        self.openai = mocks.new("oa")
        s = Snapshot()
        pa = s.provider("anthropic", "anthropic", self.claude.base_url())
        self.anthropic_secret = s.key(pa, label="A")
        po = s.provider("openai", "openai", self.openai.base_url())
        self.openai_secret = s.key(po, label="O")
        s.model(pa, "claude-alias", "claude-sonnet-4-5")
        s.model(po, "gpt-alias", "gpt-4o")
        s.model(pa, "both", "claude-sonnet-4-5")
        s.model(po, "both", "gpt-4o")
        self.vk = s.vkey()
        self.snap = s
        gw.push(s)

    def job(self, sdk: str, mode: str, request: dict) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_anthropic({"baseURL": base, "apiKey": self.vk, "sdk": sdk, "mode": mode,
                              "request": request})

    def no_virtual_key_upstream(self):
        for m in (self.claude, self.openai):
            for req in m.requests:
                assert self.vk not in req.body.decode(errors="replace")
                for _, v in req.header_list:
                    assert self.vk not in v, req.header_list


@pytest.fixture
def world(gw, mocks, sdk):  # `sdk` installs the npm clients
    w = World(gw, mocks)
    yield w
    w.claude.stop()


def body(model: str, text: str = "Hi", **extra) -> dict:
    return {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **extra}


@pytest.mark.parametrize("sdk_line", SDKS)
def test_anthropic_wire_body_spliced_and_answer_relayed(world, sdk_line):
    world.claude.enqueue(AReply.message("Hello from claude"))
    req = body("claude-alias", system="Be terse.", temperature=0.3, top_k=5)
    res = world.job(sdk_line, "plain", req)
    assert "error" not in res, res
    msg = res["message"]
    assert msg["type"] == "message" and msg["content"] == [{"type": "text", "text": "Hello from claude"}], msg
    assert msg["usage"]["input_tokens"] == 11 and msg["usage"]["output_tokens"] == 7, msg
    up = world.claude.requests[-1]
    sent = dict(req)
    sent["model"] = "claude-sonnet-4-5"
    assert up.json == sent  # only the model changed (top_k kept: nothing else is touched)
    assert up.header("x-api-key") == world.anthropic_secret
    assert up.header("authorization") is None
    world.no_virtual_key_upstream()
    e = world.gw.wait_access(1)[-1]
    assert e["pt"] == "11" and e["ct"] == "7", e  # usage accounted from the relayed answer


@pytest.mark.parametrize("sdk_line", SDKS)
def test_anthropic_wire_stream_and_final_message(world, sdk_line):
    world.claude.enqueue(AReply.stream(["Hel", "lo"]))
    res = world.job(sdk_line, "stream", body("claude-alias"))
    assert res.get("completed") and "error" not in res, res
    types = [ev["type"] for ev in res["events"]]
    assert types[0] == "message_start" and types[-1] == "message_stop", types
    text = "".join(ev["delta"].get("text", "") for ev in res["events"] if ev["type"] == "content_block_delta")
    assert text == "Hello"
    assert world.claude.requests[-1].json["stream"] is True

    world.claude.enqueue(AReply.stream(["A", "B"], tool_calls=[{"name": "get_weather", "input": {"city": "Oslo"}}]))
    res = world.job(sdk_line, "final", body("claude-alias"))
    assert "error" not in res, res
    blocks = res["message"]["content"]
    assert blocks[0] == {"type": "text", "text": "AB"}, blocks
    assert blocks[1]["type"] == "tool_use" and blocks[1]["input"] == {"city": "Oslo"}, blocks
    assert res["message"]["stop_reason"] == "tool_use"
    world.no_virtual_key_upstream()


@pytest.mark.parametrize("sdk_line", SDKS)
def test_openai_wire_translated(world, sdk_line):
    world.openai.set_default(Reply.completion("Hello from openai"))
    res = world.job(sdk_line, "plain", body("gpt-alias", system="Be terse.", stop_sequences=["END"]))
    assert "error" not in res, res
    msg = res["message"]
    assert msg["content"] == [{"type": "text", "text": "Hello from openai"}] and msg["stop_reason"] == "end_turn", msg
    up = world.openai.requests[-1]
    assert up.path == "/v1/chat/completions" and up.json["model"] == "gpt-4o"
    assert up.json["messages"] == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
    assert up.json["max_tokens"] == 64 and up.json["stop"] == ["END"], up.json
    assert up.header("authorization") == f"Bearer {world.openai_secret}"

    world.openai.set_default(Reply.stream(["Str", "eamed"]))
    res = world.job(sdk_line, "final", body("gpt-alias"))
    assert "error" not in res, res
    assert res["text"] == "Streamed" and res["message"]["stop_reason"] == "end_turn", res
    assert res["message"]["usage"]["output_tokens"] >= 0
    world.no_virtual_key_upstream()


def test_openai_wire_tool_use(world):
    tool_answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                   "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                       "role": "assistant", "content": None, "tool_calls": [
                           {"id": "call_1", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]}}],
                   "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}
    world.openai.set_default(Reply.json(tool_answer))
    tools = [{"name": "get_weather", "description": "d", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    req = body("gpt-alias", tools=tools, tool_choice={"type": "any"})
    res = world.job("1", "plain", req)
    assert "error" not in res, res
    msg = res["message"]
    assert msg["stop_reason"] == "tool_use"
    assert msg["content"] == [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}], msg
    assert msg["usage"]["input_tokens"] == 20 and msg["usage"]["output_tokens"] == 5
    up = world.openai.requests[-1].json
    assert up["tool_choice"] == "required"
    assert up["tools"][0]["function"]["parameters"] == tools[0]["input_schema"]

    # the follow-up turn with the tool's result
    world.openai.set_default(Reply.completion("3 degrees"))
    follow = body("gpt-alias", tools=tools)
    follow["messages"] += [{"role": "assistant", "content": msg["content"]},
                           {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "3C"}]}]
    res = world.job("0", "plain", follow)
    assert "error" not in res, res
    sent = world.openai.requests[-1].json["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1" and sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "3C"}, sent


@pytest.mark.parametrize("status", [429, 500])
def test_upstream_error_fails_over(world, status):
    world.claude.enqueue(AReply.rate_limited() if status == 429 else AReply.error(500))
    world.openai.set_default(Reply.completion("rescued"))
    # "both": the Anthropic key first (one key each; the failed one cools down)
    for _ in range(2):
        res = world.job("1", "plain", body("both"))
        assert "error" not in res, res
        assert res["message"]["content"][0]["text"] in ("rescued", "Hello from mock"), res


def test_last_upstream_error_in_anthropic_shape(world):
    world.claude.enqueue(AReply.error(400, "prompt is too long", type_="invalid_request_error"))
    res = world.job("1", "plain", body("claude-alias"))
    assert res["error"]["status"] == 400, res
    assert res["error"]["body"]["type"] == "error", res
    assert res["error"]["body"]["error"]["type"] == "invalid_request_error"
    assert "prompt is too long" in res["error"]["body"]["error"]["message"]


@pytest.mark.parametrize("sdk_line", SDKS)
def test_bad_input_and_bad_key(world, sdk_line):
    res = world.job(sdk_line, "plain", {"model": "claude-alias", "messages": [{"role": "user", "content": "x"}]})
    assert res["error"]["status"] == 400, res
    assert res["error"]["body"] == {"type": "error", "error": {"type": "invalid_request_error",
                                                              "message": "max_tokens: Field required (an integer)"}}
    base = world.gw.base_url[: -len("/v1")]
    res = run_anthropic({"baseURL": base, "apiKey": "sk-proxy-not-a-key", "sdk": sdk_line, "mode": "plain",
                         "request": body("claude-alias")})
    assert res["error"]["status"] == 401, res
    assert res["error"]["body"]["type"] == "error" and res["error"]["body"]["error"]["type"] == "authentication_error", res
    assert not world.claude.requests and not world.openai.requests


def test_raw_errors_and_auth_headers(world):
    port = world.gw.port
    r = http_request(port, "POST", "/v1/messages", body("claude-alias"), headers={"anthropic-version": "2023-06-01"})
    assert r.status == 401 and r.json["error"]["type"] == "authentication_error", r.describe()
    world.claude.enqueue(AReply.message("ok"))
    r = http_request(port, "POST", "/v1/messages", body("claude-alias"), headers={"x-api-key": world.vk})
    assert r.status == 200 and r.json["content"][0]["text"] == "ok", r.describe()
    r = http_request(port, "POST", "/v1/messages", "{not json", headers={"x-api-key": world.vk})
    assert r.status == 400 and r.json["type"] == "error", r.describe()
    # a raw NUL byte after a number: jansson alone would skip it; the gateway refuses it (it used to
    # convert the body, then fail to splice the upstream model into it and send the client's bytes)
    sent = len(world.claude.requests)
    nul = b'{"model":"claude-alias","max_tokens":24\x00,"messages":[{"role":"user","content":"Hi"}]}'
    r = http_request(port, "POST", "/v1/messages", nul, headers={"x-api-key": world.vk})
    assert r.status == 400 and r.json["type"] == "error", r.describe()
    assert r.json["error"]["type"] == "invalid_request_error", r.describe()
    assert "not valid JSON" in r.json["error"]["message"], r.describe()
    assert len(world.claude.requests) == sent
    r = http_request(port, "POST", "/v1/messages", body("no-such-model"), headers={"x-api-key": world.vk})
    assert r.status == 404 and r.json["error"]["type"] == "not_found_error", r.describe()


def test_count_tokens(world):
    res = world.job("1", "count", {"model": "gpt-alias", "messages": [{"role": "user", "content": "Hello there " * 50}]})
    assert "error" not in res, res
    assert res["count"]["input_tokens"] > 50, res
    assert not world.claude.requests and not world.openai.requests  # the gateway's estimate (docs/design.md §18)
    # the Anthropic API counts itself: relayed (test_count_tokens_relay.py)
    res = world.job("1", "count", {"model": "claude-alias", "messages": [{"role": "user", "content": "Hello there " * 50}]})
    assert res["count"]["input_tokens"] == world.claude.count_tokens_result, res
    assert world.claude.requests[-1].path == "/v1/messages/count_tokens"


def test_top_k_and_betas_on_every_wire(gw_factory, mocks, sdk):
    # top_k reaches the wires that define it (Gemini topK, Bedrock Claude through
    # additionalModelRequestFields, Together as sent) and not OpenAI, which refuses it; the
    # client's anthropic-beta reaches Anthropic-wire keys only, after the key's own betas (§18)
    from mock_bedrock import MockBedrock
    from mock_gemini import MockGemini
    from provider_matrix import BEDROCK_REGION, akid_for

    gw = gw_factory()
    claude = MockAnthropic(name="claude").start()
    gem = MockGemini(name="gem").start()
    bed = MockBedrock(name="bed", credentials={}, strict_body=True).start()
    oa, tg = mocks.new("oa"), mocks.new("tg")
    try:
        s = Snapshot()
        pa = s.provider("anthropic", "anthropic", claude.base_url())
        s.key(pa, label="A", metadata={"anthropic_beta": "key-beta-1"})
        s.model(pa, "on-claude", "claude-sonnet-4-5")
        pg = s.provider("google", "gemini", gem.base_url())
        s.key(pg, label="G")
        s.model(pg, "on-gemini", "gemini-2.5-flash")
        pb = s.provider("aws", "bedrock", bed.base_url(path=""))
        secret = "rsSecret/topk0123456789+KEY"
        bed.credentials[akid_for(secret)] = secret
        s.key(pb, secret, label="B", metadata={"region": BEDROCK_REGION, "access_key_id": akid_for(secret)})
        s.model(pb, "on-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        po = s.provider("openai", "openai", oa.base_url())
        s.key(po, label="O")
        s.model(po, "on-openai", "gpt-4o")
        pt = s.provider("together", "together", tg.base_url())
        s.key(pt, label="T")
        s.model(pt, "on-together", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
        vk = s.vkey()
        gw.push(s)
        oa.set_default(Reply.completion("from openai"))
        tg.set_default(Reply.completion("from together"))
        claude.enqueue(AReply.message("from claude"))
        base = gw.base_url[: -len("/v1")]

        def ask(model: str) -> dict:
            res = run_anthropic({"baseURL": base, "apiKey": vk, "sdk": "1", "mode": "plain",
                                 "headers": {"anthropic-beta": "client-beta-2"},
                                 "request": body(model, top_k=40, temperature=0.5)})
            assert "error" not in res, (model, res)
            return res

        ask("on-claude")
        up = claude.requests[-1]
        assert up.json["top_k"] == 40 and up.header("anthropic-beta") == "key-beta-1,client-beta-2", up.header_list
        ask("on-gemini")
        assert gem.requests[-1].json["generationConfig"]["topK"] == 40, gem.requests[-1].json
        ask("on-bedrock")
        assert bed.requests[-1].json["additionalModelRequestFields"]["top_k"] == 40, bed.requests[-1].json
        ask("on-together")
        assert tg.requests[-1].json["top_k"] == 40, tg.requests[-1].json
        ask("on-openai")
        assert "top_k" not in oa.requests[-1].json, oa.requests[-1].json
        for m in (gem, bed, oa, tg):
            assert m.requests[-1].header("anthropic-beta") is None, (m.name, m.requests[-1].header_list)
            assert not m.requests[-1].carries(vk)
    finally:
        for m in (claude, gem, bed):
            m.stop()
