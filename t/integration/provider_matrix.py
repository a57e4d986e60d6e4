"""Shared pieces of the provider-translation tests (test_providers_*.py): the catalog of providers
as the gateway sees them (kind, key metadata, where the mock sits, what the upstream request must
look like), scripted answers in each wire format, and assertions on what reached the upstream.

Every request a test sends carries a tag "[rs:<case>:<scenario>]" in its last user message; the
mocks' handlers pick the scripted answer by that tag (so answers do not depend on request order)
and tests find their own upstream requests by it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets as _secrets
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest

from mock_anthropic import AReply, MockAnthropic
from mock_bedrock import MockBedrock, bedrock_answer
from mock_gemini import GeminiReply, MockGemini
from mock_provider import MockProvider, Reply, chunk_body, completion_body

# ----------------------------------------------------------------------------------------------
# constants shared by the tests
# ----------------------------------------------------------------------------------------------

SYSTEM = "You are terse. Answer in one line."
CHUNKS = ["Hel", "lo ", "from ", "the mock"]
TEXT = "".join(CHUNKS)
PREFACE = "Checking."                       # text the model says before calling the tool
TOOL_NAME = "get_weather"
TOOL_ARGS = {"city": "Oslo", "unit": "celsius"}
TOOL_PARAMS = {"type": "object",
               "properties": {"city": {"type": "string", "description": "City name"},
                              "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
               "required": ["city"]}
TOOLS = [{"type": "function", "function": {"name": TOOL_NAME,
                                            "description": "Current weather in a city",
                                            "parameters": TOOL_PARAMS}}]
TOOL_ARGS2 = {"city": "Bergen"}
# the model answers with two parallel calls: (TOOL_NAME, TOOL_ARGS) and (TOOL_NAME, TOOL_ARGS2)
TOOL_CALL_ARGS = [TOOL_ARGS, TOOL_ARGS2]
# the providers' own tool-call ids (Gemini 2.x sends none: the gateway makes them up)
TOOL_IDS = {"openai": ["call_Wx9kQ2mZ7", "call_Pq3rT8vB1"],
            "anthropic": ["toolu_01AbCdEfGh", "toolu_01XyZ0123"],
            "bedrock": ["tooluse_Wx9kQ2mZ7", "tooluse_Pq3rT8vB1"]}
BEDROCK_REGION = "eu-central-1"
PROMPT_TOKENS = 11                          # every mock reports 11 input tokens

_TAG = re.compile(rb"\[rs:([A-Za-z0-9_.-]+):([a-z_]+)\]")


def tag(case: str, scenario: str) -> str:
    return f"[rs:{case}:{scenario}]"


def tag_of(body: bytes) -> Optional[tuple]:
    m = _TAG.search(body or b"")
    return (m.group(1).decode(), m.group(2).decode()) if m else None


# ----------------------------------------------------------------------------------------------
# the catalog
# ----------------------------------------------------------------------------------------------

@dataclass
class Spec:
    """One provider as the gateway is configured for it."""
    id: str                 # test id
    kind: str               # snapshot provider kind
    wire: str               # openai | anthropic | gemini | bedrock
    mock_path: str          # path part of the provider's base_url (on the mock)
    chat_path: str          # path the chat request must reach (without query); {model} filled in
    auth: str               # bearer | api-key | x-api-key | goog | sigv4
    upstream_model: str
    metadata: dict = field(default_factory=dict)
    body_model: Optional[str] = None   # OpenAI wire: the body's "model" (default upstream_model)
    query: Optional[dict] = None       # OpenAI wire: the exact query expected (Azure api-version)

    def path_for(self, stream: bool) -> str:
        if self.wire == "gemini":
            return f"{self.mock_path}/models/{self.upstream_model}:" + (
                "streamGenerateContent" if stream else "generateContent")
        if self.wire == "bedrock":
            return (f"{self.mock_path}/model/{urllib.parse.quote(self.upstream_model, safe='')}/"
                    + ("converse-stream" if stream else "converse"))
        return self.chat_path


SPECS = [
    Spec("openai", "openai", "openai", "/v1", "/v1/chat/completions", "bearer",
         "gpt-4o-2024-11-20"),
    Spec("anthropic", "anthropic", "anthropic", "", "/v1/messages", "x-api-key",
         "claude-sonnet-4-5"),
    Spec("gemini", "gemini", "gemini", "/v1beta", "", "goog", "gemini-2.5-flash"),
    Spec("bedrock", "bedrock", "bedrock", "", "", "sigv4",
         "anthropic.claude-3-haiku-20240307-v1:0",
         metadata={"region": BEDROCK_REGION}),   # + access_key_id per key (add_key)
    # Azure, legacy deployment URL with a dated api-version; body model is ignored by Azure
    Spec("azure_deployment", "azure", "openai", "",
         "/openai/deployments/prod-gpt4o/chat/completions", "api-key", "gpt-4o",
         metadata={"resource_name": "rs-test", "api_version": "2024-10-21",
                   "deployment": "prod-gpt4o"},
         query={"api-version": ["2024-10-21"]}),
    # Azure v1 API: /openai/v1/chat/completions, body model = deployment name
    Spec("azure_v1", "azure", "openai", "", "/openai/v1/chat/completions", "api-key", "gpt-4o",
         metadata={"resource_name": "rs-test", "api_version": "v1", "deployment": "dep-v1-4o"},
         body_model="dep-v1-4o", query={}),
    Spec("together", "together", "openai", "/v1", "/v1/chat/completions", "bearer",
         "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    Spec("groq", "groq", "openai", "/openai/v1", "/openai/v1/chat/completions", "bearer",
         "llama-3.3-70b-versatile"),
    Spec("zai", "zai", "openai", "/api/paas/v4", "/api/paas/v4/chat/completions", "bearer",
         "glm-4.6"),
    Spec("zai_anthropic", "zai", "anthropic", "/api/anthropic", "/api/anthropic/v1/messages",
         "x-api-key", "glm-4.6", metadata={"api": "anthropic"}),
    Spec("mimo", "mimo", "openai", "/v1", "/v1/chat/completions", "api-key", "mimo-v2-flash"),
    Spec("mimo_anthropic", "mimo", "anthropic", "/anthropic", "/anthropic/v1/messages",
         "api-key", "mimo-v2-flash", metadata={"api": "anthropic"}),
    Spec("minimax", "minimax", "anthropic", "/anthropic", "/anthropic/v1/messages", "x-api-key",
         "MiniMax-M2.7"),
    Spec("moonshot", "moonshot", "anthropic", "/anthropic", "/anthropic/v1/messages",
         "x-api-key", "kimi-k2.5"),
    Spec("dashscope", "dashscope", "openai", "/compatible-mode/v1",
         "/compatible-mode/v1/chat/completions", "bearer", "qwen-plus"),
]
SPEC_BY_ID = {s.id: s for s in SPECS}


def new_mock(wire: str, name: str) -> MockProvider:
    """A started mock speaking `wire`."""
    if wire == "anthropic":
        return MockAnthropic(name=name).start()
    if wire == "gemini":
        return MockGemini(name=name).start()
    if wire == "bedrock":
        return MockBedrock(name=name, credentials={}).start()
    return MockProvider(name=name).start()


@pytest.fixture
def wire_mocks():
    """wire_mocks(wire) -> a started mock speaking that wire format; stopped (and checked for
    internal errors) at teardown."""
    started = []

    def new(wire: str, name: Optional[str] = None):
        m = new_mock(wire, name or wire)
        started.append(m)
        return m
    yield new
    errs = []
    for m in started:
        m.stop()
        errs += [f"mock {m.name}: {e}" for e in m.errors]
    if errs:
        pytest.fail("mock internal errors:\n" + "\n".join(errs), pytrace=False)


def new_secret_for(spec_or_wire) -> str:
    """A random secret shaped like the provider's keys (Z.ai: "<32 hex>.<16 alnum>", which no
    "looks like a credential" heuristic recognises)."""
    if isinstance(spec_or_wire, Spec) and spec_or_wire.kind == "zai":
        return _secrets.token_hex(16) + "." + "".join(
            c for c in _secrets.token_urlsafe(24) if c.isalnum())[:16]
    wire = spec_or_wire.wire if isinstance(spec_or_wire, Spec) else spec_or_wire
    if wire == "gemini":
        return "AIzaSyRS-" + _secrets.token_hex(14)
    if wire == "bedrock":      # a secret access key
        return "rsSecret/" + _secrets.token_hex(14) + "+KEY"
    if wire == "anthropic":
        return "sk-ant-api03-rs" + _secrets.token_hex(14)
    return "sk-test-rs-" + _secrets.token_hex(14)


def add_provider(snap, spec: Spec, mock: MockProvider, name: str, secret: Optional[str] = None,
                 *, weight: int = 1, cooldown_seconds: int = 30,
                 label: Optional[str] = None) -> tuple:
    """Adds a provider of `spec` on `mock` (one key) to the Snapshot; returns (provider_id, secret).
    Bedrock: the key's access key id is akid_for(secret), registered with the mock."""
    pid = snap.provider(name, spec.kind, mock.base_url(path=spec.mock_path))
    secret = add_key(snap, pid, spec, mock, secret, weight=weight,
                     cooldown_seconds=cooldown_seconds, label=label)
    return pid, secret


def akid_for(secret: str) -> str:
    """The access key id paired with a Bedrock secret in these tests (derived from it)."""
    return "AKIDRS" + hashlib.sha256(secret.encode()).hexdigest()[:14].upper()


def add_key(snap, pid: int, spec: Spec, mock: MockProvider, secret: Optional[str] = None, *,
            weight: int = 1, cooldown_seconds: int = 30,
            label: Optional[str] = None) -> str:
    secret = secret or new_secret_for(spec)
    md = dict(spec.metadata)
    if spec.wire == "bedrock":
        md["access_key_id"] = akid_for(secret)
        mock.credentials[md["access_key_id"]] = secret
    snap.key(pid, secret, metadata=md, weight=weight, cooldown_seconds=cooldown_seconds,
             label=label)
    return secret


# ----------------------------------------------------------------------------------------------
# scripted answers per wire format
# ----------------------------------------------------------------------------------------------

def _wants_usage(req) -> bool:
    j = req.json if isinstance(req.json, dict) else {}
    return bool((j.get("stream_options") or {}).get("include_usage"))


def openai_tool_completion(model: str) -> dict:
    c = completion_body(PREFACE, model, finish_reason="tool_calls")
    c["choices"][0]["message"]["tool_calls"] = [{
        "id": TOOL_IDS["openai"][i], "type": "function",
        "function": {"name": TOOL_NAME, "arguments": json.dumps(a)}}
        for i, a in enumerate(TOOL_CALL_ARGS)]
    return c


def openai_tool_stream(req) -> Reply:
    model = (req.json or {}).get("model") or "mock"
    rid, created = "chatcmpl-mocktool", 1763700000
    chunks = [chunk_body(rid, created, model, {"role": "assistant", "content": ""}),
              chunk_body(rid, created, model, {"content": PREFACE})]
    for n, a in enumerate(TOOL_CALL_ARGS):
        args = json.dumps(a)
        chunks.append(chunk_body(rid, created, model, {"tool_calls": [{
            "index": n, "id": TOOL_IDS["openai"][n], "type": "function",
            "function": {"name": TOOL_NAME, "arguments": ""}}]}))
        for i in range(0, len(args), 7):
            chunks.append(chunk_body(rid, created, model, {"tool_calls": [{
                "index": n, "function": {"arguments": args[i:i + 7]}}]}))
    chunks.append(chunk_body(rid, created, model, {}, finish_reason="tool_calls"))
    if _wants_usage(req):
        chunks.append(chunk_body(rid, created, model, usage={
            "prompt_tokens": PROMPT_TOKENS, "completion_tokens": 9, "total_tokens": 20},
            no_choices=True))
    return Reply.stream(chunks)


def _is_stream_req(wire: str, req) -> bool:
    if wire == "gemini":
        return ":streamGenerateContent" in req.path
    if wire == "bedrock":
        return req.path.endswith("/converse-stream")
    return bool(isinstance(req.json, dict) and req.json.get("stream") is True)


def success_reply(wire: str, kind: str, req) -> Reply:
    """kind: "text" or "tool"."""
    stream = _is_stream_req(wire, req)
    if wire == "openai":
        if kind == "tool":
            if stream:
                return openai_tool_stream(req)
            return Reply.json(openai_tool_completion((req.json or {}).get("model") or "m"))
        return Reply.stream(CHUNKS) if stream else Reply.completion(TEXT)
    if wire == "anthropic":
        tc = [{"id": TOOL_IDS["anthropic"][i], "name": TOOL_NAME, "input": a}
              for i, a in enumerate(TOOL_CALL_ARGS)]
        if kind == "tool":
            return (AReply.stream([PREFACE], tool_calls=tc) if stream
                    else AReply.message(PREFACE, tool_calls=tc))
        return AReply.stream(CHUNKS) if stream else AReply.message(TEXT)
    if wire == "gemini":
        if kind == "tool":
            return GeminiReply.function_call(TOOL_NAME, TOOL_ARGS, text=PREFACE,
                                             more=[(TOOL_NAME, TOOL_ARGS2)])
        return GeminiReply.text(TEXT, chunks=CHUNKS)
    if wire == "bedrock":
        if kind == "tool":
            return bedrock_answer(PREFACE, tool_calls=[{"id": TOOL_IDS["bedrock"][i], "name": TOOL_NAME,
                                                         "input": a}
                                                        for i, a in enumerate(TOOL_CALL_ARGS)])
        return bedrock_answer(TEXT, chunks=CHUNKS)
    raise ValueError(wire)


def install_tag_handler(mock: MockProvider, wire: str,
                        extra: Optional[Callable[[str, str, Any], Optional[Reply]]] = None) -> None:
    """Answers by the request's tag: scenarios starting with "tool" get a tool call, the others a
    text answer; `extra(case, scenario, req)` may return another reply first."""
    def handler(req):
        t = tag_of(req.body)
        if t is None:
            return None
        if extra is not None:
            r = extra(t[0], t[1], req)
            if r is not None:
                return r
        return success_reply(wire, "tool" if t[1].startswith("tool") else "text", req)
    mock.handler = handler


def expected_usage(wire: str, stream: bool) -> tuple:
    """(prompt_tokens, completion_tokens) the mocks report for the text answer."""
    if wire == "openai":
        return (PROMPT_TOKENS, len(CHUNKS) if stream else 7)
    if wire == "anthropic":      # stream: message_delta.output_tokens = deltas + 1
        return (PROMPT_TOKENS, len(CHUNKS) + 1 if stream else 7)
    if wire == "gemini":         # candidatesTokenCount = number of pieces
        return (PROMPT_TOKENS, len(CHUNKS))
    if wire == "bedrock":
        return (PROMPT_TOKENS, 7)
    raise ValueError(wire)


# ----------------------------------------------------------------------------------------------
# requests and SDK results
# ----------------------------------------------------------------------------------------------

def text_request(model: str, t: str, **extra) -> dict:
    body = {"model": model, "messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": f"Say hello {t}"}],
            "max_tokens": 256}
    body.update(extra)
    return body


def tool_request(model: str, t: str, **extra) -> dict:
    body = {"model": model, "messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": f"Weather in Oslo? {t}"}],
            "tools": TOOLS, "tool_choice": "auto", "max_tokens": 256}
    body.update(extra)
    return body


def chunks_of(res: dict) -> list:
    return [c["chunk"] for c in res.get("chunks", [])]


def stream_text(chunks: list) -> str:
    return "".join((c["choices"][0].get("delta") or {}).get("content") or ""
                   for c in chunks if c.get("choices"))


def finish_reasons(chunks: list) -> list:
    return [c["choices"][0]["finish_reason"] for c in chunks
            if c.get("choices") and c["choices"][0].get("finish_reason")]


def reassemble_tool_calls(chunks: list) -> dict:
    """index -> {"id", "type", "name", "arguments"} from streamed deltas, checking the OpenAI
    rules: the first fragment of a call carries id/type/name, later ones only arguments."""
    calls: dict = {}
    for c in chunks:
        for ch in c.get("choices") or []:
            for tc in (ch.get("delta") or {}).get("tool_calls") or []:
                i = tc["index"]
                fn = tc.get("function") or {}
                if i not in calls:
                    assert tc.get("id"), f"first fragment of tool call {i} lacks an id: {tc}"
                    assert tc.get("type") == "function", f"first fragment lacks type: {tc}"
                    assert fn.get("name"), f"first fragment lacks function.name: {tc}"
                    calls[i] = {"id": tc["id"], "type": tc["type"], "name": fn["name"],
                                "arguments": fn.get("arguments") or ""}
                else:
                    assert not tc.get("id") or tc["id"] == calls[i]["id"], \
                        f"tool call {i} changed id mid-stream: {tc}"
                    calls[i]["arguments"] += fn.get("arguments") or ""
    return calls


def check_usage(u: Any, expect: Optional[tuple], where: str) -> None:
    assert isinstance(u, dict), f"{where}: no usage object: {u!r}"
    for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert isinstance(u.get(k), int), f"{where}: usage.{k} missing/not int: {u}"
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], f"{where}: {u}"
    if expect is not None:
        assert (u["prompt_tokens"], u["completion_tokens"]) == expect, \
            f"{where}: usage {u} != expected (prompt, completion) {expect}"


# ----------------------------------------------------------------------------------------------
# what reached the upstream
# ----------------------------------------------------------------------------------------------

def requests_tagged(mock: MockProvider, t: str) -> list:
    tb = t.encode()
    return [q for q in list(mock.requests) if tb in q.body]


def assert_upstream_auth(spec: Spec, q, secret: str, vk: str) -> None:
    h = q.headers
    who = f"[{spec.id}] {q.method} {q.target}"
    assert not q.carries(vk), f"{who}: the client's virtual key reached the upstream: {q.header_list}"
    auth = h.get("authorization") or ""
    assert not auth.startswith("Bearer sk-proxy"), f"{who}: client Authorization forwarded"
    if spec.auth == "bearer":
        assert auth == f"Bearer {secret}", f"{who}: auth headers {q.header_list}"
        assert h.get("api-key") is None and h.get("x-api-key") is None, q.header_list
    elif spec.auth == "api-key":
        assert h.get("api-key") == secret, f"{who}: expected api-key header: {q.header_list}"
        assert "authorization" not in h and h.get("x-api-key") is None, q.header_list
    elif spec.auth == "x-api-key":
        assert h.get("x-api-key") == secret, f"{who}: expected x-api-key: {q.header_list}"
        assert "authorization" not in h and h.get("api-key") is None, q.header_list
    elif spec.auth == "goog":
        assert h.get("x-goog-api-key") == secret, f"{who}: expected x-goog-api-key: {q.header_list}"
        assert "authorization" not in h, q.header_list
        assert secret not in q.target, f"{who}: the Gemini key is in the URL (?key=): {q.target}"
    elif spec.auth == "sigv4":
        assert getattr(q, "sigv4", None) and q.sigv4["ok"], \
            f"{who}: SigV4 rejected by botocore: {getattr(q, 'sigv4', None)}"
        assert q.sigv4["akid"] == akid_for(secret), f"{who}: signed with {q.sigv4['akid']}"
        assert q.sigv4["region"] == BEDROCK_REGION and q.sigv4["service"] == "bedrock", q.sigv4
        assert not q.carries(secret), f"{who}: the secret access key was sent on the wire"
    else:
        raise ValueError(spec.auth)
    if spec.wire == "anthropic":
        assert h.get("anthropic-version") == "2023-06-01", f"{who}: {q.header_list}"
    # nothing of another wire format's request shape
    if spec.wire != "anthropic":
        assert "anthropic-version" not in h, f"{who}: {q.header_list}"
    if spec.wire != "gemini":
        assert "x-goog-api-key" not in h, f"{who}: {q.header_list}"
    if spec.wire != "bedrock":
        assert "x-amz-date" not in h and "x-amz-security-token" not in h, f"{who}: {q.header_list}"


def assert_upstream_target(spec: Spec, q, stream: bool) -> None:
    who = f"[{spec.id}]"
    assert q.method == "POST", f"{who}: {q.method}"
    assert q.path == spec.path_for(stream), f"{who}: path {q.path!r} != {spec.path_for(stream)!r}"
    if spec.wire == "gemini":
        want = {"alt": ["sse"]} if stream else {}
        assert q.query_params == want, f"{who}: query {q.query!r}"
    elif spec.wire == "openai":
        assert q.query_params == (spec.query or {}), f"{who}: query {q.query!r}"
    else:
        assert q.query == "", f"{who}: unexpected query {q.query!r}"
    assert (q.header("content-type") or "").startswith("application/json"), q.header_list
    assert int(q.header("content-length") or -1) == len(q.body), f"{who}: Content-Length mismatch"


def _user_text_anthropic(msg: dict) -> str:
    c = msg.get("content")
    if isinstance(c, str):
        return c
    return "".join(b.get("text", "") for b in c or [] if isinstance(b, dict))


def assert_upstream_body(spec: Spec, q, stream: bool, tools: bool,
                         max_tokens: Optional[int] = 256) -> None:
    """The body is in the provider's shape (built from text_request / tool_request; max_tokens:
    what the client sent, None = nothing)."""
    who = f"[{spec.id}]"
    j = q.json
    assert isinstance(j, dict), f"{who}: upstream body is not a JSON object: {q.body[:300]!r}"
    if spec.wire == "openai":
        assert j.get("model") == (spec.body_model or spec.upstream_model), f"{who}: model {j.get('model')}"
        msgs = j.get("messages")
        assert isinstance(msgs, list) and len(msgs) == 2, f"{who}: messages {msgs}"
        assert msgs[0] == {"role": "system", "content": SYSTEM}, f"{who}: {msgs[0]}"
        assert msgs[1]["role"] == "user" and "[rs:" in msgs[1]["content"], msgs[1]
        assert "metadata" not in j
        assert j.get("max_tokens") == max_tokens, f"{who}: max_tokens {j.get('max_tokens')}"
        for k in ("system", "input_schema", "max_completion_tokens", "contents", "toolConfig"):
            assert k not in j, f"{who}: foreign member {k!r} in an OpenAI body: {j}"
        if stream:
            assert j.get("stream") is True and (j.get("stream_options") or {}).get("include_usage") is True, \
                f"{who}: stream flags {j.get('stream')} {j.get('stream_options')}"
        else:
            assert not j.get("stream"), f"{who}: stream={j.get('stream')} on a plain request"
        if tools:
            assert j.get("tools") == TOOLS and j.get("tool_choice") == "auto", f"{who}: {j}"
    elif spec.wire == "anthropic":
        assert j.get("model") == spec.upstream_model, f"{who}: model {j.get('model')}"
        mt = j.get("max_tokens")
        assert isinstance(mt, int) and not isinstance(mt, bool) and mt > 0, f"{who}: max_tokens {mt}"
        if max_tokens is not None:
            assert mt == max_tokens, f"{who}: max_tokens {mt}, the client asked for {max_tokens}"
        sysv = j.get("system")
        sys_text = sysv if isinstance(sysv, str) else "".join(
            b.get("text", "") for b in sysv or [] if isinstance(b, dict))
        assert sys_text == SYSTEM, f"{who}: top-level system {sysv!r}"
        msgs = j.get("messages")
        assert isinstance(msgs, list) and [m.get("role") for m in msgs] == ["user"], \
            f"{who}: messages must hold only the user turn (system at top level): {msgs}"
        assert "[rs:" in _user_text_anthropic(msgs[0])
        assert bool(j.get("stream")) == stream, f"{who}: stream={j.get('stream')}"
        assert "stream_options" not in j and "tool_calls" not in json.dumps(msgs)
        if tools:
            ts = j.get("tools")
            assert isinstance(ts, list) and len(ts) == 1, f"{who}: tools {ts}"
            assert ts[0].get("name") == TOOL_NAME and ts[0].get("input_schema") == TOOL_PARAMS, ts
            assert "function" not in ts[0] and ts[0].get("type") in (None, "custom"), ts
            assert j.get("tool_choice") in ({"type": "auto"}, None), f"{who}: tool_choice {j.get('tool_choice')}"
    elif spec.wire == "gemini":
        assert "model" not in j and "stream" not in j and "messages" not in j, f"{who}: {list(j)}"
        si = j.get("systemInstruction") or j.get("system_instruction")
        assert isinstance(si, dict) and "".join(p.get("text", "") for p in si.get("parts", [])) == SYSTEM, \
            f"{who}: systemInstruction {si}"
        contents = j.get("contents")
        assert isinstance(contents, list) and len(contents) == 1 and contents[0].get("role") == "user", \
            f"{who}: contents {contents}"
        assert "[rs:" in "".join(p.get("text", "") for p in contents[0].get("parts", []))
        gc = j.get("generationConfig") or {}
        if max_tokens is not None:
            assert gc.get("maxOutputTokens") == max_tokens, f"{who}: generationConfig {gc}"
        if tools:
            ts = j.get("tools")
            assert isinstance(ts, list) and ts, f"{who}: tools {ts}"
            fds = [fd for t in ts for fd in t.get("functionDeclarations", [])]
            assert [fd.get("name") for fd in fds] == [TOOL_NAME], f"{who}: {ts}"
            schema = fds[0].get("parameters") or fds[0].get("parametersJsonSchema")
            assert isinstance(schema, dict) and set(schema.get("properties", {})) == {"city", "unit"}, fds[0]
            mode = ((j.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode", "AUTO")
            assert mode == "AUTO", f"{who}: toolConfig {j.get('toolConfig')}"
    elif spec.wire == "bedrock":
        assert "model" not in j and "stream" not in j, f"{who}: {list(j)}"
        assert j.get("system") == [{"text": SYSTEM}], f"{who}: system {j.get('system')}"
        msgs = j.get("messages")
        assert isinstance(msgs, list) and len(msgs) == 1 and msgs[0].get("role") == "user", f"{who}: {msgs}"
        assert "[rs:" in "".join(b.get("text", "") for b in msgs[0].get("content", []))
        if max_tokens is not None:
            assert (j.get("inferenceConfig") or {}).get("maxTokens") == max_tokens, \
                f"{who}: {j.get('inferenceConfig')}"
        if tools:
            tc = j.get("toolConfig") or {}
            specs = [t.get("toolSpec") for t in tc.get("tools", [])]
            assert len(specs) == 1 and specs[0].get("name") == TOOL_NAME, f"{who}: toolConfig {tc}"
            assert specs[0].get("inputSchema") == {"json": TOOL_PARAMS}, f"{who}: {specs[0]}"
            assert tc.get("toolChoice", {"auto": {}}) == {"auto": {}}, f"{who}: {tc}"
    else:
        raise ValueError(spec.wire)


# ----------------------------------------------------------------------------------------------
# many SDK calls in one node process
# ----------------------------------------------------------------------------------------------

# Appended to chat.mjs's own helpers (everything before its `async function main()`: plain,
# stream, finalMode, errorInfo, ...), so each job runs exactly as chat.mjs would run it; only the
# node start-up (~0.3-0.8 s of CPU each) is shared.
_BATCH_MAIN = r"""
async function rsRunJob(job) {
  const client = new OpenAI({
    baseURL: job.baseURL, apiKey: job.apiKey ?? 'missing', maxRetries: 0,
    timeout: job.timeoutMs ?? 60000, defaultHeaders: job.headers ?? {},
  });
  let result;
  try {
    switch (job.mode) {
      case 'plain': result = await plain(client, job); break;
      case 'stream': result = await stream(client, job); break;
      case 'final': result = await finalMode(client, job); break;
      default: throw new Error(`unknown mode ${job.mode}`);
    }
  } catch (e) {
    result = { error: errorInfo(e) };
  }
  let text = JSON.stringify(result);
  if (job.apiKey && job.apiKey.length >= 8) text = text.split(job.apiKey).join('[apiKey]');
  return JSON.parse(text);
}

async function rsBatchMain() {
  const { jobs, concurrency } = JSON.parse(await readStdin());
  const out = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await rsRunJob(jobs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, worker));
  process.stdout.write(JSON.stringify(out) + '\n');
}

rsBatchMain().catch((e) => {
  process.stdout.write(JSON.stringify({ batchError: String(e?.stack ?? e) }) + '\n');
  process.exitCode = 2;
});
"""


def run_sdk_batch(jobs: list, concurrency: int = 8, timeout: float = 120.0) -> list:
    """Runs chat.mjs jobs (modes plain / stream / final) in one node process, `concurrency` at a
    time; returns their results in order (the same JSON chat.mjs prints). Falls back to one
    chat.mjs process per job if chat.mjs no longer has the expected layout."""
    from helpers import JS_DIR, run_sdk
    if not jobs:
        return []
    src = (JS_DIR / "chat.mjs").read_text()
    cut = src.find("\nasync function main()")
    if cut < 0 or "async function finalMode" not in src[:cut]:
        return [run_sdk(j, timeout=timeout) for j in jobs]
    r = subprocess.run(["node", "--input-type=module", "-e", src[:cut] + _BATCH_MAIN],
                       input=json.dumps({"jobs": jobs, "concurrency": concurrency}),
                       capture_output=True, text=True, timeout=timeout, cwd=JS_DIR)
    for j in jobs:
        key = j.get("apiKey")
        if key and len(key) >= 8:
            assert key not in r.stdout and key not in r.stderr, "the SDK batch printed an apiKey"
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except Exception:
        raise AssertionError(f"SDK batch gave no JSON (rc {r.returncode}):\nstdout: "
                             f"{r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    if isinstance(out, dict):
        raise AssertionError(f"SDK batch failed: {out}\nstderr: {r.stderr[-2000:]}")
    assert len(out) == len(jobs), f"SDK batch returned {len(out)} results for {len(jobs)} jobs"
    return out


# ----------------------------------------------------------------------------------------------
# the turn after a tool call: assistant tool_calls + tool result in the history
# ----------------------------------------------------------------------------------------------

PREV_CALL_ID = "call_prev_7Hq2"
TOOL_RESULT = '{"temp_c": 3}'


def tool_result_request(model: str, t: str, **extra) -> dict:
    body = {"model": model, "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Weather in Oslo? {t}"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": PREV_CALL_ID, "type": "function",
            "function": {"name": TOOL_NAME, "arguments": json.dumps(TOOL_ARGS)}}]},
        {"role": "tool", "tool_call_id": PREV_CALL_ID, "content": TOOL_RESULT}],
        "tools": TOOLS, "max_tokens": 256}
    body.update(extra)
    return body


def _blocks(content) -> list:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def assert_upstream_tool_history(spec: Spec, q, request: dict) -> None:
    """The assistant tool call and the tool result of the history, in the provider's shape."""
    who = f"[{spec.id}] tool history"
    j = q.json
    assert isinstance(j, dict), f"{who}: {q.body[:300]!r}"
    if spec.wire == "openai":
        assert j.get("messages") == request["messages"], f"{who}: {j.get('messages')}"
        assert j.get("tools") == TOOLS, f"{who}: {j}"
    elif spec.wire == "anthropic":
        msgs = j.get("messages") or []
        assert [m.get("role") for m in msgs] == ["user", "assistant", "user"], f"{who}: {msgs}"
        uses = [b for b in _blocks(msgs[1].get("content")) if b.get("type") == "tool_use"]
        assert len(uses) == 1 and uses[0].get("id") == PREV_CALL_ID and \
            uses[0].get("name") == TOOL_NAME and uses[0].get("input") == TOOL_ARGS, f"{who}: {msgs[1]}"
        res = _blocks(msgs[2].get("content"))
        assert res and res[0].get("type") == "tool_result" and res[0].get("tool_use_id") == PREV_CALL_ID, \
            f"{who}: tool_result must come first in the next user turn: {msgs[2]}"
        assert "temp_c" in json.dumps(res[0].get("content")), f"{who}: {res[0]}"
        assert isinstance(j.get("tools"), list) and j["tools"], f"{who}: tools missing: {j}"
    elif spec.wire == "gemini":
        cs = j.get("contents") or []
        assert [c.get("role") for c in cs] == ["user", "model", "user"], f"{who}: {cs}"
        calls = [p["functionCall"] for p in cs[1].get("parts", []) if "functionCall" in p]
        assert len(calls) == 1 and calls[0].get("name") == TOOL_NAME and \
            calls[0].get("args") == TOOL_ARGS, f"{who}: {cs[1]}"
        resp = [p["functionResponse"] for p in cs[2].get("parts", []) if "functionResponse" in p]
        assert len(resp) == 1 and resp[0].get("name") == TOOL_NAME, \
            f"{who}: functionResponse must name the function (looked up by tool_call_id): {cs[2]}"
        assert isinstance(resp[0].get("response"), dict) and "temp_c" in json.dumps(resp[0]["response"]), \
            f"{who}: functionResponse.response must be an object: {resp[0]}"
    elif spec.wire == "bedrock":
        msgs = j.get("messages") or []
        assert [m.get("role") for m in msgs] == ["user", "assistant", "user"], f"{who}: {msgs}"
        uses = [b["toolUse"] for b in msgs[1].get("content", []) if "toolUse" in b]
        assert len(uses) == 1 and uses[0].get("toolUseId") == PREV_CALL_ID and \
            uses[0].get("name") == TOOL_NAME and uses[0].get("input") == TOOL_ARGS, f"{who}: {msgs[1]}"
        results = [b["toolResult"] for b in msgs[2].get("content", []) if "toolResult" in b]
        assert len(results) == 1 and results[0].get("toolUseId") == PREV_CALL_ID, f"{who}: {msgs[2]}"
        assert results[0].get("content") and "temp_c" in json.dumps(results[0]["content"]), results[0]
        assert (j.get("toolConfig") or {}).get("tools"), f"{who}: toolConfig is required with tool history"
    else:
        raise ValueError(spec.wire)
