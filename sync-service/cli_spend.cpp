// spend [--by team|key|model|provider|session] [--since 7d] [--per-day]
//
// Requests, tokens and cost from the request_spend view (sql/007) since a moment, grouped by one
// dimension (and by UTC day with --per-day), most expensive first, as an aligned table with a
// total line. Costs are printed in US dollars down to the microcent (1e-8 USD).
#include "cli.hpp"

#include "money_format.hpp"

#include <cstdio>

namespace rsync {
namespace {

struct Dimension {
    const char* name;         // --by value
    const char* select;       // label columns (SQL, over request_spend)
    const char* group;        // GROUP BY expression list
    std::vector<std::string> headers;
};

const Dimension kDimensions[] = {
    {"team", "coalesce(team_id::text, '-'), coalesce(max(team_name), '-')", "team_id", {"team_id", "team"}},
    {"key", "coalesce(virtual_key_id::text, '-'), coalesce(max(virtual_key_name), '-'), coalesce(max(team_name), '-')",
     "virtual_key_id", {"key_id", "key", "team"}},
    {"model", "coalesce(model, '-')", "model", {"model"}},
    {"provider", "coalesce(provider, '-')", "provider", {"provider"}},
    {"session",
     "session_id, to_char(min(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
     " to_char(max(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
     "session_id", {"session", "first_seen", "last_seen"}},
};

// "7d", "24h", "30m", "2w" -> a Postgres interval; UsageError otherwise.
std::string since_interval(const std::string& text) {
    static const std::pair<char, const char*> kUnits[] = {{'m', "minutes"}, {'h', "hours"}, {'d', "days"}, {'w', "weeks"}};
    const char* unit = nullptr;
    if (text.size() >= 2) {
        for (const auto& [suffix, name] : kUnits)
            if (text.back() == suffix) unit = name;
    }
    std::string digits = text.substr(0, text.empty() ? 0 : text.size() - 1);
    bool numeric = !digits.empty() && digits.size() <= 6 && digits.find_first_not_of("0123456789") == std::string::npos;
    if (!unit || !numeric || std::stoll(digits) == 0)
        throw UsageError("--since must be a positive number with a unit m, h, d or w (e.g. 30m, 24h, 7d, 2w); got '" +
                         text + "'");
    return digits + " " + unit;
}

}  // namespace

int cmd_spend(Context& ctx) {
    if (ctx.args.positional.size() > 1)
        throw UsageError("spend: unexpected argument '" + ctx.args.positional[1] + "'");
    ctx.args.allow_only({"--by", "--since", "--per-day"});
    std::string by = ctx.args.get("--by").value_or("team");
    const Dimension* dim = nullptr;
    for (const Dimension& d : kDimensions)
        if (by == d.name) dim = &d;
    if (dim == nullptr) throw UsageError("--by must be one of team, key, model, provider, session; got '" + by + "'");
    std::string interval = since_interval(ctx.args.get("--since").value_or("7d"));
    bool per_day = ctx.args.has("--per-day");

    auto db = open_db(ctx);
    require_schema(*db);
    std::string sql = std::string("SELECT ") + (per_day ? "day::text, " : "") + dim->select +
                      ", count(*), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens), sum(cost_microcents)"
                      " FROM request_spend WHERE ts >= now() - $1::interval" +
                      (by == "session" ? " AND session_id IS NOT NULL" : "") + " GROUP BY " + (per_day ? "day, " : "") +
                      dim->group + " ORDER BY " + (per_day ? "day, " : "") + "sum(cost_microcents) DESC, 1";
    PgResult r = db->exec_params(sql, {interval});

    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header;
    if (per_day) header.push_back("day");
    header.insert(header.end(), dim->headers.begin(), dim->headers.end());
    size_t labels = header.size();
    for (const char* h : {"requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd"}) header.push_back(h);
    rows.push_back(header);
    int64_t totals[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < r.rows(); ++i) {
        std::vector<std::string> row;
        for (size_t c = 0; c < labels; ++c) row.push_back(r.is_null(i, (int)c) ? "-" : r.str(i, (int)c));
        for (int k = 0; k < 5; ++k) {
            int64_t v = r.is_null(i, (int)labels + k) ? 0 : r.i64(i, (int)labels + k);
            totals[k] += v;
            row.push_back(k == 4 ? format_usd(v) : std::to_string(v));
        }
        rows.push_back(std::move(row));
    }
    std::vector<std::string> total(labels, "");
    total[0] = "total";
    for (int k = 0; k < 5; ++k) total.push_back(k == 4 ? format_usd(totals[k]) : std::to_string(totals[k]));
    rows.push_back(std::move(total));
    print_aligned_table(rows, labels);
    return 0;
}

}  // namespace rsync
