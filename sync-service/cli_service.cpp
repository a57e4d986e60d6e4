// migrate, serve, check, push.
#include "cli.hpp"

#include "config_reader.hpp"
#include "log.hpp"
#include "migrations.hpp"
#include "fallback_check.hpp"
#include "price_check.hpp"
#include "serve.hpp"
#include "snapshot_builder.hpp"

#include <algorithm>
#include <sys/prctl.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace rsync {

int cmd_migrate(Context& ctx) {
    ctx.args.allow_only({"--status"});
    auto db = open_db(ctx);
    if (ctx.args.has("--status")) {
        for (const auto& line : migration_status(*db)) std::printf("%s\n", line.c_str());
        return schema_problem(*db).empty() ? 0 : 1;
    }
    MigrateResult r = run_migrations(*db);
    LOG_INFO("migrations: %d applied, %d already present", r.applied, r.already);
    return 0;
}

int cmd_serve(Context& ctx) {
    ctx.args.allow_only({"--last-good-file"});
    ServeOptions o;
    o.conninfo = ctx.conninfo;
    o.targets = ctx.targets(true);
    o.poll_interval_ms = ctx.poll_ms;
    o.http_timeout_ms = ctx.timeout_ms;
    o.backoff_max_ms = ctx.backoff_max_ms;
    o.log_spool_dir = ctx.log_spool_dir;
    o.backoff_initial_ms = std::min(250, o.backoff_max_ms);
    o.last_good_path = ctx.last_good_file;
    SecretBox box = load_secret_box(ctx);  // fatal (exit 2) when missing or malformed
    // The process holds the master key and decrypted secrets: no core dumps, no ptrace by peers.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return run_serve(o, box);
}

int cmd_check(Context& ctx) {
    ctx.args.allow_only({"--print"});
    auto db = open_db(ctx);
    require_schema(*db);
    ConfigRows rows = read_config(*db);
    std::string err;
    std::optional<SecretBox> box;
    if (SecretBox::configured(ctx.secret_file)) box = load_secret_box(ctx);  // bad key material: exit 2
    else err = "PROVIDER_KEY_SECRET is not set";
    BuildOptions bo;
    bo.box = box ? &*box : nullptr;
    bo.quarantine = true;  // report every bad row, as serve would quarantine them
    Snapshot snap;
    std::vector<std::string> errors;
    bool ok = build_snapshot(rows, bo, &snap, &errors);
    for (const auto& q : snap.quarantined)
        errors.push_back("QUARANTINED " + q.table + " id " + std::to_string(q.id) + " (serve leaves it out): " + q.reason);
    if (!snap.quarantined.empty()) ok = false;
    PriceCheck prices = check_prices_for_ceiling(rows, static_cast<int64_t>(std::time(nullptr)));
    errors.insert(errors.end(), prices.errors.begin(), prices.errors.end());
    if (!prices.errors.empty()) ok = false;
    std::vector<std::string> fallbacks = check_context_fallbacks(rows);  // docs/design.md §20
    errors.insert(errors.end(), fallbacks.begin(), fallbacks.end());
    if (!fallbacks.empty()) ok = false;
    for (const auto& w : prices.warnings) LOG_WARN("config generation %lld: %s", static_cast<long long>(rows.generation), w.c_str());
    for (const auto& e : errors) LOG_ERROR("config generation %lld: %s", static_cast<long long>(rows.generation), e.c_str());
    if (!box) LOG_WARN("secrets not checked: %s", err.c_str());
    size_t enabled_keys = 0;
    for (const auto& k : rows.provider_keys) enabled_keys += k.enabled ? 1 : 0;
    std::printf("generation %lld: %s; %zu providers, %zu provider keys (%zu enabled), %zu models, %zu teams, "
                "%zu virtual keys, %zu aliases, %zu routing rules, %zu prices\n",
                static_cast<long long>(rows.generation), ok ? "valid" : "INVALID", rows.providers.size(),
                rows.provider_keys.size(), enabled_keys, rows.models.size(), rows.teams.size(),
                rows.virtual_keys.size(), rows.model_aliases.size(), rows.routing_rules.size(),
                rows.model_prices.size());
    if (ok && ctx.args.has("--print")) {
        // Always printed without secrets.
        BuildOptions redacted;
        redacted.box = nullptr;
        Snapshot shown;
        std::vector<std::string> e2;
        if (build_snapshot(rows, redacted, &shown, &e2)) std::printf("%s\n", shown.json.c_str());
    }
    return ok ? 0 : 1;
}

int cmd_push(Context& ctx) {
    ctx.args.allow_only({});
    auto targets = ctx.targets(true);
    SecretBox box = load_secret_box(ctx);
    auto db = open_db(ctx);
    require_schema(*db);
    ConfigRows rows = read_config(*db);
    BuildOptions bo;
    bo.box = &box;
    Snapshot snap;
    std::vector<std::string> errors;
    if (!build_snapshot(rows, bo, &snap, &errors)) {
        for (const auto& e : errors)
            LOG_ERROR("config generation %lld is invalid, nothing pushed: %s", static_cast<long long>(rows.generation),
                      e.c_str());
        return 1;
    }
    int failures = 0;
    for (const auto& t : targets) {
        PushResult r = admin_push_snapshot(t, snap.json, ctx.timeout_ms);
        if (r.kind == PushResult::accepted) {
            std::printf("%s: generation %lld applied (%lld keys)\n", t.spec.c_str(), static_cast<long long>(r.generation),
                        static_cast<long long>(r.keys));
        } else {
            ++failures;
            LOG_ERROR("%s: generation %lld not applied: %s", t.spec.c_str(), static_cast<long long>(snap.generation),
                      snap.redact(r.message).c_str());
        }
    }
    return failures ? 1 : 0;
}

}  // namespace rsync
