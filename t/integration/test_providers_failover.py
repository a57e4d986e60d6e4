"""Cross-provider failover: when the first provider answers with a retry signal, the request is
sent again to a provider of another wire format, with the body rebuilt in that provider's shape
(tools, system prompt, output cap), and the SDK gets a normal OpenAI answer."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot
from mock_anthropic import AReply
from mock_bedrock import bedrock_throttling, bedrock_unavailable
from mock_gemini import GeminiReply
from mock_provider import Reply
from provider_matrix import (PREFACE, SPEC_BY_ID, TOOL_CALL_ARGS, TOOL_IDS, TOOL_NAME, TOOLS,
                             add_provider, akid_for, assert_upstream_auth, assert_upstream_body,
                             assert_upstream_target, chunks_of, finish_reasons,
                             install_tag_handler, reassemble_tool_calls, requests_tagged,
                             run_sdk_batch, stream_text, tag, tool_request)
from provider_matrix import wire_mocks  # noqa: F401  (fixture)


def _client_request(t: str) -> dict:
    """tools + system prompt, no max_tokens (the Anthropic default must not leak elsewhere)."""
    body = tool_request("smart", t)
    del body["max_tokens"]
    return body


def _assert_proper_openai_body(q, client: dict, stream: bool, upstream_model: str) -> None:
    j = q.json
    sent = dict(client, stream=stream)  # chat.mjs sets stream explicitly
    want_keys = set(sent) | ({"stream_options"} if stream else set())
    assert set(j) == want_keys, f"OpenAI body members {sorted(j)} != {sorted(want_keys)}: {j}"
    assert j["model"] == upstream_model
    assert j["messages"] == client["messages"], f"messages not the client's: {j['messages']}"
    assert j["tools"] == TOOLS and j["tool_choice"] == "auto", j
    assert j["stream"] is stream
    if stream:
        assert j["stream_options"] == {"include_usage": True}, j


@pytest.mark.parametrize("mode", ["plain", "stream"])
def test_anthropic_529_fails_over_to_openai_with_openai_body(gw, wire_mocks, mode):
    a, o = wire_mocks("anthropic"), wire_mocks("openai")
    sa, so = SPEC_BY_ID["anthropic"], SPEC_BY_ID["openai"]
    s = Snapshot()
    pa, ka = add_provider(s, sa, a, "claude", weight=1000)
    po, ko = add_provider(s, so, o, "gpt", weight=1)
    s.model(pa, "smart", sa.upstream_model)
    s.model(po, "smart", so.upstream_model)
    vk = s.vkey()
    gw.push(s)
    a.enqueue(AReply.overloaded())
    install_tag_handler(o, "openai")
    t = tag("failover", "tool_" + mode)
    client = _client_request(t)
    (res,) = run_sdk_batch([{"baseURL": gw.base_url, "apiKey": vk, "mode": mode,
                             "request": client, "timeoutMs": 15000}])
    assert "error" not in res, res
    if mode == "plain":
        ch = res["completion"]["choices"][0]
        assert ch["finish_reason"] == "tool_calls", res
        tcs = ch["message"]["tool_calls"]
        assert [tc["id"] for tc in tcs] == TOOL_IDS["openai"], tcs
        assert [tc["function"]["name"] for tc in tcs] == [TOOL_NAME] * len(TOOL_CALL_ARGS), tcs
        assert [json.loads(tc["function"]["arguments"]) for tc in tcs] == TOOL_CALL_ARGS, tcs
    else:
        assert res.get("completed"), res
        chunks = chunks_of(res)
        calls = reassemble_tool_calls(chunks)
        assert [json.loads(calls[i]["arguments"]) for i in sorted(calls)] == TOOL_CALL_ARGS, calls
        assert finish_reasons(chunks) == ["tool_calls"] and stream_text(chunks) == PREFACE, chunks
    assert res["headers"]["x-routeshift-provider"] == "gpt", res["headers"]
    assert res["headers"]["x-routeshift-attempts"] == "2", res["headers"]
    # attempt 1: the Anthropic shape
    (qa,) = requests_tagged(a, t)
    assert qa.reply is not None and qa.reply.status == 529
    assert_upstream_target(sa, qa, mode == "stream")
    assert_upstream_auth(sa, qa, ka, vk)
    assert_upstream_body(sa, qa, mode == "stream", tools=True, max_tokens=None)
    # attempt 2: a proper OpenAI body, nothing Anthropic left in it
    (qo,) = requests_tagged(o, t)
    assert_upstream_target(so, qo, mode == "stream")
    assert_upstream_auth(so, qo, ko, vk)
    assert_upstream_body(so, qo, mode == "stream", tools=True, max_tokens=None)
    _assert_proper_openai_body(qo, client, mode == "stream", so.upstream_model)
    assert not qo.carries(ka), "the Anthropic key was sent to OpenAI"
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "529,200" and e["provider"] == "gpt", e


# (first ... last provider, the failing ones' replies): each attempt must be rebuilt
CHAINS = {
    "anthropic-gemini-bedrock-openai": [
        ("anthropic", AReply.overloaded, 529), ("gemini", GeminiReply.unavailable, 503),
        ("bedrock", bedrock_throttling, 429), ("openai", None, 200)],
    "openai-bedrock-gemini-anthropic": [
        ("openai", lambda: Reply.error(503, "upstream overloaded"), 503),
        ("bedrock", bedrock_unavailable, 503),
        ("gemini", GeminiReply.rate_limited, 429), ("anthropic", None, 200)],
}


@pytest.mark.parametrize("chain", list(CHAINS))
def test_failover_chain_rebuilds_body_per_wire_format(gw, wire_mocks, chain):
    steps = CHAINS[chain]
    s = Snapshot(retry_budget=len(steps))
    placed = []
    for i, (sid, _, _) in enumerate(steps):
        spec = SPEC_BY_ID[sid]
        m = wire_mocks(spec.wire, sid)
        pid, sec = add_provider(s, spec, m, f"p{i}-{sid}", weight=10 ** (len(steps) - 1 - i))
        s.model(pid, "smart", spec.upstream_model)
        placed.append((spec, m, sec))
    vk = s.vkey()
    gw.push(s)
    for (spec, m, sec), (_, reply, _) in zip(placed, steps):
        if reply is not None:
            m.enqueue(reply(), key=akid_for(sec) if spec.wire == "bedrock" else sec)
        else:
            install_tag_handler(m, spec.wire)
    t = tag(chain, "tool")
    client = _client_request(t)
    (res,) = run_sdk_batch([{"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                             "request": client, "timeoutMs": 15000}])
    assert "error" not in res, res
    last_spec = placed[-1][0]
    ch = res["completion"]["choices"][0]
    assert ch["finish_reason"] == "tool_calls", res
    tcs = ch["message"]["tool_calls"]
    assert [json.loads(tc["function"]["arguments"]) for tc in tcs] == TOOL_CALL_ARGS, tcs
    assert {tc["function"]["name"] for tc in tcs} == {TOOL_NAME}, tcs
    assert res["headers"]["x-routeshift-provider"] == f"p{len(steps) - 1}-{last_spec.id}"
    for spec, m, sec in placed:
        reqs = requests_tagged(m, t)
        assert len(reqs) == 1, f"[{chain}] {spec.id} got {len(reqs)} requests"
        q = reqs[0]
        assert_upstream_target(spec, q, False)
        assert_upstream_auth(spec, q, sec, vk)
        assert_upstream_body(spec, q, False, tools=True, max_tokens=None)
        if spec.wire == "openai":
            _assert_proper_openai_body(q, client, False, spec.upstream_model)
        for _, _, other in placed:
            if other != sec:
                assert not q.carries(other), f"[{chain}] another provider's secret sent to {spec.id}"
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == ",".join(str(st) for _, _, st in steps), e
