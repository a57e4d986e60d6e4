"""A scriptable mock of the Anthropic Messages API (docs/wire-formats.md, "Anthropic Messages"),
also standing in for the Anthropic-compatible endpoints of MiniMax, Moonshot/Kimi, Z.ai and
Xiaomi MiMo.

Same server as mock_provider.MockProvider (threaded HTTP/1.1, keep-alive, chunked streams, optional
TLS, every request recorded, per-key queues and defaults); only the wire format differs:

    m = MockAnthropic(name="claude").start()
    m.base_url()                                   # http://127.0.0.1:PORT  (chat: + /v1/messages)
    m.base_url(path="/anthropic")                  # the compatible providers' base shape
    m.enqueue(AReply.overloaded())                                  # 529 overloaded_error
    m.enqueue(AReply.rate_limited(retry_after=2), key="sk-a")       # 429 + retry-after
    m.set_default(AReply.stream(["He", "llo"], delay=0.2))
    m.enqueue(AReply.stream(tool_calls=[{"name": "get_weather", "input": {"city": "Oslo"}}]))
    m.enqueue(AReply.stream(["a", "b", "c"], error_after=2))        # `event: error` mid-stream
    m.enqueue(AReply.stream(["a", "b"], drop_after=3))              # connection dropped
    m.enqueue(AReply.stream(["a"], complete=False))                 # ends without message_stop
    m.requests[0].header("x-api-key"), m.requests[0].json["max_tokens"]

The default reply, AReply.auto(), answers each request in the shape it asked for: a Messages JSON
object, or an SSE stream when the body has "stream": true.

With strict=True (default) the mock refuses what the real API refuses before any scripted reply
is consumed: a path not ending in /v1/messages (404 not_found_error), no credential header (401
authentication_error), no anthropic-version header, a body that is not JSON, or one without
model / messages / an integer max_tokens (400 invalid_request_error).

POST .../v1/messages/count_tokens is answered {"input_tokens": m.count_tokens_result} (default 4242,
a number no estimate gives), with the same checks except max_tokens, which it does not take.

Stdlib only.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, Optional

from mock_provider import MockProvider, RecordedRequest, Reply

__all__ = ["MockAnthropic", "AReply", "anthropic_error_body", "message_body", "sse_event"]

_msg_ids = itertools.count(1)
_req_ids = itertools.count(1)

# HTTP status -> Anthropic error.type (docs/wire-formats.md, Anthropic Messages → Errors)
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 500: "api_error", 504: "timeout_error",
               529: "overloaded_error"}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def anthropic_error_body(message: str, type_: str = "api_error",
                         details: Optional[dict] = None) -> dict:
    err: dict = {"type": type_, "message": message}
    if details:
        err["details"] = details
    return {"type": "error", "error": err, "request_id": f"req_mock{next(_req_ids):06d}"}


def sse_event(name: str, data: Any) -> bytes:
    """One Anthropic SSE event: `event: NAME` + `data: JSON` + blank line."""
    payload = data if isinstance(data, str) else _dumps(data)
    return f"event: {name}\ndata: {payload}\n\n".encode()


def _usage(input_tokens: int, output_tokens: int, cache_read: int = 0,
           cache_creation: int = 0) -> dict:
    return {"input_tokens": input_tokens, "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": cache_creation,
                               "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens, "service_tier": "standard"}


def _tool_id(i: int) -> str:
    return f"toolu_mock{next(_msg_ids):04d}{i:02d}"


def message_body(text: Any = "Hello from mock", model: str = "claude-mock", *,
                 tool_calls: Optional[list] = None, thinking: Optional[str] = None,
                 stop_reason: Optional[str] = None, usage: Optional[dict] = None,
                 msg_id: Optional[str] = None) -> dict:
    """A non-streaming Messages API answer (docs/wire-formats.md, Anthropic Messages → Response
    mapping). text: str or list of str (one block each)."""
    content: list = []
    if thinking is not None:
        content.append({"type": "thinking", "thinking": thinking, "signature": "EqMockSignature=="})
    texts = [text] if isinstance(text, str) else list(text or [])
    for t in texts:
        content.append({"type": "text", "text": t})
    for i, tc in enumerate(tool_calls or []):
        content.append({"type": "tool_use", "id": tc.get("id") or _tool_id(i), "name": tc["name"],
                        "input": tc.get("input", {})})
    if stop_reason is None:
        stop_reason = "tool_use" if tool_calls else "end_turn"
    u = _usage(11, 7)
    if usage:
        u.update(usage)
    return {"id": msg_id or f"msg_mock{next(_msg_ids):06d}", "type": "message",
            "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": u}


class AReply:
    """Reply builders in the Anthropic wire format (each returns a mock_provider.Reply)."""

    @staticmethod
    def message(text: Any = "Hello from mock", *, tool_calls: Optional[list] = None,
                thinking: Optional[str] = None, stop_reason: Optional[str] = None,
                usage: Optional[dict] = None, model: Optional[str] = None, status: int = 200,
                headers: Optional[dict] = None, delay: float = 0.0, close: bool = False,
                chunked: bool = False) -> Reply:
        """A Messages JSON body; `model` defaults to the model the request asked for.
        tool_calls: [{"name": ..., "input": {...}, "id"?: ...}]."""
        def build(req: RecordedRequest, mock: MockProvider) -> dict:
            m = model or (req.json or {}).get("model") or "claude-mock"
            t = text.replace("{mock}", mock.name) if isinstance(text, str) else text
            return message_body(t, m, tool_calls=tool_calls, thinking=thinking,
                                stop_reason=stop_reason, usage=usage)
        r = Reply("json", status=status, headers=_headers(headers), body=build, delay=delay,
                  close=close, json_chunked=chunked)
        return r

    @staticmethod
    def error(status: int, message: str = "mock upstream error", *, type_: Optional[str] = None,
              details: Optional[dict] = None, headers: Optional[dict] = None,
              delay: float = 0.0, close: bool = False) -> Reply:
        """An Anthropic error body {"type":"error","error":{"type","message"},"request_id"}."""
        t = type_ or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return Reply("json", status=status, headers=_headers(headers),
                     body=lambda req, mock: anthropic_error_body(message, t, details),
                     delay=delay, close=close)

    @staticmethod
    def overloaded(message: str = "Overloaded", **kw) -> Reply:
        return AReply.error(529, message, type_="overloaded_error", **kw)

    @staticmethod
    def rate_limited(retry_after: Optional[float] = 2, message: str = "Number of request tokens "
                     "has exceeded your per-minute rate limit", **kw) -> Reply:
        headers = dict(kw.pop("headers", None) or {})
        if retry_after is not None:
            headers.setdefault("retry-after", str(retry_after))
        headers.setdefault("anthropic-ratelimit-requests-remaining", "0")
        return AReply.error(429, message, type_="rate_limit_error", headers=headers, **kw)

    @staticmethod
    def spend_limited(**kw) -> Reply:
        """429 that means the workspace spend cap is reached: must not be retried."""
        return AReply.error(429, "You have reached your specified workspace API usage limits. "
                            "You will regain access on 2026-12-01 at 00:00 UTC.",
                            type_="rate_limit_error",
                            details={"error_code": "enforced_spend_limit_reached"}, **kw)

    @staticmethod
    def stream(chunks: Optional[list] = None, *, tool_calls: Optional[list] = None,
               thinking: Optional[list] = None, stop_reason: Optional[str] = None,
               usage: Optional[dict] = None, model: Optional[str] = None,
               delay: float = 0.0, first_delay: float = 0.0, header_delay: float = 0.0,
               complete: bool = True, error_after: Optional[int] = None,
               error_type: str = "overloaded_error", error_message: str = "Overloaded",
               drop_after: Optional[int] = None, drop_mid_event: bool = False,
               ping_every: int = 0, fragment: int = 7, split: int = 0, crlf: bool = False,
               rst: bool = False, chunked: bool = True, status: int = 200,
               headers: Optional[dict] = None, events: Optional[list] = None) -> Reply:
        """A Messages SSE stream (docs/wire-formats.md, Anthropic Messages → Streaming events).

        chunks: text deltas (one text block). thinking: thinking deltas (a thinking block first,
        with a signature_delta). tool_calls: [{"name", "input", "id"?}] streamed as tool_use blocks
        whose input arrives in input_json_delta pieces of `fragment` characters (after an empty
        first piece, as the real API does). Events, in order: message_start, ping,
        (content_block_start, content_block_delta*, content_block_stop)*, message_delta,
        message_stop; `ping_every=N` adds a ping after every N events.
        delay: seconds between events. complete=False: end the body cleanly without message_stop.
        error_after=N: after N events send `event: error` (error_type/error_message) and end.
        drop_after=N: abort the connection after N events (drop_mid_event: after half of event N+1).
        events: a list of (name, data) sent verbatim instead (drop/error/complete still apply).
        """
        spec = {"chunks": ["Hello", " from", " mock"] if chunks is None and not tool_calls and
                not events else list(chunks or []),
                "tool_calls": tool_calls or [], "thinking": thinking, "stop_reason": stop_reason,
                "usage": usage, "complete": complete, "error_after": error_after,
                "error_type": error_type, "error_message": error_message, "ping_every": ping_every,
                "fragment": max(1, fragment), "events": events, "drop_mid_event": drop_mid_event}
        r = Reply("stream", status=status, headers=_headers(headers), delay=header_delay,
                  chunks=[spec], chunk_delay=delay, first_chunk_delay=first_delay,
                  drop_after=drop_after, rst=rst, chunked=chunked, split=split, crlf=crlf)
        r.body = model
        return r

    @staticmethod
    def auto(text: str = "Hello from mock", **kw) -> Reply:
        """JSON or stream, whichever the request asked for (stream kwargs: delay, ...)."""
        r = Reply("auto", body=text)
        r.chunks = [kw]
        return r

    @staticmethod
    def drop(delay: float = 0.0, rst: bool = True) -> Reply:
        """Read the request, then close the connection without answering."""
        return Reply.drop(delay=delay, rst=rst)

    raw = staticmethod(Reply.raw)


def _headers(h: Optional[dict]) -> dict:
    out = {"request-id": f"req_mock{next(_req_ids):06d}",
           "anthropic-organization-id": "00000000-0000-0000-0000-000000000000"}
    out.update(h or {})
    return out


class MockAnthropic(MockProvider):
    def __init__(self, name: str = "anthropic", host: str = "127.0.0.1", port: int = 0,
                 tls: Optional[tuple] = None, default: Optional[Reply] = None,
                 strict: bool = True):
        super().__init__(name=name, host=host, port=port, tls=tls,
                         default=default or AReply.auto())
        self.strict = strict
        self.count_tokens_result = 4242
        # fault mode (mid-stream continuation tests): refuse a conversation that ends with an
        # assistant turn, as models without prefill support do
        self.rejects_prefill = False

    def base_url(self, host: Optional[str] = None, path: str = "") -> str:  # no /v1: base + /v1/messages
        return super().base_url(host=host, path=path)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._defaults = {None: AReply.auto()}

    # -- request checks and reply selection ------------------------------------------------------
    def _refusal(self, req: RecordedRequest) -> Optional[Reply]:
        if not self.strict:
            return None
        count = req.path.endswith("/v1/messages/count_tokens")
        if req.method != "POST" or not (req.path.endswith("/v1/messages") or count):
            return AReply.error(404, f"Not found: {req.method} {req.path}")
        h = req.headers
        auth = h.get("authorization", "")
        if not (h.get("x-api-key") or h.get("api-key") or auth.lower().startswith("bearer ")):
            return AReply.error(401, "x-api-key header is required")
        if not h.get("anthropic-version"):
            return AReply.error(400, "anthropic-version: header is required")
        body = req.json
        if not isinstance(body, dict):
            return AReply.error(400, "The request body is not valid JSON.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return AReply.error(400, "model: Field required")
        if not isinstance(body.get("messages"), list):
            return AReply.error(400, "messages: Field required")
        if count:
            return None
        mt = body.get("max_tokens")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 0:
            return AReply.error(400, "max_tokens: Field required")
        for i, m in enumerate(body["messages"]):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                return AReply.error(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
        return self._prefill_refusal(body["messages"])

    def _prefill_refusal(self, messages: list) -> Optional[Reply]:
        """A final assistant turn (a prefill): the API refuses one that ends in whitespace; a model
        without prefill support (rejects_prefill) refuses any."""
        if not messages or messages[-1].get("role") != "assistant":
            return None
        content = messages[-1].get("content")
        text = content if isinstance(content, str) else "".join(
            b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")
        if self.rejects_prefill:
            return AReply.error(400, "This model does not support assistant message prefill. "
                                     "The conversation must end with a user message.")
        if text != text.rstrip():
            return AReply.error(400, "messages: final assistant content cannot end with trailing whitespace")
        return None

    def _pick(self, req: RecordedRequest) -> Reply:
        refusal = self._refusal(req)
        if refusal is None and req.path.endswith("/v1/messages/count_tokens"):
            with self._lock:
                if not self._queue:
                    return Reply.json({"input_tokens": self.count_tokens_result}, headers=_headers(None))
        reply = refusal or super()._pick(req)
        if reply.kind == "auto":
            kw = dict(reply.chunks[0]) if reply.chunks else {}
            text = reply.body if isinstance(reply.body, str) else "Hello from mock"
            if isinstance(req.json, dict) and req.json.get("stream") is True:
                words = [w + " " for w in text.split(" ")]
                words[-1] = words[-1][:-1]
                reply = AReply.stream(words, **kw)
            else:
                reply = AReply.message(text, **{k: v for k, v in kw.items()
                                                 if k in ("tool_calls", "thinking", "stop_reason",
                                                          "usage", "model", "status", "headers")})
        return reply

    # -- stream encoding -------------------------------------------------------------------------
    def _stream_events(self, req: RecordedRequest, reply: Reply) -> list:
        spec = reply.chunks[0] if reply.chunks and isinstance(reply.chunks[0], dict) else None
        if spec is None:
            return super()._stream_events(req, reply)
        body = req.json if isinstance(req.json, dict) else {}
        model = reply.body or body.get("model") or "claude-mock"

        def enc(name: str, data: Any) -> bytes:
            raw = sse_event(name, data)
            return raw.replace(b"\n", b"\r\n") if reply.crlf else raw

        events: list = []
        if spec["events"] is not None:
            events = [enc(n, d) for n, d in spec["events"]]
        else:
            usage = _usage(11, 1)
            if spec["usage"]:
                usage.update({k: v for k, v in spec["usage"].items() if k != "output_tokens"})
            events.append(enc("message_start", {"type": "message_start", "message": {
                "id": f"msg_mock{next(_msg_ids):06d}", "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": usage}}))
            events.append(enc("ping", {"type": "ping"}))
            idx = 0
            out_tokens = 0
            if spec["thinking"]:
                events.append(enc("content_block_start", {"type": "content_block_start", "index": idx,
                                  "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
                for t in spec["thinking"]:
                    events.append(enc("content_block_delta", {"type": "content_block_delta", "index": idx,
                                      "delta": {"type": "thinking_delta", "thinking": t}}))
                    out_tokens += 1
                events.append(enc("content_block_delta", {"type": "content_block_delta", "index": idx,
                                  "delta": {"type": "signature_delta", "signature": "EqMockSignature=="}}))
                events.append(enc("content_block_stop", {"type": "content_block_stop", "index": idx}))
                idx += 1
            if spec["chunks"]:
                events.append(enc("content_block_start", {"type": "content_block_start", "index": idx,
                                  "content_block": {"type": "text", "text": ""}}))
                for c in spec["chunks"]:
                    events.append(enc("content_block_delta", {"type": "content_block_delta", "index": idx,
                                      "delta": {"type": "text_delta", "text": c}}))
                    out_tokens += 1
                events.append(enc("content_block_stop", {"type": "content_block_stop", "index": idx}))
                idx += 1
            for i, tc in enumerate(spec["tool_calls"]):
                events.append(enc("content_block_start", {"type": "content_block_start", "index": idx,
                                  "content_block": {"type": "tool_use", "id": tc.get("id") or _tool_id(i),
                                                    "name": tc["name"], "input": {}}}))
                args = tc["args"] if "args" in tc else _dumps(tc.get("input", {}))
                pieces = [""] + [args[j:j + spec["fragment"]] for j in range(0, len(args), spec["fragment"])]
                for p in pieces:
                    events.append(enc("content_block_delta", {"type": "content_block_delta", "index": idx,
                                      "delta": {"type": "input_json_delta", "partial_json": p}}))
                out_tokens += len(pieces)
                events.append(enc("content_block_stop", {"type": "content_block_stop", "index": idx}))
                idx += 1
            stop = spec["stop_reason"] or ("tool_use" if spec["tool_calls"] else "end_turn")
            delta_usage = {"output_tokens": (spec["usage"] or {}).get("output_tokens", out_tokens + 1)}
            events.append(enc("message_delta", {"type": "message_delta",
                              "delta": {"stop_reason": stop, "stop_sequence": None},
                              "usage": delta_usage}))
            events.append(enc("message_stop", {"type": "message_stop"}))
            if spec["ping_every"]:
                k = spec["ping_every"]
                with_pings = []
                for j, e in enumerate(events):
                    with_pings.append(e)
                    if (j + 1) % k == 0 and j + 1 < len(events):
                        with_pings.append(enc("ping", {"type": "ping"}))
                events = with_pings
        if not spec["complete"]:
            events = [e for e in events if not e.startswith(b"event: message_stop")]
        if spec["error_after"] is not None:
            events = events[:spec["error_after"]]
            events.append(enc("error", anthropic_error_body(spec["error_message"], spec["error_type"])))
        return events

    def _send_events(self, sock, reply: Reply, events: list, write, close: bool) -> bool:
        spec = reply.chunks[0] if reply.chunks and isinstance(reply.chunks[0], dict) else {}
        if not spec.get("drop_mid_event") or reply.drop_after is None:
            return super()._send_events(sock, reply, events, write, close)
        if reply.first_chunk_delay:
            time.sleep(reply.first_chunk_delay)
        for i, ev in enumerate(events[:reply.drop_after]):
            if i and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            write(ev)
        if reply.drop_after < len(events):
            nxt = events[reply.drop_after]
            write(nxt[:max(1, len(nxt) // 2)])
        self._abort(sock, reply.rst)
        return False


def _selftest() -> None:  # pragma: no cover - manual smoke run: python3 mock_anthropic.py
    m = MockAnthropic().start()
    print("listening on", m.base_url())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        m.stop()


if __name__ == "__main__":  # pragma: no cover
    _selftest()
