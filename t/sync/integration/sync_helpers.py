"""Helpers for the routeshift-sync integration tests: a throwaway Postgres cluster, the
routeshift-sync binary (CLI and `serve`), a minimal nginx runner for the module, free ports.
Stdlib only; every process is started here and stopped by its PID."""

from __future__ import annotations

import json
import os
import re
import secrets as _secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import http.client as httpclient
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
# the sanitized-module run (make test-asan): one helper for both suites, in t/integration
sys.path.append(str(REPO / "t" / "integration"))
from sanitizer import sanitizer_env, sanitizer_reports  # noqa: E402
from helpers import free_port  # noqa: E402,F401  (one port allocator for both suites, xdist-aware)
SYNC_BIN = Path(os.environ.get("ROUTESHIFT_SYNC", str(REPO / "build" / "routeshift-sync")))
MODULE = Path(os.environ.get("ROUTESHIFT_MODULE", str(REPO / "build" / "ngx_http_routeshift_module.so")))
NGINX = os.environ.get("ROUTESHIFT_NGINX", "/usr/sbin/nginx")
PG_SCRIPT = REPO / "sync-service" / "pg-throwaway.sh"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PSQL = str(PG_BIN / "psql")



def new_provider_secret(tag: str = "k") -> str:
    return f"sk-upstream-{tag}-{_secrets.token_hex(16)}"


def new_master_secret() -> str:
    return _secrets.token_hex(32)


def wait_until(pred, timeout: float, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------------
# Postgres
# ------------------------------------------------------------------------------------------------

def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cluster_parent() -> Optional[str]:
    try:
        if shutil.disk_usage("/dev/shm").free >= 2 << 30 and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None  # tempfile's default, /tmp


class PgCluster:
    """A throwaway cluster driven by sync-service/pg-throwaway.sh (listens on 127.0.0.1:<port>)."""

    def __init__(self):
        # Directly under /dev/shm or /tmp: the postgres user must be able to reach it (pytest's tmp
        # dirs are 0700). /dev/shm (tmpfs) when it has room: a session's ~150 MB of test databases
        # then never wait for a busy disk (deleting them from /tmp took ~10 s, waiting on writeback).
        self.dir = Path(tempfile.mkdtemp(prefix="rs-sync-pg-", dir=_cluster_parent()))
        self.port = free_port()
        self._dbs = 0

    def start(self) -> "PgCluster":
        r = subprocess.run(["bash", str(PG_SCRIPT), "start", str(self.dir), str(self.port)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"pg-throwaway start failed:\n{r.stdout}\n{r.stderr}")
        return self

    def stop(self) -> None:
        r = subprocess.run(["bash", str(PG_SCRIPT), "stop", str(self.dir)], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"pg-throwaway stop failed:\n{r.stdout}\n{r.stderr}")

    def running(self) -> bool:
        return subprocess.run(["bash", str(PG_SCRIPT), "status", str(self.dir)]).returncode == 0

    def destroy(self) -> None:
        """Stops the server without a shutdown checkpoint (SIGQUIT, "immediate": the data is
        deleted next, writing it out first cost a session ~2 s), then removes the directory."""
        try:
            try:
                pid = int((self.dir / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
                os.kill(pid, signal.SIGQUIT)
                wait_until(lambda: not _running(pid), 10, what=f"postgres {pid} exits")
            except (OSError, ValueError, AssertionError):
                pass
            self.stop()  # no-op once it is gone; otherwise the script's fast shutdown
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str = "routeshift") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self, template: Optional[str] = None) -> str:
        """A new empty database, or a copy of the database `template` (no one may be connected
        to it: a session that just ended may still be leaving, so that refusal is retried)."""
        self._dbs += 1
        name = f"t{self._dbs}_{_secrets.token_hex(3)}"
        # FILE_COPY (Postgres 15's default is WAL_LOG): the files are copied, not written through
        # the WAL; with fsync off a test's database costs ~0.7 s less (test_sync_cli's 12 setups:
        # 21 s -> 14 s on a loaded machine).
        sql = (f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
               + " STRATEGY FILE_COPY")
        deadline = time.monotonic() + 10
        while True:
            out = psql(self.url("postgres"), sql, check=False)
            if "is being accessed by other users" not in out or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if out.strip():
            raise AssertionError(f"psql failed: {sql}\n{out}")
        return self.url(name)

    def log(self) -> str:
        try:
            return (self.dir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""


def psql(url: str, sql: str, check: bool = True) -> str:
    r = subprocess.run([PSQL, url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"psql failed ({r.returncode}): {sql}\n{r.stderr}")
    return r.stdout.strip() if r.returncode == 0 else r.stderr


def pg_dump(url: str) -> str:
    r = subprocess.run([str(PG_BIN / "pg_dump"), url, "--no-owner"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


# ------------------------------------------------------------------------------------------------
# routeshift-sync
# ------------------------------------------------------------------------------------------------

class Transcript:
    """Everything our tools printed and every HTTP body we received, to grep for secrets."""

    def __init__(self):
        self.chunks: list[str] = []

    def add(self, where: str, text: Any) -> None:
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        self.chunks.append(f"--- {where}\n{text}")

    def text(self) -> str:
        return "\n".join(self.chunks)


class Sync:
    """Runs routeshift-sync commands against one database with one master secret."""

    def __init__(self, db_url: str, master_secret: str, transcript: Transcript, nginx: list[str] = ()):
        self.db_url = db_url
        self.master_secret = master_secret
        self.transcript = transcript
        self.nginx = list(nginx)

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PG", "ROUTESHIFT_", "PROVIDER_KEY_SECRET", "DATABASE_URL",
                                    "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"))}
        env["ROUTESHIFT_DATABASE_URL"] = self.db_url
        if self.master_secret is not None:
            env["PROVIDER_KEY_SECRET"] = self.master_secret
        if self.nginx:
            env["ROUTESHIFT_NGINX_ADMIN"] = ",".join(self.nginx)
        # Most tests push to a TCP admin port without a shared token, which the sync refuses unless
        # told to accept the risk (design.md §15); test_sync_admin_auth.py checks the refusal.
        env["ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN"] = "1"
        env.update({k: v for k, v in extra.items() if v is not None})
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
        return env

    def run(self, *args: str, input: Optional[str] = None, expect: Optional[int] = 0,
            env: Optional[dict] = None, timeout: float = 60) -> subprocess.CompletedProcess:
        r = subprocess.run([str(SYNC_BIN), *args], input=input if input is not None else "",
                           capture_output=True, text=True, timeout=timeout, env=env or self.env())
        self.transcript.add(f"routeshift-sync {' '.join(args)} (rc {r.returncode})", r.stdout + r.stderr)
        if expect is not None:
            assert r.returncode == expect, (f"routeshift-sync {' '.join(args)}: rc {r.returncode}, "
                                            f"expected {expect}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def sql(self, query: str) -> str:
        return psql(self.db_url, query)

    def generation(self) -> int:
        return int(self.sql("SELECT generation FROM config_state"))

    def serve(self, log_path: Path, *extra_args: str, env: Optional[dict] = None) -> "SyncServer":
        return SyncServer(self, log_path, list(extra_args), env).start()


class SyncServer:
    """`routeshift-sync serve` in the background, stderr to a file."""

    def __init__(self, sync: Sync, log_path: Path, args: list[str], env: Optional[dict]):
        self.sync = sync
        self.log_path = Path(log_path)
        self.args = args
        self.env = env or sync.env()
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "SyncServer":
        self.log_f = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(SYNC_BIN), "serve", *self.args], stdin=subprocess.DEVNULL,
                                     stdout=self.log_f, stderr=self.log_f, env=self.env,
                                     start_new_session=True)
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 10.0, after: int = 0) -> re.Match:
        rx = re.compile(pattern)

        def found():
            m = rx.search(self.log()[after:])
            if m:
                return m
            assert self.alive(), f"routeshift-sync exited ({self.proc.returncode}):\n{self.log()[-4000:]}"
            return None
        try:
            return wait_until(found, timeout, 0.05, f"log line /{pattern}/")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- sync log ---\n{self.log()[-4000:]}") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM by PID; returns the exit code (SIGKILL and an assertion if it hangs)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                raise AssertionError("routeshift-sync ignored SIGTERM")
        rc = self.proc.returncode
        self.log_f.close()
        self.sync.transcript.add("routeshift-sync serve log", self.log())
        self.proc = None
        return rc


# ------------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------------

class Resp:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:300]!r}>"


def http_call(port: int, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
         timeout: float = 15.0, transcript: Optional[Transcript] = None) -> Resp:
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        resp = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()
    if transcript is not None:
        transcript.add(f"HTTP {method} :{port}{path} -> {resp.status}",
                       "\n".join(f"{k}: {v}" for k, v in resp.headers.items()) + "\n\n"
                       + resp.body.decode(errors="replace"))
    return resp


# ------------------------------------------------------------------------------------------------
# nginx with the module
# ------------------------------------------------------------------------------------------------

NGINX_CONF = """
load_module {module};
daemon off;
master_process on;
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {prefix}/client_body_temp;
    proxy_temp_path {prefix}/proxy_temp;
    fastcgi_temp_path {prefix}/fastcgi_temp;
    uwsgi_temp_path {prefix}/uwsgi_temp;
    scgi_temp_path {prefix}/scgi_temp;
    log_format rs escape=json '{{"status":"$status","provider":"$routeshift_provider","key":"$routeshift_provider_key","model":"$routeshift_resolved_model","gen":"$routeshift_generation"}}';
    routeshift_zone routeshift 16m;
    {http_extra}
    server {{
        listen 127.0.0.1:{port};
        access_log {prefix}/access.log rs;
        location = /v1/chat/completions {{ routeshift_pass; }}
    }}
    server {{
        listen 127.0.0.1:{admin_port};
        listen unix:{prefix}/admin.sock;
        access_log {prefix}/admin_access.log;
        location /admin/ {{ routeshift_admin; }}
    }}
}}
"""


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(p.name))
    return out


class Nginx:
    def __init__(self, prefix: Path, http_extra: str = ""):
        self.prefix = Path(prefix)
        self.http_extra = http_extra
        self.port = free_port()
        self.admin_port = free_port()
        self.proc: Optional[subprocess.Popen] = None

    @property
    def admin_target(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    @property
    def admin_unix_target(self) -> str:
        return f"unix:{self.prefix}/admin.sock:/admin"

    def start(self, timeout: float = 10.0) -> "Nginx":
        if not MODULE.is_file():
            raise AssertionError(f"RouteShift module not found at {MODULE}: run `make` at the repository root "
                                 f"(or set ROUTESHIFT_MODULE)")
        self.prefix.mkdir(parents=True, exist_ok=True)
        for d in ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp", "logs"):
            (self.prefix / d).mkdir(exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(module=MODULE, prefix=self.prefix, port=self.port,
                                          admin_port=self.admin_port, http_extra=self.http_extra))
        self.out = open(self.prefix / "nginx.stderr", "ab")
        self.proc = subprocess.Popen([NGINX, "-p", str(self.prefix) + "/", "-c", str(conf), "-e",
                                      str(self.prefix / "error.log")], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out, start_new_session=True,
                                     env=sanitizer_env(self.prefix))
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"nginx exited at start:\n{self.logs()[-3000:]}"
            try:
                for p in (self.port, self.admin_port):
                    socket.create_connection(("127.0.0.1", p), timeout=0.5).close()
                if len(_children(self.proc.pid)) >= 2:
                    return self
            except OSError:
                pass
            assert time.monotonic() < deadline, f"nginx did not come up:\n{self.logs()[-3000:]}"
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        workers = _children(self.proc.pid)
        for sig in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.out.close()
        self.proc = None
        reports = sanitizer_reports(self.prefix)
        assert not reports, "\n".join(reports)

    def logs(self) -> str:
        out = []
        for name in ("nginx.stderr", "error.log", "access.log", "admin_access.log"):
            try:
                out.append(f"[{name}]\n" + (self.prefix / name).read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(out)

    def generation(self, transcript: Optional[Transcript] = None) -> int:
        r = http_call(self.admin_port, "GET", "/admin/snapshot/generation", transcript=transcript)
        assert r.status == 200, r
        return int(r.json["generation"])

    def chat(self, key: str, model: str, transcript: Optional[Transcript] = None, **extra) -> Resp:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
        return http_call(self.port, "POST", "/v1/chat/completions", body=body,
                    headers={"Authorization": f"Bearer {key}"}, transcript=transcript)
