"""The sanitized-module run (`make test-asan`): nginx's environment and its reports. Shared by the
gateway harness (helpers.Gateway) and the sync-service suite (t/sync/integration, sync_helpers.Nginx)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def report_dir(prefix: Path) -> Path:
    """Where the processes of the nginx at `prefix` write their reports: a world-writable directory
    under /tmp named after the prefix, because workers run as nobody and cannot reach a report
    directory inside a 0700 pytest tmp_path (the sync suite's prefixes): their reports were lost."""
    digest = hashlib.sha256(str(Path(prefix).resolve()).encode()).hexdigest()[:16]
    return Path("/tmp") / f"routeshift-sanitizer-{digest}"


def sanitizer_env(prefix: Path) -> dict:
    """nginx's environment. With ROUTESHIFT_ASAN=<libasan.so> (make test-asan: the module built
    with -fsanitize=address,undefined) Debian's nginx runs with that runtime preloaded, and every
    process (master, workers run as nobody) writes its reports to report_dir(prefix)."""
    env = dict(os.environ)
    lib = env.pop("ROUTESHIFT_ASAN", "")
    if lib:
        d = report_dir(prefix)
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o777)
        env["LD_PRELOAD"] = lib
        # Leaks: off by default (nginx frees its pools by design only at exit, and the master's exit
        # path is not ours); ROUTESHIFT_ASAN_LEAKS=1 turns LeakSanitizer on for an exploration run.
        leaks = "1" if env.pop("ROUTESHIFT_ASAN_LEAKS", "") == "1" else "0"
        env["ASAN_OPTIONS"] = f"log_path={d}/asan:detect_leaks={leaks}:abort_on_error=0"
        env["UBSAN_OPTIONS"] = f"log_path={d}/ubsan:print_stacktrace=1"
    return env


def sanitizer_reports(prefix: Path) -> list[str]:
    """One problem per sanitizer report file (their first 4000 characters)."""
    d = report_dir(prefix)
    if not d.is_dir():
        return []
    out = []
    for f in sorted(d.iterdir()):
        text = f.read_text(errors="replace")
        if text.strip():
            out.append(f"sanitizer report {f.name}:\n" + text[:4000])
    return out
