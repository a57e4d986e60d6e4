"""Every catalog provider through the gateway with the official openai SDK: plain, streamed (with
and without stream_options.include_usage), finalChatCompletion(), two parallel tool calls (plain,
streamed, finalChatCompletion) and the turn after them (assistant tool_calls + tool result in the
history) -- each against a mock speaking that provider's wire format, checking both what the SDK
got and what the upstream received (path, auth shape, model, body shape); plus the raw SSE wire
(usage chunk right before the single [DONE], only when asked).

One gateway serves the whole module. Each (provider, scenario) cell has its own provider entry
and key in the snapshot (public model "<provider>-<scenario>"), so a failing cell cannot park a
key another cell uses; requests are matched to cells by a tag in the user message."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from helpers import Gateway, Snapshot, sse_events
from provider_matrix import (PREFACE, SPECS, TEXT, TOOL_CALL_ARGS, TOOL_IDS, TOOL_NAME,
                             add_provider, assert_upstream_auth, assert_upstream_body,
                             assert_upstream_target, assert_upstream_tool_history, check_usage,
                             chunks_of, expected_usage, finish_reasons, install_tag_handler,
                             new_mock, reassemble_tool_calls, requests_tagged, run_sdk_batch,
                             stream_text, tag, text_request, tool_request, tool_result_request)

# scenario -> (chat.mjs mode, request builder(model, tag))
SCENARIOS = {
    "plain": ("plain", text_request),
    "stream": ("stream", text_request),
    "usage_stream": ("stream",
                     lambda m, t: text_request(m, t, stream_options={"include_usage": True})),
    "final": ("final", text_request),
    "tool": ("plain", tool_request),
    "tool_stream": ("stream", tool_request),
    "tool_final": ("final", tool_request),
    "result_turn": ("plain", tool_result_request),
}
# cells checked on the raw wire (no SDK): SSE framing around the usage chunk and [DONE]
RAW_SCENARIOS = ["raw_usage", "raw_nousage"]
IDS = [s.id for s in SPECS]
PARALLEL = 8   # SDK requests in flight at a time


class World:
    def __init__(self, gw: Gateway, mocks: dict, secrets: dict, vk: str):
        self.gw, self.mocks, self.secrets, self.vk = gw, mocks, secrets, vk
        self.results: dict = {}

    def job(self, spec, scenario: str) -> dict:
        mode, build = SCENARIOS[scenario]
        return {"baseURL": self.gw.base_url, "apiKey": self.vk, "mode": mode,
                "request": build(f"{spec.id}-{scenario}", tag(spec.id, scenario)),
                "timeoutMs": 20000}

    def run_all(self) -> None:
        """Runs every cell's SDK call up front in one node process, PARALLEL at a time (the
        cells are independent: own provider, own key, answers chosen by tag); the tests then
        check the results."""
        cells = [(s, sc) for s in SPECS for sc in SCENARIOS]
        out = run_sdk_batch([self.job(s, sc) for s, sc in cells], concurrency=PARALLEL,
                            timeout=150)
        for (s, sc), res in zip(cells, out):
            self.results[(s.id, sc)] = res

    def result(self, spec, scenario: str) -> dict:
        return self.results[(spec.id, scenario)]


@pytest.fixture(scope="module")
def world(module_so, pki, sdk, request):
    failed_before = request.session.testsfailed
    base = Path(tempfile.mkdtemp(prefix="routeshift-it-matrix-"))
    os.chmod(base, 0o755)
    mocks = {s.id: new_mock(s.wire, s.id) for s in SPECS}
    gw = None
    problems: list = []
    try:
        for s in SPECS:
            install_tag_handler(mocks[s.id], s.wire)
        snap = Snapshot()
        secrets = {}
        for s in SPECS:
            for sc in list(SCENARIOS) + RAW_SCENARIOS:
                name = f"{s.id}-{sc}".replace("_", "-")
                pid, sec = add_provider(snap, s, mocks[s.id], name)
                snap.model(pid, f"{s.id}-{sc}", s.upstream_model)
                secrets[(s.id, sc)] = (name, sec)
        vk = snap.vkey()
        gw = Gateway(base / "nginx", module_so, pki.ca_cert)
        gw.start()
        gw.push(snap)
        w = World(gw, mocks, secrets, vk)
        w.run_all()
        yield w
    finally:
        if gw is not None:
            c = gw.stop()
            if c:
                problems.append(c)
            problems += gw.log_problems()
        for m in mocks.values():
            m.stop()
            problems += [f"mock {m.name}: {e}" for e in m.errors]
    if problems:
        tail = gw.error_log()[-4000:] if gw else ""
        pytest.fail("matrix gateway teardown checks failed:\n  " + "\n  ".join(problems)
                    + f"\n--- error.log tail ({base}) ---\n{tail}", pytrace=False)
    if request.session.testsfailed > failed_before:
        print(f"\nmatrix nginx prefix kept for inspection: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


def _cell(world: World, spec, scenario: str):
    name, secret = world.secrets[(spec.id, scenario)]
    return f"{spec.id}-{scenario}", tag(spec.id, scenario), name, secret


def _upstream(world: World, spec, t: str, secret: str, *, stream: bool, tools: bool):
    reqs = requests_tagged(world.mocks[spec.id], t)
    assert len(reqs) == 1, f"[{spec.id}] expected exactly one upstream request for {t}, got " \
                           f"{[(q.target, q.reply.status if q.reply else None) for q in reqs]}"
    q = reqs[0]
    assert_upstream_target(spec, q, stream)
    assert_upstream_auth(spec, q, secret, world.vk)
    assert_upstream_body(spec, q, stream, tools)
    return q


def _no_secret(res: dict, secret: str) -> None:
    assert secret not in json.dumps(res), "the provider secret reached the client"


def _err(res: dict, spec) -> str:
    return f"[{spec.id}] SDK result: {json.dumps(res)[:3000]}"


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_plain(world, spec):
    model, t, name, secret = _cell(world, spec, "plain")
    res = world.result(spec, "plain")
    assert "error" not in res, _err(res, spec)
    c = res["completion"]
    assert c["object"] == "chat.completion", _err(res, spec)
    assert isinstance(c.get("id"), str) and c["id"], _err(res, spec)
    assert isinstance(c.get("created"), int), _err(res, spec)
    assert c.get("model") == (spec.body_model or spec.upstream_model), \
        f"model should be the upstream model: {_err(res, spec)}"
    assert len(c["choices"]) == 1, _err(res, spec)
    ch = c["choices"][0]
    assert ch["index"] == 0 and ch["message"]["role"] == "assistant", _err(res, spec)
    assert ch["message"]["content"] == TEXT, _err(res, spec)
    assert not ch["message"].get("tool_calls"), _err(res, spec)
    assert ch["finish_reason"] == "stop", _err(res, spec)
    check_usage(c.get("usage"), expected_usage(spec.wire, False), f"[{spec.id}] plain usage")
    assert res["headers"].get("x-routeshift-provider") == name, res["headers"]
    assert res["headers"].get("content-type", "").startswith("application/json"), res["headers"]
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=False, tools=False)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_stream(world, spec):
    """No stream_options from the client: text reassembles, and no usage reaches the client."""
    model, t, name, secret = _cell(world, spec, "stream")
    res = world.result(spec, "stream")
    assert res.get("completed") and "error" not in res, _err(res, spec)
    chunks = chunks_of(res)
    assert chunks, _err(res, spec)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks), _err(res, spec)
    assert len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1, \
        f"id/created must be the same on every chunk: {_err(res, spec)}"
    assert {c["model"] for c in chunks} == {spec.body_model or spec.upstream_model}, _err(res, spec)
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant", _err(res, spec)
    assert stream_text(chunks) == TEXT, _err(res, spec)
    assert finish_reasons(chunks) == ["stop"], _err(res, spec)
    assert all(c.get("choices") for c in chunks), \
        f"usage-only chunk relayed although the client did not ask: {_err(res, spec)}"
    assert all(c.get("usage") is None for c in chunks), \
        f"usage relayed in a stream without include_usage: {_err(res, spec)}"
    assert res["headers"].get("content-type", "").startswith("text/event-stream"), res["headers"]
    assert res["headers"].get("x-routeshift-provider") == name, res["headers"]
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=True, tools=False)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_stream_include_usage(world, spec):
    """stream_options.include_usage: exactly one usage chunk, choices [], last before [DONE]."""
    model, t, name, secret = _cell(world, spec, "usage_stream")
    res = world.result(spec, "usage_stream")
    assert res.get("completed") and "error" not in res, _err(res, spec)
    chunks = chunks_of(res)
    assert stream_text(chunks) == TEXT, _err(res, spec)
    assert finish_reasons(chunks) == ["stop"], _err(res, spec)
    with_usage = [i for i, c in enumerate(chunks) if c.get("usage")]
    assert with_usage == [len(chunks) - 1], \
        f"expected exactly one usage chunk, the last one: {_err(res, spec)}"
    last = chunks[-1]
    assert last["choices"] == [], f"usage chunk must have choices []: {last}"
    assert last["id"] == chunks[0]["id"], last
    check_usage(last["usage"], expected_usage(spec.wire, True), f"[{spec.id}] stream usage")
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=True, tools=False)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_final_chat_completion(world, spec):
    model, t, name, secret = _cell(world, spec, "final")
    res = world.result(spec, "final")
    assert "error" not in res and res.get("completion"), _err(res, spec)
    ch = res["completion"]["choices"][0]
    assert ch["message"]["content"] == TEXT, _err(res, spec)
    assert ch["message"]["role"] == "assistant" and ch["finish_reason"] == "stop", _err(res, spec)
    assert res["chunkCount"] >= 2, _err(res, spec)
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=True, tools=False)


# ---------------------------------------------------------------------------------------------
# tool calls
# ---------------------------------------------------------------------------------------------

def _check_tool_calls(spec, tcs: list, where: str) -> None:
    """The two parallel calls the mocks answer with, in order, ids kept (or made up, distinct)."""
    assert isinstance(tcs, list) and len(tcs) == len(TOOL_CALL_ARGS), f"{where}: tool_calls {tcs}"
    for i, tc in enumerate(tcs):
        assert tc.get("type") == "function", f"{where}: {tc}"
        assert tc["function"]["name"] == TOOL_NAME, f"{where}: {tc}"
        assert isinstance(tc.get("id"), str) and tc["id"], f"{where}: tool call without id: {tc}"
        if spec.wire in TOOL_IDS:
            assert tc["id"] == TOOL_IDS[spec.wire][i], \
                f"{where}: the provider's tool-call id must be kept: {tc}"
        try:
            args = json.loads(tc["function"]["arguments"])
        except (TypeError, ValueError):
            raise AssertionError(f"{where}: arguments are not JSON: {tc['function'].get('arguments')!r}")
        assert args == TOOL_CALL_ARGS[i], f"{where}: call {i} arguments {args}"
    assert len({tc["id"] for tc in tcs}) == len(tcs), f"{where}: duplicate tool-call ids {tcs}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_tool_call(world, spec):
    model, t, name, secret = _cell(world, spec, "tool")
    res = world.result(spec, "tool")
    assert "error" not in res, _err(res, spec)
    ch = res["completion"]["choices"][0]
    msg = ch["message"]
    assert ch["finish_reason"] == "tool_calls", _err(res, spec)
    _check_tool_calls(spec, msg.get("tool_calls"), f"[{spec.id}] tool")
    assert msg.get("content") == PREFACE, f"text before the call must be kept: {_err(res, spec)}"
    check_usage(res["completion"].get("usage"), None, f"[{spec.id}] tool usage")
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=False, tools=True)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_tool_call_stream(world, spec):
    model, t, name, secret = _cell(world, spec, "tool_stream")
    res = world.result(spec, "tool_stream")
    assert res.get("completed") and "error" not in res, _err(res, spec)
    chunks = chunks_of(res)
    calls = reassemble_tool_calls(chunks)
    assert sorted(calls) == list(range(len(TOOL_CALL_ARGS))), \
        f"tool-call indexes must be the ordinals 0, 1: {calls} {_err(res, spec)}"
    _check_tool_calls(spec, [{"id": c["id"], "type": c["type"],
                              "function": {"name": c["name"], "arguments": c["arguments"]}}
                             for _, c in sorted(calls.items())], f"[{spec.id}] streamed tool")
    assert finish_reasons(chunks) == ["tool_calls"], _err(res, spec)
    assert stream_text(chunks) == PREFACE, _err(res, spec)
    assert all(c.get("choices") for c in chunks), _err(res, spec)
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=True, tools=True)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_tool_call_final(world, spec):
    """The SDK's own reassembly (finalChatCompletion) of a streamed tool call."""
    model, t, name, secret = _cell(world, spec, "tool_final")
    res = world.result(spec, "tool_final")
    assert "error" not in res and res.get("completion"), _err(res, spec)
    ch = res["completion"]["choices"][0]
    assert ch["finish_reason"] == "tool_calls", _err(res, spec)
    _check_tool_calls(spec, ch["message"].get("tool_calls"), f"[{spec.id}] final tool")
    _no_secret(res, secret)
    _upstream(world, spec, t, secret, stream=True, tools=True)


# ---------------------------------------------------------------------------------------------
# the SSE wire itself: [DONE] last, the usage chunk right before it, and only when asked
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_usage", [True, False], ids=["include_usage", "no_usage"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_stream_wire_usage_and_done(world, spec, with_usage):
    sc = "raw_usage" if with_usage else "raw_nousage"
    model, t, name, secret = _cell(world, spec, sc)
    extra = {"stream": True}
    if with_usage:
        extra["stream_options"] = {"include_usage": True}
    r = world.gw.chat(text_request(model, t, **extra), key=world.vk)
    assert r.status == 200, f"[{spec.id}] {r.describe()}"
    assert (r.header("content-type") or "").startswith("text/event-stream"), r.describe()
    assert secret.encode() not in r.body
    ev = sse_events(r.body)
    assert ev and ev[-1] == "[DONE]" and ev.count("[DONE]") == 1, \
        f"[{spec.id}] the stream must end with exactly one data: [DONE]: {ev}"
    chunks = ev[:-1]
    assert all(isinstance(c, dict) and c.get("object") == "chat.completion.chunk" for c in chunks), \
        f"[{spec.id}] {ev}"
    usage_chunks = [c for c in chunks if c.get("usage") is not None]
    empty_choices = [c for c in chunks if c.get("choices") == []]
    if with_usage:
        assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1], \
            f"[{spec.id}] exactly one usage chunk, right before [DONE]: {ev}"
        assert empty_choices == [chunks[-1]], f"[{spec.id}] usage chunk needs choices []: {ev}"
        check_usage(chunks[-1]["usage"], expected_usage(spec.wire, True), f"[{spec.id}] raw usage")
    else:
        assert not usage_chunks and not empty_choices, \
            f"[{spec.id}] no usage in a stream without include_usage: {ev}"
    assert stream_text(chunks) == TEXT and finish_reasons(chunks) == ["stop"], f"[{spec.id}] {ev}"
    _upstream(world, spec, t, secret, stream=True, tools=False)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_tool_result_turn(world, spec):
    """The next turn: assistant tool_calls + a tool message reach the provider in its shape."""
    model, t, name, secret = _cell(world, spec, "result_turn")
    res = world.result(spec, "result_turn")
    assert "error" not in res, _err(res, spec)
    ch = res["completion"]["choices"][0]
    assert ch["message"]["content"] == TEXT and ch["finish_reason"] == "stop", _err(res, spec)
    reqs = requests_tagged(world.mocks[spec.id], t)
    assert len(reqs) == 1, f"[{spec.id}] {len(reqs)} upstream requests"
    assert_upstream_target(spec, reqs[0], False)
    assert_upstream_auth(spec, reqs[0], secret, world.vk)
    assert_upstream_tool_history(spec, reqs[0], tool_result_request(model, t))
