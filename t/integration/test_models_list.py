"""GET /v1/models and /v1/models/{id} (docs/design.md §18 "Models list"): the names the caller's team
may use, from the snapshot (no provider is asked), in OpenAI's shape, or Anthropic's when the client
sends anthropic-version; with the official openai and @anthropic-ai/sdk (both lines) clients."""

from __future__ import annotations

import pytest

from helpers import Snapshot, http_request, run_sdk


class World:
    def __init__(self, gw, mocks):
        self.gw = gw
        self.mock = mocks.new("oa")
        s = Snapshot()
        po = s.provider("openai", "openai", self.mock.base_url())
        s.key(po)
        pa = s.provider("claude", "anthropic", self.mock.base_url())
        s.key(pa)
        off = s.provider("old", "openai", self.mock.base_url(), enabled=False)
        s.key(off)
        s.model(po, "gpt-4o", "gpt-4o-2024-11-20")
        s.model(po, "gpt-4o-mini")
        s.model(pa, "claude-sonnet-4-5")
        s.model(off, "retired-model")
        s.model(po, "*")
        self.team2 = s.team("research")
        s.alias("smart", "claude-sonnet-4-5")                   # global
        s.alias("cheap", "gpt-4o-mini", team_id=self.team2)     # team 2 only
        self.vk = s.vkey()
        self.vk2 = s.vkey(team_id=self.team2)
        gw.push(s)
        self.created = gw.status().get("applied_at")

    def openai(self, mode: str, key: str | None = None, **job) -> dict:
        return run_sdk({"baseURL": self.gw.base_url, "apiKey": key or self.vk, "sdk": "openai", "mode": mode, **job},
                       script="models.mjs")

    def anthropic(self, line: str, mode: str, key: str | None = None, **job) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_sdk({"baseURL": base, "apiKey": key or self.vk, "sdk": f"anthropic{line}", "mode": mode, **job},
                       script="models.mjs")


@pytest.fixture
def world(gw, mocks, sdk):
    return World(gw, mocks)


def test_openai_sdk_lists_team_models_and_aliases(world):
    res = world.openai("list")
    assert "error" not in res, res
    by_id = {m["id"]: m for m in res["models"]}
    assert sorted(by_id) == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "smart"], res
    assert by_id["gpt-4o"] == {"id": "gpt-4o", "object": "model", "created": world.created, "owned_by": "openai"}
    assert by_id["claude-sonnet-4-5"]["owned_by"] == "anthropic"
    assert by_id["smart"]["owned_by"] == "routeshift"
    # the other team sees its own alias too
    res2 = world.openai("list", key=world.vk2)
    assert sorted(m["id"] for m in res2["models"]) == ["cheap", "claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "smart"]
    assert not world.mock.requests  # answered from the snapshot


def test_openai_sdk_retrieve_and_404(world):
    res = world.openai("retrieve", id="smart")
    assert res.get("model") == {"id": "smart", "object": "model", "created": world.created, "owned_by": "routeshift"}, res
    # a provider-scoped name a request could send ("*" provider), slash and all
    res = world.openai("retrieve", id="openai/o3-mini")
    assert res.get("model", {}).get("id") == "openai/o3-mini" and res["model"]["owned_by"] == "openai", res
    for missing in ("cheap", "retired-model", "nope"):  # another team's alias, a disabled provider's model
        res = world.openai("retrieve", id=missing)
        err = res.get("error")
        assert err and err["status"] == 404 and err["code"] == "model_not_found", res
        assert err["type"] == "invalid_request_error"
    assert not world.mock.requests


@pytest.mark.parametrize("line", ["1", "0"])
def test_anthropic_sdk_lists_in_its_shape(world, line):
    res = world.anthropic(line, "list")
    assert "error" not in res, res
    ids = [m["id"] for m in res["models"]]
    assert ids == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "smart"], res
    m = res["models"][0]
    assert m["type"] == "model" and m["display_name"] == "claude-sonnet-4-5" and m["created_at"].endswith("Z"), m
    # pages: limit, has_more, and the SDK follows after_id to the end
    page = world.anthropic(line, "page", limit=3)["page"]
    assert [d["id"] for d in page["data"]] == ids[:3] and page["has_more"] is True, page
    assert page["first_id"] == ids[0] and page["last_id"] == ids[2]
    assert [m["id"] for m in world.anthropic(line, "list", limit=1)["models"]] == ids
    one = world.anthropic(line, "retrieve", id="smart")
    assert one.get("model", {}).get("type") == "model" and one["model"]["id"] == "smart", one
    missing = world.anthropic(line, "retrieve", id="nope")["error"]
    assert missing["status"] == 404 and missing["body"]["type"] == "error", missing
    assert missing["body"]["error"]["type"] == "not_found_error"


def test_shapes_errors_and_methods_over_http(world):
    port = world.gw.port
    r = http_request(port, "GET", "/v1/models", headers={"Authorization": f"Bearer {world.vk}"})
    assert r.status == 200 and r.header("content-type").startswith("application/json"), r.describe()
    assert r.json["object"] == "list"
    # anthropic-version picks Anthropic's shape, x-api-key works as for /v1/messages
    r = http_request(port, "GET", "/v1/models?limit=2", headers={"x-api-key": world.vk, "anthropic-version": "2023-06-01"})
    assert r.status == 200 and r.json["has_more"] is True and len(r.json["data"]) == 2, r.describe()
    r = http_request(port, "GET", "/v1/models?limit=0", headers={"x-api-key": world.vk, "anthropic-version": "2023-06-01"})
    assert r.status == 400 and r.json["type"] == "error", r.describe()
    # no key: 401 in the client's dialect
    r = http_request(port, "GET", "/v1/models")
    assert r.status == 401 and r.json["error"]["type"] == "authentication_error", r.describe()
    r = http_request(port, "GET", "/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert r.status == 401 and r.json["type"] == "error" and r.json["error"]["type"] == "authentication_error", r.describe()
    r = http_request(port, "GET", "/v1/models", headers={"Authorization": "Bearer sk-proxy-wrong"})
    assert r.status == 401, r.describe()
    # only GET
    r = http_request(port, "POST", "/v1/models", body={}, headers={"Authorization": f"Bearer {world.vk}"})
    assert r.status == 405 and r.header("allow") == "GET", r.describe()
    # an id with a control character or bad UTF-8 is a plain 404, never echoed raw
    r = http_request(port, "GET", "/v1/models/a%0Ab%FF", headers={"Authorization": f"Bearer {world.vk}"})
    assert r.status == 404 and r.json["error"]["code"] == "model_not_found", r.describe()
    assert "\n" not in r.json["error"]["message"]
    # the Google dialect keeps its alias paths
    r = http_request(port, "GET", "/v1/models/gemini/gemini-2.5-flash", headers={"Authorization": f"Bearer {world.vk}"})
    assert r.status in (404, 405) and "choices" not in r.json, r.describe()
    assert not world.mock.requests
