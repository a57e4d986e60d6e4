"""Spend budgets of virtual keys and teams (docs/design.md §13): the snapshot carries the budgets,
PUT /admin/spend the spent amounts; a caller at its budget gets 429 budget_exceeded with a
Retry-After until its UTC day or month resets, without reaching any provider."""

from __future__ import annotations

import calendar
import datetime as dt
import time

from helpers import Snapshot, assert_openai_error, chat_body


def periods(now: float | None = None) -> tuple[int, int, int, int]:
    """(day_start, day_end, month_start, month_end) in unix seconds, UTC."""
    t = dt.datetime.fromtimestamp(now if now is not None else time.time(), dt.timezone.utc)
    day = dt.datetime(t.year, t.month, t.day, tzinfo=dt.timezone.utc)
    month = dt.datetime(t.year, t.month, 1, tzinfo=dt.timezone.utc)
    next_month = dt.datetime(t.year + (t.month == 12), t.month % 12 + 1, 1, tzinfo=dt.timezone.utc)
    return (calendar.timegm(day.timetuple()), calendar.timegm(day.timetuple()) + 86400,
            calendar.timegm(month.timetuple()), calendar.timegm(next_month.timetuple()))


def report(keys: dict | None = None, teams: dict | None = None, day_start: int | None = None,
           month_start: int | None = None) -> dict:
    """A spend report: {id: (day_microcents, month_microcents)} per kind."""
    d, _, m, _ = periods()
    return {
        "day_start": d if day_start is None else day_start,
        "month_start": m if month_start is None else month_start,
        "as_of": int(time.time()),
        "virtual_keys": [{"id": i, "day_microcents": a, "month_microcents": b} for i, (a, b) in (keys or {}).items()],
        "teams": [{"id": i, "day_microcents": a, "month_microcents": b} for i, (a, b) in (teams or {}).items()],
    }


def push_spend(gw, doc: dict) -> dict:
    r = gw.admin("PUT", "/admin/spend", body=doc)
    assert r.status == 200, r.describe()
    return r.json


def budgeted_world(gw, mocks, *, key_budget=None, team_budget=None):
    """One provider; a budgeted team with one key (its own budget optional) and an unbudgeted key."""
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    team = s.team("research")
    if team_budget:
        s.teams[-1].update(team_budget)
    vk = s.vkey(team_id=team)
    if key_budget:
        s.virtual_keys[-1].update(key_budget)
    free = s.vkey()
    gw.push(s)
    return m, s, team, vk, free


def test_key_at_its_daily_budget_gets_429_until_midnight(gw, mocks, sdk):
    m, s, team, vk, free = budgeted_world(gw, mocks, key_budget={"daily_budget_microcents": 1000})
    vk_id = s.vkey_id(vk)
    # nothing pushed yet: nothing is known to be spent
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    push_spend(gw, report(keys={vk_id: (999, 5000)}))
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200  # under: 999 < 1000
    assert push_spend(gw, report(keys={vk_id: (1000, 5000)})) == {"virtual_keys": 1, "teams": 0}
    before = len(m.requests)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    err = assert_openai_error(r, 429, code="budget_exceeded")
    assert err["type"] == "rate_limit_error", err
    assert "virtual key" in err["message"] and "daily" in err["message"], err
    _, day_end, _, _ = periods()
    retry_after = int(r.header("Retry-After"))
    assert abs(retry_after - (day_end - time.time())) <= 5, (retry_after, r.describe())
    assert len(m.requests) == before, "a request over budget must not reach a provider"
    # the official SDK sees the same error
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain", "request": chat_body("gpt-4o")})
    assert res["error"]["status"] == 429 and res["error"]["code"] == "budget_exceeded", res
    # another key of another team is not affected
    assert gw.chat(chat_body("gpt-4o"), key=free).status == 200
    # counted apart from rate limits
    st = gw.admin("GET", "/admin/spend").json
    assert st["refused"] == {"virtual_key": 2, "team": 0}, st
    assert st["virtual_keys"] == 1 and st["pushes"] == 2, st


def test_reset_when_the_pushed_amount_drops(gw, mocks):
    m, s, team, vk, free = budgeted_world(gw, mocks, key_budget={"monthly_budget_microcents": 20000})
    vk_id = s.vkey_id(vk)
    push_spend(gw, report(keys={vk_id: (0, 20001)}))
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    err = assert_openai_error(r, 429, code="budget_exceeded")
    assert "monthly" in err["message"], err
    _, _, _, month_end = periods()
    assert abs(int(r.header("Retry-After")) - (month_end - time.time())) <= 5, r.describe()
    push_spend(gw, report(keys={vk_id: (0, 100)}))  # e.g. a refund, or the budget was raised elsewhere
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    push_spend(gw, report())  # the key is no longer listed: nothing spent
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200


def test_team_budget_covers_all_its_keys(gw, mocks):
    m, s, team, vk, free = budgeted_world(gw, mocks, team_budget={"daily_budget_microcents": 50,
                                                        "monthly_budget_microcents": 10**9})
    second = s.vkey(team_id=team)
    gw.push(s.bump())
    push_spend(gw, report(teams={team: (50, 50)}, keys={s.vkey_id(vk): (10, 10)}))
    for key in (vk, second):
        r = gw.chat(chat_body("gpt-4o"), key=key)
        err = assert_openai_error(r, 429, code="budget_exceeded")
        assert "team" in err["message"] and "daily" in err["message"], err
    assert gw.chat(chat_body("gpt-4o"), key=free).status == 200  # team 1 has no budget
    assert gw.admin("GET", "/admin/spend").json["refused"] == {"virtual_key": 0, "team": 2}
    # the budget leaves the snapshot: requests go through whatever was pushed
    for t in s.teams:
        t.pop("daily_budget_microcents", None)
        t.pop("monthly_budget_microcents", None)
    gw.push(s.bump())
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200


def test_amounts_of_an_earlier_day_or_month_do_not_count(gw, mocks):
    m, s, team, vk, free = budgeted_world(gw, mocks, key_budget={"daily_budget_microcents": 10,
                                                        "monthly_budget_microcents": 1000})
    vk_id = s.vkey_id(vk)
    day_start, _, month_start, _ = periods()
    # yesterday's amounts (the pusher stalled over midnight): the new day starts at 0
    yesterday = day_start - 86400
    y_month = periods(yesterday)[2]
    push_spend(gw, report(keys={vk_id: (500, 500)}, day_start=yesterday, month_start=y_month))
    assert gw.chat(chat_body("gpt-4o"), key=vk).status == 200
    # the same month still counts even when the day is stale
    if y_month == month_start:
        push_spend(gw, report(keys={vk_id: (5, 1000)}, day_start=yesterday, month_start=y_month))
        assert_openai_error(gw.chat(chat_body("gpt-4o"), key=vk), 429, code="budget_exceeded")


def test_bad_spend_reports_are_rejected_and_change_nothing(gw, mocks):
    m, s, team, vk, free = budgeted_world(gw, mocks, key_budget={"daily_budget_microcents": 10})
    vk_id = s.vkey_id(vk)
    push_spend(gw, report(keys={vk_id: (10, 10)}))
    day_start, _, month_start, _ = periods()
    for doc, needle in [
        ({"day_start": day_start + 1, "month_start": month_start, "as_of": 1}, "00:00 UTC"),
        ({**report(), "virtual_keys": [{"id": vk_id, "day_microcents": -1, "month_microcents": 0}]}, "virtual_keys[0]"),
        ("not json", "spend report rejected"),
    ]:
        r = gw.admin("PUT", "/admin/spend", body=doc)
        err = assert_openai_error(r, 400)
        assert needle in err["message"], err
    assert_openai_error(gw.chat(chat_body("gpt-4o"), key=vk), 429, code="budget_exceeded")  # still the old amounts
    assert_openai_error(gw.admin("DELETE", "/admin/spend"), 405)
    assert gw.log_problems() == []


def test_a_fleet_of_two_nginx_each_enforce_what_they_were_pushed(gw_factory, mocks):
    gws = [gw_factory(), gw_factory()]
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    s.virtual_keys[-1]["daily_budget_microcents"] = 100
    for g in gws:
        g.push(s)
    for g in gws:
        push_spend(g, report(keys={s.vkey_id(vk): (100, 100)}))
    for g in gws:
        for _ in range(4):  # both workers of each nginx see the shared zone's amounts
            assert_openai_error(g.chat(chat_body("gpt-4o"), key=vk), 429, code="budget_exceeded")
    assert len(m.requests) == 0
    for g in gws:
        push_spend(g, report(keys={s.vkey_id(vk): (99, 99)}))
        assert g.chat(chat_body("gpt-4o"), key=vk).status == 200
