"""Error classes and the context-length fallback (docs/design.md §20, issue 11 item 5).

A context-length error goes to the configured larger-context model (models row or route rule, the
rule's wins) with no cooldown for the key that answered it; without one it reaches the client with
the provider's status and reason and code context_length_exceeded in the client's dialect. A
content-policy or invalid request is not retried on the same model and keeps the provider's
reason. Every test asserts what the client received, how many attempts each mock saw, the attempt
statuses and a bounded wall time."""

from __future__ import annotations

import time

from helpers import Snapshot, assert_openai_error, chat_body, free_port, http_request, run_sdk
from mock_anthropic import AReply
from mock_bedrock import bedrock_answer, bedrock_error
from mock_provider import Reply
from provider_matrix import SPEC_BY_ID, add_provider, run_sdk_batch
from provider_matrix import wire_mocks  # noqa: F401  (fixture)

OPENAI_CONTEXT = ("This model's maximum context length is 8192 tokens. However, your messages "
                  "resulted in 9100 tokens. Please reduce the length of the messages.")
ANTHROPIC_CONTEXT = "prompt is too long: 210000 tokens > 200000 maximum"


def context_error_openai(code: str | None = "context_length_exceeded") -> Reply:
    return Reply.error(400, OPENAI_CONTEXT, type_="invalid_request_error", code=code, param="messages")


def anthropic_client(gw, vk: str) -> dict:
    """One Messages request for model "claude" through @anthropic-ai/sdk (the Anthropic dialect)."""
    return run_sdk({"baseURL": gw.base_url.removesuffix("/v1"), "apiKey": vk, "mode": "plain",
                    "request": {"model": "claude", "max_tokens": 64,
                                "messages": [{"role": "user", "content": "long prompt"}]}},
                   script="anthropic.mjs")


def small_and_long(gw, mocks, *, budget: int | None = 1, fallback: str | None = "long"):
    """"small" on mock A (two keys), "long" on mock B: (a, b, s, ka1, ka2, kb, vk)."""
    a, b = mocks.new("a"), mocks.new("b")
    s = Snapshot(retry_budget=budget)
    pa = s.provider("short-ctx", "openai", a.base_url())
    pb = s.provider("long-ctx", "openai", b.base_url())
    ka1 = s.key(pa, weight=1000, label="A1")
    ka2 = s.key(pa, weight=1, label="A2")
    kb = s.key(pb, label="B")
    s.model(pa, "small", "small-8k")
    if fallback:
        s.models[-1]["context_fallback_model"] = fallback
    s.model(pb, "long", "long-1m")
    vk = s.vkey()
    return a, b, s, ka1, ka2, kb, vk


def test_context_error_goes_to_the_fallback_model(gw, mocks, sdk):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=1)
    gw.push(s)
    a.enqueue(context_error_openai())
    b.enqueue(Reply.completion("answered by the long model"))
    t0 = time.monotonic()
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain", "request": chat_body("small")})
    took = time.monotonic() - t0
    assert "error" not in res, res
    assert res["completion"]["choices"][0]["message"]["content"] == "answered by the long model"
    assert res["headers"]["x-routeshift-resolved-model"] == "long-1m", res["headers"]
    assert res["headers"]["x-routeshift-attempts"] == "2", res["headers"]
    # one attempt on the short model (its other key would answer the same), one on the fallback,
    # although the retry budget is 1: the fallback is another model, not a retry
    assert len(a.requests) == 1 and len(b.requests) == 1, (len(a.requests), len(b.requests))
    assert b.requests[0].json["model"] == "long-1m"
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "context,200", e
    # the key that answered the context error was right: no cooldown
    assert gw.key_status(s.key_id(ka1))["cooldown_remaining_ms"] == 0
    assert took < 20, took


def test_stream_goes_to_the_fallback_model(gw, mocks, sdk):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=3)
    gw.push(s)
    a.enqueue(context_error_openai())
    b.enqueue(Reply.stream(["long ", "answer"]))
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body("small", stream=True)})
    assert res.get("completed"), res
    text = "".join((c["chunk"]["choices"][0]["delta"].get("content") or "")
                   for c in res["chunks"] if c["chunk"].get("choices"))
    assert text == "long answer", res
    assert len(a.requests) == 1 and len(b.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "context,200"


def test_without_fallback_the_client_gets_context_length_exceeded(gw, mocks):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=3, fallback=None)
    gw.push(s)
    # vLLM's flat error shape: the client still gets code context_length_exceeded and the message
    a.enqueue(Reply.json({"object": "error", "message": OPENAI_CONTEXT, "type": "BadRequestError",
                          "param": None, "code": 400}, status=400))
    t0 = time.monotonic()
    r = gw.chat(chat_body("small"), key=vk)
    e = assert_openai_error(r, 400, code="context_length_exceeded")
    assert "maximum context length is 8192 tokens" in e["message"], e
    assert len(a.requests) == 1 and len(b.requests) == 0  # never the same model's other key
    assert gw.wait_access(1)[-1]["statuses"] == "context"
    assert gw.key_status(s.key_id(ka1))["cooldown_remaining_ms"] == 0
    assert time.monotonic() - t0 < 10


def test_fallback_failing_with_context_too_is_relayed(gw, mocks):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=3)
    gw.push(s)
    a.enqueue(context_error_openai())
    b.enqueue(context_error_openai())
    r = gw.chat(chat_body("small"), key=vk)
    assert_openai_error(r, 400, code="context_length_exceeded")
    assert len(a.requests) == 1 and len(b.requests) == 1  # one switch, never back
    assert gw.wait_access(1)[-1]["statuses"] == "context,context"


def test_fallback_retries_its_own_failures_on_its_keys(gw, mocks):
    """The fallback gets the retry budget of its own (here 2: a 429 on its first key, then its
    second key), whatever the request's own attempts used."""
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=2)
    kb2 = s.key(s.providers[1]["id"], label="B2")
    gw.push(s)
    a.enqueue(context_error_openai())
    b.enqueue(Reply.error(429, "slow down", headers={"Retry-After": "5"}))
    b.enqueue(Reply.completion("second key of the fallback"))
    r = gw.chat(chat_body("small"), key=vk)
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == "second key of the fallback"
    assert len(a.requests) == 1 and len(b.requests) == 2
    assert gw.wait_access(1)[-1]["statuses"] == "context,429,200"
    assert {q.auth_secret() for q in b.requests} == {kb, kb2}


def test_rule_fallback_wins_over_the_models_row(gw, mocks):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=2)
    c = mocks.new("c")
    pc = s.provider("huge-ctx", "openai", c.base_url())
    s.key(pc, label="C")
    s.model(pc, "huge", "huge-2m")
    s.alias("bigger", "huge")
    snap = s.to_dict()
    snap["routing_rules"] = [{"id": 41, "priority": 1, "match": {"model": "routed"},
                              "action": {"route": {"models": ["small"]}},
                              "context_fallback_model": "bigger"}]
    s.alias("routed", "small")
    snap["model_aliases"] = s.model_aliases
    gw.push(snap)
    a.enqueue(context_error_openai())
    c.enqueue(Reply.completion("from the rule's fallback"))
    r = gw.chat(chat_body("routed"), key=vk)
    assert r.status == 200, r.describe()
    assert r.json["choices"][0]["message"]["content"] == "from the rule's fallback"
    assert r.header("x-routeshift-resolved-model") == "huge-2m"
    assert len(a.requests) == 1 and len(b.requests) == 0 and len(c.requests) == 1


def test_snapshot_rejects_a_fallback_on_a_non_route_rule(gw, mocks):
    a, b, s, *_ = small_and_long(gw, mocks)
    snap = s.to_dict()
    snap["routing_rules"] = [{"id": 42, "action": {"block": {"status": 403}}, "context_fallback_model": "long"}]
    r = gw.push(snap, expect=400)
    assert "context_fallback_model" in r.body.decode() and "route rules" in r.body.decode(), r.describe()


def test_content_policy_is_not_retried_and_keeps_the_reason(gw, mocks):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=3)
    gw.push(s)
    # Azure's content filter: its own code is the provider's reason
    a.enqueue(Reply.json({"error": {"code": "content_filter", "status": 400, "param": "prompt",
                                    "message": "The response was filtered due to the prompt triggering "
                                               "Azure OpenAI's content management policy.",
                                    "innererror": {"code": "ResponsibleAIPolicyViolation"}}}, status=400))
    r = gw.chat(chat_body("small"), key=vk)
    e = assert_openai_error(r, 400, code="content_filter")
    assert "content management policy" in e["message"]
    assert len(a.requests) == 1 and len(b.requests) == 0
    assert gw.wait_access(1)[-1]["statuses"] == "policy"
    assert gw.key_status(s.key_id(ka1))["cooldown_remaining_ms"] == 0
    # OpenAI's own code
    a.enqueue(Reply.error(400, "Your request was rejected as a result of our safety system.",
                          code="content_policy_violation"))
    r = gw.chat(chat_body("small"), key=vk)
    assert_openai_error(r, 400, code="content_policy_violation")
    assert len(a.requests) == 2


def test_invalid_request_is_not_retried_and_parks_nothing(gw, mocks):
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=3)
    gw.push(s)
    a.enqueue(Reply.error(422, "Invalid value for 'temperature': 3.", code="invalid_value", param="temperature"))
    r = gw.chat(chat_body("small"), key=vk)
    e = assert_openai_error(r, 422, code="invalid_value", param="temperature")
    assert "temperature" in e["message"]
    assert len(a.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "422"
    assert gw.key_status(s.key_id(ka1))["cooldown_remaining_ms"] == 0


def test_anthropic_context_error_falls_back_to_bedrock_for_an_anthropic_client(gw, wire_mocks):
    """Anthropic wire ("prompt is too long") → Bedrock fallback; the client speaks Anthropic."""
    am, bm = wire_mocks("anthropic"), wire_mocks("bedrock")
    sa, sb = SPEC_BY_ID["anthropic"], SPEC_BY_ID["bedrock"]
    s = Snapshot(retry_budget=1)
    pa, ka = add_provider(s, sa, am, "claude")
    pb, kb = add_provider(s, sb, bm, "bedrock")
    s.model(pa, "claude", sa.upstream_model)
    s.models[-1]["context_fallback_model"] = "bedrock/claude-long"
    s.model(pb, "claude-long", sb.upstream_model)
    vk = s.vkey()
    gw.push(s)
    am.enqueue(AReply.error(400, ANTHROPIC_CONTEXT))
    bm.enqueue(bedrock_answer("the long answer"))
    res = anthropic_client(gw, vk)
    assert "error" not in res, res
    assert [b.get("text") for b in res["message"]["content"]] == ["the long answer"], res
    assert len(am.requests) == 1 and len(bm.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "context,200"


def test_anthropic_context_error_without_fallback_in_the_anthropic_dialect(gw, wire_mocks):
    am = wire_mocks("anthropic")
    sa = SPEC_BY_ID["anthropic"]
    s = Snapshot(retry_budget=3)
    pa, ka = add_provider(s, sa, am, "claude")
    s.model(pa, "claude", sa.upstream_model)
    vk = s.vkey()
    gw.push(s)
    am.enqueue(AReply.error(400, ANTHROPIC_CONTEXT))
    res = anthropic_client(gw, vk)
    err = res.get("error")
    assert err and err["status"] == 400 and err["type"] == "invalid_request_error", res
    assert "prompt is too long" in err["message"], res
    assert len(am.requests) == 1


def test_bedrock_context_error_falls_back_for_an_openai_client(gw, wire_mocks, sdk):
    bm, om = wire_mocks("bedrock"), wire_mocks("openai")
    sb, so = SPEC_BY_ID["bedrock"], SPEC_BY_ID["openai"]
    s = Snapshot(retry_budget=1)
    pb, kb = add_provider(s, sb, bm, "bedrock")
    po, ko = add_provider(s, so, om, "gpt")
    s.model(pb, "haiku", sb.upstream_model)
    s.models[-1]["context_fallback_model"] = "gpt-long"
    s.model(po, "gpt-long", so.upstream_model)
    vk = s.vkey()
    gw.push(s)
    bm.enqueue(bedrock_error(400, "ValidationException", "Input is too long for requested model."))
    om.enqueue(Reply.completion("from the OpenAI fallback"))
    (res,) = run_sdk_batch([{"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                             "request": chat_body("haiku"), "timeoutMs": 15000}])
    assert "error" not in res, res
    assert res["completion"]["choices"][0]["message"]["content"] == "from the OpenAI fallback"
    assert len(bm.requests) == 1 and len(om.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "context,200"


def test_metrics_count_classes_and_fallbacks(gw_factory, mocks):
    port = free_port()
    gw = gw_factory(http_extra=f"server {{ listen 127.0.0.1:{port}; "
                               f"location = /metrics {{ routeshift_metrics; }} }}")
    a, b, s, ka1, ka2, kb, vk = small_and_long(gw, mocks, budget=2)
    gw.push(s)
    a.enqueue(context_error_openai())
    assert gw.chat(chat_body("small"), key=vk).status == 200
    a.enqueue(Reply.error(400, "rejected by the safety system", code="content_policy_violation"))
    assert gw.chat(chat_body("small"), key=vk).status == 400
    text = http_request(port, "GET", "/metrics").body.decode()
    kid = s.key_id(ka1)

    def value(family: str, extra: str = "") -> float:
        for line in text.splitlines():
            if line.startswith(family + "{") and f'key_id="{kid}"' in line and extra in line:
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{family}{{{extra}}} of key {kid} missing:\n{text}")

    assert value("routeshift_attempt_request_errors_total", 'class="context_length"') == 1
    assert value("routeshift_attempt_request_errors_total", 'class="content_policy"') == 1
    assert value("routeshift_attempt_request_errors_total", 'class="invalid_request"') == 0
    assert value("routeshift_context_fallbacks_total") == 1
