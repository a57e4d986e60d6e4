"""Azure-style paths (docs/design.md §18 "Azure-style paths"): /openai/deployments/{name}/chat/completions
with {name} as the requested model (it wins over the body's model), the `api-key` header as the
virtual key, the client's api-version never forwarded; with the openai SDK's AzureOpenAI client."""

from __future__ import annotations

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_provider import Reply

API_VERSION = "2024-10-21"


class World:
    def __init__(self, gw, mocks):
        self.gw = gw
        self.mock = mocks.new("oa")
        s = Snapshot()
        p = s.provider("openai", "openai", self.mock.base_url())
        self.secret = s.key(p)
        s.model(p, "gpt-4o", "gpt-4o-2024-11-20")
        s.model(p, "gpt-4o-mini")
        self.vk = s.vkey()
        gw.push(s)

    def azure(self, mode: str, request: dict, deployment: str | None = "gpt-4o", **job) -> dict:
        return run_sdk({"endpoint": f"http://127.0.0.1:{self.gw.port}", "apiKey": self.vk, "apiVersion": API_VERSION,
                        "deployment": deployment, "mode": mode, "request": request, **job}, script="azure.mjs")

    def upstream_clean(self):
        for req in self.mock.requests:
            assert self.vk not in req.body.decode(errors="replace")
            assert "api-version" not in req.target, req.target  # the client's query is not forwarded
            assert req.header("api-key") is None
            for _, v in req.header_list:
                assert self.vk not in v
            assert req.header("authorization") == f"Bearer {self.secret}"


@pytest.fixture
def world(gw, mocks, sdk):
    return World(gw, mocks)


def test_azure_sdk_plain_deployment_is_the_model(world):
    res = world.azure("plain", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    assert "error" not in res, res
    assert res["completion"]["choices"][0]["message"]["content"], res
    up = world.mock.requests[-1]
    assert up.path == "/v1/chat/completions"
    assert up.json["model"] == "gpt-4o-2024-11-20"  # the path's deployment won over the body's model
    assert res["headers"]["x-routeshift-resolved-model"].startswith("gpt-4o"), res["headers"]
    world.upstream_clean()


def test_azure_sdk_model_from_body_and_stream(world):
    # without a client-side deployment the SDK puts the body's model into the path
    world.mock.enqueue(Reply.stream(["Hel", "lo"]))
    res = world.azure("stream", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
                      deployment=None)
    assert res.get("completed"), res
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in res["chunks"] if c.get("choices"))
    assert text == "Hello", res
    assert world.mock.requests[-1].json["model"] == "gpt-4o-mini"
    assert world.mock.requests[-1].json["stream"] is True
    world.upstream_clean()


def test_azure_unknown_deployment_is_404(world):
    res = world.azure("plain", {"model": "x", "messages": [{"role": "user", "content": "Hi"}]}, deployment="nope")
    assert res["error"]["status"] == 404 and res["error"]["code"] == "model_not_found", res
    assert not world.mock.requests


def test_raw_requests(world):
    port = world.gw.port
    body = {"messages": [{"role": "user", "content": "Hi"}]}  # no model: the path names it
    r = http_request(port, "POST", f"/openai/deployments/gpt-4o/chat/completions?api-version={API_VERSION}", body,
                     headers={"api-key": world.vk})
    assert r.status == 200 and r.json["object"] == "chat.completion", r.describe()
    assert world.mock.requests[-1].json["model"] == "gpt-4o-2024-11-20"
    # a wrong api-key: 401, OpenAI shape
    r = http_request(port, "POST", "/openai/deployments/gpt-4o/chat/completions", body, headers={"api-key": "sk-proxy-bad"})
    assert r.status == 401 and r.json["error"]["type"] == "authentication_error", r.describe()
    # bad bodies still get the chat parser's 400
    r = http_request(port, "POST", "/openai/deployments/gpt-4o/chat/completions", "[1]", headers={"api-key": world.vk})
    assert r.status == 400 and r.json["error"]["type"] == "invalid_request_error", r.describe()
    r = http_request(port, "POST", "/openai/deployments/gpt-4o/chat/completions", {"model": "gpt-4o"},
                     headers={"api-key": world.vk})
    assert r.status == 400 and r.json["error"]["param"] == "messages", r.describe()
    r = http_request(port, "GET", "/openai/deployments/gpt-4o/chat/completions", headers={"api-key": world.vk})
    assert r.status == 405 and r.header("allow") == "POST", r.describe()
    # other deployment operations are not served
    r = http_request(port, "POST", "/openai/deployments/gpt-4o/completions", {"prompt": "x"}, headers={"api-key": world.vk})
    assert r.status == 404 and r.json["error"]["code"] == "endpoint_not_served", r.describe()
    assert len(world.mock.requests) == 1
    world.upstream_clean()
