"""Fixtures for the RouteShift integration suite.

    gw          a running nginx (2 workers) with our module, resolver -> `dns`, CA -> pki.ca_cert
    gw_factory  start another / differently configured gateway: gw_factory(location_extra="...")
    mocks       mock provider factory: mocks.new("a"), mocks.new("tls", tls=True)
    dns         MiniDNS answering *.test -> 127.0.0.1, NXDOMAIN otherwise
    pki         throwaway CA + server cert for mock-tls.test (and an untrusted "rogue" pair)
    sdk         run_sdk(job) -> result of t/js/chat.mjs (official openai SDK)

At teardown every gateway is stopped by PID, and the test FAILS if its error.log holds [alert],
[crit] or [emerg] lines, or if any provider secret / virtual key pushed during the test appears in
its logs.  A missing module .so is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import (Gateway, Snapshot, ensure_js_deps, make_pki, module_path,  # noqa: E402
                     run_sdk)
from mini_dns import MiniDNS  # noqa: E402
from mock_provider import MockProvider, Reply  # noqa: E402


@pytest.fixture(scope="session")
def module_so() -> Path:
    p = module_path()
    if not p.is_file():
        pytest.fail(f"RouteShift module not found at {p}. Build it with `make` at the repository "
                    f"root, or point ROUTESHIFT_MODULE at the .so.", pytrace=False)
    return p


def _world_readable_dir(tag: str) -> Path:
    """nginx workers run as `nobody` (master as root), and pytest's tmp_path tree is 0700: keep
    nginx prefixes and certificates in /tmp/routeshift-it-* (0755) so workers can reach them."""
    d = Path(tempfile.mkdtemp(prefix=f"routeshift-it-{tag}-"))
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="session")
def pki():
    d = _world_readable_dir("pki")
    p = make_pki(d)
    for f in d.iterdir():
        os.chmod(f, 0o644)
    yield p
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def sdk():
    try:
        ensure_js_deps()
    except Exception as e:  # no silent skip
        pytest.fail(f"the openai SDK client is not usable: {e}", pytrace=False)
    return run_sdk


@pytest.fixture
def dns():
    d = MiniDNS({"*.test": "127.0.0.1"}).start()
    yield d
    d.stop()
    assert not d.errors, f"mini DNS saw malformed queries: {d.errors}"


class _Mocks:
    def __init__(self, pki):
        self.pki = pki
        self.all: list[MockProvider] = []

    def new(self, name: str = "mock", tls: bool = False, rogue: bool = False,
            default: Reply | None = None) -> MockProvider:
        t = None
        if tls:
            t = ((self.pki.rogue_cert, self.pki.rogue_key) if rogue
                 else (self.pki.server_cert, self.pki.server_key))
        m = MockProvider(name=name, tls=t, default=default).start()
        self.all.append(m)
        return m

    def stop_all(self) -> list[str]:
        errs = []
        for m in self.all:
            m.stop()
            errs += [f"mock {m.name}: {e}" for e in m.errors]
        return errs


@pytest.fixture
def mocks(pki):
    ms = _Mocks(pki)
    yield ms
    errs = ms.stop_all()
    if errs:
        pytest.fail("mock provider internal errors:\n" + "\n".join(errs), pytrace=False)


@pytest.fixture
def gw_factory(module_so, pki, dns, mocks, request):
    started: list[Gateway] = []
    base = _world_readable_dir(request.node.name[:40].replace("/", "_").replace("[", "_")
                               .replace("]", ""))

    def start(**kw) -> Gateway:
        prefix = base / f"nginx{len(started)}"
        g = Gateway(prefix, module_so, pki.ca_cert, dns_port=dns.port, **kw)
        started.append(g)
        g.start()
        return g

    yield start
    problems = []
    for g in started:
        complaint = g.stop()
        if complaint:
            problems.append(complaint)
        for p in g.log_problems():
            problems.append(f"[{g.prefix.name}] {p}")
    failed = getattr(request.node, "rep_call", None)
    if problems:
        tail = "\n".join(g.error_log()[-4000:] for g in started)
        pytest.fail("gateway teardown checks failed:\n  " + "\n  ".join(problems)
                    + f"\n--- error.log tail ({base}) ---\n{tail}", pytrace=False)
    if failed is not None and failed.failed:
        print(f"\nnginx prefix kept for inspection: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def gw(gw_factory) -> Gateway:
    return gw_factory()


class Basic:
    """The common setup: provider "openai" (kind openai) on mock `a`, one key, model gpt-4o
    (upstream gpt-4o-2024-11-20), a catch-all "*", one virtual key."""

    def __init__(self, gw: Gateway, mock: MockProvider, snap: Snapshot, vkey: str, secret: str):
        self.gw, self.mock, self.snap, self.vkey, self.secret = gw, mock, snap, vkey, secret

    def chat(self, body, **kw):
        return self.gw.chat(body, key=self.vkey, **kw)


@pytest.fixture
def basic(gw, mocks) -> Basic:
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    secret = s.key(p, label="main")
    s.model(p, "gpt-4o", "gpt-4o-2024-11-20")
    s.model(p, "*")
    vk = s.vkey()
    gw.push(s)
    return Basic(gw, a, s, vk, secret)


@pytest.fixture
def pair(gw, mocks):
    """Provider "openai" on mock a: key A (weight 1000, tried first) and key B (weight 1)."""
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, weight=1000, label="A", cooldown_seconds=30)
    kb = s.key(p, weight=1, label="B", cooldown_seconds=30)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    return dict(gw=gw, m=m, s=s, ka=ka, kb=kb, vk=vk)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def spool():
    """A request-log spool directory the workers (nobody) can reach: directly under /tmp, mode 0777."""
    d = Path(tempfile.mkdtemp(prefix="rs-spool-"))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)
