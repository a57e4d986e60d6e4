"""The fault matrix of issue 11 (Tests) on the Anthropic and Bedrock wires: a faulty primary
provider (weight 1000, tried first) and a healthy backup of the same wire, driven through the
official SDKs (openai with maxRetries 0; @anthropic-ai/sdk's stream helper for the Anthropic
dialect). Each test asserts what the client received (the canonical answer, or an explicit error —
never a truncated success), how many attempts each mock saw (and when, where it matters), the
attempt statuses and a bounded wall time. Cuts after the first content are the continuation's
(not here). The OpenAI wire's matrix is in test_failover.py, test_stream_hold.py and
test_response_session.py; context length and content policy on every wire also in
test_error_class_fallbacks.py."""

from __future__ import annotations

import time

import pytest

from helpers import Snapshot, chat_body, run_sdk
from mock_anthropic import AReply
from mock_bedrock import bedrock_answer, bedrock_error, bedrock_throttling, bedrock_unavailable
from mock_provider import Reply
from provider_matrix import SPEC_BY_ID, add_provider
from provider_matrix import wire_mocks  # noqa: F401  (fixture)

WIRES = ["anthropic", "bedrock"]
CANONICAL = "The quick brown fox jumps over the lazy dog."
WORDS = [w + " " for w in CANONICAL.split(" ")]
WORDS[-1] = WORDS[-1][:-1]


# An Anthropic stream's first event (no content yet).
MESSAGE_START = ("message_start", {"type": "message_start", "message": {
    "id": "msg_fault", "type": "message", "role": "assistant", "model": "m", "content": [],
    "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}})


# ---- replies per wire ----------------------------------------------------------------------------

def answer(wire: str, **kw):
    """The canonical answer (JSON or stream, whichever the request asks for)."""
    if wire == "anthropic":
        return AReply.auto(CANONICAL, **kw)
    return bedrock_answer(CANONICAL, chunks=WORDS, **kw)


def stream_reply(wire: str, **kw):
    if wire == "anthropic":
        return AReply.stream(WORDS, **kw)
    return bedrock_answer(CANONICAL, chunks=WORDS, **kw)


def rate_limited(wire: str, retry_after: int):
    if wire == "anthropic":
        return AReply.rate_limited(retry_after=retry_after)
    return bedrock_throttling(headers={"Retry-After": str(retry_after)})


def server_error(wire: str, status: int):
    if wire == "anthropic":
        return AReply.error(status, "Internal server error", type_="api_error")
    return bedrock_unavailable() if status == 503 else bedrock_error(500, "InternalServerException", "internal error")


def context_error(wire: str):
    if wire == "anthropic":
        return AReply.error(400, "prompt is too long: 210000 tokens > 200000 maximum")
    return bedrock_error(400, "ValidationException", "Input is too long for requested model.")


def content_filtered(wire: str):
    """A prompt the provider's safety system refused, as the real APIs answer it: a 200 with
    stop_reason refusal (Anthropic) / guardrail_intervened (Bedrock)."""
    if wire == "anthropic":
        return AReply.auto("I can't help with that.", stop_reason="refusal")
    return bedrock_answer("Sorry, the model cannot answer this question.", stop_reason="guardrail_intervened")


def drop(wire: str):
    """Reads the request, then resets the connection before any header."""
    return Reply.drop(rst=True)


def silent(wire: str, seconds: float):
    """Accepts the request and answers nothing for `seconds`."""
    if wire == "anthropic":
        return AReply.message(CANONICAL, delay=seconds)
    return bedrock_answer(CANONICAL, header_delay=seconds)


# ---- the world -----------------------------------------------------------------------------------

class World:
    def __init__(self, gw, wire_mocks, wire: str, *, primary_cooldown: int = 30, budget: int = 3,
                 fallback_model: bool = False):
        self.gw, self.wire = gw, wire
        self.spec = SPEC_BY_ID[wire]
        self.a = wire_mocks(wire, "primary")
        self.b = wire_mocks(wire, "backup")
        s = Snapshot(retry_budget=budget)
        self.pa, self.ka = add_provider(s, self.spec, self.a, "primary", weight=1000,
                                        cooldown_seconds=primary_cooldown, label="A")
        self.pb, self.kb = add_provider(s, self.spec, self.b, "backup", weight=1, label="B")
        s.model(self.pa, "m", self.spec.upstream_model)
        s.model(self.pb, "m", self.spec.upstream_model)
        if fallback_model:
            s.models[0]["context_fallback_model"] = "backup/long"
            s.models[1]["context_fallback_model"] = "backup/long"
            s.model(self.pb, "long", self.spec.upstream_model + "-long")
        self.snap = s
        self.vk = s.vkey()
        gw.push(s)

    def primary(self, reply) -> None:
        self.a.enqueue(reply)

    def primary_default(self, reply) -> None:
        self.a.set_default(reply)

    def sdk(self, mode: str) -> tuple[dict, float]:
        """One request through the official SDK of the wire's dialect... of the client: openai for
        both wires (the gateway's OpenAI dialect); `anthropic-final` uses @anthropic-ai/sdk's
        messages.stream() helper (finalMessage)."""
        t0 = time.monotonic()
        if mode == "anthropic-final":
            res = run_sdk({"baseURL": self.gw.base_url[:-len("/v1")], "apiKey": self.vk, "mode": "final",
                           "request": {"model": "m", "max_tokens": 64,
                                       "messages": [{"role": "user", "content": "Say the sentence"}]},
                           "timeoutMs": 30000}, script="anthropic.mjs")
        else:
            res = run_sdk({"baseURL": self.gw.base_url, "apiKey": self.vk, "mode": mode,
                           "request": chat_body("m", stream=mode == "stream"), "timeoutMs": 30000})
        return res, time.monotonic() - t0

    def statuses(self) -> str:
        return self.gw.wait_access(1)[-1]["statuses"]

    def key_cooldown_ms(self, secret: str) -> int:
        return self.gw.key_status(self.snap.key_id(secret))["cooldown_remaining_ms"]


def received_text(res: dict, mode: str) -> str:
    assert "error" not in res, res
    if mode == "plain":
        return res["completion"]["choices"][0]["message"]["content"]
    if mode == "anthropic-final":
        return res["text"]
    assert res.get("completed"), res
    return "".join((c["chunk"]["choices"][0]["delta"].get("content") or "")
                   for c in res["chunks"] if c["chunk"].get("choices"))


MODES = ["plain", "stream", "anthropic-final"]


def served_by_backup(w: World, res: dict, mode: str, statuses: str, took: float, limit: float,
                     failover_within: float = 0.0) -> None:
    """The canonical answer from the backup after one attempt on the primary. `limit` bounds the
    client's wall time (SDK start-up included); `failover_within` (when given) bounds the time
    from the primary's request to the backup's, as the providers saw it."""
    assert received_text(res, mode) == CANONICAL, res
    assert len(w.a.requests) == 1, f"primary saw {len(w.a.requests)} attempts"
    assert len(w.b.requests) == 1, f"backup saw {len(w.b.requests)} attempts"
    assert w.statuses() in (statuses if isinstance(statuses, tuple) else (statuses,))
    assert took < limit, took
    if failover_within:
        gap = w.b.requests[0].time - w.a.requests[0].time
        assert gap < failover_within, f"backup asked {gap:.2f} s after the primary"


# ---- the matrix ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wire", WIRES)
def test_429_with_retry_after(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire)
    w.primary(rate_limited(wire, 7))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    served_by_backup(w, res, mode, "429,200", took, 20)
    # parked for what Retry-After said (7 s from the 429), not the key's 30 s
    since_429_ms = (time.monotonic() - w.a.requests[0].time) * 1000
    assert 7000 - since_429_ms - 1000 < w.key_cooldown_ms(w.ka) <= 7000


@pytest.mark.parametrize("wire", WIRES)
def test_persistent_429_parks_the_key(gw, wire_mocks, wire):
    w = World(gw, wire_mocks, wire)
    w.primary_default(rate_limited(wire, 30))
    w.b.set_default(answer(wire))
    t0 = time.monotonic()
    for _ in range(3):
        res, _ = w.sdk("plain")
        assert received_text(res, "plain") == CANONICAL
    assert len(w.a.requests) == 1, "a parked key was tried again"
    assert len(w.b.requests) == 3
    assert [e["statuses"] for e in w.gw.wait_access(3)[-3:]] == ["429,200", "200", "200"]
    assert time.monotonic() - t0 < 40


@pytest.mark.parametrize("mode", ["plain", "stream"])
@pytest.mark.parametrize("wire", WIRES)
def test_500_once(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire)
    w.primary(server_error(wire, 500))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    served_by_backup(w, res, mode, "500,200", took, 20)


@pytest.mark.parametrize("wire", WIRES)
def test_persistent_503_exhausts_to_an_explicit_error(gw, wire_mocks, wire):
    """Both providers down: the client gets an explicit 503, each key tried once."""
    w = World(gw, wire_mocks, wire)
    w.primary_default(server_error(wire, 503))
    w.b.set_default(server_error(wire, 503))
    res, took = w.sdk("plain")
    err = res.get("error")
    assert err and err["status"] == 503, res
    assert len(w.a.requests) == 1 and len(w.b.requests) == 1
    assert w.statuses() == "503,503"
    assert took < 20


@pytest.mark.parametrize("mode", ["plain", "stream"])
@pytest.mark.parametrize("wire", WIRES)
def test_connection_reset_before_headers(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire)
    w.primary(drop(wire))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    served_by_backup(w, res, mode, "502,200", took, 20)


@pytest.mark.parametrize("wire", WIRES)
def test_accept_and_never_answer(gw_factory, wire_mocks, wire):
    gw = gw_factory(location_extra="routeshift_read_timeout 1s;")
    w = World(gw, wire_mocks, wire)
    w.primary(silent(wire, 8))
    w.b.set_default(answer(wire))
    res, took = w.sdk("plain")
    served_by_backup(w, res, "plain", "504,200", took, 15, failover_within=3.5)
    assert w.b.requests[0].time - w.a.requests[0].time >= 0.9  # the read timeout, not sooner


@pytest.mark.parametrize("mode", ["stream", "anthropic-final"])
@pytest.mark.parametrize("wire", WIRES)
def test_slow_first_token(gw_factory, wire_mocks, wire, mode):
    gw = gw_factory(location_extra="routeshift_first_token_timeout 800ms;")
    w = World(gw, wire_mocks, wire)
    w.primary(stream_reply(wire, first_delay=5))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    served_by_backup(w, res, mode, "ttft,200", took, 15, failover_within=3.5)


@pytest.mark.parametrize("wire", WIRES)
def test_stall_before_first_content(gw_factory, wire_mocks, wire):
    """The stream starts (message_start / messageStart) and then stalls before any content."""
    gw = gw_factory(location_extra="routeshift_first_token_timeout 800ms; routeshift_stream_idle_timeout 800ms;")
    w = World(gw, wire_mocks, wire)
    w.primary(stream_reply(wire, delay=4))
    w.b.set_default(answer(wire))
    res, took = w.sdk("stream")
    served_by_backup(w, res, "stream", "ttft,200", took, 15, failover_within=3.5)


@pytest.mark.parametrize("wire", WIRES)
def test_malformed_event_before_content(gw, wire_mocks, wire):
    """An event the decoder cannot read before any content: the attempt fails over invisibly."""
    w = World(gw, wire_mocks, wire)
    if wire == "anthropic":
        w.primary(AReply.stream(events=[
            MESSAGE_START,
            ("content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"text",')]))
    else:
        w.primary(bedrock_answer(CANONICAL, chunks=WORDS, corrupt_event=0))
    w.b.set_default(answer(wire))
    res, took = w.sdk("stream")
    served_by_backup(w, res, "stream", "invalid,200", took, 20)


@pytest.mark.parametrize("wire", WIRES)
def test_no_end_of_stream_marker_before_content(gw, wire_mocks, wire):
    """A stream that ends cleanly at the HTTP level before the provider's end marker and before any
    content: a break (token cut), served by the backup."""
    w = World(gw, wire_mocks, wire)
    if wire == "anthropic":
        w.primary(AReply.stream(events=[MESSAGE_START, ("ping", {"type": "ping"})], complete=False))
    else:
        w.primary(bedrock_answer(CANONICAL, chunks=[], complete=False))
    w.b.set_default(answer(wire))
    res, took = w.sdk("stream")
    # §10.1 names a stream that ends before content `cut`: the error event the decoders' finish()
    # writes for the missing completion is not the provider's (regression: it said `invalid`)
    served_by_backup(w, res, "stream", "cut,200", took, 20)


@pytest.mark.parametrize("wire", WIRES)
def test_no_end_of_stream_marker_after_content_is_an_explicit_error(gw_factory, wire_mocks, wire):
    """A stream whose content went out but that ends without the provider's end marker: the
    client gets an error event, never a clean end (no silent truncation). Mid-stream continuation
    (docs/design.md §19, on by default) is off here: its error-event path is the subject;
    test_stream_continuation.py covers the continued one."""
    gw = gw_factory(location_extra="routeshift_stream_continuation off;")
    w = World(gw, wire_mocks, wire)
    w.primary(stream_reply(wire, complete=False) if wire == "anthropic" else
              bedrock_answer(CANONICAL, chunks=WORDS, complete=False))
    w.b.set_default(answer(wire))
    res, took = w.sdk("stream")
    if res.get("completed"):
        # the provider's own completion signal came before the missing marker (Anthropic's
        # message_delta with stop_reason): the full canonical answer, one attempt
        assert received_text(res, "stream") == CANONICAL, res
    else:
        assert "error" in res, res
    assert len(w.a.requests) == 1
    assert took < 20


@pytest.mark.parametrize("mode", ["plain", "stream"])
@pytest.mark.parametrize("wire", WIRES)
def test_context_length_with_a_larger_model(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire, fallback_model=True, budget=1)
    w.primary(context_error(wire))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    served_by_backup(w, res, mode, "context,200", took, 20)
    assert w.key_cooldown_ms(w.ka) == 0
    q = w.b.requests[0]
    if wire == "anthropic":
        assert q.json["model"] == w.spec.upstream_model + "-long"
    else:
        assert (w.spec.upstream_model + "-long").replace(":", "%3A") in q.path


@pytest.mark.parametrize("mode", ["plain", "anthropic-final"])
@pytest.mark.parametrize("wire", WIRES)
def test_context_length_without_a_larger_model(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire)
    w.primary(context_error(wire))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    err = res.get("error")
    assert err and err["status"] == 400, res
    if mode == "plain":
        assert err["code"] == "context_length_exceeded", res
    else:
        assert err["type"] == "invalid_request_error", res
    assert "too long" in err["message"], res
    assert len(w.a.requests) == 1 and len(w.b.requests) == 0  # the same model elsewhere would say the same
    assert w.statuses() == "context"
    assert w.key_cooldown_ms(w.ka) == 0
    assert took < 15


@pytest.mark.parametrize("mode", ["plain", "stream", "anthropic-final"])
@pytest.mark.parametrize("wire", WIRES)
def test_content_filter(gw, wire_mocks, wire, mode):
    w = World(gw, wire_mocks, wire)
    w.primary(content_filtered(wire))
    w.b.set_default(answer(wire))
    res, took = w.sdk(mode)
    assert "error" not in res, res
    if mode == "plain":
        assert res["completion"]["choices"][0]["finish_reason"] == "content_filter", res
    elif mode == "stream":
        finishes = [c["chunk"]["choices"][0].get("finish_reason") for c in res["chunks"]
                    if c["chunk"].get("choices") and c["chunk"]["choices"][0].get("finish_reason")]
        assert finishes == ["content_filter"], res
    else:
        assert res["message"]["stop_reason"] == "refusal", res
    assert len(w.a.requests) == 1 and len(w.b.requests) == 0  # the provider's verdict, not retried
    assert w.statuses() == "200"
    assert took < 15


@pytest.mark.parametrize("wire", WIRES)
def test_primary_down_then_recovering(gw, wire_mocks, wire):
    """A primary down for a "minute" (scaled: ~3 s with a 1 s cooldown): served from the backup
    meanwhile, the primary probed at most once per cooldown, back on it within the cooldown after
    recovery."""
    w = World(gw, wire_mocks, wire, primary_cooldown=1)
    w.primary_default(server_error(wire, 503))
    w.b.set_default(answer(wire))
    t0 = time.monotonic()
    down_until = t0 + 3.0
    while time.monotonic() < down_until:
        res, _ = w.sdk("plain")
        assert received_text(res, "plain") == CANONICAL
    attempts_while_down = [q.time for q in w.a.requests]
    assert 1 <= len(attempts_while_down) <= 5, attempts_while_down
    for earlier, later in zip(attempts_while_down, attempts_while_down[1:]):
        assert later - earlier >= 0.9, f"primary retried within its cooldown: {attempts_while_down}"
    w.primary_default(answer(wire))
    recovered = time.monotonic()
    served_by_primary = None
    while time.monotonic() - recovered < 5:
        before = len(w.a.requests)
        res, _ = w.sdk("plain")
        assert received_text(res, "plain") == CANONICAL
        if len(w.a.requests) > before and w.gw.wait_access(1)[-1]["statuses"].endswith("200") \
                and w.gw.wait_access(1)[-1]["provider"] == "primary":
            served_by_primary = time.monotonic() - recovered
            break
    assert served_by_primary is not None, "never back on the primary"
    assert served_by_primary <= 1.0 + 2.5, served_by_primary  # cooldown + one request's time
