"""Fixtures for the routeshift-sync integration tests.

    pg_cluster   a throwaway Postgres 15 (session-wide; each test gets its own database)
    db           a fresh, migrated database (a copy of one migrated once per session) + a `Sync`
                 runner (CLI) with a fresh PROVIDER_KEY_SECRET
    transcript   collects every CLI output, service log and HTTP body, to grep for secrets
    upstream     a minimal OpenAI-compatible mock provider
    nginx        nginx + the RouteShift module (build/ngx_http_routeshift_module.so; missing = failure)
    serve        starts `routeshift-sync serve`; every started service must exit 0 on SIGTERM

Requirements: build/routeshift-sync (make -C sync-service), Postgres 15 binaries, run as root or as
a user that can run initdb. Everything listens on loopback only and is stopped by PID.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_helpers import (SYNC_BIN, Nginx, PgCluster, Sync, Transcript,  # noqa: E402
                          new_master_secret)
from sync_mock_upstream import MockUpstream  # noqa: E402


@pytest.fixture(scope="session")
def sync_bin() -> Path:
    if not SYNC_BIN.is_file():
        pytest.fail(f"{SYNC_BIN} not found: build it with `make -C sync-service` (or `make sync`)",
                    pytrace=False)
    return SYNC_BIN


@pytest.fixture(scope="session")
def pg_cluster():
    c = PgCluster().start()
    yield c
    c.destroy()


@pytest.fixture
def transcript() -> Transcript:
    return Transcript()


@pytest.fixture(scope="session")
def migrated_template(pg_cluster, sync_bin) -> str:
    """The name of a database `routeshift-sync migrate` ran on once: each `db` is a copy of it
    (CREATE DATABASE … TEMPLATE), the schema migrate gives, without running every migration again
    per test (tests of migrate itself make their own databases)."""
    url = pg_cluster.new_database()
    Sync(url, new_master_secret(), Transcript()).run("migrate")
    return url.rsplit("/", 1)[1]


@pytest.fixture
def db(pg_cluster, migrated_template, transcript) -> Sync:
    return Sync(pg_cluster.new_database(template=migrated_template), new_master_secret(), transcript)


@pytest.fixture
def upstream():
    m = MockUpstream().start()
    yield m
    m.stop()


@pytest.fixture
def nginx_factory(tmp_path):
    started: list[Nginx] = []

    def make() -> Nginx:
        n = Nginx(tmp_path / f"nginx{len(started)}")
        started.append(n)
        return n

    yield make
    for n in started:
        n.stop()


@pytest.fixture
def nginx(nginx_factory) -> Nginx:
    return nginx_factory().start()


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(sync: Sync, *args: str, env=None, name: str = "sync"):
        srv = sync.serve(tmp_path / f"{name}{len(started)}.log", *args, env=env)
        started.append(srv)
        return srv

    yield start
    bad = []
    for srv in started:
        if srv.proc is not None:
            rc = srv.stop()
            if rc != 0:
                bad.append(f"routeshift-sync serve exited {rc} on SIGTERM:\n{srv.log()[-3000:]}")
    if bad:
        pytest.fail("\n".join(bad), pytrace=False)
