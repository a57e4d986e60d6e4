"""Provider failures in every wire format: mid-stream failures must reach the SDK as errors (never
as a short clean answer), retry signals move the request to another key, "don't retry" signals are
relayed at once with a faithful status, and every upstream error reaches the client as an OpenAI
error {"error":{"message","type","param","code"}} that never carries the provider secret."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot, assert_openai_error, sse_events
from mock_anthropic import AReply
from mock_bedrock import bedrock_answer, bedrock_error, bedrock_throttling, bedrock_unavailable
from mock_gemini import GeminiReply
from mock_provider import Reply
from provider_matrix import (CHUNKS, SPEC_BY_ID, TEXT, add_key, add_provider, akid_for,
                             assert_upstream_auth, assert_upstream_target, chunks_of,
                             finish_reasons, stream_text, tag, text_request)
from provider_matrix import wire_mocks  # noqa: F401  (fixture)


def queue_key(spec, secret: str) -> str:
    """What the mock matches `enqueue(..., key=)` / `set_default(..., key=)` against."""
    return akid_for(secret) if spec.wire == "bedrock" else secret


def used_secret(spec, q, secrets: list) -> str | None:
    """Which of `secrets` the upstream request `q` authenticated with."""
    for s in secrets:
        if spec.wire == "bedrock":
            if (getattr(q, "sigv4", None) or {}).get("akid") == akid_for(s):
                return s
        elif spec.wire == "gemini":
            if q.header("x-goog-api-key") == s:
                return s
        elif q.auth_secret() == s:
            return s
    return None


def _words(text: str) -> list:
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip()
    return words


def set_success(spec, mock, secret: str, text: str) -> None:
    """Requests with `secret` get a success answer with `text` (plain or streamed, as asked)."""
    if spec.wire == "anthropic":
        mock.set_default(AReply.auto(text), key=secret)
    elif spec.wire == "gemini":
        mock.set_default(GeminiReply.text(text, chunks=_words(text)), key=secret)
    elif spec.wire == "bedrock":
        mock.set_default(bedrock_answer(text, chunks=_words(text)), key=akid_for(secret))
    else:  # the OpenAI mock's replies do not adapt to the request: pick per request
        prev = mock.handler

        def handler(req):
            if req.auth_secret() == secret:
                return (Reply.stream(_words(text)) if (req.json or {}).get("stream")
                        else Reply.completion(text))
            return prev(req) if prev else None
        mock.handler = handler


def access_for(gw, provider_name: str) -> dict:
    return gw.wait_access(1, where=lambda e: e.get("provider") == provider_name)[-1]


def assert_no_secret(resp, *secrets) -> None:
    blob = resp.body + "".join(f"{k}: {v}\n" for k, v in resp.headers).encode()
    for s in secrets:
        assert s.encode() not in blob, f"a provider secret reached the client: {resp.describe()}"


# =============================================================================================
# mid-stream failures
# =============================================================================================

OPENAI_ERR_EVENT = {"error": {"message": "upstream broke mid-way", "type": "server_error",
                              "param": None, "code": "internal"}}

# id, spec, reply, a phrase of the upstream's error message the SDK must see (None: any error),
# whether the failure comes before the provider signalled the end of the answer
MIDSTREAM = [
    ("openai-drop", "openai", lambda: Reply.stream(CHUNKS, drop_after=3), None, True),
    ("openai-drop-rst", "openai", lambda: Reply.stream(CHUNKS, drop_after=3, rst=True), None, True),
    ("openai-error-event", "openai", lambda: Reply.stream(["Hel", OPENAI_ERR_EVENT], done=False),
     "upstream broke mid-way", True),
    ("anthropic-error-event", "anthropic",
     lambda: AReply.stream(CHUNKS, error_after=5, error_message="Overloaded"), "overloaded", True),
    ("anthropic-drop", "anthropic", lambda: AReply.stream(CHUNKS, drop_after=5), None, True),
    ("anthropic-drop-mid-event", "anthropic",
     lambda: AReply.stream(CHUNKS, drop_after=5, drop_mid_event=True), None, True),
    ("anthropic-no-message-stop", "anthropic", lambda: AReply.stream(CHUNKS, complete=False),
     None, False),
    ("gemini-error-raw-json", "gemini", lambda: GeminiReply.mid_stream_error(["Hel"]),
     "cancelled", True),
    ("gemini-error-data-event", "gemini",
     lambda: GeminiReply.mid_stream_error(["Hel"], as_data=True), "cancelled", True),
    ("gemini-drop", "gemini", lambda: GeminiReply.text(TEXT, chunks=CHUNKS, drop_after=2), None,
     True),
    ("gemini-no-finish-reason", "gemini",
     lambda: GeminiReply.text(TEXT, chunks=CHUNKS, finish=False), None, True),
    ("bedrock-exception-frame", "bedrock",
     lambda: bedrock_answer(TEXT, chunks=CHUNKS,
                            exception=("modelStreamErrorException", "The model stream broke", 3)),
     "model stream broke", True),
    ("bedrock-drop", "bedrock", lambda: bedrock_answer(TEXT, chunks=CHUNKS, drop_after=3), None,
     True),
    ("bedrock-no-message-stop", "bedrock",
     lambda: bedrock_answer(TEXT, chunks=CHUNKS, complete=False), None, True),
    ("bedrock-bad-crc", "bedrock", lambda: bedrock_answer(TEXT, chunks=CHUNKS, corrupt_event=2),
     None, True),
]


@pytest.mark.parametrize("case,spec_id,reply,phrase,early", MIDSTREAM, ids=[c[0] for c in MIDSTREAM])
def test_mid_stream_failure_reaches_sdk_as_error(gw_factory, wire_mocks, sdk, case, spec_id, reply,
                                                 phrase, early):
    # the error path is the subject: mid-stream continuation (docs/design.md §19, on by default)
    # would let the spare key finish the answer; test_stream_continuation.py covers that
    gw = gw_factory(location_extra="routeshift_stream_continuation off;")
    spec = SPEC_BY_ID[spec_id]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, sec = add_provider(s, spec, m, "p-" + spec.id, weight=1000)
    sec2 = add_key(s, pid, spec, m, weight=1)        # a healthy spare: must NOT be used
    s.model(pid, "mid", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    m.enqueue(reply(), key=queue_key(spec, sec))
    set_success(spec, m, sec2, "spare key answered")
    t = tag(case, "midstream")
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": text_request("mid", t), "timeoutMs": 15000})
    assert "error" in res and not res.get("completed"), \
        f"[{case}] a broken upstream stream looked like a complete answer to the SDK: {res}"
    chunks = chunks_of(res)
    got = stream_text(chunks)
    assert TEXT.startswith(got), f"[{case}] relayed text {got!r} is not a prefix of {TEXT!r}"
    if early:
        assert not finish_reasons(chunks), \
            f"[{case}] a finish_reason was relayed for an answer that never finished: {res}"
        assert not any(c.get("usage") for c in chunks), res
    if phrase:
        assert phrase.lower() in (res["error"].get("message") or "").lower(), \
            f"[{case}] the SDK error should carry the provider's message ({phrase!r}): {res['error']}"
    assert sec not in json.dumps(res) and sec2 not in json.dumps(res)
    reqs = list(m.requests)
    assert len(reqs) == 1, f"[{case}] no retry once bytes reached the client: {len(reqs)} requests"
    assert used_secret(spec, reqs[0], [sec]) == sec
    assert_upstream_target(spec, reqs[0], True)


# =============================================================================================
# retry signals: another key gets the request
# =============================================================================================

RETRY = [
    ("anthropic-529-overloaded", "anthropic", AReply.overloaded, 529),
    ("anthropic-429-rate-limit", "anthropic", lambda: AReply.rate_limited(retry_after=5), 429),
    ("gemini-429-resource-exhausted", "gemini", GeminiReply.rate_limited, 429),
    ("gemini-503-unavailable", "gemini", GeminiReply.unavailable, 503),
    ("bedrock-429-throttling", "bedrock", bedrock_throttling, 429),
    ("bedrock-503-unavailable", "bedrock", bedrock_unavailable, 503),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("case,spec_id,reply,status", RETRY, ids=[c[0] for c in RETRY])
def test_retry_signal_moves_to_another_key(gw, wire_mocks, case, spec_id, reply, status, stream):
    spec = SPEC_BY_ID[spec_id]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, k1 = add_provider(s, spec, m, "p-" + spec.id, weight=1000, label="K1")
    k2 = add_key(s, pid, spec, m, weight=1, label="K2")
    s.model(pid, "retry", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    m.enqueue(reply(), key=queue_key(spec, k1))
    set_success(spec, m, k2, "second key answered")
    body = text_request("retry", tag(case, "retry"), **({"stream": True} if stream else {}))
    r = gw.chat(body, key=vk)
    assert r.status == 200, f"[{case}] {r.describe()}"
    if stream:
        ev = sse_events(r.body)
        assert ev and ev[-1] == "[DONE]", f"[{case}] {r.describe()}"
        assert stream_text([e for e in ev if isinstance(e, dict)]) == "second key answered", ev
    else:
        assert r.json["choices"][0]["message"]["content"] == "second key answered", r.describe()
    reqs = list(m.requests)
    assert [used_secret(spec, q, [k1, k2]) for q in reqs] == [k1, k2], \
        f"[{case}] expected K1 then K2, got {[(q.target, used_secret(spec, q, [k1, k2])) for q in reqs]}"
    for q in reqs:
        assert_upstream_target(spec, q, stream)
        assert_upstream_auth(spec, q, used_secret(spec, q, [k1, k2]), vk)
    e = access_for(gw, "p-" + spec.id)
    assert e["statuses"] == f"{status},200" and e["attempts"] == "2", e
    st = gw.key_status(s.key_id(k1))
    assert st["cooldown_remaining_ms"] > 0, f"[{case}] K1 should be parked after {status}: {st}"
    assert_no_secret(r, k1, k2)


# =============================================================================================
# "don't retry" signals: relayed at once, faithful status, OpenAI shape
# =============================================================================================

AZURE_FILTER = {"error": {
    "code": "content_filter", "status": 400, "param": "prompt",
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
               "management policy. Please modify your prompt and retry.",
    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
        "hate": {"filtered": True, "severity": "medium"},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": False, "severity": "safe"}}}}}

# id, spec, reply, upstream status, client statuses accepted, error.type (None: any),
# error.code (None: any), phrase of the upstream message that must reach the client
NO_RETRY = [
    ("openai-context-length", "openai",
     lambda: Reply.error(400, "This model's maximum context length is 128000 tokens. However, your "
                              "messages resulted in 131072 tokens. Please reduce the length of the "
                              "messages.", code="context_length_exceeded", param="messages"),
     400, {400}, "invalid_request_error", "context_length_exceeded", "maximum context length"),
    ("anthropic-context-length", "anthropic",
     lambda: AReply.error(400, "prompt is too long: 208310 tokens > 200000 maximum"),
     400, {400}, "invalid_request_error", None, "prompt is too long"),
    ("gemini-context-length", "gemini",
     lambda: GeminiReply.error(400, "The input token count (1200000) exceeds the maximum number of "
                                    "tokens allowed (1048576).", "INVALID_ARGUMENT"),
     400, {400}, "invalid_request_error", None, "exceeds the maximum number of tokens"),
    ("bedrock-context-length", "bedrock",
     lambda: bedrock_error(400, "ValidationException", "Input is too long for requested model."),
     400, {400}, "invalid_request_error", None, "input is too long"),
    ("azure-content-filter", "azure_deployment", lambda: Reply.json(AZURE_FILTER, status=400),
     400, {400}, "invalid_request_error", "content_filter", "content management policy"),
    ("zai-1301-content-policy", "zai",
     lambda: Reply.json({"error": {"code": "1301", "message": "System detected potentially unsafe "
                                   "or sensitive content in input or generation."}}, status=400),
     400, {400}, "invalid_request_error", None, "unsafe or sensitive content"),
    ("anthropic-429-spend-cap", "anthropic", AReply.spend_limited,
     429, {429}, None, None, "usage limits"),
    ("anthropic-402-billing", "anthropic",
     lambda: AReply.error(402, "Your credit balance is too low to access the Anthropic API. Please "
                               "go to Plans & Billing to upgrade or purchase credits.",
                          type_="billing_error"),
     402, {402, 429}, None, None, "credit balance is too low"),
    ("openai-429-insufficient-quota", "openai",
     lambda: Reply.error(429, "You exceeded your current quota, please check your plan and billing "
                              "details.", type_="insufficient_quota", code="insufficient_quota"),
     429, {429}, None, "insufficient_quota", "exceeded your current quota"),
]


@pytest.mark.parametrize("case,spec_id,reply,up_status,statuses,type_,code,phrase", NO_RETRY,
                         ids=[c[0] for c in NO_RETRY])
def test_dont_retry_signal_relayed(gw, wire_mocks, case, spec_id, reply, up_status, statuses,
                                   type_, code, phrase):
    spec = SPEC_BY_ID[spec_id]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, k1 = add_provider(s, spec, m, "p-" + spec.id, weight=1000, label="K1")
    k2 = add_key(s, pid, spec, m, weight=1, label="K2")
    s.model(pid, "noretry", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    m.enqueue(reply(), key=queue_key(spec, k1))
    set_success(spec, m, k2, "second key answered")
    r = gw.chat(text_request("noretry", tag(case, "noretry")), key=vk)
    assert r.status in statuses, f"[{case}] expected HTTP {sorted(statuses)}: {r.describe()}"
    e = assert_openai_error(r, r.status)
    if type_ is not None:
        assert e["type"] == type_, f"[{case}] error.type: {r.describe()}"
    if code is not None:
        assert e["code"] == code, f"[{case}] error.code: {r.describe()}"
    assert phrase.lower() in e["message"].lower(), \
        f"[{case}] the provider's message should reach the client: {r.describe()}"
    reqs = list(m.requests)
    assert [used_secret(spec, q, [k1, k2]) for q in reqs] == [k1], \
        f"[{case}] must not be retried on another key: {[q.target for q in reqs]}"
    acc = access_for(gw, "p-" + spec.id)
    assert acc["statuses"] == class_token(case, up_status) and acc["attempts"] == "1", acc
    assert_no_secret(r, k1, k2)


def class_token(case: str, up_status: int) -> str:
    """The attempt-status token: the status, or the error class's token (docs/design.md §20)."""
    for suffix, token in (("context-length", "context"), ("content-filter", "policy"), ("content-policy", "policy")):
        if case.endswith(suffix):
            return token
    return str(up_status)


# =============================================================================================
# error mapping with one key: the OpenAI error the client gets, without the secret
# =============================================================================================

# spec, reply(secret), upstream status, client status, error.type
# (docs/wire-formats.md, Cross-provider rules → Error normalisation)
MAPPING = [
    ("anthropic", lambda s: AReply.overloaded(), 529, 503, "server_error"),
    ("anthropic", lambda s: AReply.rate_limited(retry_after=1, message=f"rate limited on {s}"),
     429, 429, "rate_limit_error"),
    ("anthropic", lambda s: AReply.error(500, f"internal error serving key {s}"), 500, 500,
     "server_error"),
    ("anthropic", lambda s: AReply.error(400, f"messages: bad request from key {s}"), 400, 400,
     "invalid_request_error"),
    ("anthropic", lambda s: AReply.error(401, f"invalid x-api-key {s}"), 401, 401,
     "authentication_error"),
    ("anthropic", lambda s: AReply.error(403, f"key {s} may not use this model"), 403, 403,
     "permission_error"),
    ("gemini", lambda s: GeminiReply.rate_limited(), 429, 429, "rate_limit_error"),
    ("gemini", lambda s: GeminiReply.unavailable(), 503, 503, "server_error"),
    ("gemini", lambda s: GeminiReply.error(500, f"internal error for key {s}", "INTERNAL"), 500, 500,
     "server_error"),
    ("gemini", lambda s: GeminiReply.error(400, f"Invalid JSON payload (key {s})", "INVALID_ARGUMENT"),
     400, 400, "invalid_request_error"),
    ("gemini", lambda s: GeminiReply.error(403, f"key {s} lacks access", "PERMISSION_DENIED"), 403,
     403, "permission_error"),
    ("bedrock", lambda s: bedrock_throttling(), 429, 429, "rate_limit_error"),
    ("bedrock", lambda s: bedrock_unavailable(), 503, 503, "server_error"),
    ("bedrock", lambda s: bedrock_error(500, "InternalServerException", f"internal error ({s})"), 500,
     500, "server_error"),
    ("bedrock", lambda s: bedrock_error(400, "ValidationException", f"Malformed input for {s}"), 400,
     400, "invalid_request_error"),
    ("bedrock", lambda s: bedrock_error(403, "AccessDeniedException", f"{s} is not authorized"), 403,
     403, "permission_error"),
    ("zai_anthropic", lambda s: AReply.error(400, f"invalid request from key {s}"), 400, 400,
     "invalid_request_error"),
    ("zai_anthropic", lambda s: AReply.error(500, f"internal error serving key {s}"), 500, 500,
     "server_error"),
    ("zai", lambda s: Reply.error(400, f"bad request, key {s}"), 400, 400,
     "invalid_request_error"),
    ("openai", lambda s: Reply.error(500, f"internal error for key {s}"), 500, 500, "server_error"),
    ("openai", lambda s: Reply.error(400, f"bad request, key {s}"), 400, 400,
     "invalid_request_error"),
]


@pytest.mark.parametrize("spec_id,reply,up_status,status,type_", MAPPING,
                         ids=[f"{m[0]}-{m[2]}-{i}" for i, m in enumerate(MAPPING)])
def test_upstream_error_mapped_to_openai_error(gw, wire_mocks, spec_id, reply, up_status, status,
                                               type_):
    spec = SPEC_BY_ID[spec_id]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, sec = add_provider(s, spec, m, "p-" + spec.id)
    s.model(pid, "err", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    m.set_default(reply(sec))
    r = gw.chat(text_request("err", tag("map", "err")), key=vk)
    e = assert_openai_error(r, status, type_=type_)
    assert not e["message"].startswith("{"), f"raw provider body used as the message: {e}"
    assert_no_secret(r, sec)
    assert vk.encode() not in r.body
    assert len(m.requests) == 1
    acc = access_for(gw, "p-" + spec.id)
    assert acc["statuses"] == str(up_status), acc


# an error inside a stream that quotes the key (some providers echo the credential they rejected)
LEAKY_STREAM = {
    "openai": lambda s: Reply.stream(["Hel", {"error": {"message": f"key {s} was revoked mid-way",
                                                       "type": "server_error", "param": None,
                                                       "code": None}}], done=False),
    "anthropic": lambda s: AReply.stream(CHUNKS, error_after=4, error_type="api_error",
                                         error_message=f"key {s} was revoked mid-way"),
    "zai_anthropic": lambda s: AReply.stream(CHUNKS, error_after=4, error_type="api_error",
                                             error_message=f"key {s} was revoked mid-way"),
    "gemini": lambda s: GeminiReply.mid_stream_error(["Hel"], code=500, status="INTERNAL",
                                                     message=f"key {s} was revoked mid-way"),
    "bedrock": lambda s: bedrock_answer(TEXT, chunks=CHUNKS, exception=(
        "internalServerException", f"key {s} was revoked mid-way", 2)),
}


@pytest.mark.parametrize("spec_id", list(LEAKY_STREAM))
def test_mid_stream_error_never_carries_the_secret(gw, wire_mocks, spec_id):
    spec = SPEC_BY_ID[spec_id]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, sec = add_provider(s, spec, m, "p-" + spec.id)   # zai: a key no heuristic recognises
    s.model(pid, "leak", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    m.set_default(LEAKY_STREAM[spec_id](sec))
    r = gw.chat(text_request("leak", tag("leak", "midstream"), stream=True), key=vk)
    assert r.status == 200, r.describe()
    ev = sse_events(r.body)
    errors = [e for e in ev if isinstance(e, dict) and "error" in e]
    assert errors or not r.complete, f"[{spec_id}] the failure must reach the client: {r.describe()}"
    assert "[DONE]" not in ev[-1:] or errors, f"[{spec_id}] {ev}"
    for e in errors:
        assert isinstance(e["error"], dict) and e["error"].get("message"), e
        assert "revoked mid-way" in e["error"]["message"], \
            f"[{spec_id}] the provider's message should be relayed (without the key): {e}"
    assert_no_secret(r, sec)
