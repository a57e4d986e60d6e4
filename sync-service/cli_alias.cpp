// alias set | rm | list | invalidate
#include "cli.hpp"

#include "log.hpp"

#include <cstdio>

namespace rsync {
namespace {

std::optional<std::string> team_param(PgConnection& db, const Context& ctx) {
    auto t = ctx.args.get("--team");
    if (!t) return std::nullopt;  // global
    return std::to_string(resolve_team(db, *t));
}

int set(Context& ctx) {
    ctx.args.allow_only({"--alias", "--target", "--team"});
    std::string alias = ctx.args.require("--alias");
    std::string target = ctx.args.require("--target");
    auto db = open_db(ctx);
    require_schema(*db);
    auto team = team_param(*db, ctx);
    db->exec_params("INSERT INTO model_aliases (team_id, alias, target) VALUES ($1, $2, $3)"
                    " ON CONFLICT (team_id, alias) DO UPDATE SET target = EXCLUDED.target",
                    {team, alias, target});
    std::printf("alias %s -> %s (%s)\n", alias.c_str(), target.c_str(),
                team ? ("team " + ctx.args.require("--team")).c_str() : "global");
    return 0;
}

int rm(Context& ctx) {
    ctx.args.allow_only({"--alias", "--team"});
    std::string alias = ctx.args.require("--alias");
    auto db = open_db(ctx);
    require_schema(*db);
    auto team = team_param(*db, ctx);
    PgResult r = db->exec_params("DELETE FROM model_aliases WHERE team_id IS NOT DISTINCT FROM $1::bigint AND alias = $2",
                                 {team, alias});
    if (r.command_tuples() == "0") throw CommandError("no such alias");
    std::printf("removed alias %s (%s)\n", alias.c_str(), team ? "team" : "global");
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({"--team"});
    auto db = open_db(ctx);
    require_schema(*db);
    auto team = team_param(*db, ctx);
    PgResult r = db->exec_params(
        "SELECT a.id, coalesce(t.name, '(global)'), a.alias, a.target FROM model_aliases a"
        " LEFT JOIN teams t ON t.id = a.team_id"
        " WHERE $1::bigint IS NULL OR a.team_id = $1::bigint ORDER BY a.team_id NULLS FIRST, a.alias",
        {team});
    print_table(r, {"id", "team", "alias", "target"});
    return 0;
}

// POST <prefix>/model-aliases/invalidate on every nginx target.
int invalidate(Context& ctx) {
    ctx.args.allow_only({});
    auto targets = ctx.targets(true);
    int failures = 0;
    for (const auto& t : targets) {
        HttpResponse r;
        std::string err;
        if (!admin_invalidate(t, ctx.timeout_ms, &r, &err)) {
            LOG_ERROR("%s: %s", t.spec.c_str(), err.c_str());
            ++failures;
        } else if (r.status != 200) {
            LOG_ERROR("%s: HTTP %d: %s", t.spec.c_str(), r.status, admin_error_message(r.body).c_str());
            ++failures;
        } else {
            std::printf("%s: %s\n", t.spec.c_str(), r.body.c_str());
        }
    }
    return failures ? 1 : 0;
}

}  // namespace

int cmd_alias(Context& ctx) {
    std::string sub = subcommand(ctx, "alias", "set, rm, list, invalidate");
    if (sub == "set") return set(ctx);
    if (sub == "rm") return rm(ctx);
    if (sub == "list") return list(ctx);
    if (sub == "invalidate") return invalidate(ctx);
    throw UsageError("alias: unknown subcommand '" + sub + "' (set, rm, list, invalidate)");
}

}  // namespace rsync
