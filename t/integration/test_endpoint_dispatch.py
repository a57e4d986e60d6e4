"""URI dispatch of one routeshift_pass location (docs/design.md §18): served endpoints by path,
unknown paths 404 and endpoints not served yet 404 in the dialect of their prefix, a wrong method
405 with Allow. Never a chat answer on another endpoint."""

from __future__ import annotations

import pytest

from helpers import chat_body, http_request


def test_chat_still_served_on_both_locations(basic):
    port = basic.gw.port
    for path in ("/v1/chat/completions", "/v1/chat/completions/"):
        r = http_request(port, "POST", path, chat_body(), headers={"Authorization": f"Bearer {basic.vkey}"})
        assert r.status == 200 and r.json["object"] == "chat.completion", (path, r.describe())


@pytest.mark.parametrize("method,path,dialect", [
    ("POST", "/v1/threads", "openai"),
    ("POST", "/v1/nope", "openai"),
    ("POST", "/openai/deployments/gpt/completions", "openai"),
    ("POST", "/v1/messages/batches", "anthropic"),
    ("POST", "/v1/messages/nope", "anthropic"),
    ("POST", "/v1beta/models/gemini-2.5-flash:predict", "google"),
    ("POST", "/v1beta/nope", "google"),
    ("POST", "/v1/models/gemini/gemini-2.5-flash:asyncBatchEmbedContent", "google"),
])
def test_404_in_dialect(basic, method, path, dialect):
    r = http_request(basic.gw.port, method, path, chat_body() if method == "POST" else None,
                     headers={"Authorization": f"Bearer {basic.vkey}"})
    assert r.status == 404, r.describe()
    j = r.json
    if dialect == "openai":
        assert j["error"]["type"] == "invalid_request_error" and j["error"]["code"] in ("unknown_url", "endpoint_not_served"), j
        assert "choices" not in j
    elif dialect == "anthropic":
        assert j["type"] == "error" and j["error"]["type"] == "not_found_error", j
    else:
        assert j["error"]["code"] == 404 and j["error"]["status"] == "NOT_FOUND", j
    assert path.split("?")[0] in (j["error"]["message"] if dialect != "anthropic" else j["error"]["message"])
    assert not basic.mock.requests


@pytest.mark.parametrize("path,dialect", [
    ("/v1/chat/completions", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1/messages/count_tokens", "anthropic"),
])
def test_405_with_allow(basic, path, dialect):
    r = http_request(basic.gw.port, "GET", path, headers={"Authorization": f"Bearer {basic.vkey}"})
    assert r.status == 405, r.describe()
    assert r.header("allow") == "POST"
    j = r.json
    if dialect == "openai":
        assert j["error"]["code"] == "method_not_allowed", j
    else:
        assert j["type"] == "error" and j["error"]["type"] == "invalid_request_error", j
