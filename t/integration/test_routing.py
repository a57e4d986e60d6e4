"""Model resolution (aliases, provider-scoped names, bare names, "*") and weighted key choice."""

from __future__ import annotations

import pytest

from helpers import Snapshot, assert_openai_error, assert_resolved, chat_body


@pytest.fixture
def two(gw, mocks):
    """openai on mock a (gpt-4o -> gpt-4o-2024-11-20, gpt-4o-mini, "*"), groq on mock b
    (llama-3.1-8b-instant, gpt-4o-mini), disabled provider "off" on mock c."""
    a, b, c = mocks.new("a"), mocks.new("b"), mocks.new("c")
    s = Snapshot()
    po = s.provider("openai", "openai", a.base_url())
    pg = s.provider("groq", "groq", b.base_url(path="/openai/v1"))
    pc = s.provider("off", "openai", c.base_url(), enabled=False)
    ko = s.key(po, label="oa")
    kg = s.key(pg, label="gq")
    s.key(pc, label="off")
    s.model(po, "gpt-4o", "gpt-4o-2024-11-20")
    s.model(po, "gpt-4o-mini")
    s.model(po, "*")
    s.model(pg, "llama-3.1-8b-instant")
    s.model(pg, "gpt-4o-mini")
    s.model(pc, "only-on-off")
    team2 = s.team("research")
    s.alias("smart", "openai/gpt-4o", team_id=None)
    s.alias("fast", "groq/llama-3.1-8b-instant", team_id=None)
    s.alias("fast", "openai/gpt-4o-mini", team_id=team2)
    vk1 = s.vkey(1)
    vk2 = s.vkey(team2)
    gw.push(s)
    return dict(gw=gw, a=a, b=b, c=c, s=s, vk1=vk1, vk2=vk2, ko=ko, kg=kg)


def test_alias_resolution(two):
    gw, a, b = two["gw"], two["a"], two["b"]
    for _ in range(4):
        r = gw.chat(chat_body("smart"), key=two["vk1"])
        assert r.status == 200, r.describe()
        assert r.header("X-RouteShift-Provider") == "openai"
        assert_resolved(r.header("X-RouteShift-Resolved-Model"), "gpt-4o", "gpt-4o-2024-11-20",
                        "openai")
    assert len(a.requests) == 4 and not b.requests
    assert all(q.json["model"] == "gpt-4o-2024-11-20" for q in a.requests)
    e = gw.wait_access(4)[-1]
    assert e["model"] != "smart", e


def test_team_alias_beats_global(two):
    gw, a, b = two["gw"], two["a"], two["b"]
    r = gw.chat(chat_body("fast"), key=two["vk1"])         # team 1: global alias -> groq
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()
    assert b.requests[-1].json["model"] == "llama-3.1-8b-instant"
    r = gw.chat(chat_body("fast"), key=two["vk2"])         # team 2: its own alias -> openai
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert a.requests[-1].json["model"] == "gpt-4o-mini"


def test_provider_scoped_name(two):
    gw, a, b = two["gw"], two["a"], two["b"]
    for _ in range(3):
        r = gw.chat(chat_body("groq/llama-3.1-8b-instant"), key=two["vk1"])
        assert r.status == 200, r.describe()
        assert r.header("X-RouteShift-Provider") == "groq"
        assert_resolved(r.header("X-RouteShift-Resolved-Model"), "llama-3.1-8b-instant",
                        provider="groq")
    assert len(b.requests) == 3 and not a.requests
    q = b.requests[0]
    assert q.path == "/openai/v1/chat/completions", q.target
    assert q.json["model"] == "llama-3.1-8b-instant"
    assert q.header("authorization") == f"Bearer {two['kg']}"
    r = gw.chat(chat_body("openai/gpt-4o-mini"), key=two["vk1"])
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "openai", r.describe()


def test_bare_name_single_and_multi_provider(two):
    gw, a, b = two["gw"], two["a"], two["b"]
    r = gw.chat(chat_body("llama-3.1-8b-instant"), key=two["vk1"])
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()
    n_a, n_b = len(a.requests), len(b.requests)
    for _ in range(12):
        r = gw.chat(chat_body("gpt-4o-mini"), key=two["vk1"])
        assert r.status == 200, r.describe()
    got_a, got_b = len(a.requests) - n_a, len(b.requests) - n_b
    assert got_a + got_b == 12
    assert got_a >= 3 and got_b >= 3, f"bare name listed by two providers: a={got_a} b={got_b}"
    assert not two["c"].requests, "disabled provider received traffic"


def test_star_model(two):
    gw, a = two["gw"], two["a"]
    r = gw.chat(chat_body("openai/brand-new-model"), key=two["vk1"])
    assert r.status == 200, r.describe()
    assert a.requests[-1].json["model"] == "brand-new-model"
    r = gw.chat(chat_body("brand-new-model"), key=two["vk1"])
    assert_openai_error(r, 404, code="model_not_found")


@pytest.mark.parametrize("model", ["no-such-model", "nosuchprovider/gpt-4o",
                                   "groq/gpt-4o", "off/only-on-off", "only-on-off"])
def test_unknown_model_404(two, model):
    r = two["gw"].chat(chat_body(model), key=two["vk1"])
    assert_openai_error(r, 404, code="model_not_found")
    assert not two["a"].requests and not two["b"].requests and not two["c"].requests


def test_route_hint_overrides_model_and_metadata_stripped(two):
    gw, a, b = two["gw"], two["a"], two["b"]
    body = chat_body("gpt-4o", metadata={"route_hint": "groq/llama-3.1-8b-instant",
                                         "session_id": "s-1"})
    r = gw.chat(body, key=two["vk1"])
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()
    q = b.requests[-1]
    assert q.json["model"] == "llama-3.1-8b-instant"
    assert "metadata" not in q.json, f"metadata must not be forwarded: {q.json}"


def test_weights_3_to_1(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    heavy = s.key(p, weight=3, label="heavy")
    light = s.key(p, weight=1, label="light")
    zero = s.key(p, weight=0, label="zero")
    off = s.key(p, weight=5, label="off", enabled=False)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    n = 80
    for i in range(n):
        r = gw.chat(chat_body("gpt-4o"), key=vk)
        assert r.status == 200, f"request {i}: {r.describe()}"
    counts = {name: len(m.requests_for(sec)) for name, sec in
              (("heavy", heavy), ("light", light), ("zero", zero), ("off", off))}
    assert counts["zero"] == 0 and counts["off"] == 0, counts
    assert counts["heavy"] + counts["light"] == n, counts
    assert 52 <= counts["heavy"] <= 68, f"expected ~60/20 for weights 3:1, got {counts}"
    st = {k["id"]: k for k in gw.status()["keys"]}
    assert st[s.key_id(heavy)]["requests"] == counts["heavy"], st
    assert st[s.key_id(light)]["requests"] == counts["light"], st
