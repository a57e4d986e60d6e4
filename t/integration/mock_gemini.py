"""A scriptable mock of the Google Gemini API (generativelanguage v1beta); wire format in
docs/wire-formats.md, "Gemini generateContent".

Same server as mock_provider.MockProvider (threaded HTTP/1.1, keep-alive, chunked streams, optional
TLS, every request recorded), speaking Gemini's wire format:

    POST /v1beta/models/{model}:generateContent                  -> GenerateContentResponse JSON
    POST /v1beta/models/{model}:streamGenerateContent?alt=sse    -> `data: {...}\\r\\n\\r\\n` events; the
                                                                    stream simply ends (no [DONE])
    POST /v1beta/models/{model}:streamGenerateContent            -> one JSON array written piecewise

Authentication is the `x-goog-api-key` header (the legacy `?key=` query is accepted too). A request
without a key gets Gemini's own 403 PERMISSION_DENIED body; with `mock.valid_keys` set, an unknown
key gets the recorded 400 INVALID_ARGUMENT / API_KEY_INVALID body. Unknown paths get a 404 NOT_FOUND.

Scripting (answers are rendered for the endpoint that asked: one logical answer serves both the
unary and the streaming path):

    mock = MockGemini(name="g").start()
    mock.set_default(GeminiReply.text("Hello", chunks=["Hel", "lo"]))
    mock.enqueue(GeminiReply.rate_limited(retry_delay="38s"), key="AIza-a")  # next request with that key
    mock.enqueue(GeminiReply.function_call("get_weather", {"city": "Oslo"}, thought_signature="CiQB"))
    mock.enqueue(GeminiReply.text("slow", chunks=["a", "b"], delay=0.3))     # per-event delay
    mock.enqueue(GeminiReply.text("cut", chunks=["a", "b", "c"], drop_after=2))  # connection drop
    mock.enqueue(GeminiReply.text("open end", finish=False))                 # no finishReason at all
    mock.enqueue(GeminiReply.mid_stream_error(["First "]))                   # raw JSON error after data
    mock.enqueue(GeminiReply.prompt_blocked("SAFETY"))
    mock.enqueue(GeminiReply.unavailable())                                  # 503 UNAVAILABLE
    mock.enqueue(Reply.drop())                                               # close without answering
    mock.requests[0].api_key, .model, .stream (alt=sse), .method_name, .json  (GeminiRequest)

Stdlib only.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any, Optional

from mock_provider import MockProvider, RecordedRequest, Reply

__all__ = ["MockGemini", "GeminiReply", "GeminiRequest", "gemini_key", "google_error_body", "Reply"]

_ids = itertools.count(1)
_PATH = re.compile(r"^(?P<base>/[^:]*?)?/(?P<coll>models|tunedModels)/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")
# Methods served only by an installed handler (mock_embeddings.GeminiEmbeddings); 404 otherwise.
_HANDLER_PATH = re.compile(r"^(?:/[^:]*?)?/(?:models|tunedModels)/[^/:]+:(?:embedContent|batchEmbedContents|countTokens)$")

NO_KEY_MESSAGE = ("Method doesn't allow unregistered callers (callers without established identity). "
                  "Please use API Key or other form of API consumer identity to call this API.")


# ----------------------------------------------------------------------------------------------
# Request helpers
# ----------------------------------------------------------------------------------------------

def gemini_key(req: RecordedRequest) -> Optional[str]:
    """The API key a request presented: x-goog-api-key header, else the legacy ?key= query."""
    k = req.header("x-goog-api-key")
    if k:
        return k
    vals = req.query_params.get("key")
    return vals[0] if vals else None


def _route(req: RecordedRequest) -> Optional[re.Match]:
    return _PATH.match(urllib.parse.unquote(req.path)) if req.method == "POST" else None


def _is_stream(req: RecordedRequest) -> bool:
    m = _route(req)
    return bool(m and m.group("method") == "streamGenerateContent")


def _is_sse(req: RecordedRequest) -> bool:
    return _is_stream(req) and req.query_params.get("alt", [""])[0] == "sse"


def _model(req: RecordedRequest) -> str:
    m = _route(req)
    return m.group("model") if m else "gemini-mock"


class GeminiRequest(RecordedRequest):
    """A recorded request with Gemini accessors."""

    @property
    def api_key(self) -> Optional[str]:
        return gemini_key(self)

    @property
    def model(self) -> str:
        """The model named in the path ("gemini-2.5-flash")."""
        return _model(self)

    @property
    def stream(self) -> bool:
        """streamGenerateContent?alt=sse was asked."""
        return _is_sse(self)

    @property
    def method_name(self) -> Optional[str]:
        m = _route(self)
        return m.group("method") if m else None


# ----------------------------------------------------------------------------------------------
# Wire-format builders (docs/wire-formats.md, Gemini generateContent → Response mapping and
# → Errors and RetryInfo)
# ----------------------------------------------------------------------------------------------

def google_error_body(code: int, message: str, status: str, details: Optional[list] = None) -> dict:
    err: dict = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


def _usage(prompt: int, candidates: int, thoughts: int = 0, cached: int = 0) -> dict:
    u: dict = {"promptTokenCount": prompt}
    if candidates:
        u["candidatesTokenCount"] = candidates
    if cached:
        u["cachedContentTokenCount"] = cached
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    u["totalTokenCount"] = prompt + candidates + thoughts
    u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return u


def _aggregate(events: list, model: str) -> dict:
    """The unary GenerateContentResponse equivalent to a list of stream events."""
    parts: list = []
    out: dict = {}
    finish = None
    for ev in events:
        if not isinstance(ev, dict):
            continue
        for c in ev.get("candidates") or []:
            for p in (c.get("content") or {}).get("parts") or []:
                if (parts and "text" in p and "text" in parts[-1] and bool(p.get("thought")) == bool(parts[-1].get("thought"))
                        and "thoughtSignature" not in parts[-1]):
                    parts[-1] = dict(parts[-1], text=parts[-1]["text"] + p["text"])
                    if "thoughtSignature" in p:
                        parts[-1]["thoughtSignature"] = p["thoughtSignature"]
                else:
                    parts.append(dict(p))
            finish = c.get("finishReason", finish)
        for k in ("promptFeedback", "usageMetadata", "modelVersion", "responseId"):
            if k in ev:
                out[k] = ev[k]
    if parts or finish:
        cand: dict = {"content": {"parts": parts, "role": "model"}}
        if finish:
            cand["finishReason"] = finish
        cand["index"] = 0
        out = {"candidates": [cand], **out}
    out.setdefault("modelVersion", model)
    return out


class GeminiReply:
    """Constructors of scripted Gemini answers (mock_provider.Reply objects).

    Success answers have kind "gemini": a list of GenerateContentResponse events (dicts, or bytes
    written verbatim into a stream), rendered per endpoint. Errors are plain JSON replies with
    Google's error body (`{"error":{"code","message","status","details"}}`)."""

    @staticmethod
    def events(events: list, *, delay: float = 0.0, first_delay: float = 0.0, drop_after: Optional[int] = None,
               headers: Optional[dict] = None, split: int = 0, crlf: bool = True, rst: bool = False,
               header_delay: float = 0.0, chunked: bool = True) -> Reply:
        """Verbatim events. drop_after=N: close the connection abruptly after N events."""
        r = Reply("gemini", status=200, headers=dict(headers or {}), body=list(events), delay=header_delay,
                  chunk_delay=delay, first_chunk_delay=first_delay, drop_after=drop_after, split=split,
                  crlf=crlf, rst=rst, chunked=chunked, done=False)
        return r

    @classmethod
    def text(cls, content: str = "Hello from gemini mock", *, chunks: Optional[list] = None,
             thoughts: Optional[list] = None, finish_reason: str = "STOP", finish: bool = True,
             usage: Optional[dict] = None, prompt_tokens: int = 11, model_version: Optional[str] = None,
             text_signature: Optional[str] = None, **kw) -> Reply:
        """A text answer; `chunks` (default: [content]) become one event each, preceded by one event
        per `thoughts` entry (thought: true parts). finish=False: no event carries a finishReason
        (a stream that ends without its completion signal)."""
        pieces = list(chunks) if chunks is not None else [content]
        rid = f"mockresp{next(_ids)}"
        evs: list = []
        n_th = sum(len(t.split()) for t in thoughts or [])
        for t in thoughts or []:
            evs.append({"candidates": [{"content": {"parts": [{"text": t, "thought": True}], "role": "model"}, "index": 0}]})
        for i, piece in enumerate(pieces):
            evs.append({"candidates": [{"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}],
                        "usageMetadata": _usage(prompt_tokens, i + 1, n_th)})
        if not evs:
            evs.append({"candidates": [{"content": {"parts": [], "role": "model"}, "index": 0}]})
        if text_signature:  # Gemini 3 puts a signature on an empty trailing text part
            evs.append({"candidates": [{"content": {"parts": [{"text": "", "thoughtSignature": text_signature}],
                                                    "role": "model"}, "index": 0}]})
        if finish:
            evs[-1]["candidates"][0]["finishReason"] = finish_reason
        evs[-1]["usageMetadata"] = usage or _usage(prompt_tokens, len(pieces), n_th)
        for e in evs:
            e["modelVersion"] = model_version or "{model}"
            e["responseId"] = rid
        return cls.events(evs, **kw)

    @classmethod
    def function_call(cls, name: str, args: Optional[dict] = None, *, thought_signature: Optional[str] = None,
                      call_id: Optional[str] = None, more: Optional[list] = None, text: Optional[str] = None,
                      thoughts: Optional[list] = None, finish_reason: str = "STOP", **kw) -> Reply:
        """One event with function calls (Gemini sends each call complete): (name, args) first, then
        `more` = [(name, args), ...] (parallel calls: only the first carries the signature, as Gemini 3
        does). Optional leading `text` part and `thoughts` events."""
        parts: list = []
        if text:
            parts.append({"text": text})
        first: dict = {"functionCall": {"name": name, "args": args or {}}}
        if call_id:
            first["functionCall"]["id"] = call_id
        if thought_signature:
            first["thoughtSignature"] = thought_signature
        parts.append(first)
        for n, a in more or []:
            parts.append({"functionCall": {"name": n, "args": a}})
        rid = f"mockresp{next(_ids)}"
        evs: list = [{"candidates": [{"content": {"parts": [{"text": t, "thought": True}], "role": "model"}, "index": 0}]}
                     for t in thoughts or []]
        evs.append({"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish_reason, "index": 0}],
                    "usageMetadata": _usage(29, 15, 45 if thoughts else 0)})
        for e in evs:
            e["modelVersion"] = "{model}"
            e["responseId"] = rid
        return cls.events(evs, **kw)

    @classmethod
    def prompt_blocked(cls, reason: str = "SAFETY", **kw) -> Reply:
        """The prompt was blocked: no candidates, promptFeedback.blockReason (HTTP 200)."""
        return cls.events([{"promptFeedback": {"blockReason": reason, "safetyRatings": [
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "HIGH"}]},
            "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "{model}"}], **kw)

    @classmethod
    def mid_stream_error(cls, chunks: Optional[list] = None, *, code: int = 499, message: str = "The operation was cancelled.",
                         status: str = "CANCELLED", as_data: bool = False, **kw) -> Reply:
        """Text events, then an error: by default a raw pretty-printed JSON object outside the SSE
        framing (as recorded in firebase-vertexai_streaming-failure-error-mid-stream.sse); as_data=True
        sends it as a `data:` event instead. The unary endpoint answers with the error itself."""
        evs: list = [{"candidates": [{"content": {"parts": [{"text": c}], "role": "model"}, "index": 0}],
                      "modelVersion": "{model}"} for c in (chunks if chunks is not None else ["First "])]
        body = google_error_body(code, message, status)
        evs.append(body if as_data else (json.dumps(body, indent=2) + "\n").encode())
        return cls.events(evs, **kw)

    @staticmethod
    def replay(path: str | Path, *, status: int = 200, **kw) -> Reply:
        """Serves a recorded file verbatim (.sse as text/event-stream, anything else as JSON)."""
        data = Path(path).read_bytes()
        if str(path).endswith(".sse"):
            r = Reply("gemini", status=status, body=[data], chunk_delay=kw.pop("delay", 0.0), done=False, crlf=True, **kw)
            r.finish_reason = "replay"
            return r
        return Reply.raw(status, data, headers={"Content-Type": "application/json; charset=UTF-8"}, **kw)

    # -- errors (docs/wire-formats.md, Gemini generateContent → Errors and RetryInfo) ---------
    @staticmethod
    def error(http: int, message: str = "mock upstream error", status: Optional[str] = None, *,
              details: Optional[list] = None, list_wrapped: bool = False, headers: Optional[dict] = None,
              delay: float = 0.0, close: bool = False) -> Reply:
        status = status or {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                            404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                            503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}.get(http, "UNKNOWN")
        body: Any = google_error_body(http, message, status, details)
        if list_wrapped:
            body = [body]
        h = {"Content-Type": "application/json; charset=UTF-8"}
        h.update(headers or {})
        return Reply.raw(http, json.dumps(body, indent=2) + "\n", headers=h, delay=delay, close=close)

    @classmethod
    def rate_limited(cls, retry_delay: Optional[str] = "38s", *, per_day: bool = False, **kw) -> Reply:
        """429 RESOURCE_EXHAUSTED with QuotaFailure (+ RetryInfo.retryDelay unless None)."""
        quota = "GenerateRequestsPerDayPerProjectPerModel-FreeTier" if per_day else \
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
        details: list = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota, "quotaDimensions": {"location": "global", "model": "gemini-mock"},
                "quotaValue": "10"}]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                "description": "Learn more about Gemini API quotas",
                "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        ]
        msg = "You exceeded your current quota, please check your plan and billing details."
        if retry_delay:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
            msg += f" Please retry in {retry_delay}."
        return cls.error(429, msg, "RESOURCE_EXHAUSTED", details=details, **kw)

    @classmethod
    def unavailable(cls, **kw) -> Reply:
        return cls.error(503, "The model is overloaded. Please try again later.", "UNAVAILABLE", **kw)

    @classmethod
    def internal(cls, **kw) -> Reply:
        return cls.error(500, "An internal error has occurred. Please retry or report in "
                              "https://developers.generativeai.google/guide/troubleshooting", "INTERNAL", **kw)

    @classmethod
    def invalid_key(cls, **kw) -> Reply:
        """The recorded answer to a wrong key: 400 INVALID_ARGUMENT + ErrorInfo API_KEY_INVALID."""
        return cls.error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", details=[
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
             "message": "API key not valid. Please pass a valid API key."}], **kw)

    @classmethod
    def no_key(cls, **kw) -> Reply:
        return cls.error(403, NO_KEY_MESSAGE, "PERMISSION_DENIED", **kw)

    @classmethod
    def unknown_model(cls, model: str = "gemini-5.0-flash", **kw) -> Reply:
        return cls.error(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                              "generateContent. Call ListModels to see the list of available models and their "
                              "supported methods.", "NOT_FOUND", **kw)


# ----------------------------------------------------------------------------------------------
# Server
# ----------------------------------------------------------------------------------------------

def _fill_model(obj: Any, model: str) -> Any:
    if isinstance(obj, dict):
        return {k: _fill_model(v, model) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill_model(v, model) for v in obj]
    if obj == "{model}":
        return model
    return obj


class MockGemini(MockProvider):
    """MockProvider speaking Gemini. Extra knobs: `require_key` (default True), `valid_keys`
    (None = any key accepted)."""

    def __init__(self, name: str = "gemini", *args, default: Optional[Reply] = None, **kw):
        super().__init__(name, *args, default=default or GeminiReply.text(), **kw)
        self.require_key = True
        self.valid_keys: Optional[set] = None

    def base_url(self, host: Optional[str] = None, path: str = "/v1beta") -> str:
        return super().base_url(host, path)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._defaults = {None: GeminiReply.text()}

    def _read_request(self, *a, **kw) -> Optional[GeminiRequest]:
        r = super()._read_request(*a, **kw)
        if r is None:
            return None
        return GeminiRequest(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})

    def requests_for(self, secret: str) -> list:
        with self._lock:
            return [r for r in self.requests if gemini_key(r) == secret]

    def _pick(self, req: RecordedRequest) -> Reply:
        key = gemini_key(req)
        if self.require_key and not key:
            return GeminiReply.no_key()
        if self.valid_keys is not None and key not in self.valid_keys:
            return GeminiReply.invalid_key()
        if not _route(req) and not (self.handler is not None and req.method == "POST"
                                    and _HANDLER_PATH.match(urllib.parse.unquote(req.path))):
            return GeminiReply.error(404, "Requested entity was not found.", "NOT_FOUND")
        if self.handler is not None:
            r = self.handler(req)
            if r is not None:
                return r
        with self._lock:
            for i, (k, reply) in enumerate(self._queue):
                if k is None or (key is not None and k == key):
                    del self._queue[i]
                    return reply
            if key is not None and key in self._defaults:
                return self._defaults[key]
            return self._defaults[None]

    def _send(self, sock, req: RecordedRequest, reply: Reply) -> bool:
        if reply.kind != "gemini":
            return super()._send(sock, req, reply)
        model = _model(req)
        events = [_fill_model(e, model) for e in reply.body]
        if not _is_stream(req):
            raw_err = next((e for e in events if isinstance(e, (bytes, dict)) and self._error_of(e)), None)
            if raw_err is not None:  # the unary endpoint reports the error itself
                err = self._error_of(raw_err)
                code = int(err["error"].get("code", 500))
                return super()._send(sock, req, Reply.raw(code if 400 <= code < 600 else 500, json.dumps(err, indent=2),
                                                          headers={"Content-Type": "application/json; charset=UTF-8"}))
            if reply.finish_reason == "replay":
                return super()._send(sock, req, Reply.raw(200, events[0], headers={"Content-Type": "application/json"}))
            body = json.dumps(_aggregate(events, model), indent=2, ensure_ascii=False)
            return super()._send(sock, req, Reply.raw(200, body.encode(), headers={
                "Content-Type": "application/json; charset=UTF-8"}, close=reply.close))
        end = b"\r\n\r\n" if reply.crlf else b"\n\n"
        if _is_sse(req):
            wire = [e if isinstance(e, bytes) else b"data: " + json.dumps(e, ensure_ascii=False).encode() + end
                    for e in events]
            ctype = "text/event-stream"
        else:  # streamGenerateContent without alt=sse: one JSON array, written element by element
            objs = [e for e in events if isinstance(e, dict)]
            wire = [(b"[" if i == 0 else b",\r\n") + json.dumps(o, indent=2, ensure_ascii=False).encode()
                    for i, o in enumerate(objs)] + [b"]"]
            ctype = "application/json; charset=UTF-8"
        conv = Reply("stream", status=reply.status, headers={"Content-Type": ctype, **reply.headers},
                     delay=reply.delay, chunks=[], chunk_delay=reply.chunk_delay,
                     first_chunk_delay=reply.first_chunk_delay, done=False, drop_after=reply.drop_after,
                     rst=reply.rst, chunked=reply.chunked, close=reply.close, split=reply.split, crlf=reply.crlf)
        conv._gemini_wire = wire  # type: ignore[attr-defined]
        return super()._send(sock, req, conv)

    @staticmethod
    def _error_of(e: Any) -> Optional[dict]:
        if isinstance(e, bytes):
            try:
                e = json.loads(e)
            except ValueError:
                return None
        return e if isinstance(e, dict) and "error" in e else None

    def _stream_events(self, req: RecordedRequest, reply: Reply) -> list:
        wire = getattr(reply, "_gemini_wire", None)
        if wire is not None:
            return wire
        return super()._stream_events(req, reply)
