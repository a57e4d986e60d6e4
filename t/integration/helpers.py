"""Helpers for the RouteShift integration suite: nginx gateway control, snapshots, HTTP and SDK
clients, throwaway PKI, free ports.  Stdlib only."""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import re
import secrets as _secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from sanitizer import sanitizer_env, sanitizer_reports

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
JS_DIR = REPO / "t" / "js"
NGINX = os.environ.get("ROUTESHIFT_NGINX", "/usr/sbin/nginx")
DEFAULT_MODULE = REPO / "build" / "ngx_http_routeshift_module.so"
LOG_PROBLEMS = ("[alert]", "[crit]", "[emerg]")


def read_to_end(sock) -> bytes:
    """Everything the peer sends until it closes the connection (a reset ends it too)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def module_path() -> Path:
    return Path(os.environ.get("ROUTESHIFT_MODULE", str(DEFAULT_MODULE)))


# ----------------------------------------------------------------------------------------------
# ports
# ----------------------------------------------------------------------------------------------

_handed_out: set[int] = set()

# Under pytest-xdist (`make integration` runs two workers) each worker hands out only its own share
# of the ports, so two workers of one run never pick the same port between its probe and nginx's
# or Postgres' bind. By port // 2: the kernel's bind(0) hands out mostly odd ports.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
_WORKER_INDEX = int(_WORKER[2:]) if _WORKER.startswith("gw") and _WORKER[2:].isdigit() else 0


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (never the same one twice per process, nor
    the same one in two xdist workers)."""
    for _ in range(200 * _WORKERS):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if (port // 2) % _WORKERS != _WORKER_INDEX:
            continue
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found")


def closed_port() -> int:
    """A port nothing listens on (connect → ECONNREFUSED)."""
    return free_port()


def wait_listening(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


# ----------------------------------------------------------------------------------------------
# keys and snapshots
# ----------------------------------------------------------------------------------------------

def sha256_hex(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def new_secret(tag: str = "key") -> str:
    return f"sk-test-{tag}-{_secrets.token_hex(12)}"


def new_virtual_key() -> str:
    return f"sk-proxy-{_secrets.token_hex(16)}"


_generations = itertools.count(int(time.time()) % 100000 * 10 + 1)


class Snapshot:
    """Builds a config snapshot (docs/design.md §2).  Ids are assigned automatically."""

    def __init__(self, generation: Optional[int] = None, retry_budget: Optional[int] = None,
                 default_cooldown_seconds: int = 30):
        self.generation = generation if generation is not None else next(_generations)
        self.settings: dict = {"default_cooldown_seconds": default_cooldown_seconds}
        if retry_budget is not None:
            self.settings["retry_budget"] = retry_budget
        self.providers: list[dict] = []
        self.provider_keys: list[dict] = []
        self.models: list[dict] = []
        self.teams: list[dict] = [{"id": 1, "name": "default"}]
        self.virtual_keys: list[dict] = []
        self.model_aliases: list[dict] = []
        self._ids = itertools.count(1)
        self.secrets: list[str] = []        # provider secrets (plaintext)
        self.vkeys: list[str] = []          # virtual keys (plaintext)

    def provider(self, name: str, kind: str = "openai", base_url: Optional[str] = None,
                 enabled: bool = True, id: Optional[int] = None) -> int:
        pid = id if id is not None else next(self._ids)
        self.providers.append({"id": pid, "name": name, "kind": kind, "base_url": base_url,
                               "enabled": enabled})
        return pid

    def key(self, provider_id: int, secret: Optional[str] = None, *, label: Optional[str] = None,
            weight: int = 1, metadata: Optional[dict] = None, cooldown_seconds: int = 30,
            enabled: bool = True, id: Optional[int] = None) -> str:
        secret = secret or new_secret(f"p{provider_id}")
        kid = id if id is not None else 100 + next(self._ids)
        self.provider_keys.append({
            "id": kid, "provider_id": provider_id, "label": label or f"key{kid}",
            "secret": secret, "metadata": metadata or {}, "weight": weight, "rpm": None,
            "tpm": None, "cooldown_seconds": cooldown_seconds, "enabled": enabled})
        self.secrets.append(secret)
        return secret

    def key_id(self, secret: str) -> int:
        return next(k["id"] for k in self.provider_keys if k["secret"] == secret)

    def model(self, provider_id: int, model: str, upstream_model: Optional[str] = None) -> None:
        row = {"provider_id": provider_id, "model": model}
        if upstream_model is not None:
            row["upstream_model"] = upstream_model
        self.models.append(row)

    def team(self, name: str) -> int:
        tid = 1000 + next(self._ids)
        self.teams.append({"id": tid, "name": name})
        return tid

    def vkey(self, team_id: int = 1, key: Optional[str] = None, *, name: Optional[str] = None,
             enabled: bool = True, expires_at: Any = None, id: Optional[int] = None) -> str:
        key = key or new_virtual_key()
        vid = id if id is not None else 500 + next(self._ids)
        self.virtual_keys.append({"id": vid, "team_id": team_id, "name": name or f"vk{vid}",
                                  "key_hash": sha256_hex(key), "enabled": enabled,
                                  "expires_at": expires_at})
        self.vkeys.append(key)
        return key

    def vkey_id(self, key: str) -> int:
        h = sha256_hex(key)
        return next(v["id"] for v in self.virtual_keys if v["key_hash"] == h)

    def alias(self, alias: str, target: str, team_id: Optional[int] = None) -> None:
        self.model_aliases.append({"team_id": team_id, "alias": alias, "target": target})

    def to_dict(self) -> dict:
        return {
            "version": 1, "generation": self.generation, "settings": self.settings,
            "providers": self.providers, "provider_keys": self.provider_keys,
            "models": self.models, "teams": self.teams, "virtual_keys": self.virtual_keys,
            "model_aliases": self.model_aliases, "routing_rules": [], "model_prices": [],
        }

    def bump(self) -> "Snapshot":
        self.generation = next(_generations)
        return self


# ----------------------------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: list            # [(name, value)]
    body: bytes
    complete: bool = True    # raw_request: False if a chunked body lacked its terminating chunk

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except Exception:
            raise AssertionError(f"response is not JSON (status {self.status}): {self.body[:500]!r}")

    def describe(self) -> str:
        hs = "".join(f"\n    {k}: {v}" for k, v in self.headers)
        return f"HTTP {self.status}{hs}\n    body: {self.body[:1500]!r}"


def http_request(port: int, method: str, path: str, body: Any = None,
                 headers: Optional[dict] = None, timeout: float = 30.0,
                 host: str = "127.0.0.1") -> Response:
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = dict(headers or {})
    if body is not None and not any(k.lower() == "content-type" for k in hdrs):
        hdrs["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def raw_request(port: int, head: bytes, body: bytes = b"", timeout: float = 15.0) -> Response:
    """Sends raw bytes and parses the answer; tolerates the server closing while we still send
    (e.g. an early 413)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(head)
            view = memoryview(body)
            while view:
                n = s.send(view[:65536])
                view = view[n:]
        except (BrokenPipeError, ConnectionResetError):
            pass
        # no shutdown(SHUT_WR): nginx treats a half-closed client as gone (499) while streaming
        data = bytearray()  # appended in place: a large answer stays linear to read
        progress = _Progress()
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if progress.complete(data):
                break
    finally:
        s.close()
    return _parse_http(bytes(data))


def _walk_chunks(data: bytes | bytearray, at: int) -> tuple[int, bool]:
    """Walks whole chunks of a chunked body from offset `at` (a chunk-size line). Returns the offset
    of the first chunk not yet whole and whether the last chunk ("0" line and its CRLF) is there."""
    while True:
        end = data.find(b"\r\n", at)
        if end < 0:
            return at, False
        size = int(bytes(data[at:end]).split(b";")[0] or b"0", 16)
        if size == 0:
            return at, data.find(b"\r\n", end + 2) >= 0  # no trailers expected: the empty line
        if len(data) - (end + 2) < size + 2:
            return at, False
        at = end + 2 + size + 2


class _Progress:
    """Whether an answer read so far is whole. A chunked body is judged by walking its chunks, never
    by the bytes it ends with: the head alone can end in "0\r\n\r\n" (a last header whose value
    ends in 0, e.g. X-RouteShift-Cost-Microcents: 0), and a chunk's data can too. The walk resumes
    where it stopped, so a long stream stays linear to read."""

    def __init__(self):
        self.body_at = -1  # where the body starts once the head is in
        self.chunk_at = -1  # the next chunk-size line of a chunked body
        self.length = -1  # Content-Length, when the head has one

    def complete(self, data: bytes | bytearray) -> bool:
        if self.body_at < 0:
            i = data.find(b"\r\n\r\n")
            if i < 0:
                return False
            self.body_at = i + 4
            head = bytes(data[:i])
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            self.length = int(m.group(1)) if m else -1
            if self.length < 0 and re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
                self.chunk_at = self.body_at
        if self.length >= 0:
            return len(data) - self.body_at >= self.length
        if self.chunk_at < 0:
            return False  # read until the server closes
        self.chunk_at, done = _walk_chunks(data, self.chunk_at)
        return done


def _parse_http(data: bytes) -> Response:
    if not data:
        raise AssertionError("server closed the connection without answering")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = []
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers.append((k.strip(), v.strip()))
    complete = True
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = bytearray()  # read by offset: a large answer stays linear to decode
        complete = False
        at = 0
        while at < len(rest):
            end = rest.find(b"\r\n", at)
            if end < 0:
                break
            size = int(rest[at:end].split(b";")[0] or b"0", 16)
            at = end + 2
            if size == 0:
                complete = True
                break
            if len(rest) - at < size:
                body += rest[at:]
                break
            body += rest[at:at + size]
            at += size + 2
        rest = bytes(body)
    return Response(status, headers, rest, complete)


def sse_events(body: bytes) -> list:
    """data: payloads of an SSE body, JSON-decoded where possible ("[DONE]" kept as a string)."""
    out = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        datas = [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]
        if not datas:
            continue
        d = b"\n".join(datas).decode()
        try:
            out.append(json.loads(d))
        except ValueError:
            out.append(d)
    return out


def chat_body(model: str = "gpt-4o", content: str = "Say hi", **extra) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    body.update(extra)
    return body


def assert_openai_error(resp: Response, status: int, *, param: Any = "__any__",
                        code: Any = "__any__", type_: Any = "__any__") -> dict:
    """Asserts an OpenAI-shaped error {"error":{"message","type","param","code"}}."""
    assert resp.status == status, f"expected HTTP {status}, got {resp.describe()}"
    ctype = (resp.header("content-type") or "").lower()
    assert ctype.startswith("application/json"), f"error Content-Type not JSON: {resp.describe()}"
    j = resp.json
    assert isinstance(j, dict) and isinstance(j.get("error"), dict), \
        f"not an OpenAI error envelope: {resp.describe()}"
    e = j["error"]
    for k in ("message", "type", "param", "code"):
        assert k in e, f"error object lacks '{k}': {resp.describe()}"
    assert isinstance(e["message"], str) and e["message"], f"empty error message: {resp.describe()}"
    if param != "__any__":
        assert e["param"] == param, f"expected param={param!r}: {resp.describe()}"
    if code != "__any__":
        assert e["code"] == code, f"expected code={code!r}: {resp.describe()}"
    if type_ != "__any__":
        assert e["type"] == type_, f"expected type={type_!r}: {resp.describe()}"
    return e


def assert_resolved(value, public, upstream=None, provider=None):
    ok = {public}
    if upstream:
        ok.add(upstream)
    if provider:
        ok |= {f"{provider}/{public}"} | ({f"{provider}/{upstream}"} if upstream else set())
    assert value in ok, f"X-RouteShift-Resolved-Model / resolved model {value!r} not in {ok}"


# ----------------------------------------------------------------------------------------------
# throwaway PKI (openssl CLI)
# ----------------------------------------------------------------------------------------------

@dataclass
class PKI:
    dir: Path
    ca_cert: Path
    server_cert: Path        # SAN DNS:mock-tls.test, signed by ca_cert
    server_key: Path
    rogue_ca_cert: Path      # a CA the gateway does not trust
    rogue_cert: Path         # SAN DNS:mock-tls.test, signed by rogue_ca_cert
    rogue_key: Path


def _openssl(args: list, cwd: Path) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{r.stderr}")


def make_pki(d: Path, server_name: str = "mock-tls.test") -> PKI:
    d.mkdir(parents=True, exist_ok=True)
    ext = d / "server.ext"
    ext.write_text(f"subjectAltName=DNS:{server_name}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    for prefix in ("", "rogue_"):
        _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", f"{prefix}ca.key", "-out", f"{prefix}ca.pem", "-days", "3",
                  "-subj", f"/CN=RouteShift {prefix or 'test'} CA",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        _openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", f"{prefix}server.key", "-out", f"{prefix}server.csr",
                  "-subj", f"/CN={server_name}"], d)
        _openssl(["x509", "-req", "-in", f"{prefix}server.csr", "-CA", f"{prefix}ca.pem",
                  "-CAkey", f"{prefix}ca.key", "-CAcreateserial", "-out", f"{prefix}server.pem",
                  "-days", "3", "-extfile", "server.ext"], d)
    return PKI(d, d / "ca.pem", d / "server.pem", d / "server.key", d / "rogue_ca.pem",
               d / "rogue_server.pem", d / "rogue_server.key")


# ----------------------------------------------------------------------------------------------
# nginx gateway
# ----------------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(p.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Gateway:
    """One nginx master (with our module) in its own prefix directory."""

    def __init__(self, prefix: Path, module: Path, ca_file: Path, *, workers: int = 2,
                 dns_port: Optional[int] = None, http_extra: str = "", server_extra: str = "",
                 location_extra: str = "", extra_log_fields: str = "",
                 error_log_level: str = "info", template: Optional[Path] = None):
        self.prefix = Path(prefix)
        self.module = Path(module)
        self.ca_file = Path(ca_file)
        self.workers = workers
        self.dns_port = dns_port
        self.http_extra = http_extra
        self.server_extra = server_extra
        self.location_extra = location_extra
        self.extra_log_fields = extra_log_fields
        self.error_log_level = error_log_level
        self.template = Path(template) if template else HERE / "nginx.conf.tmpl"
        self.port = free_port()
        self.admin_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.extra_subst: dict = {}
        self.secrets: set[str] = set()
        self.conf_path = self.prefix / "nginx.conf"
        self.error_log_path = self.prefix / "error.log"
        self.access_log_path = self.prefix / "access.log"
        self.stderr_path = self.prefix / "nginx.stderr"

    # -- config ----------------------------------------------------------------------------------
    def render_conf(self) -> str:
        tmpl = self.template.read_text()
        resolver = (f"resolver 127.0.0.1:{self.dns_port} valid=5s ipv6=off;\n"
                    "    resolver_timeout 3s;" if self.dns_port else "")
        subst = {
            "MODULE": str(self.module), "PREFIX": str(self.prefix), "WORKERS": str(self.workers),
            "RESOLVER": resolver, "CA": str(self.ca_file), "PORT": str(self.port),
            "ADMIN_PORT": str(self.admin_port), "HTTP_EXTRA": self.http_extra,
            "SERVER_EXTRA": self.server_extra, "LOCATION_EXTRA": self.location_extra,
            "EXTRA_LOG_FIELDS": self.extra_log_fields, "ERROR_LOG_LEVEL": self.error_log_level,
        }
        subst.update(self.extra_subst)
        for k, v in subst.items():
            tmpl = tmpl.replace(f"@{k}@", v)
        left = re.findall(r"@[A-Z_]+@", tmpl)
        assert not left, f"unfilled placeholders {left}"
        return tmpl

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> "Gateway":
        self.prefix.mkdir(parents=True, exist_ok=True)
        for d in ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp",
                  "logs"):
            (self.prefix / d).mkdir(exist_ok=True)
        self.conf_path.write_text(self.render_conf())
        self.stderr_f = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix) + "/", "-c", str(self.conf_path),
             "-e", str(self.error_log_path)],
            stdin=subprocess.DEVNULL, stdout=self.stderr_f, stderr=self.stderr_f,
            start_new_session=True, env=sanitizer_env(self.prefix))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"nginx exited with {self.proc.returncode} at start-up.\n"
                    f"conf: {self.conf_path}\n--- stderr/error.log ---\n{self.diagnostics()}")
            try:
                for p in (self.port, self.admin_port):
                    with socket.create_connection(("127.0.0.1", p), timeout=0.5):
                        pass
                if len(self.worker_pids()) >= self.workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"nginx did not listen within {timeout}s\n{self.diagnostics()}")
            time.sleep(0.05)
        return self

    def diagnostics(self) -> str:
        out = []
        for p in (self.stderr_path, self.error_log_path):
            try:
                out.append(f"[{p.name}]\n" + p.read_text(errors="replace")[-6000:])
            except OSError:
                pass
        return "\n".join(out)

    @property
    def master_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return sorted(p for p in _children(self.proc.pid) if _alive(p))

    def reload(self, timeout: float = 10.0) -> None:
        """SIGHUP to the master; waits until only new workers run."""
        old = set(self.worker_pids())
        os.kill(self.master_pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cur = set(self.worker_pids())
            if cur and not (cur & old) and len(cur) >= self.workers:
                wait_listening(self.port)
                return
            time.sleep(0.05)
        raise AssertionError(f"reload did not replace workers {old} within {timeout}s "
                             f"(now {self.worker_pids()})\n{self.diagnostics()}")

    def stop(self, timeout: float = 5.0) -> Optional[str]:
        """Graceful stop (SIGQUIT), then SIGTERM, then SIGKILL; only our own PIDs.  Returns a
        complaint string if nginx needed to be forced."""
        if self.proc is None:
            return None
        complaint = None
        workers = self.worker_pids()
        for sig in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                complaint = f"nginx master {self.proc.pid} ignored {sig.name} for {timeout}s"
        for w in workers:  # after a SIGKILL of the master its workers may linger
            if _alive(w):
                try:
                    os.kill(w, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.stderr_f.close()
        except Exception:
            pass
        self.proc = None
        return complaint

    # -- log checks --------------------------------------------------------------------------------
    def error_log(self) -> str:
        try:
            return self.error_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_problems(self) -> list[str]:
        """[alert]/[crit]/[emerg] lines, any registered secret in error/access logs, and any
        sanitizer report (make test-asan)."""
        problems = sanitizer_reports(self.prefix)
        text = self.error_log()
        for line in text.splitlines():
            if any(p in line for p in LOG_PROBLEMS):
                problems.append(f"error.log: {line}")
        files = [self.error_log_path, self.access_log_path, self.prefix / "admin_access.log",
                 self.stderr_path]
        for f in files:
            try:
                content = f.read_text(errors="replace")
            except OSError:
                continue
            for s in self.secrets:
                if s and s in content:
                    kind = "virtual key" if s.startswith("sk-proxy-") else "provider secret"
                    problems.append(f"{f.name} contains a {kind} ({s[:12]}…)")
        return problems

    # -- admin -------------------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Response:
        return http_request(self.admin_port, method, path, body=body, timeout=timeout)

    def generation(self) -> int:
        r = self.admin("GET", "/admin/snapshot/generation")
        assert r.status == 200, f"GET /admin/snapshot/generation: {r.describe()}"
        return int(r.json["generation"])

    def status(self) -> dict:
        r = self.admin("GET", "/admin/status")
        assert r.status == 200, f"GET /admin/status: {r.describe()}"
        return r.json

    def key_status(self, key_id: int) -> dict:
        st = self.status()
        keys = st.get("keys") or []
        for k in keys:
            if k.get("id") == key_id:
                return k
        raise AssertionError(f"key {key_id} not in /admin/status: {st}")

    def push(self, snap: "Snapshot | dict", expect: int = 200, timeout: float = 5.0) -> Response:
        """PUT the snapshot; on success wait until the module reports its generation."""
        if isinstance(snap, Snapshot):
            self.secrets.update(snap.secrets)
            self.secrets.update(snap.vkeys)
            doc = snap.to_dict()
        else:
            doc = snap
            for k in doc.get("provider_keys", []) or []:
                if isinstance(k, dict) and isinstance(k.get("secret"), str):
                    self.secrets.add(k["secret"])
        r = self.admin("PUT", "/admin/snapshot", body=doc)
        assert r.status == expect, f"PUT /admin/snapshot expected {expect}: {r.describe()}"
        if expect == 200:
            gen = doc["generation"]
            assert r.json.get("generation") == gen, f"PUT answer: {r.describe()}"
            deadline = time.monotonic() + timeout
            while self.generation() != gen:
                assert time.monotonic() < deadline, "snapshot generation never became active"
                time.sleep(0.05)
        return r

    # -- client side -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat(self, body: Any, key: Optional[str] = None, headers: Optional[dict] = None,
             method: str = "POST", timeout: float = 30.0) -> Response:
        hdrs = dict(headers or {})
        if key is not None:
            hdrs["Authorization"] = f"Bearer {key}"
        return http_request(self.port, method, "/v1/chat/completions", body=body, headers=hdrs,
                            timeout=timeout)

    # -- access log --------------------------------------------------------------------------------
    def access_entries(self) -> list[dict]:
        try:
            lines = self.access_log_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for ln in lines:
            try:
                out.append(json.loads(ln))
            except ValueError:
                out.append({"_unparsed": ln})
        return out

    def wait_access(self, n: int, timeout: float = 5.0, where=None) -> list[dict]:
        """Polls the access log until at least `n` entries (matching `where`) are written."""
        deadline = time.monotonic() + timeout
        while True:
            entries = [e for e in self.access_entries() if where is None or where(e)]
            if len(entries) >= n:
                return entries
            if time.monotonic() > deadline:
                raise AssertionError(f"access log has {len(entries)} matching entries, wanted "
                                     f"{n}: {self.access_entries()[-10:]}")
            time.sleep(0.05)


# ----------------------------------------------------------------------------------------------
# the openai SDK client (t/js/chat.mjs)
# ----------------------------------------------------------------------------------------------

def ensure_js_deps() -> None:
    if (JS_DIR / "node_modules" / "openai" / "package.json").exists():
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"`npm ci` in {JS_DIR} failed:\n{r.stdout}\n{r.stderr}")


def run_sdk(job: dict, timeout: float = 120.0, script: str = "chat.mjs") -> dict:
    """Runs an SDK client script of t/js (chat.mjs: openai; anthropic.mjs: @anthropic-ai/sdk)."""
    r = subprocess.run(["node", str(JS_DIR / script)], input=json.dumps(job),
                       capture_output=True, text=True, timeout=timeout, cwd=JS_DIR)
    key = job.get("apiKey")
    if key and len(key) >= 8:
        assert key not in r.stdout and key not in r.stderr, f"{script} printed the apiKey"
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except Exception:
        raise AssertionError(f"{script} gave no JSON (rc {r.returncode}):\nstdout: "
                             f"{r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
