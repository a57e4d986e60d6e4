// budget set | clear | list: the daily and monthly spend budgets of virtual keys and teams
// (sql/007, docs/design.md §13). Amounts are US dollars on the command line ("5", "0.25",
// "0.00000001"), microcents in the database; a change reaches nginx with the next snapshot.
#include "cli.hpp"

#include "money_format.hpp"

#include <cstdio>

namespace rsync {
namespace {

// The row a budget command works on: `table` ("virtual_keys" / "teams") and its id.
struct BudgetOwner {
    const char* table;
    const char* what;
    int64_t id;
};

BudgetOwner owner(Context& ctx, PgConnection& db) {
    auto key = ctx.args.get_int("--key", 1, INT64_MAX);
    auto team = ctx.args.get("--team");
    if (key.has_value() == team.has_value()) throw UsageError("give --key ID (a virtual key) or --team T, not both");
    if (team) return {"teams", "team", resolve_team(db, *team)};
    PgResult r = db.exec_params("SELECT id FROM virtual_keys WHERE id = $1", {std::to_string(*key)});
    if (r.rows() != 1) throw CommandError("no virtual key with id " + std::to_string(*key));
    return {"virtual_keys", "virtual key", *key};
}

std::optional<int64_t> amount(const Context& ctx, const char* option) {
    auto text = ctx.args.get(option);
    if (!text) return std::nullopt;
    auto microcents = parse_usd(*text);
    if (!microcents || *microcents <= 0)
        throw UsageError(std::string(option) + " must be a positive amount of US dollars with at most 8 decimals "
                                               "(e.g. 25, 0.50); got '" + *text + "'");
    return microcents;
}

int set(Context& ctx) {
    ctx.args.allow_only({"--key", "--team", "--daily", "--monthly"});
    auto daily = amount(ctx, "--daily");
    auto monthly = amount(ctx, "--monthly");
    if (!daily && !monthly) throw UsageError("budget set: give --daily USD and/or --monthly USD");
    auto db = open_db(ctx);
    require_schema(*db);
    BudgetOwner o = owner(ctx, *db);
    db->exec_params(std::string("UPDATE ") + o.table +
                        " SET daily_budget_microcents = coalesce($2::bigint, daily_budget_microcents),"
                        " monthly_budget_microcents = coalesce($3::bigint, monthly_budget_microcents) WHERE id = $1",
                    {std::to_string(o.id), daily ? std::optional(std::to_string(*daily)) : std::nullopt,
                     monthly ? std::optional(std::to_string(*monthly)) : std::nullopt});
    std::printf("%s %lld:%s%s%s%s\n", o.what, static_cast<long long>(o.id), daily ? " daily budget " : "",
                daily ? format_usd(*daily).c_str() : "", monthly ? " monthly budget " : "",
                monthly ? format_usd(*monthly).c_str() : "");
    return 0;
}

int clear(Context& ctx) {
    ctx.args.allow_only({"--key", "--team", "--period"});
    std::string period = ctx.args.get("--period").value_or("both");
    if (period != "daily" && period != "monthly" && period != "both")
        throw UsageError("--period must be daily, monthly or both; got '" + period + "'");
    auto db = open_db(ctx);
    require_schema(*db);
    BudgetOwner o = owner(ctx, *db);
    std::string sets = period == "daily"     ? "daily_budget_microcents = NULL"
                       : period == "monthly" ? "monthly_budget_microcents = NULL"
                                             : "daily_budget_microcents = NULL, monthly_budget_microcents = NULL";
    db->exec_params(std::string("UPDATE ") + o.table + " SET " + sets + " WHERE id = $1", {std::to_string(o.id)});
    std::printf("%s %lld: %s budget cleared\n", o.what, static_cast<long long>(o.id),
                period == "both" ? "daily and monthly" : period.c_str());
    return 0;
}

// Every budget with what was spent against it today and this month (UTC).
int list(Context& ctx) {
    ctx.args.allow_only({});
    auto db = open_db(ctx);
    require_schema(*db);
    PgResult r = db->exec(R"SQL(
WITH bounds AS (
    SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'   AS day_start,
           date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month_start)
SELECT 'team', t.id, t.name, t.daily_budget_microcents,
       (SELECT coalesce(sum(cost_microcents), 0) FROM request_logs WHERE team_id = t.id AND ts >= b.day_start),
       t.monthly_budget_microcents,
       (SELECT coalesce(sum(cost_microcents), 0) FROM request_logs WHERE team_id = t.id AND ts >= b.month_start)
  FROM teams t, bounds b
 WHERE t.daily_budget_microcents IS NOT NULL OR t.monthly_budget_microcents IS NOT NULL
UNION ALL
SELECT 'key', v.id, v.name, v.daily_budget_microcents,
       (SELECT coalesce(sum(cost_microcents), 0) FROM request_logs WHERE virtual_key_id = v.id AND ts >= b.day_start),
       v.monthly_budget_microcents,
       (SELECT coalesce(sum(cost_microcents), 0) FROM request_logs WHERE virtual_key_id = v.id AND ts >= b.month_start)
  FROM virtual_keys v, bounds b
 WHERE v.daily_budget_microcents IS NOT NULL OR v.monthly_budget_microcents IS NOT NULL
 ORDER BY 1 DESC, 2)SQL");
    std::vector<std::vector<std::string>> rows = {
        {"kind", "id", "name", "daily_budget", "spent_today", "monthly_budget", "spent_this_month"}};
    auto money = [&](int row, int col) { return r.is_null(row, col) ? std::string("-") : format_usd(r.i64(row, col)); };
    for (int i = 0; i < r.rows(); ++i)
        rows.push_back({r.str(i, 0), r.str(i, 1), r.str(i, 2), money(i, 3), money(i, 4), money(i, 5), money(i, 6)});
    print_aligned_table(rows, 3);
    return 0;
}

}  // namespace

int cmd_budget(Context& ctx) {
    std::string sub = subcommand(ctx, "budget", "set, clear, list");
    if (sub == "set") return set(ctx);
    if (sub == "clear") return clear(ctx);
    if (sub == "list") return list(ctx);
    throw UsageError("budget: unknown subcommand '" + sub + "' (set, clear, list)");
}

}  // namespace rsync
