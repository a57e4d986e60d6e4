// limit list | set | clear: rate limits and circuit-breaker settings (sql/001, sql/004,
// docs/design.md §9): RPM/TPM, breaker threshold and cooldown of a provider key, RPM/TPM of a
// virtual key or a team, and the defaults (breaker threshold, cooldown, the limits' window).
// Every value is checked here with the column's own range before it is written; a change reaches
// nginx with the next snapshot.
#include "cli.hpp"

#include <cstdio>

namespace rsync {
namespace {

enum class Target { provider_key, virtual_key, team, defaults };

struct Owner {
    Target target;
    const char* what;  // for messages
    const char* table;
    int64_t id = 0;    // not for the defaults
};

Target target_of(const Context& ctx, const char* command) {
    int named = int(ctx.args.has("--id") || ctx.args.has("--label") || ctx.args.has("--provider")) +
                int(ctx.args.has("--key")) + int(ctx.args.has("--team")) + int(ctx.args.has("--defaults"));
    if (named != 1)
        throw UsageError(std::string(command) + ": address one thing: a provider key (--id N, or --provider P --label L), "
                                                "a virtual key (--key ID), a team (--team T) or the defaults (--defaults)");
    if (ctx.args.has("--key")) return Target::virtual_key;
    if (ctx.args.has("--team")) return Target::team;
    if (ctx.args.has("--defaults")) return Target::defaults;
    if (ctx.args.has("--provider") && !ctx.args.has("--label"))
        throw UsageError(std::string(command) + ": limits belong to a key: give --provider P with --label L (or --id N)");
    return Target::provider_key;
}

Owner owner(const Context& ctx, PgConnection& db, const char* command) {
    switch (target_of(ctx, command)) {
    case Target::provider_key: return {Target::provider_key, "provider key", "provider_keys", find_provider_key(db, ctx)};
    case Target::virtual_key: {
        int64_t id = *ctx.args.get_int("--key", 1, INT64_MAX);
        PgResult r = db.exec_params("SELECT id FROM virtual_keys WHERE id = $1", {std::to_string(id)});
        if (r.rows() != 1) throw CommandError("no virtual key with id " + std::to_string(id));
        return {Target::virtual_key, "virtual key", "virtual_keys", id};
    }
    case Target::team: return {Target::team, "team", "teams", resolve_team(db, ctx.args.require("--team"))};
    case Target::defaults: break;
    }
    return {Target::defaults, "defaults", "settings", 0};
}

// A limit's column on each kind of row; "" = the limit does not exist there.
struct LimitColumns {
    const char* option;      // for set
    const char* name;        // for clear --limit
    long long lo, hi;        // the column's CHECK range
    const char* provider_key;
    const char* caller;      // virtual_keys and teams
    const char* defaults;    // settings (cleared to its DEFAULT; others to NULL)
};

constexpr LimitColumns kLimits[] = {
    {"--rpm", "rpm", 1, INT32_MAX, "rpm", "rpm_limit", ""},
    {"--tpm", "tpm", 1, INT64_MAX, "tpm", "tpm_limit", ""},
    {"--breaker-threshold", "breaker", 0, 1000, "circuit_breaker_threshold", "", "circuit_breaker_threshold"},
    {"--cooldown", "cooldown", 0, 86400, "cooldown_seconds", "", "default_cooldown_seconds"},
    {"--rate-window", "rate-window", 1, 86400, "", "", "rate_limit_window_seconds"},
};

const char* column_of(const LimitColumns& l, Target t) {
    switch (t) {
    case Target::provider_key: return l.provider_key;
    case Target::virtual_key:
    case Target::team: return l.caller;
    case Target::defaults: return l.defaults;
    }
    return "";
}

std::string where_clause(const Owner& o) { return o.target == Target::defaults ? "" : " WHERE id = $1"; }

std::vector<std::optional<std::string>> where_params(const Owner& o) {
    if (o.target == Target::defaults) return {};
    return {std::to_string(o.id)};
}

std::string owner_name(const Owner& o) {
    return o.target == Target::defaults ? std::string("defaults") : std::string(o.what) + " " + std::to_string(o.id);
}

int set(Context& ctx) {
    ctx.args.allow_only({"--id", "--provider", "--label", "--key", "--team", "--defaults", "--rpm", "--tpm",
                         "--breaker-threshold", "--cooldown", "--rate-window"});
    Target target = target_of(ctx, "limit set");
    std::string sets, done;
    std::vector<std::optional<std::string>> values;
    for (const LimitColumns& l : kLimits) {
        if (!ctx.args.has(l.option)) continue;
        const char* column = column_of(l, target);
        if (!*column) {
            throw UsageError(std::string("limit set: ") + l.option + " does not apply to " +
                             (target == Target::provider_key ? "a provider key (it takes --rpm, --tpm, --breaker-threshold, --cooldown)"
                              : target == Target::defaults   ? "the defaults (they take --breaker-threshold, --cooldown, --rate-window)"
                                                             : "a virtual key or a team (they take --rpm, --tpm)"));
        }
        std::string value = *opt_num(ctx, l.option, l.lo, l.hi);
        values.push_back(value);
        sets += std::string(sets.empty() ? "" : ", ") + column + " = $" + std::to_string(values.size());
        done += std::string(done.empty() ? " " : ", ") + l.name + " " + value;
    }
    if (sets.empty()) throw UsageError("limit set: give at least one limit (--rpm, --tpm, --breaker-threshold, --cooldown, --rate-window)");
    auto db = open_db(ctx);
    require_schema(*db);
    Owner o = owner(ctx, *db, "limit set");
    std::string where;
    if (o.target != Target::defaults) {
        values.push_back(std::to_string(o.id));
        where = " WHERE id = $" + std::to_string(values.size());
    }
    db->exec_params(std::string("UPDATE ") + o.table + " SET " + sets + where, values);
    std::printf("%s:%s\n", owner_name(o).c_str(), done.c_str());
    return 0;
}

int clear(Context& ctx) {
    ctx.args.allow_only({"--id", "--provider", "--label", "--key", "--team", "--defaults", "--limit"});
    Target target = target_of(ctx, "limit clear");
    std::string which = ctx.args.get("--limit").value_or("all");
    std::string sets, done;
    bool known = which == "all";
    for (const LimitColumns& l : kLimits) {
        if (which != "all" && which != l.name) continue;
        known = true;
        const char* column = column_of(l, target);
        if (!*column) {
            if (which == "all") continue;
            throw UsageError("limit clear: --limit " + which + " does not apply to this target");
        }
        sets += std::string(sets.empty() ? "" : ", ") + column + (target == Target::defaults ? " = DEFAULT" : " = NULL");
        done += std::string(done.empty() ? " " : ", ") + l.name;
    }
    if (!known) throw UsageError("--limit must be rpm, tpm, breaker, cooldown, rate-window or all; got '" + which + "'");
    auto db = open_db(ctx);
    require_schema(*db);
    Owner o = owner(ctx, *db, "limit clear");
    db->exec_params(std::string("UPDATE ") + o.table + " SET " + sets + where_clause(o), where_params(o));
    std::printf("%s:%s %s\n", owner_name(o).c_str(), done.c_str(),
                target == Target::defaults ? "back to the defaults" : "cleared");
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({});
    auto db = open_db(ctx);
    require_schema(*db);
    PgResult d = db->exec("SELECT circuit_breaker_threshold, default_cooldown_seconds, rate_limit_window_seconds FROM settings");
    std::printf("defaults: breaker threshold %s, cooldown %s s, rate-limit window %s s\n\n", d.str(0, 0).c_str(),
                d.str(0, 1).c_str(), d.str(0, 2).c_str());
    PgResult r = db->exec(R"SQL(
SELECT 'provider_key', k.id, p.name || '/' || k.label, coalesce(k.rpm::text, '-'), coalesce(k.tpm::text, '-'),
       coalesce(k.circuit_breaker_threshold::text, 'default'), coalesce(k.cooldown_seconds::text, 'default')
  FROM provider_keys k JOIN providers p ON p.id = k.provider_id
UNION ALL
SELECT 'virtual_key', v.id, coalesce(v.name, ''), coalesce(v.rpm_limit::text, '-'), coalesce(v.tpm_limit::text, '-'), '-', '-'
  FROM virtual_keys v WHERE v.rpm_limit IS NOT NULL OR v.tpm_limit IS NOT NULL
UNION ALL
SELECT 'team', t.id, t.name, coalesce(t.rpm_limit::text, '-'), coalesce(t.tpm_limit::text, '-'), '-', '-'
  FROM teams t WHERE t.rpm_limit IS NOT NULL OR t.tpm_limit IS NOT NULL
 ORDER BY 1, 2)SQL");
    std::vector<std::vector<std::string>> rows = {{"kind", "id", "name", "rpm", "tpm", "breaker", "cooldown_s"}};
    for (int i = 0; i < r.rows(); ++i)
        rows.push_back({r.str(i, 0), r.str(i, 1), r.str(i, 2), r.str(i, 3), r.str(i, 4), r.str(i, 5), r.str(i, 6)});
    print_aligned_table(rows, 3);
    return 0;
}

}  // namespace

int cmd_limit(Context& ctx) {
    std::string sub = subcommand(ctx, "limit", "list, set, clear");
    if (sub == "list") return list(ctx);
    if (sub == "set") return set(ctx);
    if (sub == "clear") return clear(ctx);
    throw UsageError("limit: unknown subcommand '" + sub + "' (list, set, clear)");
}

}  // namespace rsync
