"""Self-tests of the harness (mock provider, mini DNS, PKI, SDK client) - no module needed.

They pin down what the mocks really send, so a gateway test that fails can be trusted to be the
gateway's fault, and they show that the SDK alone would NOT notice a stream missing [DONE]."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time

from helpers import free_port, http_request, sse_events
from mini_dns import MiniDNS, query_a
from mock_provider import Reply


def test_mock_json_keepalive_and_recording(mocks):
    m = mocks.new("a")
    conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=5)
    body = json.dumps({"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]})
    for i in range(2):
        conn.request("POST", "/v1/chat/completions?x=1", body=body,
                     headers={"Authorization": "Bearer sk-one", "Content-Type": "application/json"})
        r = conn.getresponse()
        data = json.loads(r.read())
        assert r.status == 200
        assert data["object"] == "chat.completion" and data["model"] == "gpt-x"
        assert data["choices"][0]["message"]["content"] == "Hello from mock"
    conn.close()
    reqs = m.wait_requests(2)
    assert reqs[0].conn_id == reqs[1].conn_id and [r.conn_seq for r in reqs] == [1, 2]
    assert reqs[0].path == "/v1/chat/completions" and reqs[0].query_params == {"x": ["1"]}
    assert reqs[0].auth_secret() == "sk-one" and reqs[0].json["model"] == "gpt-x"


def test_mock_queue_key_scoping_and_errors(mocks):
    m = mocks.new("a")
    m.enqueue(Reply.error(429, "slow", headers={"Retry-After": "2"}), key="sk-a")
    m.set_default(Reply.error(500, "broken"), key="sk-b")
    r = http_request(m.port, "POST", "/v1/chat/completions", {"model": "m"},
                     {"Authorization": "Bearer sk-b"})
    assert r.status == 500 and r.json["error"]["message"] == "broken"
    r = http_request(m.port, "POST", "/v1/chat/completions", {"model": "m"},
                     {"api-key": "sk-a"})
    assert r.status == 429 and r.header("Retry-After") == "2"
    assert r.json["error"]["type"] == "requests"
    r = http_request(m.port, "POST", "/v1/chat/completions", {"model": "m"},
                     {"Authorization": "Bearer sk-a"})
    assert r.status == 200


def test_mock_stream_wire_format_and_usage(mocks):
    m = mocks.new("a")
    m.set_default(Reply.stream(["a", "b"]))
    r = http_request(m.port, "POST", "/v1/chat/completions",
                     {"model": "m", "stream": True, "stream_options": {"include_usage": True}})
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("Content-Type").startswith("text/event-stream")
    ev = sse_events(r.body)
    assert ev[-1] == "[DONE]"
    assert ev[0]["choices"][0]["delta"]["role"] == "assistant"
    assert ev[-2]["choices"] == [] and ev[-2]["usage"]["total_tokens"] == 13
    assert ev[-3]["choices"][0]["finish_reason"] == "stop"
    assert len({e["id"] for e in ev[:-1]}) == 1
    r = http_request(m.port, "POST", "/v1/chat/completions", {"model": "m", "stream": True})
    ev = sse_events(r.body)
    assert all(e["usage"] is None for e in ev[:-1]), "usage chunk without include_usage"


def test_sdk_against_mock_stream_timing(mocks, sdk):
    m = mocks.new("a")
    m.set_default(Reply.stream(["one", "two", "three"], delay=0.3))
    res = sdk({"baseURL": m.base_url(), "apiKey": "sk-direct", "mode": "stream",
               "request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}})
    assert res.get("completed"), res
    ts = [c["t"] for c in res["chunks"]]
    assert len(ts) == 5
    assert ts[-1] - ts[0] > 1000, f"chunks not spread: {ts}"
    text = "".join(c["chunk"]["choices"][0]["delta"].get("content") or "" for c in res["chunks"])
    assert text == "onetwothree"


def test_sdk_plain_final_and_error(mocks, sdk):
    m = mocks.new("a")
    req = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    res = sdk({"baseURL": m.base_url(), "apiKey": "sk-direct", "mode": "plain", "request": req})
    assert res["completion"]["choices"][0]["message"]["content"] == "Hello from mock"
    assert "x-request-id" in res["headers"]
    m.set_default(Reply.stream(["x", "y"]))
    res = sdk({"baseURL": m.base_url(), "apiKey": "sk-direct", "mode": "final", "request": req})
    assert res["completion"]["choices"][0]["message"]["content"] == "xy", res
    m.set_default(Reply.error(429, "slow down", headers={"Retry-After": "2"}))
    res = sdk({"baseURL": m.base_url(), "apiKey": "sk-direct", "mode": "plain", "request": req})
    assert res["error"]["status"] == 429 and res["error"]["type"] == "requests"
    assert len(m.requests) == 3, "maxRetries must be 0"
    assert m.requests[0].auth_secret() == "sk-direct"


def test_sdk_sees_drop_but_not_missing_done(mocks, sdk):
    """Abrupt drop mid-stream -> SDK error.  A clean end without [DONE] is NOT an error for the
    SDK, which is why the gateway must turn it into an error event (tested in test_streams)."""
    m = mocks.new("a")
    req = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    m.set_default(Reply.stream(["a", "b", "c", "d"], drop_after=3, delay=0.05))
    res = sdk({"baseURL": m.base_url(), "apiKey": "k", "mode": "stream", "request": req})
    assert "error" in res and not res["completed"], res
    m.set_default(Reply.stream(["a", "b"], done=False))
    res = sdk({"baseURL": m.base_url(), "apiKey": "k", "mode": "stream", "request": req})
    assert res["completed"] and "error" not in res, res


def test_mock_200_parallel_streams(mocks, sdk):
    m = mocks.new("a")
    m.set_default(Reply.stream(["p", "q", "r"], delay=0.05))
    res = sdk({"baseURL": m.base_url(), "apiKey": "k", "mode": "parallel_streams", "count": 200,
               "request": {"model": "m", "messages": [{"role": "user", "content": "x"}]}})
    assert res["ok"] == 200, res
    assert res["elapsedMs"] < 20000


def test_tls_mock_and_pki(mocks, pki):
    good = mocks.new("tls", tls=True)
    rogue = mocks.new("rogue", tls=True, rogue=True)
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    c = http.client.HTTPSConnection("127.0.0.1", good.port, context=ctx, timeout=5)
    # verify against the name in the certificate while connecting to the IP
    c.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", good.port)),
                             server_hostname="mock-tls.test")
    c.request("POST", "/v1/chat/completions", body=b'{"model":"m"}',
              headers={"Content-Type": "application/json"})
    assert c.getresponse().status == 200
    assert good.requests[0].sni == "mock-tls.test" and good.requests[0].tls
    for port, name in ((rogue.port, "mock-tls.test"), (good.port, "wrong-name.test")):
        try:
            ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=name)
        except ssl.SSLCertVerificationError:
            pass
        else:
            raise AssertionError(f"verification should fail for {name} on {port}")


def test_mini_dns():
    with MiniDNS({"*.test": "127.0.0.1", "exact.example": "127.0.0.9"}) as d:
        assert query_a(("127.0.0.1", d.port), "mock-a.test") == (0, ["127.0.0.1"])
        assert query_a(("127.0.0.1", d.port), "Exact.Example") == (0, ["127.0.0.9"])
        assert query_a(("127.0.0.1", d.port), "nope.invalid") == (3, [])
        assert d.queried("mock-a.test") == 1


def test_free_port_unique():
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20


def test_mock_drop_before_answer(mocks):
    m = mocks.new("a")
    m.set_default(Reply.drop())
    t0 = time.monotonic()
    try:
        http_request(m.port, "POST", "/v1/chat/completions", {"model": "m"}, timeout=3)
    except (ConnectionError, http.client.HTTPException):
        pass
    else:
        raise AssertionError("expected the connection to drop")
    assert time.monotonic() - t0 < 2


def test_gateway_lifecycle_with_stock_nginx(tmp_path, mocks, pki):
    """Start / wait / access-log polling / reload (SIGHUP) / stop by PID / log checks of the
    Gateway helper, on stock nginx (no module needed)."""
    import os
    from helpers import Gateway, HERE, chat_body

    m = mocks.new("a")
    m.set_default(Reply.stream(["x", "y"], delay=0.05))
    g = Gateway(tmp_path / "ng", "/nonexistent.so", pki.ca_cert,
                template=HERE / "stock_nginx.conf.tmpl")
    g.extra_subst["MOCK_PORT"] = str(m.port)
    g.start()
    try:
        pids = g.worker_pids()
        assert len(pids) == 2 and all(os.path.exists(f"/proc/{p}") for p in pids)
        r = g.chat(chat_body("m", stream=True), key="sk-proxy-selftest-000000")
        assert r.status == 200 and sse_events(r.body)[-1] == "[DONE]"
        assert g.wait_access(1)[0]["status"] == "200"
        g.reload()
        assert set(g.worker_pids()).isdisjoint(pids)
        assert g.chat(chat_body("m")).status == 200
        g.secrets.add("sk-proxy-selftest-000000")
        assert g.log_problems() == []
        # a secret in the error log is reported
        with open(g.error_log_path, "a") as f:
            f.write("2026/01/01 00:00:00 [info] 1#1: leaked sk-proxy-selftest-000000\n"
                    "2026/01/01 00:00:00 [alert] 1#1: something bad\n")
        probs = g.log_problems()
        assert any("virtual key" in p for p in probs) and any("[alert]" in p for p in probs), probs
    finally:
        master = g.master_pid
        workers = g.worker_pids()
        assert g.stop() is None
    assert not os.path.exists(f"/proc/{master}") or "Z" in open(f"/proc/{master}/stat").read()
    assert not any(os.path.exists(f"/proc/{w}") for w in workers)


def test_raw_request_detects_unterminated_chunked(mocks):
    from helpers import raw_request
    m = mocks.new("a")
    m.set_default(Reply.stream(["a", "b", "c"], drop_after=2, rst=False))
    body = b'{"model":"m","stream":true}'
    r = raw_request(m.port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body), body)
    assert r.status == 200 and not r.complete and len(sse_events(r.body)) == 2
    m.set_default(Reply.stream(["a"]))
    r = raw_request(m.port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body), body)
    assert r.complete and sse_events(r.body)[-1] == "[DONE]"


def test_mock_framing_options(mocks):
    from helpers import raw_request
    m = mocks.new("a")
    body = b'{"model":"m","stream":true,"stream_options":{"include_usage":true}}'
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    m.set_default(Reply.stream(["ab", "cd"], split=5, crlf=True))
    r = raw_request(m.port, head, body)
    assert r.complete and b"\r\n\r\n" in r.body
    ev = sse_events(r.body)
    assert ev[-1] == "[DONE]" and ev[-2]["usage"]["total_tokens"] == 13
    m.set_default(Reply.completion("cj", chunked=True))
    r = raw_request(m.port, head, body)
    assert r.header("Transfer-Encoding") == "chunked" and r.complete
    assert json.loads(r.body)["choices"][0]["message"]["content"] == "cj"


def test_mock_idle_timeout_closes_connection(mocks):
    m = mocks.new("a")
    m.idle_timeout = 0.2
    conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", body=b'{"model":"m"}')
    assert conn.getresponse().read()
    time.sleep(0.5)
    assert m.idle_closes == 1
    conn.close()


def test_sanitizer_env_and_reports(tmp_path, monkeypatch):
    """make test-asan: nginx gets libasan preloaded and a report directory; any non-empty report
    there is a problem (Gateway.log_problems fails the test on it)."""
    from sanitizer import report_dir, sanitizer_env, sanitizer_reports
    monkeypatch.delenv("ROUTESHIFT_ASAN", raising=False)
    assert sanitizer_env(tmp_path).get("LD_PRELOAD") == os.environ.get("LD_PRELOAD")  # untouched
    assert sanitizer_reports(tmp_path) == []
    monkeypatch.setenv("ROUTESHIFT_ASAN", "/usr/lib/libasan-test.so")
    env = sanitizer_env(tmp_path)
    assert env["LD_PRELOAD"] == "/usr/lib/libasan-test.so"
    assert "ROUTESHIFT_ASAN" not in env
    d = report_dir(tmp_path)
    assert str(d).startswith("/tmp/") and (d.stat().st_mode & 0o777) == 0o777  # workers run as nobody
    assert f"log_path={d}/asan" in env["ASAN_OPTIONS"]
    assert "detect_leaks=0" in env["ASAN_OPTIONS"]
    assert f"log_path={d}/ubsan" in env["UBSAN_OPTIONS"]
    (d / "asan.123").write_text("")  # an empty file is no report
    assert sanitizer_reports(tmp_path) == []
    (d / "ubsan.456").write_text("runtime error: signed integer overflow\n")
    reports = sanitizer_reports(tmp_path)
    assert len(reports) == 1 and "ubsan.456" in reports[0] and "signed integer overflow" in reports[0]
    import shutil
    shutil.rmtree(d)
