"""Spend (docs/design.md §13): the sql/007 views over request_logs rows inserted directly, the
`routeshift-sync spend` table, the `budget` commands, and `serve` pushing spent amounts to a fleet of
two nginx that then refuse an over-budget key with 429 budget_exceeded and accept it again when the
amount drops."""

from __future__ import annotations

import json
import time

import pytest

from sync_helpers import Sync, wait_until

_ids = iter(range(1, 1_000_000))


def log_row(db: Sync, *, ts: str = "now()", team: int | None = 1, key: int | None = None, model: str | None = "m1",
            provider: str | None = "openai", session: str | None = None, prompt: int | None = 10,
            completion: int | None = 5, cached: int | None = 0, cost: int | None = 100, status: int = 200) -> None:
    def lit(v):
        return "NULL" if v is None else (f"'{v}'" if isinstance(v, str) else str(v))
    db.sql("INSERT INTO request_logs (ts, request_id, team_id, virtual_key_id, resolved_model, provider, session_id,"
           " status, prompt_tokens, completion_tokens, cached_tokens, cost_microcents) VALUES"
           f" ({ts}, 'req-{next(_ids)}', {lit(team)}, {lit(key)}, {lit(model)}, {lit(provider)}, {lit(session)},"
           f" {status}, {lit(prompt)}, {lit(completion)}, {lit(cached)}, {lit(cost)})")


def rows(db: Sync, query: str) -> list[list[str]]:
    out = db.sql(query)
    return [line.split("|") for line in out.splitlines() if line]


def fleet_fixture(db: Sync) -> tuple[int, int, int]:
    """Teams 'default' (1) and 'research'; keys 'ci' (default) and 'bot' (research)."""
    db.run("team", "add", "--name", "research")
    research = int(db.sql("SELECT id FROM teams WHERE name = 'research'"))
    db.run("virtual-key", "create", "--team", "default", "--name", "ci")
    db.run("virtual-key", "create", "--team", "research", "--name", "bot")
    ci = int(db.sql("SELECT id FROM virtual_keys WHERE name = 'ci'"))
    bot = int(db.sql("SELECT id FROM virtual_keys WHERE name = 'bot'"))
    return research, ci, bot


def test_views_aggregate_by_day_team_key_model_provider_and_session(db: Sync):
    research, ci, bot = fleet_fixture(db)
    yesterday = "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 hour'"
    log_row(db, team=1, key=ci, model="gpt-4o", provider="openai", session="s1", cost=100)
    log_row(db, team=1, key=ci, model="gpt-4o", provider="openai", session="s1", prompt=20, cost=250)
    log_row(db, team=research, key=bot, model="claude", provider="anthropic", session="s2", cached=4, cost=1)
    log_row(db, ts=yesterday, team=research, key=bot, model="claude", provider="anthropic", cost=7)
    log_row(db, team=None, key=None, model=None, provider=None, prompt=None, completion=None, cached=None, cost=None,
            status=401)  # an auth failure: counted, costs nothing

    today = db.sql("SELECT (now() AT TIME ZONE 'UTC')::date")
    assert rows(db, "SELECT day, team_id, team_name, requests, prompt_tokens, completion_tokens, cached_tokens,"
                    f" cost_microcents FROM spend_daily_by_team WHERE day = '{today}' ORDER BY team_id") == [
        [today, "1", "default", "2", "30", "10", "0", "350"],
        [today, str(research), "research", "1", "10", "5", "4", "1"],
        [today, "", "", "1", "0", "0", "0", "0"],
    ]
    assert rows(db, f"SELECT day = '{today}', cost_microcents FROM spend_daily_by_team WHERE team_id = {research}"
                    " ORDER BY day") == [["f", "7"], ["t", "1"]]
    assert rows(db, "SELECT virtual_key_id, virtual_key_name, team_id, requests, cost_microcents"
                    f" FROM spend_daily_by_virtual_key WHERE day = '{today}' AND virtual_key_id IS NOT NULL"
                    " ORDER BY 1") == [[str(ci), "ci", "1", "2", "350"], [str(bot), "bot", str(research), "1", "1"]]
    assert rows(db, f"SELECT model, requests, cost_microcents FROM spend_daily_by_model WHERE day = '{today}'"
                    " ORDER BY model NULLS LAST") == [["claude", "1", "1"], ["gpt-4o", "2", "350"], ["", "1", "0"]]
    assert rows(db, "SELECT provider, sum(requests), sum(cost_microcents) FROM spend_daily_by_provider"
                    " GROUP BY provider ORDER BY provider NULLS LAST") == [
        ["anthropic", "2", "8"], ["openai", "2", "350"], ["", "1", "0"]]
    assert rows(db, "SELECT session_id, turns, prompt_tokens, completion_tokens, cost_microcents,"
                    " last_seen >= first_seen FROM spend_sessions ORDER BY session_id") == [
        ["s1", "2", "30", "10", "350", "t"], ["s2", "1", "10", "5", "1", "t"]]


def test_spend_command_prints_an_aligned_table(db: Sync):
    research, ci, bot = fleet_fixture(db)
    log_row(db, team=1, key=ci, model="gpt-4o", provider="openai", session="sess-a", cost=12345)  # $0.00012345
    log_row(db, team=research, key=bot, model="claude", provider="anthropic", cost=150000000)      # $1.50
    log_row(db, ts="now() - interval '3 days'", team=research, key=bot, cost=100000000)

    out = db.run("spend").stdout.splitlines()  # default: by team, last 7 days
    assert out[0].split() == ["team_id", "team", "requests", "prompt_tokens", "completion_tokens", "cached_tokens",
                              "cost_usd"], out
    assert len({len(line) for line in out}) == 1, f"columns not aligned:\n" + "\n".join(out)
    assert out[1].split() == [str(research), "research", "2", "20", "10", "0", "$2.50"], out  # most expensive first
    assert out[2].split() == ["1", "default", "1", "10", "5", "0", "$0.00012345"], out
    assert out[3].split() == ["total", "3", "30", "15", "0", "$2.50012345"], out

    out = db.run("spend", "--by", "key", "--since", "24h").stdout.splitlines()
    assert out[0].split()[:3] == ["key_id", "key", "team"], out
    assert out[1].split() == [str(bot), "bot", "research", "1", "10", "5", "0", "$1.50"], out
    assert out[-1].split()[-1] == "$1.50012345", out

    out = db.run("spend", "--by", "model", "--since", "30m").stdout.splitlines()
    assert [line.split()[0] for line in out] == ["model", "claude", "gpt-4o", "total"], out
    out = db.run("spend", "--by", "provider", "--since", "2w").stdout.splitlines()
    assert [line.split()[0] for line in out] == ["provider", "anthropic", "openai", "total"], out
    assert out[1].split()[-1] == "$1.50", out

    out = db.run("spend", "--by", "session").stdout.splitlines()
    assert out[0].split() == ["session", "first_seen", "last_seen", "requests", "prompt_tokens",
                              "completion_tokens", "cached_tokens", "cost_usd"], out
    assert out[1].split()[0] == "sess-a" and out[1].split()[-1] == "$0.00012345", out
    assert len(out) == 3, out  # rows without a session are left out

    out = db.run("spend", "--per-day", "--by", "team").stdout.splitlines()
    assert out[0].split()[:2] == ["day", "team_id"], out
    assert len(out) == 5, out  # research today, research 3 days ago, default today, total


@pytest.mark.parametrize("args", [
    ["--by", "colour"], ["--since", "7x"], ["--since", "0d"], ["--since", "d"], ["--since", "-1d"],
    ["--since", "1234567d"], ["--team", "default"], ["extra"], ["--by"],
])
def test_spend_usage_errors_exit_2(db: Sync, args):
    r = db.run("spend", *args, expect=2)
    assert r.stdout == "", r.stdout
    assert r.stderr.strip(), "a usage error says what is wrong"


def test_budget_commands_and_the_snapshot(db: Sync):
    research, ci, bot = fleet_fixture(db)
    assert db.run("budget", "list").stdout.splitlines()[1:] == []
    db.run("budget", "set", "--team", "research", "--monthly", "25")
    db.run("budget", "set", "--key", str(ci), "--daily", "0.5", "--monthly", "$10.00000001")
    assert rows(db, "SELECT daily_budget_microcents, monthly_budget_microcents FROM virtual_keys"
                    f" WHERE id = {ci}") == [["50000000", "1000000001"]]
    assert rows(db, f"SELECT daily_budget_microcents, monthly_budget_microcents FROM teams WHERE id = {research}") \
        == [["", "2500000000"]]
    log_row(db, team=1, key=ci, cost=12345)
    listing = db.run("budget", "list").stdout.splitlines()
    assert listing[0].split() == ["kind", "id", "name", "daily_budget", "spent_today", "monthly_budget",
                                  "spent_this_month"], listing
    assert listing[1].split() == ["team", str(research), "research", "-", "$0.00", "$25.00", "$0.00"], listing
    assert listing[2].split() == ["key", str(ci), "ci", "$0.50", "$0.00012345", "$10.00000001", "$0.00012345"], listing

    snap = json.loads(next(line for line in db.run("check", "--print").stdout.splitlines() if line.startswith("{")))
    vk = next(v for v in snap["virtual_keys"] if v["id"] == ci)
    assert (vk["daily_budget_microcents"], vk["monthly_budget_microcents"]) == (50000000, 1000000001)
    team = next(t for t in snap["teams"] if t["id"] == research)
    assert (team["daily_budget_microcents"], team["monthly_budget_microcents"]) == (None, 2500000000)

    db.run("budget", "clear", "--key", str(ci), "--period", "daily")
    assert rows(db, f"SELECT daily_budget_microcents, monthly_budget_microcents FROM virtual_keys WHERE id = {ci}") \
        == [["", "1000000001"]]
    db.run("budget", "clear", "--team", "research")
    assert db.sql(f"SELECT monthly_budget_microcents IS NULL FROM teams WHERE id = {research}") == "t"

    for args in (["set", "--key", str(ci)], ["set", "--key", str(ci), "--daily", "0"],
                 ["set", "--key", str(ci), "--daily", "1.123456789"], ["set", "--key", str(ci), "--daily", "-1"],
                 ["set", "--key", str(ci), "--team", "research", "--daily", "1"], ["set", "--daily", "1"],
                 ["clear", "--key", str(ci), "--period", "weekly"], ["frobnicate"], ["list", "--key", "1"]):
        db.run("budget", *args, expect=2)
    db.run("budget", "set", "--key", "999999", "--daily", "1", expect=1)  # no such key
    # the CHECK constraints hold for plain SQL too
    r = db.run("budget", "list")  # still works
    assert r.returncode == 0
    with pytest.raises(AssertionError):
        db.sql(f"UPDATE teams SET daily_budget_microcents = 0 WHERE id = {research}")


def test_serve_pushes_spent_amounts_to_a_fleet_of_two_nginx(db: Sync, upstream, nginx_factory, serve):
    fleet = [nginx_factory().start(), nginx_factory().start()]
    db.nginx = [n.admin_target for n in fleet]
    db.run("provider", "add", "--name", "mock", "--kind", "openai_compat", "--base-url", upstream.base_url)
    db.run("model", "add", "--provider", "mock", "--model", "m1")
    db.run("provider-key", "add", "--provider", "mock", "--label", "k1", input="sk-spend-test-key-1\n")
    key = db.run("virtual-key", "create", "--team", "default", "--name", "budgeted").stdout.strip()
    vk = int(db.sql("SELECT id FROM virtual_keys WHERE name = 'budgeted'"))
    db.run("budget", "set", "--key", str(vk), "--daily", "0.001")  # 100000 microcents
    srv = serve(db, "--poll-ms", "200", "--log-level", "debug")
    gen = db.generation()
    for n in fleet:
        wait_until(lambda n=n: n.generation() == gen, 10, what="snapshot on every nginx")
        assert n.chat(key, "m1").status == 200

    log_row(db, team=1, key=vk, cost=100000)  # the budget is now used up
    started = time.monotonic()
    for n in fleet:
        wait_until(lambda n=n: n.chat(key, "m1").status == 429, 10, interval=0.1,
                   what=f"429 on {n.admin_target} (log: {srv.log()[-1500:]})")
    lag = time.monotonic() - started
    print(f"spend push: both nginx refused {lag:.2f} s after the row was inserted")
    assert lag < 3.0, f"the fleet took {lag:.2f} s to see the spend"
    r = fleet[1].chat(key, "m1")
    assert r.status == 429 and r.json["error"]["code"] == "budget_exceeded", r
    assert int(r.header("Retry-After")) >= 1

    db.sql(f"DELETE FROM request_logs WHERE virtual_key_id = {vk}")  # the pushed amount drops
    for n in fleet:
        wait_until(lambda n=n: n.chat(key, "m1").status == 200, 10, interval=0.1, what="accepted again")
    assert "pushing spent amounts" not in srv.log(), srv.log()[-2000:]
    assert "sk-spend-test-key-1" not in srv.log()
