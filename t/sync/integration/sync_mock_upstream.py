"""A minimal OpenAI-compatible upstream for the sync tests: answers POST …/chat/completions with a
completion naming the model it was asked for, and records which credential and model each request
carried.  Model "echo-auth" answers 400 with the received Authorization header in the message (to
check that nginx never relays a provider secret)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else (self.headers.get("api-key") or "")
        rec = {"path": self.path, "auth": token, "model": body.get("model"), "t": time.monotonic()}
        self.server.owner._record(rec)
        if body.get("model") == "echo-auth":
            out = json.dumps({"error": {"message": f"invalid key {auth}", "type": "invalid_request_error"}})
            self._send(400, out)
            return
        out = json.dumps({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        })
        self._send(200, out)

    def _send(self, status: int, text: str):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class MockUpstream:
    def __init__(self):
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self.server: Optional[ThreadingHTTPServer] = None

    def start(self) -> "MockUpstream":
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _record(self, rec: dict) -> None:
        with self._lock:
            self.requests.append(rec)

    def since(self, n: int) -> list[dict]:
        with self._lock:
            return list(self.requests[n:])

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
