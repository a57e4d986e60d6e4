"""A scriptable mock of an OpenAI-compatible chat-completions provider.

Threaded HTTP/1.1 server (one thread per connection, keep-alive, chunked transfer for streams,
optional TLS).  Every request is recorded; what the server answers is scripted per test:

    mock = MockProvider(name="a").start()
    mock.enqueue(Reply.error(429, "slow down", headers={"Retry-After": "2"}))   # next request
    mock.set_default(Reply.completion("hi"))                                    # afterwards
    mock.enqueue(Reply.stream(["He", "llo"], delay=0.3), key="sk-a")            # only for key sk-a
    ...
    mock.requests   # list of RecordedRequest
    mock.stop()

A reply is chosen for each request in this order: `mock.handler(req)` if set and it returns a
Reply; the first queued reply whose key matches; the default for that key; the global default.
"key" matching means the secret appears in the Authorization, api-key or x-api-key header.

Stdlib only.
"""

from __future__ import annotations

import itertools
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

__all__ = ["MockProvider", "Reply", "RecordedRequest", "completion_body", "chunk_body"]

_conn_ids = itertools.count(1)
_resp_ids = itertools.count(1)


# ----------------------------------------------------------------------------------------------
# Wire-format builders (docs/wire-formats.md, OpenAI Chat Completions → Non-streaming response,
# → Streaming chunks)
# ----------------------------------------------------------------------------------------------

def completion_body(content: str, model: str, usage: Optional[dict] = None,
                    finish_reason: str = "stop", resp_id: Optional[str] = None) -> dict:
    if usage is None:
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return {
        "id": resp_id or f"chatcmpl-mock{next(_resp_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": usage,
        "system_fingerprint": "fp_mock",
    }


def chunk_body(resp_id: str, created: int, model: str, delta: Optional[dict] = None,
               finish_reason: Optional[str] = None, usage: Any = None,
               no_choices: bool = False) -> dict:
    return {
        "id": resp_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [] if no_choices else [{
            "index": 0, "delta": delta if delta is not None else {},
            "logprobs": None, "finish_reason": finish_reason,
        }],
        "usage": usage,
    }


def openai_error_body(message: str, type_: str = "server_error", code: Any = None,
                      param: Any = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# ----------------------------------------------------------------------------------------------
# Replies
# ----------------------------------------------------------------------------------------------

@dataclass
class Reply:
    """One scripted answer.  Build with the classmethods."""
    kind: str                       # "json", "stream", "raw", "drop"
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: Any = None                # json: dict or callable(req)->dict; raw: bytes/str
    delay: float = 0.0              # seconds before the status line is sent
    # stream only
    chunks: Optional[list] = None   # str (content delta) or dict (verbatim chunk object)
    chunk_delay: float = 0.0        # seconds between events
    first_chunk_delay: float = 0.0  # seconds between the headers and the first event
    done: bool = True               # send data: [DONE]
    drop_after: Optional[int] = None  # abruptly close after this many events (no terminator)
    usage: Optional[dict] = None
    finish_reason: str = "stop"
    rst: bool = False               # drop with a TCP RST instead of a FIN
    chunked: bool = True            # Transfer-Encoding: chunked (streams: else close-delimited;
                                    # json: only if json_chunked)
    close: bool = False             # send Connection: close and close after the reply
    json_chunked: bool = False      # json/raw: send the body chunked instead of Content-Length
    split: int = 0                  # stream: write each event in pieces of this many bytes
    crlf: bool = False              # stream: CRLF line endings in the SSE framing

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def completion(cls, content: str = "Hello from mock", *, model: Optional[str] = None,
                   usage: Optional[dict] = None, status: int = 200, headers: Optional[dict] = None,
                   delay: float = 0.0, finish_reason: str = "stop", close: bool = False,
                   chunked: bool = False) -> "Reply":
        """A chat.completion JSON body; `model` defaults to the model the request asked for.
        chunked=True sends it with Transfer-Encoding: chunked (as real providers often do)."""
        def build(req: "RecordedRequest", mock: "MockProvider") -> dict:
            m = model or (req.json or {}).get("model") or "mock-model"
            c = content.replace("{mock}", mock.name)
            return completion_body(c, m, usage=usage, finish_reason=finish_reason)
        return cls("json", status=status, headers=dict(headers or {}), body=build, delay=delay,
                   close=close, json_chunked=chunked)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Optional[dict] = None,
             delay: float = 0.0, close: bool = False) -> "Reply":
        return cls("json", status=status, headers=dict(headers or {}), body=obj, delay=delay,
                   close=close)

    @classmethod
    def error(cls, status: int, message: str = "mock upstream error", *, type_: Optional[str] = None,
              code: Any = None, param: Any = None, headers: Optional[dict] = None,
              delay: float = 0.0, close: bool = False) -> "Reply":
        """An OpenAI-shaped error body with `status` (e.g. 429 + {"Retry-After": "2"}, 500, 529)."""
        if type_ is None:
            type_ = "requests" if status == 429 else ("server_error" if status >= 500
                                                       else "invalid_request_error")
        return cls("json", status=status, headers=dict(headers or {}),
                   body=openai_error_body(message, type_, code, param), delay=delay, close=close)

    @classmethod
    def raw(cls, status: int, body: bytes | str = b"", headers: Optional[dict] = None,
            delay: float = 0.0, close: bool = False) -> "Reply":
        """Arbitrary status + headers + body bytes (Content-Length added unless given)."""
        if isinstance(body, str):
            body = body.encode()
        return cls("raw", status=status, headers=dict(headers or {}), body=body, delay=delay,
                   close=close)

    @classmethod
    def stream(cls, chunks: Optional[list] = None, *, delay: float = 0.0, first_delay: float = 0.0,
               done: bool = True, drop_after: Optional[int] = None, usage: Optional[dict] = None,
               finish_reason: str = "stop", headers: Optional[dict] = None, status: int = 200,
               model: Optional[str] = None, rst: bool = False, chunked: bool = True,
               header_delay: float = 0.0, split: int = 0, crlf: bool = False) -> "Reply":
        """An SSE chat.completion.chunk stream.

        chunks: list of content strings (each becomes one delta event) and/or full chunk dicts
        (sent verbatim).  With only strings, the stream is: role chunk, one chunk per string,
        finish chunk, usage chunk (only if the request has stream_options.include_usage), [DONE].
        delay: seconds between events.  drop_after=N: close the connection abruptly after N events
        (counting every event sent, role chunk included).  done=False: end the body cleanly
        (terminating zero-length chunk) but without the [DONE] event.
        """
        r = cls("stream", status=status, headers=dict(headers or {}), delay=header_delay,
                chunks=list(chunks) if chunks is not None else ["Hello", " from", " mock"],
                chunk_delay=delay, first_chunk_delay=first_delay, done=done,
                drop_after=drop_after, usage=usage, finish_reason=finish_reason, rst=rst,
                chunked=chunked, split=split, crlf=crlf)
        r.body = model
        return r

    @classmethod
    def drop(cls, delay: float = 0.0, rst: bool = True) -> "Reply":
        """Read the request, then close the connection without answering."""
        return cls("drop", delay=delay, rst=rst)


# ----------------------------------------------------------------------------------------------
# Recording
# ----------------------------------------------------------------------------------------------

@dataclass
class RecordedRequest:
    method: str
    target: str                     # raw request target (path + query)
    path: str
    query: str                      # raw query string ("" if none)
    query_params: dict              # parse_qs result
    version: str
    header_list: list               # [(name, value)] in wire order, original case
    body: bytes
    conn_id: int                    # which TCP/TLS connection carried it
    conn_seq: int                   # 1 for the first request on that connection, 2, ...
    time: float                     # time.monotonic() when the request was complete
    tls: bool
    sni: Optional[str]
    reply: Optional[Reply] = None

    @property
    def headers(self) -> dict:
        """Lower-cased header name -> value (last one wins)."""
        return {k.lower(): v for k, v in self.header_list}

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())

    def header_count(self, name: str) -> int:
        return sum(1 for k, _ in self.header_list if k.lower() == name.lower())

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except Exception:
            return None

    def carries(self, secret: str) -> bool:
        """True if `secret` appears anywhere in this request (target, headers or body)."""
        s = secret.encode()
        if s in self.body or s in self.target.encode():
            return True
        return any(secret in k or secret in v for k, v in self.header_list)

    def auth_secret(self) -> Optional[str]:
        """The credential this request presented (Authorization Bearer, api-key or x-api-key)."""
        h = self.headers
        a = h.get("authorization")
        if a and a.lower().startswith("bearer "):
            return a[7:]
        return h.get("api-key") or h.get("x-api-key")


# ----------------------------------------------------------------------------------------------
# Server
# ----------------------------------------------------------------------------------------------

class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    block_on_close = False


class _Closed(Exception):
    pass


class _Conn:
    """Buffered reader over a socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise _Closed()
        self.buf += data

    def readline(self, limit: int = 65536) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if len(self.buf) > limit:
                raise _Closed()
            self._fill()

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class MockProvider:
    def __init__(self, name: str = "mock", host: str = "127.0.0.1", port: int = 0,
                 tls: Optional[tuple] = None, default: Optional[Reply] = None):
        """tls: (certfile, keyfile) to serve HTTPS."""
        self.name = name
        self.host = host
        self._want_port = port
        self.tls = tls
        self.requests: list[RecordedRequest] = []
        self.handler: Optional[Callable[[RecordedRequest], Optional[Reply]]] = None
        self.errors: list[str] = []       # exceptions inside the mock (tests may assert empty)
        self.handshake_failures = 0
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._queue: list[tuple[Optional[str], Reply]] = []
        self._defaults: dict[Optional[str], Reply] = {None: default or Reply.completion()}
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._ssl_ctx: Optional[ssl.SSLContext] = None
        self._open: set = set()
        self.connections = 0
        self.idle_timeout: Optional[float] = None   # close idle keep-alive connections after this
        self.idle_closes = 0
        self.aborted_streams = 0    # streams the peer (the gateway) closed before we finished

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "MockProvider":
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls[0], self.tls[1])
            ctx.set_alpn_protocols(["http/1.1"])

            def sni_cb(sslsock, server_name, _ctx):
                sslsock.mock_sni = server_name
            ctx.sni_callback = sni_cb
            self._ssl_ctx = ctx
        mock = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:  # noqa: D401
                mock._serve_connection(self.request)

        self._server = _Server((self.host, self._want_port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"mock-{self.name}", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "mock not started"
        return self._server.server_address[1]

    def base_url(self, host: Optional[str] = None, path: str = "/v1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                conns = list(self._open)
            for s in conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._server = None

    def __enter__(self) -> "MockProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------------
    def enqueue(self, *replies: Reply, key: Optional[str] = None) -> None:
        """Answer the next requests (carrying `key`, if given) with these replies, in order."""
        with self._lock:
            for r in replies:
                self._queue.append((key, r))

    def set_default(self, reply: Reply, key: Optional[str] = None) -> None:
        """Answer with `reply` whenever the queue has nothing for the request."""
        with self._lock:
            self._defaults[key] = reply

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._defaults = {None: Reply.completion()}
            self.requests.clear()
            self.handler = None

    # -- inspection ------------------------------------------------------------------------------
    def requests_for(self, secret: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.auth_secret() == secret]

    def wait_requests(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"mock {self.name}: expected >= {n} requests, got {len(self.requests)}")
                self._cv.wait(left)
            return list(self.requests)

    # -- internals -------------------------------------------------------------------------------
    def _pick(self, req: RecordedRequest) -> Reply:
        if self.handler is not None:
            r = self.handler(req)
            if r is not None:
                return r
        secret = req.auth_secret()
        with self._lock:
            for i, (key, reply) in enumerate(self._queue):
                if key is None or (secret is not None and key == secret):
                    del self._queue[i]
                    return reply
            if secret is not None and secret in self._defaults:
                return self._defaults[secret]
            return self._defaults[None]

    def _serve_connection(self, sock: socket.socket) -> None:
        conn_id = next(_conn_ids)
        sni = None
        with self._lock:
            self.connections += 1
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl_ctx is not None:
                try:
                    sock.settimeout(10)
                    sock = self._ssl_ctx.wrap_socket(sock, server_side=True)
                    sock.settimeout(None)
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self.handshake_failures += 1
                    return
                sni = getattr(sock, "mock_sni", None)
            with self._lock:
                self._open.add(sock)
            conn = _Conn(sock)
            seq = 0
            while True:
                seq += 1
                if seq > 1 and self.idle_timeout is not None and not conn.buf:
                    sock.settimeout(self.idle_timeout)
                    try:
                        conn._fill()
                    except socket.timeout:
                        with self._lock:
                            self.idle_closes += 1
                        return  # like a server-side keepalive_timeout: close the idle connection
                    finally:
                        sock.settimeout(None)
                req = self._read_request(conn, conn_id, seq, sni)
                if req is None:
                    return
                reply = self._pick(req)
                req.reply = reply
                with self._cv:
                    self.requests.append(req)
                    self._cv.notify_all()
                keep = self._send(sock, req, reply)
                if not keep:
                    return
        except (_Closed, ConnectionError, ssl.SSLError, OSError):
            return
        except Exception as e:  # a bug in the mock: record it, tests can check mock.errors
            with self._lock:
                self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            with self._lock:
                self._open.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _read_request(self, conn: _Conn, conn_id: int, seq: int,
                      sni: Optional[str]) -> Optional[RecordedRequest]:
        try:
            line = conn.readline()
        except _Closed:
            return None
        while line in (b"\r\n", b"\n"):
            line = conn.readline()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3:
            raise _Closed()
        method, target, version = parts
        headers = []
        while True:
            h = conn.readline()
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").rstrip("\r\n").partition(":")
            headers.append((k.strip(), v.strip()))
        hl = {k.lower(): v for k, v in headers}
        body = b""
        if "chunked" in hl.get("transfer-encoding", "").lower():
            while True:
                size = int(conn.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while conn.readline() not in (b"\r\n", b"\n"):
                        pass
                    break
                body += conn.read(size)
                conn.readline()
        elif "content-length" in hl:
            body = conn.read(int(hl["content-length"]))
        parsed = urllib.parse.urlsplit(target)
        return RecordedRequest(
            method=method, target=target, path=parsed.path, query=parsed.query,
            query_params=urllib.parse.parse_qs(parsed.query), version=version,
            header_list=headers, body=body, conn_id=conn_id, conn_seq=seq,
            time=time.monotonic(), tls=self._ssl_ctx is not None, sni=sni)

    @staticmethod
    def _status_line(status: int) -> bytes:
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                   404: "Not Found", 408: "Request Timeout", 409: "Conflict",
                   413: "Payload Too Large", 422: "Unprocessable Entity",
                   429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                   503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded"}
        return f"HTTP/1.1 {status} {reasons.get(status, 'Status')}\r\n".encode()

    @staticmethod
    def _abort(sock: socket.socket, rst: bool) -> None:
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif not rst:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, sock: socket.socket, req: RecordedRequest, reply: Reply) -> bool:
        """Writes the reply; returns True if the connection may carry another request."""
        if reply.delay:
            time.sleep(reply.delay)
        client_close = (req.header("connection") or "").lower() == "close"
        close = reply.close or client_close
        if reply.kind == "drop":
            self._abort(sock, reply.rst)
            return False
        hdrs = {"Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                "x-request-id": f"req-{self.name}-{req.conn_id}-{req.conn_seq}"}
        if reply.kind in ("json", "raw"):
            if reply.kind == "json":
                obj = reply.body(req, self) if callable(reply.body) else reply.body
                payload = json.dumps(obj).encode()
                hdrs["Content-Type"] = "application/json"
            else:
                payload = reply.body or b""
            if reply.json_chunked:
                hdrs["Transfer-Encoding"] = "chunked"
            else:
                hdrs["Content-Length"] = str(len(payload))
            hdrs.update(reply.headers)
            if close:
                hdrs["Connection"] = "close"
            head = self._status_line(reply.status) + "".join(
                f"{k}: {v}\r\n" for k, v in hdrs.items()).encode() + b"\r\n"
            if reply.json_chunked:
                sock.sendall(head)
                step = max(1, len(payload) // 3)
                for i in range(0, len(payload), step):
                    part = payload[i:i + step]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(head + payload)
            return not close
        # stream
        hdrs["Content-Type"] = "text/event-stream; charset=utf-8"
        hdrs["Cache-Control"] = "no-cache"
        if reply.chunked:
            hdrs["Transfer-Encoding"] = "chunked"
        else:
            close = True
        hdrs.update(reply.headers)
        if close:
            hdrs["Connection"] = "close"
        head = self._status_line(reply.status) + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()).encode() + b"\r\n"
        sock.sendall(head)
        events = self._stream_events(req, reply)

        def write(data: bytes) -> None:
            if reply.chunked:
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                sock.sendall(data)

        try:
            return self._send_events(sock, reply, events, write, close)
        except (BrokenPipeError, ConnectionResetError):
            with self._lock:
                self.aborted_streams += 1
            raise

    def _send_events(self, sock, reply: Reply, events: list, write, close: bool) -> bool:
        if reply.first_chunk_delay:
            time.sleep(reply.first_chunk_delay)
        for i, ev in enumerate(events):
            if reply.drop_after is not None and i >= reply.drop_after:
                self._abort(sock, reply.rst)
                return False
            if i and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            if reply.split:
                for j in range(0, len(ev), reply.split):
                    write(ev[j:j + reply.split])
                    time.sleep(0.001)
            else:
                write(ev)
        if reply.drop_after is not None:
            self._abort(sock, reply.rst)
            return False
        if reply.chunked:
            sock.sendall(b"0\r\n\r\n")
        return not close

    def _stream_events(self, req: RecordedRequest, reply: Reply) -> list[bytes]:
        body = req.json if isinstance(req.json, dict) else {}
        model = reply.body or body.get("model") or "mock-model"
        want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        rid = f"chatcmpl-mock{next(_resp_ids)}"
        created = int(time.time())
        objs: list[Any] = []
        only_text = all(isinstance(c, str) for c in reply.chunks or [])
        if only_text:
            objs.append(chunk_body(rid, created, model, {"role": "assistant", "content": ""}))
            for c in reply.chunks:
                objs.append(chunk_body(rid, created, model, {"content": c}))
            objs.append(chunk_body(rid, created, model, {}, finish_reason=reply.finish_reason))
            if want_usage:
                usage = reply.usage or {"prompt_tokens": 11, "completion_tokens": len(reply.chunks),
                                        "total_tokens": 11 + len(reply.chunks)}
                objs.append(chunk_body(rid, created, model, usage=usage, no_choices=True))
        else:
            for c in reply.chunks:
                objs.append(chunk_body(rid, created, model, {"content": c}) if isinstance(c, str)
                            else c)
        end = b"\r\n\r\n" if reply.crlf else b"\n\n"
        out = [b"data: " + (o if isinstance(o, bytes) else json.dumps(o).encode()) + end
               for o in objs]
        if reply.done:
            out.append(b"data: [DONE]" + end)
        return out


# ----------------------------------------------------------------------------------------------
# Strict OpenAI endpoints other than chat (docs/design.md §21): completions, responses,
# moderations, images, audio, rerank, files, batches. Objects live per provider key (the account
# the credential names), so a file created with key A is unknown to key B, as at OpenAI.
# ----------------------------------------------------------------------------------------------

def _multipart(req: RecordedRequest) -> Optional[dict]:
    """Parts of a multipart/form-data body: name -> (filename or None, content type, bytes)."""
    ctype = req.header("content-type") or ""
    if not ctype.lower().startswith("multipart/form-data"):
        return None
    boundary = None
    for param in ctype.split(";")[1:]:
        k, _, v = param.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not boundary:
        return None
    delim = b"--" + boundary.encode()
    body = req.body
    if not body.startswith(delim) or not body.rstrip(b"\r\n").endswith(delim + b"--"):
        return None
    parts = {}
    for chunk in body[len(delim):].split(b"\r\n" + delim):
        if chunk.startswith(b"--"):
            break
        if not chunk.startswith(b"\r\n"):
            return None
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            return None
        name = filename = None
        ptype = "text/plain"
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-disposition":
                for param in v.split(";")[1:]:
                    pk, _, pv = param.strip().partition("=")
                    if pk == "name":
                        name = pv.strip('"')
                    elif pk == "filename":
                        filename = pv.strip('"')
            elif k.strip().lower() == "content-type":
                ptype = v.strip()
        if name is None:
            return None
        parts[name] = (filename, ptype, content)
    return parts


def _err(status: int, message: str, param: Any = None, code: Any = None) -> Reply:
    return Reply.error(status, message, param=param, code=code)


class OpenAIEndpoints:
    """Installs itself as `mock.handler` for every path it knows (chat keeps the mock's script).

        ep = OpenAIEndpoints(mock)
        ep.fail_next("/v1/files", Reply.error(500, "boom"))   # scripted failure for one call
        ep.fail_next("/v1/batches", None, Reply.drop())        # None: that call is served as usual
        ep.page_caps["batches"] = 4                            # list pages of at most 4 (limit clamped)
        ep.files[secret]                                       # the key's files
    """

    PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

    def __init__(self, mock: MockProvider, azure_deployments: Optional[set] = None):
        self.mock = mock
        # Azure's v1 API: /openai/v1/... paths, and a model (JSON or form field) names a deployment
        self.azure_deployments = azure_deployments or set()
        self.files: dict = {}        # secret -> {file id: {"meta": {...}, "content": bytes}}
        self.batches: dict = {}      # secret -> {batch id: {...}}
        self.responses: dict = {}    # secret -> {response id: {...}}
        self.failures: dict = {}     # path -> [Reply | None] (consumed in order; None: served as usual)
        # "files" / "batches" -> the largest list page served: a provider that pages smaller than
        # asked (its answer's has_more says there is more), to exercise paging with few objects
        self.page_caps: dict = {}
        self.uploads: list = []      # (endpoint, secret, filename, bytes) of every multipart file part
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        mock.handler = self.handle

    def fail_next(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.failures.setdefault(path, []).extend(replies)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{self.mock.name}{next(self._ids):04d}"

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, req: RecordedRequest) -> Optional[Reply]:
        if req.path == "/v1/chat/completions":
            return None
        secret = req.auth_secret()
        with self._lock:
            queued = self.failures.get(req.path)
            if queued:
                reply = queued.pop(0)
                if reply is not None:
                    return reply
        if not secret:
            return _err(401, "Missing bearer authentication.", code="invalid_api_key")
        path = req.path
        if self.azure_deployments and path.startswith("/openai/v1/"):
            path = path[len("/openai"):]
            form = _multipart(req)
            body = req.json if form is None and (req.header("content-type") or "").startswith("application/json") else None
            model = form["model"][2].decode() if form and "model" in form else (body or {}).get("model")
            if model is not None and model not in self.azure_deployments:
                return _err(404, "The API deployment for this resource does not exist.", code="DeploymentNotFound")
        parts = path.split("/")[2:]   # after /v1
        route = (req.method, "/".join(p if i == 0 or p in ("content", "cancel", "input_items", "generations",
                                                                  "edits", "transcriptions", "speech") else "{id}"
                                          for i, p in enumerate(parts)))
        handler = {
            ("POST", "completions"): self.completions,
            ("POST", "responses"): self.create_response,
            ("GET", "responses/{id}"): self.get_response,
            ("DELETE", "responses/{id}"): self.delete_response,
            ("POST", "moderations"): self.moderations,
            ("POST", "images/generations"): self.images_generations,
            ("POST", "images/edits"): self.images_edits,
            ("POST", "audio/transcriptions"): self.transcriptions,
            ("POST", "audio/speech"): self.speech,
            ("POST", "rerank"): self.rerank,
            ("POST", "files"): self.upload_file,
            ("GET", "files"): self.list_files,
            ("GET", "files/{id}"): self.get_file,
            ("DELETE", "files/{id}"): self.delete_file,
            ("GET", "files/{id}/content"): self.file_content,
            ("POST", "batches"): self.create_batch,
            ("GET", "batches"): self.list_batches,
            ("GET", "batches/{id}"): self.get_batch,
            ("POST", "batches/{id}/cancel"): self.cancel_batch,
        }.get(route)
        if handler is None:
            return _err(404, f"Invalid URL ({req.method} {req.path})", code="unknown_url")
        ids = [p for i, p in enumerate(parts) if i > 0 and p not in (
            "content", "cancel", "input_items", "generations", "edits", "transcriptions", "speech")]
        with self._lock:
            return handler(req, secret, *ids)

    # -- JSON helpers ---------------------------------------------------------------------------
    @staticmethod
    def _json(req: RecordedRequest, *required: str) -> "dict | Reply":
        if (req.header("content-type") or "").split(";")[0].strip() != "application/json":
            return _err(400, "Content-Type must be application/json.")
        body = req.json
        if not isinstance(body, dict):
            return _err(400, "We could not parse the JSON body of your request.")
        for name in required:
            if name not in body:
                return _err(400, f"Missing required parameter: '{name}'.", param=name,
                            code="missing_required_parameter")
        if "stream" in body and not isinstance(body["stream"], bool):
            return _err(400, "'stream' must be a boolean.", param="stream")
        return body

    @staticmethod
    def _form(req: RecordedRequest, file_field: str, *required: str) -> "dict | Reply":
        """The parts of a multipart body with its file part `file_field` and the fields `required`."""
        parts = _multipart(req)
        if parts is None:
            return _err(400, "Expected multipart/form-data.")
        if file_field not in parts or parts[file_field][0] is None:
            return _err(400, f"Missing required parameter: '{file_field}'.", param=file_field)
        for name in required:
            if name not in parts:
                return _err(400, f"Missing required parameter: '{name}'.", param=name)
        return parts

    @staticmethod
    def _sse(events: list) -> Reply:
        return Reply.raw(200, "".join(events).encode(), headers={"Content-Type": "text/event-stream"})

    # -- completions, responses, moderations, rerank ------------------------------------------------
    def completions(self, req, secret):
        body = self._json(req, "model", "prompt")
        if isinstance(body, Reply):
            return body
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        text = f"completed by {self.mock.name}"
        if body.get("stream"):
            ev = [f"data: {json.dumps({'id': 'cmpl-1', 'object': 'text_completion', 'model': body['model'], 'choices': [{'index': 0, 'text': w, 'finish_reason': None}]})}\n\n"
                  for w in text.split(" ")]
            if (body.get("stream_options") or {}).get("include_usage"):
                ev.append(f"data: {json.dumps({'id': 'cmpl-1', 'object': 'text_completion', 'model': body['model'], 'choices': [], 'usage': usage})}\n\n")
            ev.append("data: [DONE]\n\n")
            return self._sse(ev)
        return Reply.json({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": body["model"],
                           "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                           "usage": usage})

    def _response_object(self, body, rid, status="completed"):
        return {"id": rid, "object": "response", "created_at": 1, "status": status, "model": body["model"],
                "previous_response_id": body.get("previous_response_id"),
                "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": f"response from {self.mock.name}",
                                         "annotations": []}]}],
                "usage": {"input_tokens": 11, "output_tokens": 4, "total_tokens": 15,
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}}}

    def create_response(self, req, secret):
        body = self._json(req, "model", "input")
        if isinstance(body, Reply):
            return body
        store = self.responses.setdefault(secret, {})
        prev = body.get("previous_response_id")
        if prev is not None and prev not in store:
            return _err(404, f"Previous response with id '{prev}' not found.", param="previous_response_id")
        rid = self._id("resp_")
        obj = self._response_object(body, rid)
        if body.get("store", True):
            store[rid] = obj
        if not body.get("stream"):
            return Reply.json(obj)
        started = dict(obj, status="in_progress", output=[], usage=None)
        text = obj["output"][0]["content"][0]["text"]
        item = {"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant", "content": []}
        part = {"type": "output_text", "text": "", "annotations": []}
        done_part = dict(part, text=text)
        at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
        seq = [("response.created", {"response": started}),
               ("response.in_progress", {"response": started}),
               ("response.output_item.added", {"output_index": 0, "item": item}),
               ("response.content_part.added", dict(at, part=part)),
               ("response.output_text.delta", dict(at, delta=text)),
               ("response.output_text.done", dict(at, text=text)),
               ("response.content_part.done", dict(at, part=done_part)),
               ("response.output_item.done", {"output_index": 0, "item": obj["output"][0]}),
               ("response.completed", {"response": obj})]
        events = [(name, dict(data, type=name, sequence_number=n)) for n, (name, data) in enumerate(seq)]
        return self._sse([f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events])

    def get_response(self, req, secret, rid):
        obj = self.responses.get(secret, {}).get(rid)
        return Reply.json(obj) if obj else _err(404, f"Response with id '{rid}' not found.")

    def delete_response(self, req, secret, rid):
        if self.responses.get(secret, {}).pop(rid, None) is None:
            return _err(404, f"Response with id '{rid}' not found.")
        return Reply.json({"id": rid, "object": "response", "deleted": True})

    def moderations(self, req, secret):
        body = self._json(req, "input")
        if isinstance(body, Reply):
            return body
        return Reply.json({"id": "modr-1", "model": body.get("model", "omni-moderation-latest"),
                           "results": [{"flagged": "kill" in json.dumps(body["input"]),
                                        "categories": {"violence": "kill" in json.dumps(body["input"])},
                                        "category_scores": {"violence": 0.5}}]})

    def rerank(self, req, secret):
        body = self._json(req, "model", "query", "documents")
        if isinstance(body, Reply):
            return body
        docs = body["documents"]
        if not isinstance(docs, list) or not docs:
            return _err(400, "'documents' must be a non-empty array.", param="documents")
        ranked = sorted(range(len(docs)), key=lambda i: -len(set(str(docs[i]).split()) & set(body["query"].split())))
        results = [{"index": i, "relevance_score": round(1.0 - n / len(docs), 3)} for n, i in enumerate(ranked)]
        top_n = body.get("top_n")
        if isinstance(top_n, int):
            results = results[:top_n]
        return Reply.json({"id": "rerank-1", "results": results, "meta": {"billed_units": {"search_units": 1}},
                           "usage": {"prompt_tokens": 21, "total_tokens": 21}})

    # -- images and audio -----------------------------------------------------------------------
    def _image_answer(self, model):
        return Reply.json({"created": 1, "data": [{"b64_json": "aW1hZ2U="}],
                           "usage": {"input_tokens": 7, "output_tokens": 50, "total_tokens": 57,
                                     "input_tokens_details": {"text_tokens": 7, "image_tokens": 0}}})

    def images_generations(self, req, secret):
        body = self._json(req, "prompt")
        if isinstance(body, Reply):
            return body
        return self._image_answer(body.get("model"))

    def images_edits(self, req, secret):
        parts = _multipart(req)
        if parts is None:
            return _err(400, "Expected multipart/form-data.")
        image = parts.get("image") or parts.get("image[]")
        if image is None or image[0] is None:
            return _err(400, "Missing required parameter: 'image'.", param="image")
        if not image[2].startswith(self.PNG_MAGIC):
            return _err(400, "Invalid image: must be a PNG.", param="image")
        if "prompt" not in parts:
            return _err(400, "Missing required parameter: 'prompt'.", param="prompt")
        self.uploads.append(("images/edits", secret, image[0], image[2], parts.get("model", (0, 0, b""))[2]))
        return self._image_answer(parts.get("model", (None, None, b""))[2].decode())

    def transcriptions(self, req, secret):
        parts = self._form(req, "file", "model")
        if isinstance(parts, Reply):
            return parts
        self.uploads.append(("audio/transcriptions", secret, parts["file"][0], parts["file"][2], parts["model"][2]))
        return Reply.json({"text": f"heard {len(parts['file'][2])} bytes",
                           "usage": {"type": "tokens", "input_tokens": 30, "output_tokens": 6, "total_tokens": 36}})

    @staticmethod
    def speech_bytes(text: str) -> bytes:
        seed = text.encode()
        return b"ID3" + bytes((seed[i % len(seed)] * 7 + i) & 0xFF for i in range(50000))

    def speech(self, req, secret):
        body = self._json(req, "model", "input", "voice")
        if isinstance(body, Reply):
            return body
        return Reply.raw(200, self.speech_bytes(body["input"]), headers={"Content-Type": "audio/mpeg"})

    # -- files ------------------------------------------------------------------------------------
    def upload_file(self, req, secret):
        parts = self._form(req, "file", "purpose")
        if isinstance(parts, Reply):
            return parts
        fid = self._id("file-")
        meta = {"id": fid, "object": "file", "bytes": len(parts["file"][2]), "created_at": 1,
                "filename": parts["file"][0], "purpose": parts["purpose"][2].decode(), "status": "processed"}
        self.files.setdefault(secret, {})[fid] = {"meta": meta, "content": parts["file"][2]}
        self.uploads.append(("files", secret, parts["file"][0], parts["file"][2], b""))
        return Reply.json(meta)

    def _page(self, req, items: list, default_limit: int, max_limit: int, kind: str) -> "dict | Reply":
        after = (req.query_params.get("after") or [None])[0]
        raw = (req.query_params.get("limit") or [str(default_limit)])[-1]
        if not raw.isdigit() or not 1 <= int(raw) <= max_limit:
            return _err(400, f"Invalid 'limit': must be an integer between 1 and {max_limit}.", param="limit")
        limit = min(int(raw), self.page_caps.get(kind, max_limit))
        if after is not None:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        page = items[:limit]
        return {"object": "list", "data": page, "has_more": len(items) > limit,
                "first_id": page[0]["id"] if page else None, "last_id": page[-1]["id"] if page else None}

    @staticmethod
    def _listed(page: "dict | Reply") -> Reply:
        return page if isinstance(page, Reply) else Reply.json(page)

    def list_files(self, req, secret):
        # OpenAI: limit 1..10000, default 10000
        return self._listed(self._page(req, [f["meta"] for f in self.files.get(secret, {}).values()], 10000, 10000,
                                      "files"))

    def get_file(self, req, secret, fid):
        f = self.files.get(secret, {}).get(fid)
        return Reply.json(f["meta"]) if f else _err(404, f"No such File object: {fid}", param="id")

    def delete_file(self, req, secret, fid):
        if self.files.get(secret, {}).pop(fid, None) is None:
            return _err(404, f"No such File object: {fid}", param="id")
        return Reply.json({"id": fid, "object": "file", "deleted": True})

    def file_content(self, req, secret, fid):
        f = self.files.get(secret, {}).get(fid)
        if not f:
            return _err(404, f"No such File object: {fid}", param="id")
        return Reply.raw(200, f["content"], headers={"Content-Type": "application/octet-stream"})

    # -- batches ----------------------------------------------------------------------------------
    def create_batch(self, req, secret):
        body = self._json(req, "input_file_id", "endpoint", "completion_window")
        if isinstance(body, Reply):
            return body
        f = self.files.get(secret, {}).get(body["input_file_id"])
        if f is None:
            return _err(400, f"Invalid 'input_file_id': file {body['input_file_id']} not found.",
                        param="input_file_id")
        if f["meta"]["purpose"] != "batch":
            return _err(400, "The input file must have purpose 'batch'.", param="input_file_id")
        metadata = body.get("metadata")
        # OpenAI: up to 16 pairs, keys up to 64 characters, string values up to 512
        if metadata is not None and (not isinstance(metadata, dict) or len(metadata) > 16 or any(
                not isinstance(v, str) or len(k) > 64 or len(v) > 512 for k, v in metadata.items())):
            return _err(400, "Invalid 'metadata': at most 16 string pairs.", param="metadata")
        bid = self._id("batch_")
        batch = {"id": bid, "object": "batch", "endpoint": body["endpoint"], "errors": None,
                 "input_file_id": body["input_file_id"], "completion_window": body["completion_window"],
                 "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": 1,
                 "metadata": body.get("metadata")}
        self.batches.setdefault(secret, {})[bid] = batch
        return Reply.json(batch)

    def list_batches(self, req, secret):
        # OpenAI: limit 1..100, default 20
        return self._listed(self._page(req, list(self.batches.get(secret, {}).values()), 20, 100, "batches"))

    def get_batch(self, req, secret, bid):
        b = self.batches.get(secret, {}).get(bid)
        return Reply.json(b) if b else _err(404, f"No batch found with id '{bid}'.")

    def cancel_batch(self, req, secret, bid):
        if req.body:
            return _err(400, "Cancel takes no body.")
        b = self.batches.get(secret, {}).get(bid)
        if not b:
            return _err(404, f"No batch found with id '{bid}'.")
        b["status"] = "cancelling"
        return Reply.json(b)
