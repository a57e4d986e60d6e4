// The request planner (see planner.hpp). Moved out of the nginx body handler; the checks and
// their order are the ones the handler made.
#include "routing/planner.hpp"
#include "egress/wire_adapter.hpp"
#include "routing/rule_engine.hpp"
#include "routing/priority_tiers.hpp"

#include <algorithm>

namespace routeshift {
namespace {

// Marks `plan` failed with the client's error (in place: plan_request returns its one Plan, so
// the compiler builds it in the caller's storage).
void fail_plan(Plan& plan, int status, std::string message, std::string_view type, std::string code) {
    plan.ok = false;
    plan.error.status = status;
    plan.error.message = std::move(message);
    plan.error.type = std::string(type);
    plan.error.param.clear();
    plan.error.code = std::move(code);
}

// The body of `key` for target `t`: an existing one when the key shares its provider's body.
size_t body_for(Plan& plan, const Config& config, const ProviderKey& key, size_t t, const ChatRequest& request) {
    const WireAdapter& wire = wire_adapter(key);
    int64_t key_id = wire.body_depends_on_key(config, key) ? key.id : -1;
    for (size_t b = 0; b < plan.bodies.size(); b++) {
        const PlannedBody& body = plan.bodies[b];
        if (body.target == t && body.provider == key.provider && body.key_id == key_id) return b;
    }
    PlannedBody body{t, key.provider, key_id, false, {}, {}};
    body.ok = wire.build_body(config, key, request, plan.targets[t].upstream_model, &body.bytes, &body.error);
    plan.bodies.push_back(std::move(body));
    return plan.bodies.size() - 1;
}

// A route rule's chain: each model through aliases and resolve_model, targets appended in order.
// A model that no longer resolves is skipped; the first error stands when none does.
bool resolve_chain(const Config& config, int64_t team_id, const std::vector<std::string>& models,
                   std::vector<Target>* targets, std::vector<unsigned>* ranks, ApiError* error) {
    ApiError first_error;
    bool any = false;
    for (unsigned rank = 0; rank < models.size(); rank++) {
        const std::string& model = models[rank];
        std::vector<Target> resolved;
        ApiError e;
        if (!resolve_model(config, team_id, model, &resolved, &e)) {
            if (!any && first_error.message.empty()) first_error = std::move(e);
            continue;
        }
        any = true;
        for (Target& t : resolved) {
            targets->push_back(std::move(t));
            ranks->push_back(rank);
        }
    }
    if (!any) *error = std::move(first_error);
    return any;
}

// The priority of the models row behind target `target` (0 for provider-scoped names).
int model_priority(const Config& config, const Target& target) {
    auto it = config.models_by_name.find(target.public_model);
    if (it == config.models_by_name.end()) return 0;
    for (size_t m : it->second)
        if (config.models[m].provider == target.provider) return config.models[m].priority;
    return 0;
}

}  // namespace

size_t plan_target_candidates(const Config& config, const ChatRequest& request, PlanEnvironment& env, size_t t,
                              unsigned chain_rank, Plan* plan) {
    size_t first_body_error = SIZE_MAX;
    const Provider& provider = config.providers[plan->targets[t].provider];
    for (size_t ki : provider.keys) {
        const ProviderKey& key = config.keys[ki];
        if (!key.enabled || key.weight <= 0) continue;
        PlannedCandidate c;
        c.key = ki;
        c.target = t;
        c.chain_rank = chain_rank;
        c.tier = chain_tier(c.chain_rank, priority_tier(model_priority(config, plan->targets[t]), key.priority));
        std::string endpoint_error;
        c.endpoint = env.endpoint(ki, plan->targets[t].upstream_model, request.stream, &endpoint_error);
        if (c.endpoint == nullptr) {
            c.unusable = true;
            c.unusable_reason = std::move(endpoint_error);
        }
        c.body = body_for(*plan, config, key, t, request);
        const PlannedBody& body = plan->bodies[c.body];
        if (!body.ok) {
            c.unusable = true;
            c.unusable_reason = body.error.message;
            if (first_body_error == SIZE_MAX) first_body_error = c.body;
        }
        plan->candidates.push_back(std::move(c));
    }
    return first_body_error;
}

Plan plan_request(const Config& config, const VirtualKey& caller, const ChatRequest& request, int64_t now_unix,
                  const PlanOptions& options, PlanEnvironment& env) {
    Plan plan;
    plan.planned_at_unix = now_unix;
    plan.requested_model = request.route_hint.empty() ? request.model : request.route_hint;
    const RoutingRule* rule = nullptr;
    std::vector<unsigned> chain_ranks;  // per target, when a route rule's chain made the targets
    if (!config.routing_rules.empty()) {
        RuleOutcome outcome = evaluate_rules(config.routing_rules, caller, request, now_unix, options.environment);
        plan.matched_rules = std::move(outcome.matched);
        plan.tags = std::move(outcome.tags);
        rule = outcome.decided;
        if (rule) plan.decided_rule = rule->id;
        if (rule && rule->action == RuleAction::block) {
            fail_plan(plan, rule->block_status, rule->block_message, openai_error_type_for_status(rule->block_status),
                      "blocked_by_rule");
            return plan;
        }
        if (rule && rule->action == RuleAction::static_response) {
            plan.ok = true;
            plan.static_answer = true;
            plan.static_content = rule->static_content;
            return plan;
        }
    }
    // metadata.route_hint replaces the deciding route rule's chain (its caps still apply).
    if (rule && rule->action == RuleAction::route && request.route_hint.empty()) {
        if (!resolve_chain(config, caller.team_id, rule->route_models, &plan.targets, &chain_ranks, &plan.error))
            return plan;
    } else if (!resolve_model(config, caller.team_id, plan.requested_model, &plan.targets, &plan.error)) {
        return plan;
    }

    const ApiError* first_body_error = nullptr;
    size_t first_body_error_index = SIZE_MAX;
    for (size_t t = 0; t < plan.targets.size(); t++) {
        size_t body_error = plan_target_candidates(config, request, env, t, t < chain_ranks.size() ? chain_ranks[t] : 0, &plan);
        if (first_body_error_index == SIZE_MAX) first_body_error_index = body_error;
    }
    if (first_body_error_index != SIZE_MAX) first_body_error = &plan.bodies[first_body_error_index].error;
    bool any_usable = std::any_of(plan.candidates.begin(), plan.candidates.end(),
                                  [](const PlannedCandidate& c) { return !c.unusable; });
    if (first_body_error && !any_usable) {  // no provider can express this request
        plan.error = *first_body_error;
        return plan;
    }

    unsigned budget = config.settings.retry_budget > 0 ? (unsigned)config.settings.retry_budget
                                                       : options.directive_retry_budget;
    plan.budget.attempts = std::max(budget, 1u);
    if (rule && rule->retry_budget > 0) plan.budget.attempts = (unsigned)rule->retry_budget;
    plan_context_fallback(config, caller.team_id, request, env, rule, &plan);  // held until a context error (§20)
    plan.budget.cost_ceiling_microcents = config.settings.cost_ceiling_microcents;  // default; a rule's wins
    if (rule && rule->cost_ceiling_microcents > 0) plan.budget.cost_ceiling_microcents = rule->cost_ceiling_microcents;
    if (rule) plan.budget.first_token_timeout_ms = rule->first_token_timeout_ms;
    if (rule) plan.budget.stream_continuation = rule->stream_continuation;
    // after the ceiling is final, before health picks the first key: no pick may pass it
    if (!apply_cost_ceiling(config, request, now_unix, &plan)) return plan;

    KeyHealth health = env.health(plan.candidates);
    if (health.healthy == 0) {
        const std::string& model = plan.targets[0].public_model;
        if (health.limited > 0 && health.min_wait_ms < 0) {
            fail_plan(plan, 429, "Every provider key for model '" + model + "' is at its rate limit; retry later.",
                      "rate_limit_error", "rate_limit_exceeded");
            plan.retry_after_seconds = (health.min_limit_wait_ms + 999) / 1000;
            return plan;
        }
        if (health.limited > 0 && (health.min_limit_wait_ms < health.min_wait_ms)) health.min_wait_ms = health.min_limit_wait_ms;
        if (health.min_wait_ms >= 0) {
            fail_plan(plan, 503,
                      "Every provider key for model '" + model + "' is cooling down after upstream errors; retry later.",
                      "server_error", "all_keys_cooling_down");
            plan.retry_after_seconds = (health.min_wait_ms + 999) / 1000;
            return plan;
        }
        fail_plan(plan, 503, "No enabled provider key serves model '" + model + "'.", "server_error", "no_provider_key");
        return plan;
    }
    plan.budget.attempts = (unsigned)std::min<size_t>(plan.budget.attempts, health.healthy);
    plan.ok = true;
    return plan;
}

}  // namespace routeshift
