"""Upstream TLS (verified against the throwaway CA) and the asynchronous DNS path (mini DNS)."""

from __future__ import annotations

from helpers import Snapshot, assert_openai_error, chat_body


def _snap(providers):
    """providers: list of (name, base_url, weight)."""
    s = Snapshot()
    secrets = {}
    for name, url, weight in providers:
        p = s.provider(name, "openai", url)
        secrets[name] = s.key(p, weight=weight, label=name)
        s.model(p, "gpt-4o")
    vk = s.vkey()
    return s, secrets, vk


def test_tls_upstream_verified_with_test_ca(gw, mocks, dns):
    t = mocks.new("tls", tls=True)
    s, sec, vk = _snap([("secure", t.base_url(host="mock-tls.test"), 1)])
    gw.push(s)
    for _ in range(3):
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200, r.describe()
    q = t.requests[0]
    assert q.tls and q.sni == "mock-tls.test", f"SNI sent: {q.sni!r}"
    assert q.header("host") == f"mock-tls.test:{t.port}", q.header_list
    assert q.header("authorization") == f"Bearer {sec['secure']}"
    assert dns.queried("mock-tls.test") >= 1, dns.queries
    assert max(x.conn_seq for x in t.requests) >= 2, "TLS upstream connections not kept alive"


def test_tls_wrong_name_fails_over(gw, mocks, dns):
    t = mocks.new("tls", tls=True)
    ok = mocks.new("plain")
    # wrong-name.test resolves to 127.0.0.1 too, but the certificate is for mock-tls.test
    s, sec, vk = _snap([("badname", t.base_url(host="wrong-name.test"), 1000),
                        ("good", ok.base_url(), 1)])
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == "good", r.describe()
    assert not t.requests, "a request was sent over a connection whose certificate did not verify"
    assert dns.queried("wrong-name.test") >= 1
    e = gw.wait_access(1)[-1]
    assert e["attempts"] == "2", e


def test_tls_wrong_name_alone_is_an_error(gw, mocks, dns):
    t = mocks.new("tls", tls=True)
    s, sec, vk = _snap([("badname", t.base_url(host="wrong-name.test"), 1)])
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status in (502, 503, 504), r.describe()
    assert_openai_error(r, r.status)
    assert not t.requests


def test_tls_untrusted_ca_is_an_error(gw, mocks, dns):
    rogue = mocks.new("rogue", tls=True, rogue=True)
    s, sec, vk = _snap([("rogue", rogue.base_url(host="mock-tls.test"), 1)])
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status in (502, 503, 504), r.describe()
    assert_openai_error(r, r.status)
    assert not rogue.requests, "request sent to a server whose certificate chain is untrusted"


def test_dns_name_resolved_by_module(gw, mocks, dns):
    m = mocks.new("a")
    s, sec, vk = _snap([("named", m.base_url(host="mock-a.test"), 1)])
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert dns.queried("mock-a.test") >= 1, f"resolver never asked: {dns.queries}"
    assert m.requests[0].header("host") == f"mock-a.test:{m.port}"


def test_nxdomain_fails_over(gw, mocks, dns):
    m = mocks.new("a")
    s, sec, vk = _snap([("ghost", f"http://ghost.invalid:{m.port}/v1", 1000),
                        ("named", m.base_url(host="mock-b.test"), 1)])
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == "named", r.describe()
    assert dns.queried("ghost.invalid") >= 1, dns.queries
    assert len(m.requests) == 1 and m.requests[0].auth_secret() == sec["named"]


def test_dns_timeout_fails_over(gw, mocks, dns):
    """The resolver never answers for slow.test (resolver_timeout 3s): the request must fail
    over to the other provider instead of hanging."""
    import time
    m = mocks.new("a")
    dns.silent.add("slow.test")
    s, sec, vk = _snap([("slow", m.base_url(host="slow.test"), 1000),
                        ("fine", m.base_url(), 1)])
    gw.push(s)
    t0 = time.monotonic()
    r = gw.chat(chat_body("gpt-4o"), key=vk, timeout=20)
    took = time.monotonic() - t0
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "fine", r.describe()
    assert took < 8, f"took {took:.1f}s"
    assert dns.queried("slow.test") >= 1
