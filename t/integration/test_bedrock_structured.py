"""Bedrock Converse translation (docs/design.md §6.4, Bedrock): response_format -> structured output
(outputConfig.textFormat) or the JSON instruction, reasoning_effort -> Claude thinking in
additionalModelRequestFields, logprobs refused; the official openai SDK against a Bedrock mock that
validates the Converse body as Bedrock does (strict_body)."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot, run_sdk
from mock_bedrock import MockBedrock, bedrock_answer
from provider_matrix import BEDROCK_REGION, akid_for

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
          "additionalProperties": False}


class World:
    def __init__(self, gw):
        self.gw = gw
        self.mock = MockBedrock(name="bedrock", credentials={}, strict_body=True).start()
        s = Snapshot()
        p = s.provider("bedrock", "bedrock", self.mock.base_url(path=""))
        secret = "rsSecret/structured+KEY"
        akid = akid_for(secret)
        self.mock.credentials[akid] = secret
        s.key(p, secret, metadata={"region": BEDROCK_REGION, "access_key_id": akid})
        s.model(p, "sonnet", SONNET)
        s.model(p, "llama", LLAMA)
        self.vk = s.vkey()
        gw.push(s)

    def chat(self, mode: str, request: dict) -> dict:
        return run_sdk({"baseURL": self.gw.base_url, "apiKey": self.vk, "mode": mode, "request": request})

    def sent(self) -> dict:
        return json.loads(self.mock.requests[-1].body)


@pytest.fixture
def world(gw, sdk):
    w = World(gw)
    yield w
    w.mock.stop()


def ask(model: str, **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "Where is Oslo?"}], **extra}


@pytest.mark.parametrize("model,upstream", [("sonnet", SONNET), ("llama", LLAMA)])
def test_json_schema_becomes_structured_output(world, model, upstream):
    world.mock.enqueue(bedrock_answer('{"city":"Oslo"}'))
    rf = {"type": "json_schema", "json_schema": {"name": "place", "strict": True, "schema": SCHEMA}}
    res = world.chat("plain", ask(model, response_format=rf))
    assert "error" not in res, res
    assert json.loads(res["completion"]["choices"][0]["message"]["content"]) == {"city": "Oslo"}
    sent = world.sent()
    fmt = sent["outputConfig"]["textFormat"]
    assert fmt["type"] == "json_schema" and fmt["structure"]["jsonSchema"]["name"] == "place", sent
    assert json.loads(fmt["structure"]["jsonSchema"]["schema"]) == SCHEMA
    assert world.mock.requests[-1].model_id == upstream


def test_json_object_and_stream(world):
    world.mock.enqueue(bedrock_answer('{"a":1}', chunks=['{"a"', ':1}']))
    res = world.chat("stream", ask("sonnet", response_format={"type": "json_object"}))
    assert res.get("completed"), res
    text = "".join((c["chunk"]["choices"][0]["delta"].get("content") or "") for c in res["chunks"]
                   if c["chunk"].get("choices"))
    assert json.loads(text) == {"a": 1}
    sent = world.sent()
    assert "outputConfig" not in sent
    assert "JSON object" in sent["system"][-1]["text"], sent


def test_reasoning_effort_turns_claude_thinking_on(world):
    world.mock.enqueue(bedrock_answer("Oslo is in Norway.", reasoning=["Think", "ing"]))
    res = world.chat("plain", ask("sonnet", reasoning_effort="medium", temperature=0.2))
    assert "error" not in res, res
    msg = res["completion"]["choices"][0]["message"]
    assert msg["content"] == "Oslo is in Norway."
    sent = world.sent()
    assert sent["additionalModelRequestFields"]["thinking"] == {"type": "enabled", "budget_tokens": 4096}, sent
    assert sent["inferenceConfig"]["maxTokens"] > 4096 and "temperature" not in sent["inferenceConfig"]
    # a non-Claude model gets no Claude field (Bedrock would refuse it)
    world.mock.enqueue(bedrock_answer("ok"))
    res = world.chat("plain", ask("llama", reasoning_effort="high"))
    assert "error" not in res, res
    assert "additionalModelRequestFields" not in world.sent()


def test_refusals_are_400_without_a_provider_call(world):
    for extra, param in (({"logprobs": True, "top_logprobs": 2}, "logprobs"),
                         ({"reasoning_effort": "low", "max_tokens": 100}, "max_completion_tokens"),
                         ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
                          "response_format.json_schema.schema")):
        res = world.chat("plain", ask("sonnet", **extra))
        err = res.get("error")
        assert err and err["status"] == 400 and err["param"] == param, (extra, res)
        assert err["type"] == "invalid_request_error"
    assert not world.mock.requests
