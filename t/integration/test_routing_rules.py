"""Routing rules (docs/routing-rules.md) end to end: real nginx with 2 workers, the official openai
SDK as client, mock providers. Every action (route incl. chain fallback, block, tag, static plain
and streamed), each match kind, conditions (time window through a zone whose offset opens or
closes it now, environment, stable percentage), route_hint over the rule chain, per-rule retry
budget, snapshot rejection (bad regex, unknown field) with the old config still serving, and a
pathological regex that must not stall a worker."""

from __future__ import annotations

import base64
import datetime
import time

import pytest

from helpers import Snapshot, assert_openai_error, chat_body, sse_events
from mock_provider import Reply

ZONE_DIR = "/usr/share/zoneinfo"


def zone_b64(name: str) -> str:
    with open(f"{ZONE_DIR}/{name}", "rb") as f:
        return base64.b64encode(f.read()).decode()


class World:
    """openai on mock a (gpt-4o, gpt-4o-mini), groq on mock b (llama), two teams, three keys."""

    def __init__(self, gw, mocks):
        self.gw = gw
        self.a, self.b = mocks.new("a"), mocks.new("b")
        s = Snapshot()
        self.po = s.provider("openai", "openai", self.a.base_url())
        self.pg = s.provider("groq", "groq", self.b.base_url(path="/openai/v1"))
        self.ka = s.key(self.po, label="oa")
        self.ka2 = s.key(self.po, label="oa2")
        self.kb = s.key(self.pg, label="gq")
        s.model(self.po, "gpt-4o")
        s.model(self.po, "gpt-4o-mini")
        s.model(self.pg, "llama-3.1-8b-instant")
        self.team2 = s.team("research")
        s.alias("smart", "openai/gpt-4o", team_id=None)
        s.alias("fast", "groq/llama-3.1-8b-instant", team_id=None)
        self.vk1 = s.vkey(1, name="ci")
        self.vk2 = s.vkey(self.team2, name="lab")
        self.vk3 = s.vkey(1, name="web")
        self.s = s
        self.rules: list = []
        self.zones: dict = {}

    def push(self, rules=None, zones=None, expect=200):
        if rules is not None:
            self.rules = rules
        if zones is not None:
            self.zones = zones
        doc = self.s.bump().to_dict()
        doc["routing_rules"] = self.rules
        doc["time_zones"] = self.zones
        self.gw.secrets.update(self.s.secrets)
        self.gw.secrets.update(self.s.vkeys)
        return self.gw.push(doc, expect=expect)

    def chat(self, body, key=None, **kw):
        return self.gw.chat(body, key=key or self.vk1, **kw)


LOG_FIELDS = (',"rule":"$routeshift_rule","tags":"$routeshift_tags",'
              '"matched":"$routeshift_matched_rules"')


@pytest.fixture
def world(gw_factory, mocks):
    gw = gw_factory(workers=2, extra_log_fields=LOG_FIELDS,
                    location_extra="routeshift_environment prod;")
    return World(gw, mocks)


def rule(id, action, match=None, conditions=None, priority=None, **extra):
    r = {"id": id, "name": f"r{id}", "priority": priority if priority is not None else id,
         "match": match or {}, "action": action, "conditions": conditions or {}}
    r.update(extra)
    return r


def tag(*labels):
    return {"tag": {"labels": list(labels)}}


# -- actions -----------------------------------------------------------------------------------

def test_route_rule_sends_the_model_elsewhere(world, sdk):
    world.push([rule(1, {"route": {"model": "fast"}}, match={"model": "gpt-4o"})])
    res = sdk({"baseURL": world.gw.base_url, "apiKey": world.vk1, "mode": "plain",
               "request": chat_body("gpt-4o")})
    assert "error" not in res, res
    assert res["headers"].get("x-routeshift-provider") == "groq", res["headers"]
    assert world.b.requests[-1].json["model"] == "llama-3.1-8b-instant"
    assert not world.a.requests
    assert world.chat(chat_body("gpt-4o-mini")).header("X-RouteShift-Provider") == "openai"
    assert world.gw.wait_access(2)[-1]["rule"] == ""


def test_route_rule_chain_is_tried_in_order(world):
    world.push([rule(1, {"route": {"models": ["gpt-4o-mini", "fast"]}}, match={"model": "gpt-4o"})])
    for _ in range(6):  # the first model's keys always serve while healthy
        r = world.chat(chat_body("gpt-4o"))
        assert r.status == 200 and r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert not world.b.requests
    # every key of the first model fails: the next model of the chain serves, within the budget
    world.a.set_default(Reply.error(503, "overloaded"))
    r = world.chat(chat_body("gpt-4o"))
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()
    e = world.gw.wait_access(7)[-1]
    assert e["rule"] == "1" and e["statuses"] == "503,503,200", e


def test_route_rule_retry_budget(world):
    # without a budget on the rule: the directive's 3 attempts, the second openai key serves
    world.push([rule(1, {"route": {"model": "gpt-4o-mini"}})])
    world.a.enqueue(Reply.error(503, "overloaded"))
    assert world.chat(chat_body("gpt-4o")).status == 200
    # the rule's budget of 1: the first failure is the answer
    world.push([rule(1, {"route": {"model": "gpt-4o-mini"}}, retry_budget=1)])
    world.a.enqueue(Reply.error(503, "overloaded"))
    r = world.chat(chat_body("gpt-4o"))
    assert r.status == 503, r.describe()
    e = world.gw.wait_access(2)[-1]
    assert e["statuses"] == "503" and e["rule"] == "1", e


def test_block_rule_in_the_clients_dialect(world, sdk):
    world.push([rule(1, {"block": {"status": 403, "message": "Private keys are not allowed."}},
                     match={"content_regex": "BEGIN [A-Z ]*PRIVATE KEY"})])
    res = sdk({"baseURL": world.gw.base_url, "apiKey": world.vk1, "mode": "plain",
               "request": chat_body("gpt-4o", "-----BEGIN RSA PRIVATE KEY----- abc")})
    err = res.get("error")
    assert err and err["status"] == 403, res
    assert err["code"] == "blocked_by_rule" and err["type"] == "permission_error", err
    assert "Private keys are not allowed." in err["message"]
    r = world.chat(chat_body("gpt-4o", "-----BEGIN RSA PRIVATE KEY-----"))
    assert_openai_error(r, 403, code="blocked_by_rule")
    assert r.header("X-RouteShift-Rule") == "1", r.describe()
    assert not world.a.requests and not world.b.requests
    assert world.chat(chat_body("gpt-4o", "hello")).status == 200
    # a route_hint does not get a request past a block
    r = world.chat(chat_body("gpt-4o", "BEGIN EC PRIVATE KEY", metadata={"route_hint": "fast"}))
    assert r.status == 403, r.describe()


def test_block_status_sets_the_error_type(world):
    world.push([rule(1, {"block": {"status": 429, "message": "Batch jobs only at night."}})])
    r = world.chat(chat_body("gpt-4o"))
    assert_openai_error(r, 429, type_="rate_limit_error", code="blocked_by_rule")


def test_static_rule_plain_and_streamed(world, sdk):
    world.push([rule(1, {"static": {"content": "pong"}}, match={"model": "ping"})])
    res = sdk({"baseURL": world.gw.base_url, "apiKey": world.vk1, "mode": "plain",
               "request": chat_body("ping")})
    assert "error" not in res, res
    c = res["completion"]
    assert c["object"] == "chat.completion" and c["model"] == "ping", c
    assert c["choices"][0]["message"]["content"] == "pong"
    assert c["choices"][0]["finish_reason"] == "stop"
    assert c["usage"]["total_tokens"] == 0, c
    assert res["headers"].get("x-routeshift-rule") == "1", res["headers"]
    res = sdk({"baseURL": world.gw.base_url, "apiKey": world.vk1, "mode": "stream",
               "request": chat_body("ping", stream_options={"include_usage": True})})
    assert res.get("completed") and "error" not in res, res
    chunks = [c["chunk"] for c in res["chunks"]]
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c["choices"])
    assert text == "pong"
    assert chunks[-1]["usage"]["total_tokens"] == 0, chunks[-1]
    assert res["headers"].get("content-type", "").startswith("text/event-stream")
    r = world.chat(chat_body("ping", stream=True))
    assert r.status == 200 and sse_events(r.body)[-1] == "[DONE]", r.describe()
    assert not world.a.requests and not world.b.requests  # no provider touched
    e = world.gw.wait_access(3)[-1]
    assert e["rule"] == "1" and e["attempts"] == "0", e


def test_tags_accumulate_and_do_not_stop_evaluation(world):
    world.push([rule(1, tag("all")),
                rule(2, tag("gold", "all"), match={"metadata": {"tier": "gold"}}),
                rule(3, {"route": {"model": "fast"}}, match={"metadata": {"tier": "gold"}}),
                rule(4, tag("never"))])
    r = world.chat(chat_body("gpt-4o", metadata={"tier": "gold"}))
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()
    e = world.gw.wait_access(1)[-1]
    assert e["tags"] == "all,gold" and e["rule"] == "3" and e["matched"] == "1,2,3", e
    r = world.chat(chat_body("gpt-4o"))
    assert r.header("X-RouteShift-Provider") == "openai"
    e = world.gw.wait_access(2)[-1]
    assert e["tags"] == "all,never" and e["rule"] == "", e


# -- match kinds ---------------------------------------------------------------------------------

@pytest.mark.parametrize("match, body, key, hit", [
    ({"virtual_keys": ["lab"]}, chat_body("gpt-4o"), "vk2", True),
    ({"virtual_keys": ["lab"]}, chat_body("gpt-4o"), "vk1", False),
    ({"teams": ["TEAM2"]}, chat_body("gpt-4o"), "vk2", True),
    ({"model_glob": "gpt-4o*"}, chat_body("gpt-4o-mini"), "vk1", True),
    ({"model_regex": "^gpt-4o$"}, chat_body("gpt-4o-mini"), "vk1", False),
    ({"content_regex": "(?i)urgent"}, chat_body("gpt-4o", "This is URGENT"), "vk1", True),
    ({"messages_min": 2}, chat_body("gpt-4o"), "vk1", False),
    ({"characters_min": 1000}, chat_body("gpt-4o", "x" * 1000), "vk1", True),
    ({"tokens_max": 10}, chat_body("gpt-4o", "x" * 1000), "vk1", False),
    ({"system_characters_min": 3},
     {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief"},
                                      {"role": "user", "content": "hi"}]}, "vk1", True),
    ({"metadata": {"ticket": {"regex": "^T-[0-9]+$"}}}, chat_body("gpt-4o", metadata={"ticket": "T-7"}), "vk1", True),
    ({"stream": True}, chat_body("gpt-4o"), "vk1", False),
    ({"tools": True}, chat_body("gpt-4o", tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}]),
     "vk1", True),
])
def test_match_kinds(world, match, body, key, hit):
    match = {k: ([world.team2] if v == ["TEAM2"] else v) for k, v in match.items()}
    world.push([rule(1, {"route": {"model": "fast"}}, match=match)])
    r = world.chat(body, key=getattr(world, key))
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Provider") == ("groq" if hit else "openai"), (match, r.describe())


# -- conditions ------------------------------------------------------------------------------------

def test_time_window_in_a_named_zone(world):
    """Pick a zone whose local hour right now is known, and a window that is open (or closed)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.minute == 59 and now.second > 50:
        time.sleep(11)  # do not straddle an hour edge
        now = datetime.datetime.now(datetime.timezone.utc)
    zone = "Asia/Kolkata"  # UTC+05:30 all year
    local = now + datetime.timedelta(hours=5, minutes=30)
    start = local.replace(minute=0)
    open_window = {"start": start.strftime("%H:00"), "end": (start + datetime.timedelta(hours=1)).strftime("%H:00")}
    if open_window["end"] == "00:00":
        open_window["end"] = "24:00"
    closed_start = start + datetime.timedelta(hours=2)
    closed_window = {"start": closed_start.strftime("%H:00"),
                     "end": (closed_start + datetime.timedelta(hours=1)).strftime("%H:00")}
    zones = {zone: zone_b64(zone)}
    world.push([rule(1, {"route": {"model": "fast"}},
                     conditions={"time_zone": zone, "time_windows": [open_window]})], zones=zones)
    assert world.chat(chat_body("gpt-4o")).header("X-RouteShift-Provider") == "groq"
    world.push([rule(1, {"route": {"model": "fast"}},
                     conditions={"time_zone": zone, "time_windows": [closed_window]})], zones=zones)
    assert world.chat(chat_body("gpt-4o")).header("X-RouteShift-Provider") == "openai"
    # the same UTC hour read in UTC does not open a window meant for Kolkata's hour
    world.push([rule(1, {"route": {"model": "fast"}},
                     conditions={"time_windows": [open_window]})], zones={})
    assert world.chat(chat_body("gpt-4o")).header("X-RouteShift-Provider") == "openai"


def test_environment_condition(world):
    world.push([rule(1, {"route": {"model": "fast"}}, conditions={"environments": ["staging"]}),
                rule(2, tag("prod"), conditions={"environments": ["prod", "canary"]})])
    r = world.chat(chat_body("gpt-4o"))
    assert r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert world.gw.wait_access(1)[-1]["tags"] == "prod"


def test_percentage_gate_is_stable_per_session(world):
    world.push([rule(1, {"route": {"model": "fast"}},
                     conditions={"percentage": 50, "percentage_by": "session"})])
    seen = {}
    for i in range(24):
        for _ in range(2):  # each session twice, spread over both workers
            r = world.chat(chat_body("gpt-4o", metadata={"session_id": f"s-{i}"}))
            assert r.status == 200, r.describe()
            seen.setdefault(i, set()).add(r.header("X-RouteShift-Provider"))
    assert all(len(v) == 1 for v in seen.values()), seen  # stable
    groq = sum(1 for v in seen.values() if "groq" in v)
    assert 4 <= groq <= 20, seen  # both sides of the split are used


def test_route_hint_overrides_the_rule_chain(world):
    world.push([rule(1, {"route": {"model": "fast"}})])
    r = world.chat(chat_body("gpt-4o", metadata={"route_hint": "smart"}))
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "openai", r.describe()
    assert world.a.requests[-1].json["model"] == "gpt-4o"
    assert world.gw.wait_access(1)[-1]["rule"] == "1"


# -- snapshot validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad, words", [
    (rule(9, tag("x"), match={"content_regex": "(unclosed"}), ["routing_rules[1] (id 9)", "content_regex"]),
    (rule(9, tag("x"), match={"colour": "red"}), ["routing_rules[1] (id 9)", "colour"]),
    (rule(9, {"route": {"model": "nope"}}), ["routing_rules[1] (id 9)", "does not resolve"]),
    (rule(9, tag("x"), conditions={"time_zone": "Europe/Berlin"}), ["time_zone"]),
])
def test_bad_rule_rejects_the_snapshot_old_config_serves(world, bad, words):
    world.push([rule(1, {"route": {"model": "fast"}})])
    gen = world.gw.generation()
    r = world.push([rule(1, {"route": {"model": "fast"}}), bad], expect=400)
    msg = r.json["error"]["message"]
    assert all(w in msg for w in words), msg
    assert world.gw.generation() == gen
    r = world.chat(chat_body("gpt-4o"))
    assert r.status == 200 and r.header("X-RouteShift-Provider") == "groq", r.describe()


def test_pathological_regex_does_not_stall_the_worker(world):
    world.push([rule(1, {"block": {"status": 400}}, match={"content_regex": "^(a+)+$"}),
                rule(2, tag("after"))])
    t0 = time.monotonic()
    r = world.chat(chat_body("gpt-4o", "a" * 5000 + "b"))
    assert r.status == 200, r.describe()  # the match-limit hit counts as no match
    assert time.monotonic() - t0 < 5
    assert world.gw.wait_access(1)[-1]["tags"] == "after"
    assert "hit its match limit" in world.gw.error_log()
    # both workers still answer promptly
    for _ in range(6):
        assert world.chat(chat_body("gpt-4o", "short"), timeout=5).status == 200
