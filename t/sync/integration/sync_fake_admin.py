"""A stand-in for the module's admin API (docs/design.md §5) for protocol tests of
`routeshift-sync serve` that do not need nginx: stores pushed snapshots, reports
generation/epoch, can simulate a restart (generation back to 0) and can reject pushes."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, obj) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        a = self.server.owner
        if self.path == "/admin/snapshot/generation":
            with a.lock:
                a.polls += 1
                self._send(200, {"generation": a.generation, "epoch": a.epoch})
        else:
            self._send(404, {"error": {"message": "unknown admin endpoint"}})

    def do_POST(self):
        a = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path == "/admin/model-aliases/invalidate":
            with a.lock:
                a.epoch += 1
                self._send(200, {"invalidated": True, "generation": a.generation})
        else:
            self._send(404, {"error": {"message": "unknown admin endpoint"}})

    def do_PUT(self):
        a = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path != "/admin/snapshot":
            self._send(404, {"error": {"message": "unknown admin endpoint"}})
            return
        try:
            doc = json.loads(raw)
            gen = doc["generation"]
            assert isinstance(gen, int) and gen >= 1
        except Exception as e:
            with a.lock:
                a.errors.append(f"bad snapshot: {e}")
            self._send(400, {"error": {"message": f"snapshot rejected: {e}"}})
            return
        with a.lock:
            a.pushes.append({"generation": gen, "t": time.monotonic(), "doc": doc})
            if a.reject:
                self._send(400, {"error": {"message": a.reject}})
                return
            a.generation = gen
            a.doc = doc
            self._send(200, {"generation": gen, "keys": len(doc.get("provider_keys") or [])})


class FakeAdmin:
    def __init__(self, port: int):
        self.port = port
        self.lock = threading.Lock()
        self.generation = 0
        self.epoch = 0
        self.doc = None
        self.pushes: list[dict] = []
        self.polls = 0
        self.reject = None  # a message: answer 400 with it
        self.errors: list[str] = []
        self.server = None

    @property
    def target(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin"

    def start(self) -> "FakeAdmin":
        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self.server.daemon_threads = True
        self.server.owner = self
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def restart(self) -> None:
        """Like an nginx restart: the zone is new, nothing loaded."""
        with self.lock:
            self.generation = 0
            self.epoch = 0
            self.doc = None

    def push_count(self) -> int:
        with self.lock:
            return len(self.pushes)
