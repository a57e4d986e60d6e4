"""Admin API: snapshot validation is all-or-nothing, status, generation across reloads."""

from __future__ import annotations

import copy
import hashlib
import json
import os

import pytest

from helpers import Snapshot, assert_openai_error, chat_body, http_request, read_to_end
from mock_provider import Reply


def _bad(mutate):
    def f(doc):
        doc = copy.deepcopy(doc)
        mutate(doc)
        return doc
    return f


def _dup_provider(d):
    d["providers"].append(dict(d["providers"][0], name="dupe"))


def _azure_no_resource(d):
    d["providers"].append({"id": 77, "name": "az", "kind": "azure", "base_url": None,
                           "enabled": True})
    d["provider_keys"].append({"id": 770, "provider_id": 77, "label": "az", "secret": "sk-az-x",
                               "metadata": {}, "weight": 1, "rpm": None, "tpm": None,
                               "cooldown_seconds": 30, "enabled": True})


def _compat_no_base(d):
    d["providers"].append({"id": 78, "name": "compat", "kind": "openai_compat", "base_url": None,
                           "enabled": True})


BAD = {
    "unknown_kind": (_bad(lambda d: d["providers"][0].update(kind="skynet")), "providers"),
    "duplicate_provider_id": (_bad(_dup_provider), "providers"),
    "duplicate_key_id": (_bad(lambda d: d["provider_keys"].append(
        dict(d["provider_keys"][0], label="dupe"))), "provider_keys"),
    "key_dangling_provider": (_bad(lambda d: d["provider_keys"][0].update(provider_id=999)),
                              "provider_keys"),
    "weight_too_big": (_bad(lambda d: d["provider_keys"][0].update(weight=1001)), "provider_keys"),
    "weight_negative": (_bad(lambda d: d["provider_keys"][0].update(weight=-1)), "provider_keys"),
    "bad_url_scheme": (_bad(lambda d: d["providers"][0].update(base_url="ftp://x/v1")),
                       "providers"),
    "bad_url_query": (_bad(lambda d: d["providers"][0].update(base_url="http://x/v1?a=b")),
                      "providers"),
    "azure_without_resource": (_bad(_azure_no_resource), "provider"),
    "compat_without_base_url": (_bad(_compat_no_base), "providers"),
    "model_dangling_provider": (_bad(lambda d: d["models"].append(
        {"provider_id": 4242, "model": "x"})), "models"),
    "vkey_dangling_team": (_bad(lambda d: d["virtual_keys"][0].update(team_id=4242)),
                           "virtual_keys"),
    "generation_zero": (_bad(lambda d: d.update(generation=0)), "generation"),
    "providers_not_array": (_bad(lambda d: d.update(providers={})), "providers"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_snapshot_rejected_old_config_serves(basic, case):
    gw = basic.gw
    gen = gw.generation()
    mutate, mention = BAD[case]
    doc = mutate(basic.snap.bump().to_dict())
    r = gw.push(doc, expect=400)
    j = r.json
    assert isinstance(j.get("error"), dict) and j["error"].get("message"), r.describe()
    msg = j["error"]["message"]
    assert mention in msg, f"message should name the offending row/field ({mention}): {msg!r}"
    for sec in basic.snap.secrets + ["sk-az-x"]:
        assert sec not in r.body.decode(), "secret echoed in the rejection"
    assert gw.generation() == gen, "a rejected snapshot changed the generation"
    r = basic.chat(chat_body("gpt-4o"))
    assert r.status == 200, f"old config must keep serving: {r.describe()}"


def test_invalid_json_snapshot_rejected(basic):
    gen = basic.gw.generation()
    r = http_request(basic.gw.admin_port, "PUT", "/admin/snapshot", body=b'{"version": 1, "gen')
    assert r.status == 400 and r.json["error"]["message"], r.describe()
    assert basic.gw.generation() == gen
    assert basic.chat(chat_body("gpt-4o")).status == 200


def test_new_snapshot_replaces_old(basic, mocks):
    b = mocks.new("b")
    s = Snapshot()
    p = s.provider("other", "together", b.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    vk2 = s.vkey()
    r = basic.gw.push(s)
    assert r.json == {"generation": s.generation, "keys": 1}, r.describe()
    r = basic.gw.chat(chat_body("gpt-4o"), key=vk2)
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "other", r.describe()
    r = basic.chat(chat_body("gpt-4o"))                       # old virtual key is gone
    assert_openai_error(r, 401)
    assert not basic.mock.requests


def test_config_survives_reload(basic):
    gw = basic.gw
    gen = gw.generation()
    assert basic.chat(chat_body("gpt-4o")).status == 200
    old = gw.worker_pids()
    gw.reload()
    assert set(gw.worker_pids()).isdisjoint(old)
    assert gw.generation() == gen, "generation lost across nginx -s reload"
    for _ in range(4):  # both new workers
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status == 200, r.describe()


def test_admin_status_on_loopback(basic):
    basic.chat(chat_body("gpt-4o"))
    basic.chat(chat_body("gpt-4o"))
    r = basic.gw.admin("GET", "/admin/status")
    assert r.status == 200 and (r.header("Content-Type") or "").startswith("application/json"), \
        r.describe()
    st = r.json
    assert st["generation"] == basic.snap.generation, st
    (k,) = st["keys"]
    for field in ("id", "provider", "label", "weight", "enabled", "inflight",
                  "cooldown_remaining_ms", "requests", "failures", "last_status"):
        assert field in k, f"/admin/status key lacks {field}: {k}"
    assert k["id"] == basic.snap.key_id(basic.secret) and k["provider"] == "openai"
    assert k["label"] == "main" and k["requests"] == 2 and k["inflight"] == 0, k
    assert k["last_status"] == 200 and k["cooldown_remaining_ms"] == 0, k
    assert basic.secret not in r.body.decode() and basic.secret[:12] not in r.body.decode()
    g = basic.gw.admin("GET", "/admin/snapshot/generation").json
    assert g["generation"] == basic.snap.generation and "epoch" in g, g


def test_generation_zero_before_push_and_chat_unavailable(gw):
    assert gw.generation() == 0
    r = gw.chat(chat_body("gpt-4o"), key="sk-proxy-whatever-nothing-loaded")
    assert r.status in (401, 503), r.describe()
    assert_openai_error(r, r.status)


def test_invalidate_endpoint(basic):
    r = basic.gw.admin("POST", "/admin/model-aliases/invalidate")
    assert r.status == 200, r.describe()
    assert r.json == {"invalidated": True, "generation": basic.snap.generation}, r.describe()
    assert basic.chat(chat_body("gpt-4o")).status == 200


def test_admin_not_on_public_server(basic):
    r = http_request(basic.gw.port, "GET", "/admin/status")
    assert r.status == 404, "admin API must only be where routeshift_admin is configured"


def test_snapshot_get_never_returns_secrets(basic):
    for path in ("/admin/snapshot", "/admin/status", "/admin/snapshot/generation"):
        r = basic.gw.admin("GET", path)
        assert basic.secret not in r.body.decode(errors="replace"), f"{path} returned a secret"
        assert basic.vkey not in r.body.decode(errors="replace")
        if r.status == 200:
            json.loads(r.body)


def _big_snapshot(base_url: str, n_vkeys: int) -> tuple[Snapshot, str]:
    s = Snapshot()
    p = s.provider("openai", "openai", base_url)
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    for _ in range(n_vkeys):
        s.vkey()
    s.vkeys = s.vkeys[:1]   # only the first is used / checked for leaks
    return s, vk


def test_large_snapshot_body_from_temp_file(basic):
    """A snapshot bigger than client_body_buffer_size (16k) is spooled to a temp file by nginx;
    the admin handler must read it from there."""
    s, vk = _big_snapshot(basic.mock.base_url(), 1500)
    assert len(json.dumps(s.to_dict())) > 200_000
    basic.gw.push(s)
    r = basic.gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()


def test_repeated_pushes_do_not_exhaust_zone(basic):
    """60 pushes of ~300 KB snapshots (18 MB in total) into a 16m zone: old snapshots must be
    freed."""
    vk = None
    for i in range(60):
        s, vk = _big_snapshot(basic.mock.base_url(), 1500)
        basic.gw.push(s)
    r = basic.gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert basic.gw.generation() == s.generation


def test_snapshot_swap_during_inflight_stream(basic, mocks, sdk):
    """Replacing the snapshot while a stream (and its parsed config) is in use must not break
    the running request or crash a worker."""
    import threading
    basic.mock.set_default(Reply.stream([f"t{i} " for i in range(8)], delay=0.25))
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("res", sdk({
        "baseURL": basic.gw.base_url, "apiKey": basic.vkey, "mode": "stream",
        "request": chat_body("gpt-4o")})))
    th.start()
    basic.mock.wait_requests(1, timeout=10)
    b = mocks.new("b")
    for _ in range(3):
        s = Snapshot()
        p = s.provider("other", "together", b.base_url())
        s.key(p)
        s.model(p, "gpt-4o")
        vk2 = s.vkey()
        basic.gw.push(s)
    th.join(30)
    res = out["res"]
    assert res.get("completed") and "error" not in res, res
    text = "".join(c["chunk"]["choices"][0]["delta"].get("content") or ""
                   for c in res["chunks"] if c["chunk"]["choices"])
    assert text == "".join(f"t{i} " for i in range(8))
    r = basic.gw.chat(chat_body("gpt-4o"), key=vk2)
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "other", r.describe()


def test_admin_over_unix_socket(gw_factory, tmp_path):
    import socket as _socket
    sock_path = f"/tmp/rs-admin-{os.getpid()}-{id(tmp_path)}.sock"
    gw = gw_factory(http_extra=f"server {{ listen unix:{sock_path}; "
                               f"location /admin/ {{ routeshift_admin; }} }}")
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)   # nginx removes the socket file itself when it exits
    s.sendall(b"GET /admin/snapshot/generation HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = read_to_end(s)
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:300]
    assert json.loads(body)["generation"] == 0
    assert gw.generation() == 0


def _worker_records(gw) -> list[dict]:
    st = gw.status()
    workers = st["workers"]
    assert len(workers) == gw.workers, st
    return workers


def test_push_is_parsed_by_every_worker_off_the_request_path(basic):
    """Each worker parses a pushed snapshot once, in its poll timer (or the admin handler), before
    the push is answered; requests never parse it (2 workers)."""
    gw = basic.gw
    assert gw.workers == 2
    before = _worker_records(gw)
    assert all(w["parses"] == 1 and w["request_parses"] == 0 for w in before), before
    version = gw.status()["config_version"]
    assert all(w["config_version"] == version for w in before), before
    for _ in range(20):
        assert basic.chat(chat_body("gpt-4o")).status == 200
    r = gw.push(basic.snap.bump())
    assert r.header("X-RouteShift-Workers-Acknowledged") == "2/2", r.describe()
    assert "workers_acknowledged" not in r.json, r.describe()
    after = _worker_records(gw)
    assert all(w["parses"] == 2 and w["request_parses"] == 0 for w in after), after
    assert all(w["config_version"] == version + 1 for w in after), after
    for _ in range(20):
        assert basic.chat(chat_body("gpt-4o")).status == 200
    r = gw.admin("POST", "/admin/model-aliases/invalidate")
    assert r.status == 200 and r.header("X-RouteShift-Workers-Acknowledged") == "2/2", r.describe()
    final = _worker_records(gw)
    assert all(w["parses"] == 3 and w["request_parses"] == 0 for w in final), final
    assert {w["pid"] for w in final} == set(gw.worker_pids()), final



def test_push_answer_waits_at_most_one_second(gw_factory, mocks):
    """A worker that has not picked the push up (here: its poll interval is 60s) delays the answer
    by at most 1 s; the answer then says how many workers hold the new config. A worker without
    any config parses inline once rather than failing the request."""
    import time
    gw = gw_factory(http_extra="routeshift_config_poll 60s;")
    deadline = time.monotonic() + 10   # both workers past their start-up parse (pid recorded)
    while not all(w["pid"] for w in gw.status()["workers"]):
        assert time.monotonic() < deadline, gw.status()
        time.sleep(0.05)
    a = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", a.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    t0 = time.monotonic()
    r = gw.push(s)
    elapsed = time.monotonic() - t0
    assert r.header("X-RouteShift-Workers-Acknowledged") == "1/2", r.describe()
    assert r.json["workers"] == 2 and r.json["workers_acknowledged"] == 1, r.describe()
    assert r.json["generation"] == s.generation and r.json["keys"] == 1, r.describe()
    assert 0.9 <= elapsed < 4, elapsed
    for _ in range(8):
        assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    workers = gw.status()["workers"]
    assert sum(w["request_parses"] for w in workers) <= 1, workers


# ---- issue 12: a locked admin API, readiness -------------------------------------------------

def _non_loopback_ipv4() -> str | None:
    """An address of this machine outside 127.0.0.0/8, to connect from as a 'remote' peer."""
    import socket as _socket
    import subprocess as _subprocess
    try:
        out = _subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except OSError:
        return None
    for addr in out.split():
        if "." in addr and not addr.startswith("127."):
            try:
                s = _socket.socket()
                s.bind((addr, 0))
                s.close()
                return addr
            except OSError:
                continue
    return None


def test_realip_cannot_open_the_admin_api(gw_factory):
    """peer_is_local looks at the socket's real peer: X-Forwarded-For: 127.0.0.1 through a trusted
    realip proxy must not make a non-loopback client local."""
    from helpers import free_port
    addr = _non_loopback_ipv4()
    if addr is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    port = free_port()
    gw = gw_factory(http_extra=(
        f"server {{ listen {addr}:{port}; set_real_ip_from {addr}; real_ip_header X-Forwarded-For; "
        f"location = /whoami {{ return 200 $remote_addr; }} location /admin/ {{ routeshift_admin; }} }}"))
    forged = {"X-Forwarded-For": "127.0.0.1"}
    who = http_request(port, "GET", "/whoami", headers=forged, host=addr)
    assert who.status == 200 and who.body == b"127.0.0.1", "realip must be active for this test to mean anything"
    r = http_request(port, "GET", "/admin/status", headers=forged, host=addr)
    assert r.status == 403, r.describe()
    assert_openai_error(r, 403)
    r = http_request(port, "PUT", "/admin/snapshot", body={"version": 1, "generation": 99}, headers=forged, host=addr)
    assert r.status == 403, r.describe()
    assert gw.generation() == 0


def test_readiness_and_retry_after(gw_factory, mocks):
    gw = gw_factory(server_extra="location = /ready { routeshift_ready; }")
    r = http_request(gw.port, "GET", "/ready")
    assert r.status == 503 and r.header("Retry-After") == "1", r.describe()
    assert r.json == {"ready": False, "generation": 0}
    r = gw.admin("GET", "/admin/ready")
    assert r.status == 503 and r.header("Retry-After") == "1", r.describe()
    c = gw.chat(chat_body("gpt-4o"), key="sk-proxy-nothing-loaded-yet")
    assert c.status == 503 and c.header("Retry-After") == "1", c.describe()
    assert_openai_error(c, 503)
    s = Snapshot()
    p = s.provider("openai", "openai", mocks.new("a").base_url())
    s.key(p, label="main")
    s.model(p, "gpt-4o")
    s.vkey()
    gw.push(s)
    r = http_request(gw.port, "GET", "/ready")
    assert r.status == 200 and r.json == {"ready": True, "generation": s.generation}, r.describe()
    assert r.header("Retry-After") is None
    assert gw.admin("GET", "/admin/ready").status == 200


def _signed(token: str, method: str, path: str, nonce: str = "0123456789abcdef0123456789abcdef") -> dict:
    import hmac as _hmac
    mac = _hmac.new(token.encode(), f"routeshift-admin-request\n{nonce}\n{method}\n{path}".encode(),
                    hashlib.sha256).hexdigest()
    return {"X-RouteShift-Admin-Auth": f"{nonce}:{mac}"}


def _proof(token: str, nonce: str = "0123456789abcdef0123456789abcdef") -> str:
    import hmac as _hmac
    return _hmac.new(token.encode(), f"routeshift-admin-response\n{nonce}".encode(), hashlib.sha256).hexdigest()


def test_admin_token_on_tcp(gw_factory, tmp_path):
    token = "t0ken-" + os.urandom(20).hex()
    token_file = tmp_path / "admin.token"
    token_file.write_text(token + "\n")
    gw = gw_factory(http_extra=f"routeshift_admin_token_file {token_file};")
    r = gw.admin("GET", "/admin/snapshot/generation")
    assert r.status == 401, r.describe()
    assert_openai_error(r, 401)
    assert token not in r.body.decode()
    r = http_request(gw.admin_port, "GET", "/admin/snapshot/generation",
                     headers=_signed(token, "GET", "/admin/snapshot/generation"))
    assert r.status == 200 and r.json["generation"] == 0, r.describe()
    assert r.header("X-RouteShift-Admin-Proof") == _proof(token)
    # a wrong token, or a signature for another method/path, is refused
    assert http_request(gw.admin_port, "GET", "/admin/snapshot/generation",
                        headers=_signed("x" * 40, "GET", "/admin/snapshot/generation")).status == 401
    r = http_request(gw.admin_port, "PUT", "/admin/snapshot", body={"version": 1, "generation": 5},
                     headers=_signed(token, "GET", "/admin/snapshot/generation"))
    assert r.status == 401 and gw.admin("GET", "/admin/ready").status == 401


def test_admin_socket_mode(gw_factory):
    import grp
    import stat as _stat
    sock = f"/tmp/rs-mode-{os.getpid()}-a.sock"
    group = grp.getgrgid(os.getgid()).gr_name
    gw_factory(http_extra=(f"routeshift_admin_socket_mode unix:{sock} 0660 {group}; "
                           f"server {{ listen unix:{sock}; location /admin/ {{ routeshift_admin; }} }}"))
    st = os.stat(sock)
    assert _stat.S_ISSOCK(st.st_mode) and _stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert st.st_gid == os.getgid()
    plain = f"/tmp/rs-mode-{os.getpid()}-b.sock"
    gw_factory(http_extra=(f"routeshift_admin_socket_mode {plain} 0600; "
                           f"server {{ listen unix:{plain}; location /admin/ {{ routeshift_admin; }} }}"))
    assert _stat.S_IMODE(os.stat(plain).st_mode) == 0o600


def test_status_lists_quarantined_rows(basic):
    assert basic.gw.status()["quarantined"] == []
    doc = basic.snap.to_dict()
    doc["generation"] = basic.snap.generation + 1
    doc["quarantined"] = [{"table": "providers", "id": 9, "reason": "providers[1] (id 9): bad base_url",
                           "kept_previous": False}]
    basic.gw.push(doc)
    assert basic.gw.status()["quarantined"] == doc["quarantined"]
