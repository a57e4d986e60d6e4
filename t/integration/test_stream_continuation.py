"""Mid-stream continuation (docs/design.md §19, issue 11 item 3): a stream that fails after content
reached the client is finished by the next candidate, asked to continue the delivered text (Anthropic
prefill, DeepSeek prefix, instruction style elsewhere). Continuation is on by default. The client -- the official
openai SDK with maxRetries 0 -- sees one stream: one id, one role chunk, the canonical answer, a normal finish and
the usage of all attempts. Each test checks the continuation request the fallback received, the
attempt statuses and a bounded wall time."""

from __future__ import annotations

import json
import time

import subprocess

from helpers import Snapshot, chat_body, free_port, http_request
from mock_anthropic import AReply, MockAnthropic
from mock_provider import Reply, chunk_body
from test_status_metrics import PROMTOOL, parse_metrics, value
from test_stream_hold import SSE_HEAD, chunked, scripted_and_backup



CANONICAL = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog."]
ANSWER = "".join(CANONICAL)
DELIVERED = "".join(CANONICAL[:4])  # "The quick brown fox"


def cut_after_four() -> Reply:
    """Role chunk + the first 4 tokens, then the connection is cut."""
    return Reply.stream(CANONICAL, drop_after=5)


def gateway_with_fallbacks(gw, mocks, fallbacks: list, *, primary_reply: Reply | None = None, rules=None,
                           primary_cooldown: int = 30):
    """Provider "primary" (an OpenAI mock, tried first) and `fallbacks` in order: [(name, kind, mock,
    upstream_model)], each in a failover tier of its own (models.priority), so the order does not
    depend on the balancer's state. Returns (primary mock, snapshot, primary key, fallback keys,
    virtual key)."""
    primary = mocks.new("primary")
    s = Snapshot()
    pp = s.provider("primary", "openai", primary.base_url())
    kp = s.key(pp, weight=1000, label="P", cooldown_seconds=primary_cooldown)
    s.model(pp, "gpt-4o")
    keys = []
    weight = 100
    for tier, (name, kind, mock, upstream) in enumerate(fallbacks, start=1):
        base = mock.base_url() if kind != "anthropic" else mock.base_url(path="")
        p = s.provider(name, kind, base)
        keys.append(s.key(p, weight=weight, label=name))
        weight = max(1, weight // 10)
        s.model(p, "gpt-4o", upstream)
        s.models[-1]["priority"] = tier
    vk = s.vkey()
    doc = s.to_dict()
    if rules:
        doc["routing_rules"] = rules
    gw.push(doc)
    primary.set_default(primary_reply or cut_after_four(), key=kp)
    return primary, s, kp, keys, vk


def stream(sdk, gw, vk, model: str = "gpt-4o") -> tuple[dict, float]:
    t0 = time.monotonic()
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
               "request": chat_body(model, "Say the pangram", stream=True,
                                    stream_options={"include_usage": True})})
    return res, time.monotonic() - t0


def one_answer(res: dict, usage_chunks: int = 1) -> tuple[str, dict]:
    """The client's assembled text and (last) usage, checking it saw ONE stream: one id, created and
    model, one role chunk, one finish 'stop', `usage_chunks` usage chunks."""
    assert res.get("completed") and "error" not in res, res
    chunks = [c["chunk"] for c in res["chunks"]]
    assert len({c["id"] for c in chunks}) == 1, [c["id"] for c in chunks]
    assert len({c["created"] for c in chunks}) == 1
    assert len({c["model"] for c in chunks}) == 1
    roles = [c for c in chunks if c.get("choices") and "role" in c["choices"][0]["delta"]]
    assert len(roles) == 1, roles
    finishes = [c["choices"][0]["finish_reason"] for c in chunks
                if c.get("choices") and c["choices"][0].get("finish_reason")]
    assert finishes == ["stop"], finishes
    assert all(c["choices"][0]["index"] == 0 for c in chunks if c.get("choices"))
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
    usage = [c["usage"] for c in chunks if c.get("usage")]
    assert len(usage) == usage_chunks, usage
    return text, usage[-1]


def delivered_text(res: dict) -> str:
    return "".join((c["chunk"]["choices"][0]["delta"].get("content") or "") for c in res["chunks"]
                   if c["chunk"].get("choices"))


def test_cut_stream_continued_instruction_style_on_openai_wire(gw, mocks, sdk):
    b = mocks.new("backup")
    primary, s, kp, (kb,), vk = gateway_with_fallbacks(gw, mocks, [("backup", "openai", b, "gpt-4o")])
    # an instruction-style continuation repeats the last words: the overlap is removed
    b.set_default(Reply.stream([" brown fox", " jumps", " over", " the", " lazy", " dog."]), key=kb)
    res, took = stream(sdk, gw, vk)
    text, usage = one_answer(res)
    assert text == ANSWER, text
    assert usage["prompt_tokens"] == 11 and usage["completion_tokens"] == 6, usage  # the primary reported none
    sent = b.requests[-1].json["messages"]
    assert sent[-2] == {"role": "assistant", "content": DELIVERED}, sent
    assert sent[-1]["role"] == "user" and "Continue it exactly where it stopped" in sent[-1]["content"], sent
    assert sent[0] == {"role": "user", "content": "Say the pangram"}
    assert len(primary.requests) == 1 and len(b.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert gw.key_status(s.key_id(kp))["cooldown_remaining_ms"] > 0, "the key that cut its stream cools down"
    assert "failed mid-stream (cut)" in gw.error_log()
    assert took < 8, took


def test_cut_stream_continued_by_anthropic_prefill(gw, mocks, sdk):
    claude = MockAnthropic(name="claude").start()
    mocks.all.append(claude)
    primary, s, kp, (kc,), vk = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5")])
    claude.set_default(AReply.stream([" jumps", " over", " the", " lazy", " dog."],
                                     usage={"input_tokens": 20, "output_tokens": 5}), key=kc)
    res, took = stream(sdk, gw, vk)
    text, usage = one_answer(res)
    assert text == ANSWER, text
    assert usage["prompt_tokens"] == 20, usage
    sent = claude.requests[-1].json
    assert sent["messages"][-1] == {"role": "assistant", "content": DELIVERED}, sent["messages"]
    assert sent["model"] == "claude-sonnet-4-5" and sent["stream"] is True
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert took < 8, took


def test_prefill_whitespace_is_trimmed_and_not_repeated(gw, mocks, sdk):
    claude = MockAnthropic(name="claude").start()
    mocks.all.append(claude)
    # the primary's last token ends in a space: Anthropic refuses such a prefill (strict mock)
    tokens = ["The ", "quick ", "brown ", "fox ", "jumps"]
    primary, s, kp, (kc,), vk = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5")],
                                      primary_reply=Reply.stream(tokens, drop_after=5))
    claude.set_default(AReply.stream([" jumps", " over", " the", " lazy", " dog."]), key=kc)
    res, _ = stream(sdk, gw, vk)
    text, _ = one_answer(res)
    assert text == ANSWER, text
    assert claude.requests[-1].json["messages"][-1] == {"role": "assistant", "content": DELIVERED}


def test_cut_stream_continued_by_deepseek_prefix(gw, mocks, sdk):
    d = mocks.new("deepseek")
    primary, s, kp, (kd,), vk = gateway_with_fallbacks(gw, mocks, [("deepseek", "openai_compat", d, "deepseek-chat")])
    d.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."],
                               usage={"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35}), key=kd)
    res, took = stream(sdk, gw, vk)
    text, usage = one_answer(res)
    assert text == ANSWER, text
    assert usage["prompt_tokens"] == 30 and usage["completion_tokens"] == 5, usage
    sent = d.requests[-1].json
    assert sent["messages"][-1] == {"role": "assistant", "content": DELIVERED, "prefix": True}, sent["messages"]
    assert sent["model"] == "deepseek-chat"
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert took < 8, took


def test_usage_of_every_attempt_is_summed(gw, mocks, sdk):
    b = mocks.new("backup")
    # the primary reports its usage before it breaks (as vLLM's continuous usage does)
    rid, created = "chatcmpl-first", 1700000000
    first = [chunk_body(rid, created, "gpt-4o", {"role": "assistant", "content": ""}),
             *[chunk_body(rid, created, "gpt-4o", {"content": t}) for t in CANONICAL[:4]],
             chunk_body(rid, created, "gpt-4o", usage={"prompt_tokens": 9, "completion_tokens": 4,
                                                       "total_tokens": 13}, no_choices=True)]
    primary, s, kp, (kb,), vk = gateway_with_fallbacks(gw, mocks, [("backup", "openai", b, "gpt-4o")],
                                      primary_reply=Reply.stream(first, done=False, drop_after=len(first)))
    b.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."],
                               usage={"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}), key=kb)
    res, _ = stream(sdk, gw, vk)
    # the primary's own usage chunk went out before the break (it cannot be taken back); the last
    # usage chunk, after the finish, is the sum of both attempts
    text, usage = one_answer(res, usage_chunks=2)
    assert text == ANSWER, text
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (29, 9, 38), usage
    assert res["chunks"][0]["chunk"]["id"] == rid


def test_stall_mid_stream_is_continued(gw_factory, mocks, sdk):
    gw = gw_factory(location_extra="routeshift_stream_idle_timeout 500ms;")

    def stall(send):
        send(SSE_HEAD)
        rid, created = "chatcmpl-stall", int(time.time())
        send(chunked(b"data: " + json.dumps(chunk_body(rid, created, "gpt-4o",
                                                       {"role": "assistant", "content": ""})).encode() + b"\n\n"))
        for t in CANONICAL[:4]:
            send(chunked(b"data: " + json.dumps(chunk_body(rid, created, "gpt-4o", {"content": t})).encode() + b"\n\n"))
        time.sleep(4)

    stalled, b, s, ka, kb, vk = scripted_and_backup(gw, mocks, stall)
    try:
        b.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."]), key=kb)
        res, took = stream(sdk, gw, vk)
        text, _ = one_answer(res)
        assert text == ANSWER, text
        assert b.requests[-1].json["messages"][-2]["content"] == DELIVERED
        assert gw.wait_access(1)[-1]["statuses"] == "stall,continued"
        assert took < 3.5, f"the stall limit did not hand over: {took:.2f}s"
        assert gw.key_status(s.key_id(ka))["cooldown_remaining_ms"] > 0
    finally:
        stalled.stop()


def test_fallback_rejecting_prefill_is_skipped(gw, mocks, sdk):
    claude = MockAnthropic(name="claude").start()
    claude.rejects_prefill = True
    mocks.all.append(claude)
    b = mocks.new("backup")
    primary, s, kp, (kc, kb), vk = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5"),
                                                     ("backup", "openai", b, "gpt-4o")])
    b.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."]), key=kb)
    res, took = stream(sdk, gw, vk)
    text, _ = one_answer(res)  # the 400 never reaches the client
    assert text == ANSWER, text
    assert len(claude.requests) == 1 and claude.requests[-1].json["messages"][-1]["role"] == "assistant"
    assert b.requests[-1].json["messages"][-2] == {"role": "assistant", "content": DELIVERED}
    assert gw.wait_access(1)[-1]["statuses"] == "cut,400,continued"
    assert gw.key_status(s.key_id(kc))["cooldown_remaining_ms"] == 0, "a refused continuation parks no key"
    assert "did not continue the stream (HTTP 400" in gw.error_log()
    assert took < 8, took


def test_tool_arguments_cut_end_with_an_error_event(gw, mocks, sdk):
    b = mocks.new("backup")
    rid, created = "chatcmpl-tool", 1700000000
    tool = [chunk_body(rid, created, "gpt-4o", {"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function",
                 "function": {"name": "lookup", "arguments": ""}}]}),
            chunk_body(rid, created, "gpt-4o", {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Par"}}]})]
    primary, s, kp, (kb,), vk = gateway_with_fallbacks(gw, mocks, [("backup", "openai", b, "gpt-4o")],
                                      primary_reply=Reply.stream(tool, done=False, drop_after=2))
    res, took = stream(sdk, gw, vk)
    assert "error" in res and not res.get("completed"), res
    assert len(b.requests) == 0, "a cut tool call is not continued"
    assert gw.wait_access(1)[-1]["statuses"] == "cut"
    assert took < 8, took


def test_continuation_off_by_directive_keeps_the_error_event(gw_factory, mocks, sdk):
    gw = gw_factory(location_extra="routeshift_stream_continuation off;")
    b = mocks.new("backup")
    primary, s, kp, (kb,), vk = gateway_with_fallbacks(gw, mocks, [("backup", "openai", b, "gpt-4o")])
    res, _ = stream(sdk, gw, vk)
    assert "error" in res and not res.get("completed"), res
    assert delivered_text(res) == DELIVERED, res
    assert len(b.requests) == 0
    assert gw.wait_access(1)[-1]["statuses"] == "cut"


def test_continuation_off_by_rule_keeps_the_error_event(gw, mocks, sdk):
    b = mocks.new("backup")
    rules = [{"id": 5, "name": "no-continuation", "priority": 1, "match": {"model": "strict"},
              "action": {"route": {"model": "gpt-4o"}}, "stream_continuation": False}]
    primary, s, kp, (kb,), vk = gateway_with_fallbacks(gw, mocks, [("backup", "openai", b, "gpt-4o")], rules=rules,
                                                       primary_cooldown=1)
    b.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."]), key=kb)
    res, _ = stream(sdk, gw, vk, model="strict")
    assert "error" in res and not res.get("completed"), res
    assert delivered_text(res) == DELIVERED, res
    assert len(b.requests) == 0
    # the same break without the rule is continued (once the primary's cooldown is over)
    time.sleep(1.2)
    res, _ = stream(sdk, gw, vk)
    text, _ = one_answer(res)
    assert text == ANSWER
    assert [a["statuses"] for a in gw.wait_access(2)[-2:]] == ["cut", "cut,continued"]


def test_no_candidate_able_to_continue_ends_with_an_error_event(gw, mocks, sdk):
    claude = MockAnthropic(name="claude").start()
    claude.rejects_prefill = True
    mocks.all.append(claude)
    primary, s, kp, (kc,), vk = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5")])
    res, took = stream(sdk, gw, vk)
    assert "error" in res and not res.get("completed"), res
    assert delivered_text(res) == DELIVERED, res
    assert "no other candidate could continue" in (res["error"].get("message") or ""), res["error"]
    assert gw.wait_access(1)[-1]["statuses"] == "cut,400"
    assert took < 8, took


def test_continuations_are_counted_in_metrics(gw_factory, mocks, sdk):
    """routeshift_stream_continuations_total{outcome}: continued, rejected (a target refused the
    continuation request), impossible (a cut tool call), failed (no candidate finished it)."""
    port = free_port()
    gw = gw_factory(http_extra=f"server {{ listen 127.0.0.1:{port}; location = /metrics {{ routeshift_metrics; }} }}")

    def scrape() -> list:
        r = http_request(port, "GET", "/metrics")
        assert r.status == 200, r.describe()
        text = r.body.decode()
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
        assert check.returncode == 0, f"promtool: {check.stdout.decode()}{check.stderr.decode()}"
        return parse_metrics(text)

    def outcomes() -> dict:
        m = scrape()
        return {o: value(m, "routeshift_stream_continuations_total", outcome=o)
                for o in ("continued", "rejected", "impossible", "failed")}

    assert outcomes() == {"continued": 0, "rejected": 0, "impossible": 0, "failed": 0}
    claude = MockAnthropic(name="claude").start()
    claude.rejects_prefill = True
    mocks.all.append(claude)
    b = mocks.new("backup")
    primary, s, kp, (kc, kb), vk = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5"),
                                                                      ("backup", "openai", b, "gpt-4o")],
                                                          primary_cooldown=1)
    b.set_default(Reply.stream([" jumps", " over", " the", " lazy", " dog."]), key=kb)
    res, _ = stream(sdk, gw, vk)  # cut, refused by claude (rejected), finished by the backup (continued)
    assert one_answer(res)[0] == ANSWER
    time.sleep(1.2)  # the primary's cooldown ends: it is tried first again
    rid = "chatcmpl-tool"
    tool = [chunk_body(rid, 1700000000, "gpt-4o", {"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}]}),
            chunk_body(rid, 1700000000, "gpt-4o", {"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]})]
    primary.set_default(Reply.stream(tool, done=False, drop_after=2), key=kp)
    res, _ = stream(sdk, gw, vk)  # a cut tool call (impossible)
    assert "error" in res, res
    gw.wait_access(2)
    assert outcomes() == {"continued": 1, "rejected": 1, "impossible": 1, "failed": 0}

    time.sleep(1.2)  # the cut parked the primary's key for 1 s; the next snapshot reuses its key id
    primary2, s2, kp2, (kc2,), vk2 = gateway_with_fallbacks(gw, mocks, [("claude", "anthropic", claude, "claude-sonnet-4-5")])
    res, _ = stream(sdk, gw, vk2)  # refused again (rejected), nobody left (failed)
    assert "error" in res and not res.get("completed"), res
    gw.wait_access(3)
    assert outcomes() == {"continued": 1, "rejected": 2, "impossible": 1, "failed": 1}
