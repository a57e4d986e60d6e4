"""A scriptable mock of AWS Bedrock Runtime Converse / ConverseStream (docs/wire-formats.md,
"Bedrock Converse").

Same engine as mock_provider.MockProvider (threaded HTTP/1.1, keep-alive, optional TLS, every
request recorded, per-key queues and defaults), speaking Bedrock's wire format:

    POST /model/{modelId}/converse          -> Converse JSON
    POST /model/{modelId}/converse-stream   -> application/vnd.amazon.eventstream (binary frames,
                                               prelude + message CRC32, chunked transfer)

Every request's SigV4 signature is verified independently with botocore (Debian python3-botocore:
botocore.auth.SigV4Auth recomputes the signature from the bytes received); a wrong one is answered
like AWS does: 403 + x-amzn-ErrorType InvalidSignatureException (or UnrecognizedClientException
for an unknown access key / session token, or a signature older than `max_skew` seconds).

    m = MockBedrock(credentials={"AKIDEXAMPLE": "secret"}).start()
    m.enqueue(bedrock_throttling())                            # next request: 429 ThrottlingException
    m.set_default(bedrock_answer("Hello", chunks=["Hel", "lo"]))  # JSON or stream, by path
    m.enqueue(bedrock_answer(tool_calls=[{"name": "f", "input": {"a": 1}}]), key="AKIDEXAMPLE")
    m.enqueue(bedrock_answer("x", exception=("throttlingException", "slow down", 2)))
    m.enqueue(bedrock_answer("x", drop_after=3))               # connection dropped mid-stream
    m.enqueue(bedrock_answer("x", complete=False))             # clean end without messageStop
    m.requests[0].sigv4                                        # {"ok": True, "akid": ..., ...}

With strict_body=True the Converse body is checked as Bedrock checks it before any scripted reply
is consumed (400 ValidationException): only Converse's top-level members; outputConfig.textFormat
{"type":"json_schema","structure":{"jsonSchema":{"schema":<a JSON object as a string>}}}; for
Claude models, additionalModelRequestFields.thinking of type enabled (budget_tokens >= 1024 and
below inferenceConfig.maxTokens), adaptive or disabled, and with thinking on neither temperature
nor top_k.

"key" matching uses the access key id of the request's Credential (or the Bearer API key).
Replies built with the mock_provider.Reply constructors (Reply.drop(), Reply.raw(...)) work too.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import struct
import sys
import time
import urllib.parse
import zlib
from typing import Any, Iterable, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mock_provider import MockProvider, RecordedRequest, Reply  # noqa: E402

try:  # Debian python3-botocore (apt-get install -y python3-botocore)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover - reported clearly instead of a silent skip
    raise ImportError("mock_bedrock needs botocore to verify SigV4: apt-get install -y python3-botocore") from e

__all__ = ["MockBedrock", "bedrock_answer", "bedrock_error", "bedrock_throttling", "bedrock_unavailable",
           "bedrock_recorded_stream", "encode_frame", "encode_event", "encode_exception", "decode_frames",
           "verify_sigv4"]

AWS_NS = "http://internal.amazon.com/coral/com.amazon.bedrock/"

# ----------------------------------------------------------------------------------------------
# Event-stream framing (docs/wire-formats.md, Bedrock Converse → Event-stream framing)
# ----------------------------------------------------------------------------------------------


def _crc(b: bytes) -> int:
    return zlib.crc32(b) & 0xFFFFFFFF


def encode_frame(headers: Iterable[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message; every header is a string (type 7), as Bedrock sends them."""
    hb = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        hb += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    total = 16 + len(hb) + len(payload)
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", _crc(prelude))
    msg = prelude + hb + payload
    return msg + struct.pack(">I", _crc(msg))


def encode_event(event_type: str, obj: dict, pad: bool = True) -> bytes:
    """A ConverseStream event; Bedrock adds a random-length "p" padding member to payloads."""
    body = dict(obj)
    if pad:
        body["p"] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[: 4 + len(event_type) % 20]
    return encode_frame([(":event-type", event_type), (":content-type", "application/json"),
                         (":message-type", "event")], json.dumps(body, separators=(",", ":")).encode())


def encode_exception(exception_type: str, message: str) -> bytes:
    return encode_frame([(":exception-type", exception_type), (":content-type", "application/json"),
                         (":message-type", "exception")], json.dumps({"message": message}).encode())


def decode_frames(data: bytes) -> list[tuple[dict, bytes]]:
    """Decodes whole messages (both CRCs checked; raises ValueError). Returns [(headers, payload)]."""
    out = []
    i = 0
    while i < len(data):
        if len(data) - i < 12:
            raise ValueError("truncated prelude")
        total, hlen, pcrc = struct.unpack(">III", data[i:i + 12])
        if _crc(data[i:i + 8]) != pcrc:
            raise ValueError("Prelude checksum mismatch")
        if total < 16 or hlen > total - 16 or len(data) - i < total:
            raise ValueError("bad or truncated message length")
        msg = data[i:i + total]
        if _crc(msg[:-4]) != struct.unpack(">I", msg[-4:])[0]:
            raise ValueError("Message checksum mismatch")
        hb, j, headers = msg[12:12 + hlen], 0, {}
        while j < len(hb):
            n = hb[j]
            name = hb[j + 1:j + 1 + n].decode()
            j += 1 + n
            t = hb[j]
            j += 1
            if t in (0, 1):
                headers[name] = t == 0
            elif t in (6, 7):
                ln = struct.unpack(">H", hb[j:j + 2])[0]
                v = hb[j + 2:j + 2 + ln]
                headers[name] = v.decode() if t == 7 else v
                j += 2 + ln
            else:
                size = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}[t]
                raw = hb[j:j + size]
                headers[name] = raw if t == 9 else int.from_bytes(raw, "big", signed=True)
                j += size
        out.append((headers, msg[12 + hlen:-4]))
        i += total
    return out


# ----------------------------------------------------------------------------------------------
# Replies
# ----------------------------------------------------------------------------------------------

def bedrock_answer(text: Optional[str] = "Hello from mock bedrock", *, chunks: Optional[list] = None,
                   reasoning: Optional[list] = None, tool_calls: Optional[list] = None,
                   stop_reason: Optional[str] = None, usage: Optional[dict] = None,
                   delay: float = 0.0, first_delay: float = 0.0, header_delay: float = 0.0,
                   drop_after: Optional[int] = None, rst: bool = False, complete: bool = True,
                   metadata_first: bool = False, exception: Optional[tuple] = None,
                   corrupt_event: Optional[int] = None, split: int = 0,
                   headers: Optional[dict] = None) -> Reply:
    """A successful Bedrock answer: Converse JSON on /converse, event stream on /converse-stream.

    text / chunks: the assistant text (chunks = the stream's text deltas; default: `text` in 3 parts).
    reasoning: list of reasoning-text deltas. tool_calls: [{"name", "input": dict, "id"?,
    "fragments"?: [str]}] (fragments = how the input JSON is split in the stream).
    Stream controls: delay between events, first_delay before the first, drop_after=N (close the
    connection abruptly after N events), complete=False (end cleanly without messageStop/metadata),
    metadata_first (metadata before messageStop), exception=(type, message, after_n_events) (an
    `:message-type exception` frame, then the stream ends), corrupt_event=N (flip a payload byte of
    event N: bad message CRC), split=B (write frames in B-byte pieces).
    """
    spec = dict(text=text, chunks=chunks, reasoning=reasoning, tool_calls=tool_calls or [],
                stop_reason=stop_reason, usage=usage, complete=complete, metadata_first=metadata_first,
                exception=exception, corrupt_event=corrupt_event)
    r = Reply("bedrock", status=200, headers=dict(headers or {}), body=spec, delay=header_delay,
              chunk_delay=delay, first_chunk_delay=first_delay, drop_after=drop_after, rst=rst, split=split)
    return r


def bedrock_recorded_stream(path: str, **kw) -> Reply:
    """Replays a recorded .eventstream body verbatim (e.g. the conformance fixtures)."""
    with open(path, "rb") as f:
        data = f.read()
    frames, i = [], 0
    while i < len(data):
        total = struct.unpack(">I", data[i:i + 4])[0]
        frames.append(data[i:i + total])
        i += total
    return Reply("bedrock_raw_stream", status=200, body=frames, chunk_delay=kw.get("delay", 0.0),
                 drop_after=kw.get("drop_after"), split=kw.get("split", 0))


def bedrock_error(status: int, error_type: str, message: str, headers: Optional[dict] = None,
                  with_header: bool = True, delay: float = 0.0) -> Reply:
    """An AWS restJson1 error: {"message": ...} + x-amzn-ErrorType (with_header=False: only the
    body's __type, as some front ends answer)."""
    h = {"x-amzn-RequestId": "00000000-0000-0000-0000-000000000000"}
    body: dict = {"message": message}
    if with_header:
        h["x-amzn-ErrorType"] = f"{error_type}:{AWS_NS}"
    else:
        body["__type"] = f"com.amazon.coral.service#{error_type}"
    h.update(headers or {})
    return Reply.json(body, status=status, headers=h, delay=delay)


def bedrock_throttling(message: str = "Too many requests, please wait before trying again.", **kw) -> Reply:
    return bedrock_error(429, "ThrottlingException", message, **kw)


def bedrock_unavailable(message: str = "Bedrock is unable to process your request.", **kw) -> Reply:
    return bedrock_error(503, "ServiceUnavailableException", message, **kw)


def _usage(spec: dict) -> dict:
    u = {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18}
    u.update(spec.get("usage") or {})
    if "totalTokens" not in (spec.get("usage") or {}):
        u["totalTokens"] = (u["inputTokens"] + u["outputTokens"] + u.get("cacheReadInputTokens", 0)
                            + u.get("cacheWriteInputTokens", 0))
    return u


def _stop_reason(spec: dict) -> str:
    return spec.get("stop_reason") or ("tool_use" if spec["tool_calls"] else "end_turn")


def converse_json(spec: dict) -> dict:
    content: list = []
    if spec.get("reasoning"):
        content.append({"reasoningContent": {"reasoningText": {"text": "".join(spec["reasoning"]),
                                                               "signature": "c2lnbmF0dXJl"}}})
    text = "".join(spec["chunks"]) if spec.get("chunks") is not None else spec.get("text")
    if text:
        content.append({"text": text})
    for k, tc in enumerate(spec["tool_calls"]):
        content.append({"toolUse": {"toolUseId": tc.get("id") or f"tooluse_mock{k}", "name": tc["name"],
                                    "input": tc.get("input", {})}})
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": _stop_reason(spec), "usage": _usage(spec), "metrics": {"latencyMs": 42}}


def converse_stream_frames(spec: dict) -> list[bytes]:
    ev: list[bytes] = [encode_event("messageStart", {"role": "assistant"})]
    idx = 0
    if spec.get("reasoning"):
        for r in spec["reasoning"]:
            ev.append(encode_event("contentBlockDelta", {"contentBlockIndex": idx,
                                                         "delta": {"reasoningContent": {"text": r}}}))
        ev.append(encode_event("contentBlockDelta", {"contentBlockIndex": idx,
                                                     "delta": {"reasoningContent": {"signature": "c2ln"}}}))
        ev.append(encode_event("contentBlockStop", {"contentBlockIndex": idx}))
        idx += 1
    chunks = spec.get("chunks")
    if chunks is None and spec.get("text"):
        t = spec["text"]
        n = max(1, len(t) // 3)
        chunks = [t[i:i + n] for i in range(0, len(t), n)]
    if chunks:
        for c in chunks:
            ev.append(encode_event("contentBlockDelta", {"contentBlockIndex": idx, "delta": {"text": c}}))
        ev.append(encode_event("contentBlockStop", {"contentBlockIndex": idx}))
        idx += 1
    for k, tc in enumerate(spec["tool_calls"]):
        ev.append(encode_event("contentBlockStart", {"contentBlockIndex": idx, "start": {"toolUse": {
            "toolUseId": tc.get("id") or f"tooluse_mock{k}", "name": tc["name"]}}}))
        frags = tc.get("fragments")
        if frags is None:
            s = json.dumps(tc.get("input", {}), separators=(",", ":"))
            frags = [s[:len(s) // 2], s[len(s) // 2:]] if len(s) > 2 else [s]
        for f in frags:
            ev.append(encode_event("contentBlockDelta", {"contentBlockIndex": idx,
                                                         "delta": {"toolUse": {"input": f}}}))
        ev.append(encode_event("contentBlockStop", {"contentBlockIndex": idx}))
        idx += 1
    exc = spec.get("exception")
    if exc:
        etype, msg, after = (list(exc) + [None])[:3]
        after = len(ev) if after is None else min(after, len(ev))
        return ev[:after] + [encode_exception(etype, msg)]
    if spec.get("corrupt_event") is not None:
        n = spec["corrupt_event"]
        f = bytearray(ev[n])
        f[-6] ^= 0x01  # a payload byte: the message CRC no longer matches
        ev[n] = bytes(f)
    if not spec.get("complete", True):
        return ev
    stop = encode_event("messageStop", {"stopReason": _stop_reason(spec)})
    meta = encode_event("metadata", {"usage": _usage(spec), "metrics": {"latencyMs": 42}})
    return ev + ([meta, stop] if spec.get("metadata_first") else [stop, meta])


# ----------------------------------------------------------------------------------------------
# SigV4 verification with botocore
# ----------------------------------------------------------------------------------------------

_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                      r"SignedHeaders=([a-z0-9;\-]+), Signature=([0-9a-f]{64})$")


def verify_sigv4(method: str, target: str, header_list: list, body: bytes, credentials: dict,
                 now: Optional[float] = None, max_skew: float = 300.0,
                 service: str = "bedrock") -> dict:
    """Recomputes the signature of a received request with botocore.

    credentials: access key id -> secret key, or -> (secret key, session token).
    Returns {"ok", "error_type", "error", "akid", "region", "service", "signed_headers", "expected"}.
    """
    hl = {}
    for k, v in header_list:
        hl.setdefault(k.lower(), []).append(v)
    res: dict = {"ok": False, "error_type": "", "error": "", "akid": None, "region": None, "service": None}
    authz = (hl.get("authorization") or [""])[0]
    m = _AUTH_RE.match(authz)
    if not m:
        res.update(error_type="IncompleteSignatureException",
                   error="Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'")
        return res
    akid, date, region, svc, signed, sig = m.groups()
    res.update(akid=akid, region=region, service=svc, signed_headers=signed)
    cred = credentials.get(akid)
    if cred is None:
        res.update(error_type="UnrecognizedClientException",
                   error="The security token included in the request is invalid.")
        return res
    secret, token = (cred, None) if isinstance(cred, str) else cred
    amz_date = (hl.get("x-amz-date") or [""])[0]
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        res.update(error_type="IncompleteSignatureException", error="X-Amz-Date is missing or malformed")
        return res
    if date != amz_date[:8] or svc != service:
        res.update(error_type="InvalidSignatureException", error="Credential should be scoped correctly")
        return res
    skew = abs((now if now is not None else time.time()) - t.timestamp())
    if skew > max_skew:
        res.update(error_type="InvalidSignatureException",
                   error=f"Signature expired: {amz_date} is now earlier or later than the allowed skew")
        return res
    got_token = (hl.get("x-amz-security-token") or [None])[0]
    if token != got_token:
        res.update(error_type="UnrecognizedClientException",
                   error="The security token included in the request is invalid.")
        return res
    names = signed.split(";")
    for required in ("host", "x-amz-date"):
        if required not in names:
            res.update(error_type="InvalidSignatureException", error=f"'{required}' must be a signed header")
            return res
    if token is not None and "x-amz-security-token" not in names:
        res.update(error_type="InvalidSignatureException", error="'x-amz-security-token' must be signed")
        return res
    host = hl["host"][0]
    headers = [(n, v) for n in names for v in hl.get(n, [])]
    req = AWSRequest(method=method, url=f"http://{host}{target}", data=body)
    for n, v in headers:  # HTTPHeaders keeps duplicates, like the wire
        req.headers[n] = v
    req.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(akid, secret, token), svc, region)
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    expected = auth.signature(sts, req)
    res["expected"] = expected
    res["canonical_request"] = canonical
    recomputed_signed = auth.signed_headers(auth.headers_to_sign(req))
    if recomputed_signed != signed:
        res.update(error_type="InvalidSignatureException",
                   error=f"SignedHeaders mismatch: {signed} vs {recomputed_signed}")
        return res
    if expected != sig:
        res.update(error_type="InvalidSignatureException",
                   error="The request signature we calculated does not match the signature you provided. "
                         "Check your AWS Secret Access Key and signing method.")
        return res
    res["ok"] = True
    return res


# ----------------------------------------------------------------------------------------------
# Server
# ----------------------------------------------------------------------------------------------

_PATH_RE = re.compile(r"^/model/([^/]+)/(converse|converse-stream|invoke)$")  # invoke: embeddings (mock_embeddings)

CONVERSE_MEMBERS = {"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig",
                    "additionalModelRequestFields", "promptVariables", "additionalModelResponseFieldPaths",
                    "requestMetadata", "performanceConfig", "outputConfig", "serviceTier"}


def converse_body_problem(model_id: str, body: Any) -> Optional[str]:
    """What Bedrock's validation would refuse in a Converse body (None: nothing)."""
    if not isinstance(body, dict):
        return "Malformed input request: the body is not a JSON object"
    extra = sorted(set(body) - CONVERSE_MEMBERS)
    if extra:
        return f"Malformed input request: extraneous key [{extra[0]}] is not permitted"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "A conversation must start with a user message."
    oc = body.get("outputConfig")
    if oc is not None:
        tf = oc.get("textFormat") if isinstance(oc, dict) else None
        if not isinstance(tf, dict) or tf.get("type") != "json_schema":
            return "outputConfig.textFormat.type: Member must satisfy enum value set: [json_schema]"
        js = (tf.get("structure") or {}).get("jsonSchema") if isinstance(tf.get("structure"), dict) else None
        if not isinstance(js, dict) or not isinstance(js.get("schema"), str):
            return "outputConfig.textFormat.structure.jsonSchema.schema: Member must not be null and must be a string"
        try:
            schema = json.loads(js["schema"])
        except ValueError:
            return "The provided JSON schema is not valid JSON"
        if not isinstance(schema, dict):
            return "The provided JSON schema must be an object"
    extra_fields = body.get("additionalModelRequestFields") or {}
    ic = body.get("inferenceConfig") or {}
    thinking = extra_fields.get("thinking") if isinstance(extra_fields, dict) else None
    if thinking is not None and "anthropic.claude" in model_id:
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if kind not in ("enabled", "adaptive", "disabled"):
            return "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'"
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or budget < 1024:
                return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            if "maxTokens" in ic and budget >= ic["maxTokens"]:
                return "`max_tokens` must be greater than `thinking.budget_tokens`"
        if kind in ("enabled", "adaptive"):
            if "temperature" in ic and ic["temperature"] != 1:
                return "`temperature` may only be set to 1 when thinking is enabled"
            if "top_k" in extra_fields:
                return "`top_k` is not supported when thinking is enabled"
    return None


class MockBedrock(MockProvider):
    def __init__(self, name: str = "bedrock", credentials: Optional[dict] = None,
                 api_keys: Iterable[str] = (), region: Optional[str] = None, max_skew: float = 300.0,
                 verify: bool = True, strict_body: bool = False, **kw):
        """credentials: access key id -> secret, or -> (secret, session token).
        api_keys: accepted Bedrock API keys (Authorization: Bearer).
        region: if set, a Credential scoped to another region is refused."""
        kw.setdefault("default", bedrock_answer())
        super().__init__(name=name, **kw)
        self.credentials = dict(credentials or {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
        self.api_keys = set(api_keys)
        self.region = region
        self.max_skew = max_skew
        self.verify = verify
        self.strict_body = strict_body
        self.signature_failures = 0

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._defaults = {None: bedrock_answer()}

    @staticmethod
    def request_key(req: RecordedRequest) -> Optional[str]:
        a = req.header("authorization") or ""
        if a.lower().startswith("bearer "):
            return a[7:]
        m = re.search(r"Credential=([^/,\s]+)/", a)
        return m.group(1) if m else None

    def requests_for(self, key: str) -> list:
        with self._lock:
            return [r for r in self.requests if self.request_key(r) == key]

    def _check(self, req: RecordedRequest) -> Optional[Reply]:
        """Authentication and routing as AWS would do it; None = go ahead."""
        m = _PATH_RE.match(req.path)
        req.model_id = urllib.parse.unquote(m.group(1)) if m else None
        req.stream = bool(m and m.group(2) == "converse-stream")
        req.sigv4 = None
        if req.method != "POST" or not m:
            return bedrock_error(404, "UnknownOperationException", f"no operation for {req.method} {req.path}")
        auth = req.header("authorization") or ""
        if auth.lower().startswith("bearer "):
            if auth[7:] in self.api_keys:
                return None
            return bedrock_error(403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix")
        if not self.verify:
            return None
        res = verify_sigv4(req.method, req.target, req.header_list, req.body, self.credentials,
                           max_skew=self.max_skew)
        req.sigv4 = res
        if res["ok"] and self.region and res["region"] != self.region:
            res.update(ok=False, error_type="InvalidSignatureException",
                       error=f"Credential should be scoped to a valid region, not '{res['region']}'")
        if not res["ok"]:
            with self._lock:
                self.signature_failures += 1
            status = 400 if res["error_type"] == "IncompleteSignatureException" else 403
            return bedrock_error(status, res["error_type"], res["error"])
        return None

    def _pick(self, req: RecordedRequest) -> Reply:
        bad = self._check(req)
        if bad is not None:
            return bad
        if self.strict_body:
            try:
                body = json.loads(req.body)
            except ValueError:
                body = None
            problem = converse_body_problem(req.model_id or "", body)
            if problem:
                return bedrock_error(400, "ValidationException", problem)
        if self.handler is not None:
            r = self.handler(req)
            if r is not None:
                return r
        key = self.request_key(req)
        with self._lock:
            for i, (k, reply) in enumerate(self._queue):
                if k is None or (key is not None and k == key):
                    del self._queue[i]
                    return reply
            if key is not None and key in self._defaults:
                return self._defaults[key]
            return self._defaults[None]

    def _send(self, sock, req: RecordedRequest, reply: Reply) -> bool:
        if reply.kind == "bedrock" and not getattr(req, "stream", False):
            body = converse_json(reply.body)
            return super()._send(sock, req, Reply.json(body, status=reply.status, delay=reply.delay,
                                                       headers={"x-amzn-RequestId": "mock-req-id",
                                                                **reply.headers}, close=reply.close))
        if reply.kind not in ("bedrock", "bedrock_raw_stream"):
            return super()._send(sock, req, reply)
        if reply.delay:
            time.sleep(reply.delay)
        frames = converse_stream_frames(reply.body) if reply.kind == "bedrock" else list(reply.body)
        close = reply.close or (req.header("connection") or "").lower() == "close"
        hdrs = {"Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                "Content-Type": "application/vnd.amazon.eventstream",
                "Transfer-Encoding": "chunked", "x-amzn-RequestId": "mock-req-id"}
        hdrs.update(reply.headers)
        if close:
            hdrs["Connection"] = "close"
        head = self._status_line(reply.status) + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()).encode() + b"\r\n"
        sock.sendall(head)

        def write(data: bytes) -> None:
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

        try:
            return self._send_events(sock, reply, frames, write, close)
        except (BrokenPipeError, ConnectionResetError):
            with self._lock:
                self.aborted_streams += 1
            raise
