"""The per-request cost ceiling (docs/design.md "Cost ceiling"), from settings.cost_ceiling_microcents.

Prices are in microcents per 1M tokens: 1_000_000 = 1 microcent per token. chat_body("m") asks
"Say hi": ceil(6 / 4) + 4 = 6 estimated prompt tokens.
"""

from __future__ import annotations

import itertools

import pytest

from helpers import Snapshot, assert_openai_error, chat_body, closed_port, run_sdk
from mock_provider import Reply

PER_TOKEN = 1_000_000  # microcents per Mtok for 1 microcent per token
_price_ids = itertools.count(900)


def price(provider_id: int, model: str, input_per_token: int, output_per_token: int,
          effective_from: int = 0, **extra) -> dict:
    row = {"id": next(_price_ids), "provider_id": provider_id,
           "model": model, "input_microcents_per_mtok": input_per_token * PER_TOKEN,
           "output_microcents_per_mtok": output_per_token * PER_TOKEN,
           "cached_input_microcents_per_mtok": None, "effective_from": effective_from}
    row.update(extra)
    return row


def push(gw, s: Snapshot, ceiling, prices: list) -> None:
    snap = s.to_dict()
    snap["settings"] = dict(snap["settings"])  # the Snapshot keeps its own settings unchanged
    if ceiling is not None:
        snap["settings"]["cost_ceiling_microcents"] = ceiling
    snap["model_prices"] = prices
    gw.push(snap)


@pytest.fixture
def chain(gw_factory, mocks):
    """Model "m" on provider a (key A, weight 1000: tried first) and provider b (key B, weight 1),
    upstream names m-a and m-b. Access log carries $routeshift_cost_ceiling."""
    gw = gw_factory(extra_log_fields=',"ceiling":"$routeshift_cost_ceiling"')
    ma, mb = mocks.new("a"), mocks.new("b")
    s = Snapshot()
    pa = s.provider("a", "openai", ma.base_url())
    pb = s.provider("b", "openai", mb.base_url())
    ka = s.key(pa, weight=1000, label="A", cooldown_seconds=0)
    kb = s.key(pb, weight=1, label="B", cooldown_seconds=0)
    s.model(pa, "m", "m-a")
    s.model(pb, "m", "m-b")
    vk = s.vkey()
    return dict(gw=gw, ma=ma, mb=mb, s=s, pa=pa, pb=pb, ka=ka, kb=kb, vk=vk)


def failing_with_usage(prompt_tokens: int, completion_tokens: int) -> Reply:
    """A 500 whose body reports what the failed attempt used (the provider billed it)."""
    return Reply.json({"error": {"message": "upstream broke after generating", "type": "server_error",
                                 "param": None, "code": None},
                       "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}}, status=500)


def test_spend_of_failed_attempt_stops_the_chain(chain):
    """A's 500 reported 1000 + 2000 tokens = 5000 microcents; B's worst case (6 + 100 × 2 = 206)
    would pass the 5100 ceiling: B is skipped and A's error comes back with the header."""
    c = chain
    gw, ma, mb, vk = c["gw"], c["ma"], c["mb"], c["vk"]
    push(gw, c["s"], 5100, [price(c["pa"], "m-a", 1, 2), price(c["pb"], "m-b", 1, 2)])
    ma.enqueue(failing_with_usage(1000, 2000))
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert_openai_error(r, 500)
    assert r.json["error"]["message"] == "upstream broke after generating", r.describe()
    assert r.header("X-RouteShift-Cost-Ceiling") == "exceeded", r.describe()
    assert r.header("X-RouteShift-Attempts") == "1", r.describe()
    assert len(ma.requests) == 1 and len(mb.requests) == 0, "B must not be tried"
    e = gw.wait_access(1)[-1]
    assert e["ceiling"] == "exceeded" and e["statuses"] == "500", e

    # the same failure without reported usage spent nothing: B fits and answers
    ma.enqueue(Reply.error(500, "upstream broke"))
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Cost-Ceiling") is None, r.describe()
    assert r.header("X-RouteShift-Attempts") == "2", r.describe()
    assert len(mb.requests) == 1
    e = gw.wait_access(2)[-1]
    assert e["ceiling"] == "within" and e["statuses"] == "500,200", e

    # a smaller reported spend leaves room: 1000 + 2 × 1900 = 4800; 4800 + 206 <= 5100
    ma.enqueue(failing_with_usage(1000, 1900))
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert r.status == 200 and r.header("X-RouteShift-Attempts") == "2", r.describe()
    assert len(mb.requests) == 2


def test_sdk_sees_the_last_error_when_the_ceiling_stops_the_chain(chain):
    c = chain
    gw, ma, mb, vk = c["gw"], c["ma"], c["mb"], c["vk"]
    push(gw, c["s"], 5100, [price(c["pa"], "m-a", 1, 2), price(c["pb"], "m-b", 1, 2)])
    ma.enqueue(failing_with_usage(1000, 2000))
    res = run_sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                   "request": {"model": "m", "max_tokens": 100,
                               "messages": [{"role": "user", "content": "Say hi"}]}})
    err = res.get("error")
    assert err and err["status"] == 500, res
    assert "upstream broke after generating" in err["message"], res
    assert len(mb.requests) == 0


def test_dearer_provider_set_aside_and_chain_ends_at_the_cheap_one(chain):
    """B costs 10× more: its worst case (60 + 2000) passes the 1000 ceiling, A's (206) does not.
    A is tried; when it fails the chain ends there (B is never tried) and says why."""
    c = chain
    gw, ma, mb, vk = c["gw"], c["ma"], c["mb"], c["vk"]
    push(gw, c["s"], 1000, [price(c["pa"], "m-a", 1, 2), price(c["pb"], "m-b", 10, 20)])
    for _ in range(3):  # whatever the balancer's state, only A may serve
        r = gw.chat(chat_body("m", max_tokens=100), key=vk)
        assert r.status == 200 and r.header("X-RouteShift-Provider") == "a", r.describe()
        assert r.header("X-RouteShift-Cost-Ceiling") is None, r.describe()
    ma.enqueue(Reply.error(503, "a is overloaded"))
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert_openai_error(r, 503)
    assert r.header("X-RouteShift-Cost-Ceiling") == "exceeded", r.describe()
    assert len(mb.requests) == 0
    # a higher ceiling lets B take over after the same failure
    push(gw, c["s"].bump(), 3000, [price(c["pa"], "m-a", 1, 2), price(c["pb"], "m-b", 10, 20)])
    ma.enqueue(Reply.error(503, "a is overloaded"), key=c["ka"])
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    # B may also be picked first now; either way the answer is B's 200 or A's after B
    assert r.status == 200, r.describe()
    assert r.header("X-RouteShift-Cost-Ceiling") is None, r.describe()


def test_first_attempt_over_the_ceiling_is_400(chain):
    c = chain
    gw, ma, mb, vk = c["gw"], c["ma"], c["mb"], c["vk"]
    push(gw, c["s"], 205, [price(c["pa"], "m-a", 1, 2), price(c["pb"], "m-b", 1, 2)])
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)  # cheapest worst case: 206
    assert_openai_error(r, 400, code="cost_ceiling_exceeded")
    assert "206 microcents" in r.json["error"]["message"], r.describe()
    assert r.header("X-RouteShift-Cost-Ceiling") == "exceeded", r.describe()
    assert not ma.requests and not mb.requests
    e = gw.wait_access(1)[-1]
    assert e["ceiling"] == "exceeded" and e["status"] == "400", e

    res = run_sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                   "request": {"model": "m", "max_completion_tokens": 100,
                               "messages": [{"role": "user", "content": "Say hi"}]}})
    err = res.get("error")
    assert err and err["status"] == 400 and err["code"] == "cost_ceiling_exceeded", res

    # a smaller max_tokens fits: 6 + 99 × 2 = 204
    r = gw.chat(chat_body("m", max_tokens=99), key=vk)
    assert r.status == 200, r.describe()


def test_model_maximum_output_counts_without_max_tokens(chain):
    """No max_tokens in the request: the price row's max_output_tokens bounds the worst case."""
    c = chain
    gw, vk = c["gw"], c["vk"]
    prices = [price(c["pa"], "m-a", 1, 2, max_output_tokens=4096),
              price(c["pb"], "m-b", 1, 2, max_output_tokens=4096)]
    push(gw, c["s"], 8000, prices)  # 6 + 4096 × 2 = 8198 > 8000
    r = gw.chat(chat_body("m"), key=vk)
    assert_openai_error(r, 400, code="cost_ceiling_exceeded")
    assert "4096 output tokens" in r.json["error"]["message"], r.describe()
    r = gw.chat(chat_body("m", max_tokens=1000), key=vk)
    assert r.status == 200, r.describe()


def test_price_taking_effect_later_is_used_from_its_time(chain):
    """A row whose effective_from lies in the future does not apply yet."""
    c = chain
    gw, vk = c["gw"], c["vk"]
    far_future = 4102444800  # 2100-01-01
    prices = [price(c["pa"], "m-a", 1, 2), price(c["pa"], "m-a", 100, 200, far_future),
              price(c["pb"], "m-b", 1, 2), price(c["pb"], "m-b", 100, 200, far_future)]
    push(gw, c["s"], 1000, prices)
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert r.status == 200, r.describe()


def test_unpriced_model_under_a_ceiling_is_refused(chain):
    c = chain
    gw, ma, mb, vk = c["gw"], c["ma"], c["mb"], c["vk"]
    push(gw, c["s"], 1000, [])
    r = gw.chat(chat_body("m", max_tokens=10), key=vk)
    assert_openai_error(r, 500, code="cost_ceiling_unpriced")
    assert not ma.requests and not mb.requests
    e = gw.wait_access(1)[-1]
    assert e["ceiling"] == "unpriced", e
    # without a ceiling prices are not needed
    push(gw, c["s"].bump(), None, [])
    r = gw.chat(chat_body("m", max_tokens=10), key=vk)
    assert r.status == 200, r.describe()
    e = gw.wait_access(2)[-1]
    assert e["ceiling"] == "", e


def test_unreachable_cheap_provider_and_dearer_one_set_aside(gw_factory, mocks):
    """A connection failure spends nothing, but the only other provider was set aside when planned
    (its worst case alone passes the ceiling): nginx's 502 says the ceiling ended the chain."""
    gw = gw_factory(extra_log_fields=',"ceiling":"$routeshift_cost_ceiling"')
    mb = mocks.new("b")
    s = Snapshot()
    pa = s.provider("a", "openai", f"http://127.0.0.1:{closed_port()}/v1")
    pb = s.provider("b", "openai", mb.base_url())
    s.key(pa, label="A", cooldown_seconds=0)
    s.key(pb, label="B", cooldown_seconds=0)
    s.model(pa, "m", "m-a")
    s.model(pb, "m", "m-b")
    vk = s.vkey()
    push(gw, s, 1000, [price(pa, "m-a", 1, 2), price(pb, "m-b", 10, 20)])
    r = gw.chat(chat_body("m", max_tokens=100), key=vk)
    assert_openai_error(r, 502)
    assert r.header("X-RouteShift-Cost-Ceiling") == "exceeded", r.describe()
    assert not mb.requests
    e = gw.wait_access(1)[-1]
    assert e["ceiling"] == "exceeded" and e["statuses"] == "502", e
    # with room for B, the same failure moves on to B
    push(gw, s.bump(), 3000, [price(pa, "m-a", 1, 2), price(pb, "m-b", 10, 20)])
    for _ in range(2):
        r = gw.chat(chat_body("m", max_tokens=100), key=vk)
        assert r.status == 200 and r.header("X-RouteShift-Provider") == "b", r.describe()
        assert r.header("X-RouteShift-Cost-Ceiling") is None, r.describe()
