// rule add | set | list | rm | enable | disable (docs/routing-rules.md). `add` validates the rule with
// the module's own parser (against the current providers, models, aliases, teams and virtual
// keys) before inserting it, so a rule that would make every push fail never reaches the table.
#include "cli.hpp"

#include "config_reader.hpp"
#include "log.hpp"
#include "snapshot_builder.hpp"

#include <algorithm>
#include <cstdio>

namespace rsync {
namespace {

int64_t parse_id(const std::string& text, const char* option) {
    try {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size() && v > 0) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(std::string(option) + " must be a positive integer");
}

std::optional<int64_t> optional_number(const Context& ctx, const char* option) {
    auto v = ctx.args.get(option);
    if (!v) return std::nullopt;
    return parse_id(*v, option);
}

// Validates `rule` against the current config (`rows`): this rule alone (others are `check`'s
// business), no provider key secrets needed. Throws CommandError(`failure`) when it does not.
void validate_rule(ConfigRows rows, RoutingRuleRow rule, const char* failure) {
    rule.id = rule.id ? rule.id : 1;
    rule.enabled = true;  // a disabled rule is validated too: enabling it must not break pushes
    rows.routing_rules = {rule};
    BuildOptions options;  // secrets redacted, still validated
    Snapshot snapshot;
    std::vector<std::string> errors;
    if (!build_snapshot(rows, options, &snapshot, &errors)) {
        for (const auto& e : errors) LOG_ERROR("%s", e.c_str());
        throw CommandError(failure);
    }
}

// --stream-continuation on|off (sql/010, docs/design.md §19); nullopt when not given.
std::optional<bool> stream_continuation_option(const Context& ctx) {
    auto v = ctx.args.get("--stream-continuation");
    if (!v) return std::nullopt;
    if (*v == "on") return true;
    if (*v == "off") return false;
    throw UsageError("--stream-continuation must be on or off");
}

int add(Context& ctx) {
    ctx.args.allow_only({"--name", "--priority", "--team", "--match", "--action", "--conditions", "--retry-budget",
                         "--cost-ceiling-microcents", "--stream-continuation", "--disabled"});
    RoutingRuleRow rule;
    rule.name = ctx.args.get("--name").value_or("");
    if (auto p = ctx.args.get("--priority")) {
        try {
            size_t used = 0;
            rule.priority = std::stoll(*p, &used);
            if (used != p->size()) throw std::invalid_argument("trailing text");
        } catch (const std::exception&) {
            throw UsageError("--priority must be an integer");
        }
    }
    rule.action_json = ctx.args.require("--action");
    rule.match_json = ctx.args.get("--match").value_or("{}");
    rule.conditions_json = ctx.args.get("--conditions").value_or("{}");
    rule.retry_budget = optional_number(ctx, "--retry-budget");
    rule.cost_ceiling_microcents = optional_number(ctx, "--cost-ceiling-microcents");
    rule.stream_continuation = stream_continuation_option(ctx).value_or(true);
    rule.enabled = !ctx.args.has("--disabled");

    auto db = open_db(ctx);
    require_schema(*db);
    if (auto team = ctx.args.get("--team")) rule.team_id = resolve_team(*db, *team);

    validate_rule(read_config(*db), rule, "rule not added: it does not validate");
    PgResult r = db->exec_params(
        "INSERT INTO routing_rules (name, team_id, priority, match, action, conditions, enabled, retry_budget,"
        " cost_ceiling_microcents, stream_continuation)"
        " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, $10) RETURNING id",
        {rule.name, rule.team_id ? std::optional<std::string>(std::to_string(*rule.team_id)) : std::nullopt,
         std::to_string(rule.priority), rule.match_json, rule.action_json, rule.conditions_json,
         std::string(rule.enabled ? "true" : "false"),
         rule.retry_budget ? std::optional<std::string>(std::to_string(*rule.retry_budget)) : std::nullopt,
         rule.cost_ceiling_microcents ? std::optional<std::string>(std::to_string(*rule.cost_ceiling_microcents))
                                      : std::nullopt,
         std::string(rule.stream_continuation ? "true" : "false")});
    std::printf("rule %s added (priority %lld%s%s)\n", r.str(0, 0).c_str(), (long long)rule.priority,
                rule.enabled ? "" : ", disabled", rule.stream_continuation ? "" : ", stream continuation off");
    return 0;
}

// set --id N --stream-continuation on|off: one setting of an existing rule, validated like `add`
// (a tag rule never decides, so it cannot turn continuation off).
int set(Context& ctx) {
    ctx.args.allow_only({"--id", "--stream-continuation"});
    int64_t id = parse_id(ctx.args.require("--id"), "--id");
    std::optional<bool> continuation = stream_continuation_option(ctx);
    if (!continuation) throw UsageError("rule set: nothing to set (--stream-continuation on|off)");
    auto db = open_db(ctx);
    require_schema(*db);
    ConfigRows rows = read_config(*db);
    auto it = std::find_if(rows.routing_rules.begin(), rows.routing_rules.end(),
                           [&](const RoutingRuleRow& row) { return row.id == id; });
    if (it == rows.routing_rules.end()) throw CommandError("no routing rule with id " + std::to_string(id));
    RoutingRuleRow rule = *it;
    rule.stream_continuation = *continuation;
    validate_rule(std::move(rows), rule, "rule not changed: it would not validate");
    PgResult r = db->exec_params("UPDATE routing_rules SET stream_continuation = $2 WHERE id = $1::bigint",
                                 {std::to_string(id), std::string(*continuation ? "true" : "false")});
    if (r.command_tuples() == "0") throw CommandError("no routing rule with id " + std::to_string(id));
    std::printf("rule %lld: stream continuation %s\n", (long long)id, *continuation ? "on" : "off");
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({"--team"});
    auto db = open_db(ctx);
    require_schema(*db);
    std::optional<std::string> team;
    if (auto t = ctx.args.get("--team")) team = std::to_string(resolve_team(*db, *t));
    PgResult r = db->exec_params(
        "SELECT r.id, r.priority, r.name, coalesce(t.name, '(all)'), r.enabled, r.match::text, r.action::text,"
        " r.conditions::text, coalesce(r.retry_budget::text, ''), coalesce(r.cost_ceiling_microcents::text, ''),"
        " CASE WHEN r.stream_continuation THEN 'on' ELSE 'off' END"
        " FROM routing_rules r LEFT JOIN teams t ON t.id = r.team_id"
        " WHERE $1::bigint IS NULL OR r.team_id = $1::bigint ORDER BY r.priority, r.id",
        {team});
    print_table(r, {"id", "priority", "name", "team", "enabled", "match", "action", "conditions", "retry_budget",
                    "cost_ceiling_microcents", "stream_continuation"});
    return 0;
}

// rm / enable / disable by --id.
int change(Context& ctx, const char* sql, const char* done) {
    ctx.args.allow_only({"--id"});
    int64_t id = parse_id(ctx.args.require("--id"), "--id");
    auto db = open_db(ctx);
    require_schema(*db);
    PgResult r = db->exec_params(sql, {std::to_string(id)});
    if (r.command_tuples() == "0") throw CommandError("no routing rule with id " + std::to_string(id));
    std::printf("rule %lld %s\n", (long long)id, done);
    return 0;
}

}  // namespace

int cmd_rule(Context& ctx) {
    std::string sub = subcommand(ctx, "rule", "add, set, list, rm, enable, disable");
    if (sub == "add") return add(ctx);
    if (sub == "set") return set(ctx);
    if (sub == "list") return list(ctx);
    if (sub == "rm") return change(ctx, "DELETE FROM routing_rules WHERE id = $1::bigint", "removed");
    if (sub == "enable")
        return change(ctx, "UPDATE routing_rules SET enabled = true WHERE id = $1::bigint", "enabled");
    if (sub == "disable")
        return change(ctx, "UPDATE routing_rules SET enabled = false WHERE id = $1::bigint", "disabled");
    throw UsageError("rule: unknown subcommand '" + sub + "' (add, set, list, rm, enable, disable)");
}

}  // namespace rsync
