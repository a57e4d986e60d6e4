"""POST /v1/messages/count_tokens (docs/design.md §18 "count_tokens"): relayed to the Anthropic API
(body = the client's, model replaced; the provider's credential, never the virtual key), the
gateway's estimate for every other provider; with @anthropic-ai/sdk messages.countTokens (both lines)."""

from __future__ import annotations

import pytest

from helpers import Snapshot, run_sdk
from mock_anthropic import AReply, MockAnthropic


class World:
    def __init__(self, gw, mocks):
        self.gw = gw
        self.claude = MockAnthropic(name="claude").start()
        self.compat = MockAnthropic(name="minimax").start()
        self.openai = mocks.new("oa")
        s = Snapshot()
        pa = s.provider("anthropic", "anthropic", self.claude.base_url())
        self.secret = s.key(pa)
        pm = s.provider("minimax", "minimax", self.compat.base_url(path="/anthropic"))
        s.key(pm)
        po = s.provider("openai", "openai", self.openai.base_url())
        s.key(po)
        s.model(pa, "claude", "claude-sonnet-4-5")
        s.model(pm, "mm", "MiniMax-M2")
        s.model(po, "gpt", "gpt-4o")
        self.vk = s.vkey()
        gw.push(s)

    def count(self, line: str, request: dict) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_sdk({"baseURL": base, "apiKey": self.vk, "sdk": line, "mode": "count", "request": request},
                       script="anthropic.mjs")


@pytest.fixture
def world(gw, mocks, sdk):
    w = World(gw, mocks)
    yield w
    w.claude.stop()
    w.compat.stop()


def body(model: str) -> dict:
    return {"model": model, "system": "Be terse.", "messages": [{"role": "user", "content": "Hello there"}],
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}


@pytest.mark.parametrize("line", ["1", "0"])
def test_relayed_to_the_anthropic_api(world, line):
    req = body("claude")
    res = world.count(line, req)
    assert res.get("count") == {"input_tokens": 4242}, res
    up = world.claude.requests[-1]
    assert up.path == "/v1/messages/count_tokens"
    sent = dict(req)
    sent["model"] = "claude-sonnet-4-5"
    assert up.json == sent  # the client's body, only the model replaced
    assert up.header("x-api-key") == world.secret and up.header("anthropic-version")
    for r in world.claude.requests:
        assert world.vk not in r.body.decode(errors="replace")
        assert all(world.vk not in v for _, v in r.header_list)


@pytest.mark.parametrize("model", ["gpt", "mm", "unknown-model"])
def test_other_providers_keep_the_estimate(world, model):
    res = world.count("1", body(model))
    n = res.get("count", {}).get("input_tokens")
    assert isinstance(n, int) and 0 < n < 4242, res
    assert not world.claude.requests and not world.compat.requests and not world.openai.requests


def test_provider_error_in_anthropic_shape(world):
    world.claude.enqueue(AReply.error(400, "messages: roles must alternate"))
    res = world.count("1", body("claude"))
    err = res.get("error")
    assert err and err["status"] == 400 and err["type"] == "invalid_request_error", res
    assert "alternate" in err["message"]
