"""The Debian packages end to end (`make deb-test`, run by `make test`): build/deb/*.deb installed
into this machine's own nginx with dpkg, then Postgres + the packaged `routeshift-sync` (as the
packaged system user, with the master key from /etc/routeshift) push a config into an nginx whose
configuration comes from /etc/nginx (the package's modules-enabled snippet and a conf.d site), and a
chat request is served. Both packages are purged afterwards.

Needs root (dpkg) and the packages built by `make deb`; a missing one is a failure, not a skip.
nginx runs from a main config in a temporary directory that includes /etc/nginx's module snippets,
mime types and the conf.d site: the machine's own nginx.conf would also start the default site on
port 80 and write /run/nginx.pid, which a test must not take over."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
DEB_DIR = REPO / "build" / "deb"
INSTALLED_SYNC = Path("/usr/bin/routeshift-sync")
os.environ["ROUTESHIFT_SYNC"] = str(INSTALLED_SYNC)  # read by sync_helpers at import
sys.path.insert(0, str(REPO / "t" / "sync" / "integration"))

from sync_helpers import PgCluster, Sync, Transcript, free_port, http_call, wait_until  # noqa: E402
from sync_mock_upstream import MockUpstream  # noqa: E402

PACKAGES = ("libnginx-mod-http-routeshift", "routeshift-sync")
SECRET_FILE = Path("/etc/routeshift/provider_key_secret")
ENV_FILE = Path("/etc/routeshift/sync.env")
SITE_FILE = Path("/etc/nginx/conf.d/routeshift-pkgtest.conf")


def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)
    if check:
        assert r.returncode == 0, f"{' '.join(args)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def deb_of(package: str) -> Path:
    found = sorted(DEB_DIR.glob(f"{package}_*.deb"))
    assert found, f"no {package}_*.deb in {DEB_DIR}: run `make deb`"
    return found[-1]


def env_file_value(name: str) -> str:
    for line in ENV_FILE.read_text().splitlines():
        m = re.match(rf"\s*{name}=(.*)$", line)
        if m:
            return m.group(1).strip()
    raise AssertionError(f"{name} not set in {ENV_FILE}")


@pytest.fixture(scope="module")
def installed():
    assert os.geteuid() == 0, "installing packages needs root (CI runs as root)"
    debs = [deb_of(p) for p in PACKAGES]
    user_existed = _user_exists("routeshift")
    secret_existed = SECRET_FILE.exists()
    run("dpkg", "-P", *PACKAGES, check=False)
    run("dpkg", "-i", *map(str, debs))
    try:
        yield debs
    finally:
        SITE_FILE.unlink(missing_ok=True)
        run("dpkg", "-P", *PACKAGES, check=False)
        if not secret_existed:
            SECRET_FILE.unlink(missing_ok=True)
            shutil.rmtree("/etc/routeshift", ignore_errors=True)
        shutil.rmtree("/var/spool/routeshift", ignore_errors=True)
        if not user_existed and _user_exists("routeshift"):
            run("deluser", "--system", "routeshift", check=False)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_module_package_enables_module_and_pins_nginx_abi(installed):
    so = Path("/usr/lib/nginx/modules/ngx_http_routeshift_module.so")
    assert so.is_file()
    snippet = Path("/usr/share/nginx/modules-available/mod-http-routeshift.conf")
    assert snippet.read_text().strip() == "load_module modules/ngx_http_routeshift_module.so;"
    enabled = Path("/etc/nginx/modules-enabled/50-mod-http-routeshift.conf")
    assert enabled.is_symlink() and enabled.resolve() == snippet
    depends = run("dpkg-deb", "-f", str(installed[0]), "Depends").stdout
    abi = re.search(r"nginx:abi=(\S+)", Path("/usr/share/nginx/src/debian/libnginx-mod.abisubstvars").read_text())
    assert abi and abi.group(1) in depends, depends
    assert "libjansson4" in depends, depends
    tmpfiles = Path("/usr/lib/tmpfiles.d/libnginx-mod-http-routeshift.conf")
    assert "/run/routeshift" in tmpfiles.read_text()
    # Debian's nginx loads it (the package's own snippet, nothing else)
    run("nginx", "-t", "-q", "-g", "pid /dev/null;", "-c", str(_minimal_conf()))


def _minimal_conf() -> Path:
    d = Path(os.environ.get("TMPDIR", "/tmp")) / f"rs-pkg-{os.getpid()}"
    d.mkdir(exist_ok=True)
    conf = d / "load-only.conf"
    conf.write_text(f"include /etc/nginx/modules-enabled/*.conf;\nerror_log {d}/error.log;\n"
                    "events {}\nhttp { routeshift_zone rs_pkg_check 1m; }\n")
    return conf


def test_sync_package_creates_user_master_key_and_unit(installed):
    user = pwd.getpwnam("routeshift")
    assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    st = SECRET_FILE.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, oct(st.st_mode)
    assert re.fullmatch(r"[0-9a-f]{64}\n?", SECRET_FILE.read_text())
    env_st = ENV_FILE.stat()
    assert stat.S_IMODE(env_st.st_mode) == 0o640 and env_st.st_gid == grp.getgrnam("routeshift").gr_gid
    unit = Path("/lib/systemd/system/routeshift-sync.service").read_text()
    assert "ExecStart=/usr/bin/routeshift-sync serve" in unit
    assert not [line for line in unit.splitlines() if "/usr/local/" in line and not line.startswith("#")]
    assert "LoadCredential=provider_key_secret:/etc/routeshift/provider_key_secret" in unit
    spool = Path("/var/spool/routeshift").stat()
    assert stat.S_IMODE(spool.st_mode) == 0o2770 and spool.st_uid == pwd.getpwnam("www-data").pw_uid \
        and spool.st_gid == grp.getgrnam("routeshift").gr_gid, oct(spool.st_mode)
    out = run(str(INSTALLED_SYNC), "version").stdout
    assert re.search(r"\d+\.\d+\.\d+", out), out
    # the master key survives a reinstall (secrets in Postgres are sealed under it)
    before = SECRET_FILE.read_text()
    run("dpkg", "-i", str(installed[1]))
    assert SECRET_FILE.read_text() == before
    # both example configs name the same admin socket
    admin = env_file_value("ROUTESHIFT_NGINX_ADMIN")
    example = (REPO / "nginx.conf.example").read_text()
    socket_path = re.match(r"unix:([^:]+):", admin).group(1)
    assert f"listen unix:{socket_path};" in example, (admin, "nginx.conf.example")


def test_serves_chat_through_etc_nginx_with_packaged_sync(installed, tmp_path):
    admin_target = env_file_value("ROUTESHIFT_NGINX_ADMIN")          # unix:/run/routeshift/admin.sock:/admin
    socket_path = Path(re.match(r"unix:([^:]+):", admin_target).group(1))
    # what systemd-tmpfiles does at boot (containers without systemd don't run it)
    socket_path.parent.mkdir(mode=0o755, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    transcript = Transcript()
    pg = PgCluster().start()
    upstream = MockUpstream().start()
    nginx = sync_proc = cred_dir = None
    try:
        db = Sync(pg.new_database(), None, transcript)
        # systemd's credential directory is private to the service user; pytest's tmp dirs are not
        # reachable by other users
        cred_dir = Path(tempfile.mkdtemp(prefix="rs-pkg-credentials-"))
        shutil.copy(SECRET_FILE, cred_dir / "provider_key_secret")   # LoadCredential= does this
        user = pwd.getpwnam("routeshift")
        os.chown(cred_dir, user.pw_uid, user.pw_gid)
        os.chown(cred_dir / "provider_key_secret", user.pw_uid, user.pw_gid)
        env = db.env(CREDENTIALS_DIRECTORY=str(cred_dir), ROUTESHIFT_NGINX_ADMIN=admin_target)
        db.run("migrate", env=env)
        db.run("provider", "add", "--name", "mock", "--kind", "openai_compat", "--base-url", upstream.base_url,
               env=env)
        db.run("model", "add", "--provider", "mock", "--model", "m1", env=env)
        provider_secret = "sk-pkgtest-" + os.urandom(12).hex()
        db.run("provider-key", "add", "--provider", "mock", "--label", "k1", input=provider_secret + "\n", env=env)
        vkey = db.run("virtual-key", "create", "--team", "default", "--name", "pkg", env=env).stdout.strip()

        port = free_port()
        SITE_FILE.write_text(f"""# written by t/packaging/test_debian_packages.py (removed after the test)
routeshift_zone routeshift 16m;
routeshift_admin_socket_mode {socket_path} 0660 routeshift;
server {{
    listen 127.0.0.1:{port};
    location = /v1/chat/completions {{ routeshift_pass; }}
}}
server {{
    listen unix:{socket_path};
    location /admin/ {{ routeshift_admin; }}
}}
""")
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"""include /etc/nginx/modules-enabled/*.conf;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log info;
daemon off;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    include {SITE_FILE};
}}
""")
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(tmp_path / "error.log")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=open(tmp_path / "nginx.stderr", "wb"), start_new_session=True)
        wait_until(lambda: socket_path.exists() and _listening(port), 10, what="nginx listening")

        # the service as systemd runs it: the packaged user, the env file, the master key as a credential
        sync_proc = subprocess.Popen(
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
             str(INSTALLED_SYNC), "serve", "--log-level", "debug"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "sync.log", "wb"), start_new_session=True)

        def served() -> bool:
            r = http_call(port, "POST", "/v1/chat/completions",
                          body={"model": "m1", "messages": [{"role": "user", "content": "hi"}]},
                          headers={"Authorization": f"Bearer {vkey}"}, transcript=transcript)
            return r.status == 200

        try:
            wait_until(served, 15, interval=0.2, what="a chat answer through the packaged module and sync")
        except AssertionError as e:
            raise AssertionError(f"{e}\n[sync]\n{(tmp_path / 'sync.log').read_text(errors='replace')[-2000:]}"
                                 f"\n[nginx]\n{(tmp_path / 'error.log').read_text(errors='replace')[-2000:]}")
        seen = upstream.since(0)
        assert seen and seen[-1]["auth"] == provider_secret and seen[-1]["model"] == "m1"
        logs = transcript.text() + (tmp_path / "sync.log").read_text(errors="replace") + \
            (tmp_path / "error.log").read_text(errors="replace")
        assert provider_secret not in logs and SECRET_FILE.read_text().strip() not in logs
    finally:
        for proc, sig in ((sync_proc, signal.SIGTERM), (nginx, signal.SIGQUIT)):
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, sig)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
        upstream.stop()
        pg.destroy()
        if cred_dir is not None:
            shutil.rmtree(cred_dir, ignore_errors=True)
        socket_path.unlink(missing_ok=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
