"""Mid-stream continuation for Anthropic Messages and Gemini native clients (docs/design.md §19):
a stream cut after content is finished by the next candidate, and the client's own SDK
(@anthropic-ai/sdk, both lines: messages.stream() + finalMessage(); @google/genai
generateContentStream) sees one message: the same id and model, the canonical text, one stop and the
usage of every attempt. Both directions: the client's own wire cut (its events relayed) and
continued on another wire, and another wire cut and continued on the client's own wire."""

from __future__ import annotations

import time

import pytest

from helpers import Snapshot, run_sdk
from mock_anthropic import AReply, MockAnthropic
from mock_gemini import GeminiReply, MockGemini
from mock_provider import Reply

CANONICAL = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog."]
ANSWER = "".join(CANONICAL)
DELIVERED = "".join(CANONICAL[:4])  # "The quick brown fox"
REST = [" jumps", " over", " the", " lazy", " dog."]
SDKS = ["1", "0"]


class Pair:
    """A primary provider (tried first) and a fallback in a failover tier of its own, both serving
    the public model "pangram"."""

    def __init__(self, gw, primary: tuple, fallback: tuple):
        self.gw = gw
        s = Snapshot()
        keys = []
        for tier, (name, kind, base, upstream) in enumerate((primary, fallback)):
            p = s.provider(name, kind, base)
            keys.append(s.key(p, weight=100, label=name))
            s.model(p, "pangram", upstream)
            s.models[-1]["priority"] = tier
        self.primary_key, self.fallback_key = keys
        self.snap = s
        self.vk = s.vkey()
        gw.push(s)

    def anthropic(self, sdk_line: str, mode: str = "final") -> tuple[dict, float]:
        t0 = time.monotonic()
        res = run_sdk({"baseURL": self.gw.base_url[: -len("/v1")], "apiKey": self.vk, "sdk": sdk_line, "mode": mode,
                       "request": {"model": "pangram", "max_tokens": 64,
                                   "messages": [{"role": "user", "content": "Say the pangram"}]}},
                      script="anthropic.mjs")
        return res, time.monotonic() - t0

    def gemini(self) -> tuple[dict, float]:
        t0 = time.monotonic()
        res = run_sdk({"baseUrl": self.gw.base_url[: -len("/v1")], "apiKey": self.vk, "mode": "stream",
                       "request": {"model": "pangram", "contents": [{"role": "user", "parts": [{"text": "Say the pangram"}]}]}},
                      script="gemini.mjs")
        return res, time.monotonic() - t0


@pytest.fixture
def claude(mocks):
    m = MockAnthropic(name="claude").start()
    mocks.all.append(m)
    return m


@pytest.fixture
def gemini(mocks):
    m = MockGemini(name="gem").start()
    mocks.all.append(m)
    return m


def instruction_turns(messages: list) -> None:
    """The fallback was asked to continue the delivered text, instruction style."""
    assert messages[-2] == {"role": "assistant", "content": DELIVERED}, messages
    assert messages[-1]["role"] == "user" and "Continue it exactly where it stopped" in messages[-1]["content"], messages


def one_anthropic_stream(events: list) -> str:
    """The raw events form one message: one message_start, blocks opened and closed in order, one
    message_delta, message_stop last. Returns the text."""
    types = [e["type"] for e in events]
    assert types.count("message_start") == 1 and types[0] == "message_start", types
    assert types.count("message_delta") == 1 and types[-1] == "message_stop", types
    open_block = None
    started = []
    for e in events:
        if e["type"] == "content_block_start":
            assert open_block is None, types
            assert e["index"] == len(started), (e, started)
            open_block = e["index"]
            started.append(e["index"])
        elif e["type"] == "content_block_delta":
            assert e["index"] == open_block, e
        elif e["type"] == "content_block_stop":
            assert e["index"] == open_block, e
            open_block = None
    assert open_block is None
    return "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")


@pytest.mark.parametrize("sdk_line", SDKS)
def test_anthropic_client_relayed_stream_cut_continued_on_openai_wire(gw, mocks, claude, sdk, sdk_line):
    backup = mocks.new("backup")
    pair = Pair(gw, ("claude", "anthropic", claude.base_url(), "claude-sonnet-4-5"),
                ("backup", "openai", backup.base_url(), "gpt-4o"))
    # message_start, ping, the text block's start and 4 deltas, then the connection is cut; the
    # primary's message_start reported 11 input tokens and 1 output token
    claude.set_default(AReply.stream(CANONICAL, drop_after=7), key=pair.primary_key)
    # an instruction-style continuation repeats the last words: the overlap is removed
    backup.set_default(Reply.stream([" brown fox", *REST], usage={"prompt_tokens": 20, "completion_tokens": 6,
                                                                  "total_tokens": 26}), key=pair.fallback_key)
    res, took = pair.anthropic(sdk_line)
    assert "error" not in res, res
    msg = res["message"]
    assert res["text"] == ANSWER, res
    assert msg["content"] == [{"type": "text", "text": ANSWER}], msg
    assert msg["stop_reason"] == "end_turn", msg
    assert msg["id"].startswith("msg_mock") and msg["model"] == "claude-sonnet-4-5", msg  # the relayed message's
    assert (msg["usage"]["input_tokens"], msg["usage"]["output_tokens"]) == (31, 7), msg["usage"]  # both attempts
    sent = backup.requests[-1].json
    instruction_turns(sent["messages"])
    assert sent["messages"][0] == {"role": "user", "content": "Say the pangram"}, sent
    assert sent["model"] == "gpt-4o" and sent["stream"] is True
    assert len(claude.requests) == 1 and len(backup.requests) == 1
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert "failed mid-stream (cut)" in gw.error_log()
    assert took < 10, took


def test_anthropic_client_raw_events_form_one_message(gw, mocks, claude, sdk):
    backup = mocks.new("backup")
    pair = Pair(gw, ("claude", "anthropic", claude.base_url(), "claude-sonnet-4-5"),
                ("backup", "openai", backup.base_url(), "gpt-4o"))
    claude.set_default(AReply.stream(CANONICAL, drop_after=7, drop_mid_event=True), key=pair.primary_key)
    backup.set_default(Reply.stream(REST), key=pair.fallback_key)
    res, _ = pair.anthropic("1", mode="stream")
    assert res.get("completed") and "error" not in res, res
    assert one_anthropic_stream(res["events"]) == ANSWER
    # the text block stayed open across the cut: one block, index 0
    assert [e["index"] for e in res["events"] if e["type"] == "content_block_start"] == [0]
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"


@pytest.mark.parametrize("sdk_line", SDKS)
def test_anthropic_client_openai_wire_cut_continued_by_anthropic_prefill(gw, mocks, claude, sdk, sdk_line):
    primary = mocks.new("primary")
    pair = Pair(gw, ("primary", "openai", primary.base_url(), "gpt-4o"),
                ("claude", "anthropic", claude.base_url(), "claude-sonnet-4-5"))
    primary.set_default(Reply.stream(CANONICAL, drop_after=5), key=pair.primary_key)  # role chunk + 4 tokens
    claude.set_default(AReply.stream(REST, usage={"input_tokens": 20, "output_tokens": 5}), key=pair.fallback_key)
    res, took = pair.anthropic(sdk_line)
    assert "error" not in res, res
    msg = res["message"]
    assert res["text"] == ANSWER and msg["content"] == [{"type": "text", "text": ANSWER}], msg
    assert msg["stop_reason"] == "end_turn"
    assert msg["model"] == "gpt-4o", msg  # what the client was told first
    assert msg["usage"]["input_tokens"] == 20 and msg["usage"]["output_tokens"] == 5, msg["usage"]  # the primary reported none
    sent = claude.requests[-1].json
    assert sent["messages"][-1] == {"role": "assistant", "content": DELIVERED}, sent["messages"]
    assert sent["messages"][0] == {"role": "user", "content": "Say the pangram"}
    assert sent["model"] == "claude-sonnet-4-5" and sent["stream"] is True
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert took < 10, took


def test_anthropic_client_cut_tool_use_ends_with_an_error_event(gw, mocks, claude, sdk):
    backup = mocks.new("backup")
    pair = Pair(gw, ("claude", "anthropic", claude.base_url(), "claude-sonnet-4-5"),
                ("backup", "openai", backup.base_url(), "gpt-4o"))
    # text, then a tool_use block whose input is cut after its first pieces
    claude.set_default(AReply.stream(["Let me look"], tool_calls=[{"name": "lookup", "input": {"city": "Paris, France"}}],
                                     fragment=4, drop_after=10), key=pair.primary_key)
    res, took = pair.anthropic("1", mode="stream")
    assert "error" in res and not res.get("completed"), res
    types = [e["type"] for e in res.get("events", [])]
    assert "message_stop" not in types and "message_delta" not in types, types
    assert len(backup.requests) == 0, "a cut tool_use block is not continued"
    assert gw.wait_access(1)[-1]["statuses"] == "cut"
    assert took < 10, took


def test_anthropic_client_no_candidate_able_ends_with_an_error_event(gw, mocks, claude, sdk):
    backup = MockAnthropic(name="noprefill").start()
    backup.rejects_prefill = True
    mocks.all.append(backup)
    pair = Pair(gw, ("claude", "anthropic", claude.base_url(), "claude-sonnet-4-5"),
                ("noprefill", "anthropic", backup.base_url(), "claude-haiku-4-5"))
    claude.set_default(AReply.stream(CANONICAL, drop_after=7), key=pair.primary_key)
    res, took = pair.anthropic("1", mode="stream")
    assert "error" in res and not res.get("completed"), res
    text = "".join(e["delta"].get("text", "") for e in res.get("events", []) if e["type"] == "content_block_delta")
    assert text == DELIVERED, res
    assert "message_stop" not in [e["type"] for e in res.get("events", [])]
    assert len(backup.requests) == 1 and backup.requests[-1].json["messages"][-1]["role"] == "assistant"
    assert gw.wait_access(1)[-1]["statuses"] == "cut,400"
    assert took < 10, took


def gemini_text_and_identity(res: dict) -> tuple[str, dict]:
    """One stream: the same responseId and modelVersion on every chunk, one finishReason (STOP) on
    the last chunk, which carries the usage. Returns (text, usageMetadata)."""
    assert res.get("completed") and "error" not in res, res
    chunks = res["chunks"]
    assert len({c.get("responseId") for c in chunks}) == 1, [c.get("responseId") for c in chunks]
    assert len({c.get("modelVersion") for c in chunks}) == 1, [c.get("modelVersion") for c in chunks]
    finishes = [cand.get("finishReason") for c in chunks for cand in c.get("candidates", []) if cand.get("finishReason")]
    assert finishes == ["STOP"], finishes
    assert chunks[-1]["candidates"][0].get("finishReason") == "STOP"
    return res["text"], chunks[-1]["usageMetadata"]


def test_gemini_client_relayed_stream_cut_continued_on_openai_wire(gw, mocks, gemini, sdk):
    backup = mocks.new("backup")
    pair = Pair(gw, ("google", "gemini", gemini.base_url(path=""), "gemini-2.5-flash"),
                ("backup", "openai", backup.base_url(), "gpt-4o"))
    # 4 chunks (their usage: 11 prompt, 4 candidates tokens), then the connection is cut
    gemini.set_default(GeminiReply.text(chunks=CANONICAL, drop_after=4), key=pair.primary_key)
    backup.set_default(Reply.stream([" brown fox", *REST], usage={"prompt_tokens": 20, "completion_tokens": 6,
                                                                  "total_tokens": 26}), key=pair.fallback_key)
    res, took = pair.gemini()
    text, usage = gemini_text_and_identity(res)
    assert text == ANSWER, res
    assert res["chunks"][0]["responseId"].startswith("mockresp"), res["chunks"][0]  # the relayed answer's
    assert usage["promptTokenCount"] == 31 and usage["candidatesTokenCount"] == 10, usage
    instruction_turns(backup.requests[-1].json["messages"])
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert took < 10, took


def test_gemini_client_openai_wire_cut_continued_on_gemini_wire(gw, mocks, gemini, sdk):
    primary = mocks.new("primary")
    pair = Pair(gw, ("primary", "openai", primary.base_url(), "gpt-4o"),
                ("google", "gemini", gemini.base_url(path=""), "gemini-2.5-flash"))
    primary.set_default(Reply.stream(CANONICAL, drop_after=5), key=pair.primary_key)
    gemini.set_default(GeminiReply.text(chunks=REST, prompt_tokens=20), key=pair.fallback_key)
    res, took = pair.gemini()
    text, usage = gemini_text_and_identity(res)
    assert text == ANSWER, res
    assert usage["promptTokenCount"] == 20 and usage["candidatesTokenCount"] == 5, usage
    contents = gemini.requests[-1].json["contents"]
    assert contents[-2] == {"role": "model", "parts": [{"text": DELIVERED}]}, contents
    assert contents[-1]["role"] == "user" and "Continue it exactly" in contents[-1]["parts"][0]["text"], contents
    assert gw.wait_access(1)[-1]["statuses"] == "cut,continued"
    assert took < 10, took
