// provider add|list, model add|rm|list, team add|list: conveniences over plain SQL.
#include "cli.hpp"

#include <cstdio>

namespace rsync {

int cmd_provider(Context& ctx) {
    std::string sub = subcommand(ctx, "provider", "add, list");
    if (sub == "add") {
        ctx.args.allow_only({"--name", "--kind", "--base-url", "--disabled"});
        std::string name = ctx.args.require("--name");
        std::string kind = ctx.args.require("--kind");
        auto db = open_db(ctx);
        require_schema(*db);
        PgResult r = db->exec_params("INSERT INTO providers (name, kind, base_url, enabled) VALUES ($1, $2, $3, $4)"
                                     " RETURNING id",
                                     {name, kind, ctx.args.get("--base-url"),
                                      std::string(ctx.args.has("--disabled") ? "false" : "true")});
        std::printf("added provider id %s (%s, kind %s)\n", r.str(0, 0).c_str(), name.c_str(), kind.c_str());
        return 0;
    }
    if (sub == "list") {
        ctx.args.allow_only({});
        auto db = open_db(ctx);
        require_schema(*db);
        PgResult r = db->exec(
            "SELECT p.id, p.name, p.kind, p.base_url, p.enabled,"
            " (SELECT count(*) FROM provider_keys k WHERE k.provider_id = p.id AND k.enabled),"
            " (SELECT string_agg(m.model, ',' ORDER BY m.model) FROM models m WHERE m.provider_id = p.id AND m.enabled)"
            " FROM providers p ORDER BY p.id");
        print_table(r, {"id", "name", "kind", "base_url", "enabled", "enabled_keys", "models"});
        return 0;
    }
    throw UsageError("provider: unknown subcommand '" + sub + "' (add, list)");
}

int cmd_model(Context& ctx) {
    std::string sub = subcommand(ctx, "model", "add, rm, list");
    if (sub == "add") {
        ctx.args.allow_only({"--provider", "--model", "--upstream-model"});
        auto db = open_db(ctx);
        require_schema(*db);
        int64_t pid = resolve_provider(*db, ctx.args.require("--provider"));
        std::string model = ctx.args.require("--model");
        db->exec_params("INSERT INTO models (provider_id, model, upstream_model) VALUES ($1, $2, $3)"
                        " ON CONFLICT (provider_id, model) DO UPDATE SET upstream_model = EXCLUDED.upstream_model,"
                        " enabled = true",
                        {std::to_string(pid), model, ctx.args.get("--upstream-model")});
        std::printf("provider %s serves model %s\n", ctx.args.require("--provider").c_str(), model.c_str());
        return 0;
    }
    if (sub == "rm") {
        ctx.args.allow_only({"--provider", "--model"});
        auto db = open_db(ctx);
        require_schema(*db);
        int64_t pid = resolve_provider(*db, ctx.args.require("--provider"));
        PgResult r = db->exec_params("DELETE FROM models WHERE provider_id = $1 AND model = $2",
                                     {std::to_string(pid), ctx.args.require("--model")});
        if (r.command_tuples() == "0") throw CommandError("no such model row");
        std::printf("removed\n");
        return 0;
    }
    if (sub == "list") {
        ctx.args.allow_only({});
        auto db = open_db(ctx);
        require_schema(*db);
        PgResult r = db->exec("SELECT m.id, p.name, m.model, m.upstream_model, m.enabled FROM models m"
                              " JOIN providers p ON p.id = m.provider_id ORDER BY p.name, m.model");
        print_table(r, {"id", "provider", "model", "upstream_model", "enabled"});
        return 0;
    }
    throw UsageError("model: unknown subcommand '" + sub + "' (add, rm, list)");
}

int cmd_team(Context& ctx) {
    std::string sub = subcommand(ctx, "team", "add, list");
    if (sub == "add") {
        ctx.args.allow_only({"--name"});
        auto db = open_db(ctx);
        require_schema(*db);
        PgResult r = db->exec_params("INSERT INTO teams (name) VALUES ($1) RETURNING id", {ctx.args.require("--name")});
        std::printf("added team id %s (%s)\n", r.str(0, 0).c_str(), ctx.args.require("--name").c_str());
        return 0;
    }
    if (sub == "list") {
        ctx.args.allow_only({});
        auto db = open_db(ctx);
        require_schema(*db);
        PgResult r = db->exec("SELECT t.id, t.name, (SELECT count(*) FROM virtual_keys v WHERE v.team_id = t.id"
                              " AND v.enabled AND v.revoked_at IS NULL) FROM teams t ORDER BY t.id");
        print_table(r, {"id", "name", "active_virtual_keys"});
        return 0;
    }
    throw UsageError("team: unknown subcommand '" + sub + "' (add, list)");
}

}  // namespace rsync
