// balancing list | set | clear: how requests pick among keys and providers (sql/004, docs/design.md
// §9): a provider's strategy, a key's weight and failover tier, a model row's failover tier, and
// the latency window. Every value is checked here with the column's own range before it is written;
// a change reaches nginx with the next snapshot.
#include "cli.hpp"

#include <cstdio>

namespace rsync {
namespace {

constexpr const char* kStrategies[] = {"weighted_round_robin", "latency", "least_busy"};

// What a set/clear addresses, decided by which options name it.
enum class Target { key, model, provider, defaults };

Target target_of(const Context& ctx, const char* command) {
    bool key = ctx.args.has("--id") || ctx.args.has("--label");
    bool model = ctx.args.has("--model");
    bool defaults = ctx.args.has("--defaults");
    if (int(key) + int(model) + int(defaults) > 1)
        throw UsageError(std::string(command) + ": address one thing: a key (--id N, or --provider P --label L), "
                                                "a model row (--provider P --model M), a provider (--provider P) "
                                                "or the defaults (--defaults)");
    if (key) return Target::key;
    if (model) {
        if (!ctx.args.has("--provider")) throw UsageError(std::string(command) + ": --model needs --provider P");
        return Target::model;
    }
    if (defaults) {
        if (ctx.args.has("--provider")) throw UsageError(std::string(command) + ": --defaults takes no --provider");
        return Target::defaults;
    }
    if (ctx.args.has("--provider")) return Target::provider;
    throw UsageError(std::string(command) + ": say what to change: --provider P (its strategy), --id N or --provider P "
                                            "--label L (a key), --provider P --model M (a model row), --defaults");
}

std::string strategy_option(const Context& ctx) {
    std::string s = ctx.args.require("--strategy");
    for (const char* known : kStrategies)
        if (s == known) return s;
    throw UsageError("--strategy must be weighted_round_robin, latency or least_busy; got '" + s + "'");
}

// The models row (provider, model); CommandError when the provider does not serve it.
int64_t find_model_row(PgConnection& db, const Context& ctx) {
    std::string provider = ctx.args.require("--provider"), model = ctx.args.require("--model");
    int64_t pid = resolve_provider(db, provider);
    PgResult r = db.exec_params("SELECT id FROM models WHERE provider_id = $1 AND model = $2",
                                {std::to_string(pid), model});
    if (r.rows() != 1)
        throw CommandError("provider " + provider + " does not serve model '" + model +
                           "' (add it with `routeshift-sync model add --provider " + provider + " --model " + model +
                           "`)");
    return r.i64(0, 0);
}

void print_key(PgConnection& db, int64_t id) {
    PgResult r = db.exec_params("SELECT p.name, k.label, k.weight, k.priority FROM provider_keys k"
                                " JOIN providers p ON p.id = k.provider_id WHERE k.id = $1",
                                {std::to_string(id)});
    std::printf("key %lld (%s/%s): weight %s, priority %s\n", static_cast<long long>(id), r.str(0, 0).c_str(),
                r.str(0, 1).c_str(), r.str(0, 2).c_str(), r.str(0, 3).c_str());
}

int set(Context& ctx) {
    ctx.args.allow_only({"--provider", "--id", "--label", "--model", "--defaults", "--strategy", "--weight",
                         "--priority", "--latency-window"});
    Target target = target_of(ctx, "balancing set");
    auto only = [&](std::initializer_list<const char*> allowed, const char* what) {
        for (const char* o : {"--strategy", "--weight", "--priority", "--latency-window"}) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || std::string(a) == o;
            if (!ok && ctx.args.has(o)) throw UsageError(std::string("balancing set: ") + o + " does not apply to " + what);
        }
    };
    auto db = open_db(ctx);
    require_schema(*db);
    switch (target) {
    case Target::provider: {
        only({"--strategy"}, "a provider (it takes --strategy)");
        std::string strategy = strategy_option(ctx);
        int64_t pid = resolve_provider(*db, ctx.args.require("--provider"));
        db->exec_params("UPDATE providers SET balancing = $2 WHERE id = $1", {std::to_string(pid), strategy});
        std::printf("provider %s: balancing %s\n", ctx.args.require("--provider").c_str(), strategy.c_str());
        return 0;
    }
    case Target::key: {
        only({"--weight", "--priority"}, "a key (it takes --weight and --priority)");
        auto weight = opt_num(ctx, "--weight", 0, 1000);
        auto priority = opt_num(ctx, "--priority", 0, 1000);
        if (!weight && !priority) throw UsageError("balancing set: give --weight W (0..1000) and/or --priority N (0..1000)");
        int64_t id = find_provider_key(*db, ctx);
        db->exec_params("UPDATE provider_keys SET weight = coalesce($2::integer, weight),"
                        " priority = coalesce($3::integer, priority) WHERE id = $1",
                        {std::to_string(id), weight, priority});
        print_key(*db, id);
        return 0;
    }
    case Target::model: {
        only({"--priority"}, "a model row (it takes --priority)");
        std::string priority = ctx.args.has("--priority") ? *opt_num(ctx, "--priority", 0, 1000) : "";
        if (priority.empty()) throw UsageError("balancing set: give --priority N (0..1000) for the model row");
        int64_t id = find_model_row(*db, ctx);
        db->exec_params("UPDATE models SET priority = $2 WHERE id = $1", {std::to_string(id), priority});
        std::printf("provider %s, model %s: priority %s\n", ctx.args.require("--provider").c_str(),
                    ctx.args.require("--model").c_str(), priority.c_str());
        return 0;
    }
    case Target::defaults: {
        only({"--latency-window"}, "the defaults (they take --latency-window)");
        auto window = opt_num(ctx, "--latency-window", 5, 86400);
        if (!window) throw UsageError("balancing set --defaults: give --latency-window SECONDS (5..86400)");
        db->exec_params("UPDATE settings SET latency_window_seconds = $1", {*window});
        std::printf("latency window %s s\n", window->c_str());
        return 0;
    }
    }
    return 0;
}

// Back to the column defaults of sql/001 and sql/004.
int clear(Context& ctx) {
    ctx.args.allow_only({"--provider", "--id", "--label", "--model", "--defaults"});
    Target target = target_of(ctx, "balancing clear");
    auto db = open_db(ctx);
    require_schema(*db);
    switch (target) {
    case Target::provider: {
        int64_t pid = resolve_provider(*db, ctx.args.require("--provider"));
        db->exec_params("UPDATE providers SET balancing = DEFAULT WHERE id = $1", {std::to_string(pid)});
        std::printf("provider %s: balancing weighted_round_robin\n", ctx.args.require("--provider").c_str());
        return 0;
    }
    case Target::key: {
        int64_t id = find_provider_key(*db, ctx);
        db->exec_params("UPDATE provider_keys SET weight = DEFAULT, priority = DEFAULT WHERE id = $1",
                        {std::to_string(id)});
        print_key(*db, id);
        return 0;
    }
    case Target::model: {
        int64_t id = find_model_row(*db, ctx);
        db->exec_params("UPDATE models SET priority = DEFAULT WHERE id = $1", {std::to_string(id)});
        std::printf("provider %s, model %s: priority 0\n", ctx.args.require("--provider").c_str(),
                    ctx.args.require("--model").c_str());
        return 0;
    }
    case Target::defaults:
        db->exec("UPDATE settings SET latency_window_seconds = DEFAULT");
        std::printf("latency window 300 s\n");
        return 0;
    }
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({"--provider"});
    auto db = open_db(ctx);
    require_schema(*db);
    std::optional<std::string> pid = provider_filter(*db, ctx);
    PgResult window = db->exec("SELECT latency_window_seconds FROM settings");
    std::printf("latency window: %s s\n\n", window.str(0, 0).c_str());
    PgResult r = db->exec_params(R"SQL(
SELECT 'provider', p.name, '-', p.balancing, '-', '-'
  FROM providers p WHERE $1::bigint IS NULL OR p.id = $1
UNION ALL
SELECT 'key', p.name, k.label, '-', k.weight::text, k.priority::text
  FROM provider_keys k JOIN providers p ON p.id = k.provider_id WHERE $1::bigint IS NULL OR p.id = $1
UNION ALL
SELECT 'model', p.name, m.model, '-', '-', m.priority::text
  FROM models m JOIN providers p ON p.id = m.provider_id WHERE $1::bigint IS NULL OR p.id = $1
 ORDER BY 2, 1 DESC, 3)SQL",
                                 {pid});
    std::vector<std::vector<std::string>> rows = {{"what", "provider", "key_or_model", "strategy", "weight", "priority"}};
    for (int i = 0; i < r.rows(); ++i)
        rows.push_back({r.str(i, 0), r.str(i, 1), r.str(i, 2), r.str(i, 3), r.str(i, 4), r.str(i, 5)});
    print_aligned_table(rows, 4);
    return 0;
}

}  // namespace

int cmd_balancing(Context& ctx) {
    std::string sub = subcommand(ctx, "balancing", "list, set, clear");
    if (sub == "list") return list(ctx);
    if (sub == "set") return set(ctx);
    if (sub == "clear") return clear(ctx);
    throw UsageError("balancing: unknown subcommand '" + sub + "' (list, set, clear)");
}

}  // namespace rsync
