#include "routing/context_fallback.hpp"
#include "config/routing_rules.hpp"
#include "routing/planner.hpp"

#include <algorithm>

namespace routeshift {

std::string context_fallback_model_for(const Config& config, const Plan& plan, const RoutingRule* rule) {
    if (rule && rule->action == RuleAction::route && !rule->context_fallback_model.empty())
        return rule->context_fallback_model;
    for (const Target& target : plan.targets) {
        auto it = config.models_by_name.find(target.public_model);
        if (it == config.models_by_name.end()) continue;
        for (size_t m : it->second) {
            const ModelEntry& row = config.models[m];
            if (row.provider == target.provider && !row.context_fallback_model.empty()) return row.context_fallback_model;
        }
    }
    return {};
}

void plan_context_fallback(const Config& config, int64_t team_id, const ChatRequest& request, PlanEnvironment& env,
                           const RoutingRule* rule, Plan* plan) {
    std::string model = context_fallback_model_for(config, *plan, rule);
    if (model.empty()) return;
    std::vector<Target> resolved;
    ApiError unresolved;
    if (!resolve_model(config, team_id, model, &resolved, &unresolved)) return;
    const size_t own_targets = plan->targets.size();
    const size_t first_target = own_targets;
    for (Target& target : resolved) {
        bool same_window = std::any_of(plan->targets.begin(), plan->targets.begin() + (ptrdiff_t)own_targets,
                                       [&](const Target& own) {
                                           return own.provider == target.provider && own.upstream_model == target.upstream_model;
                                       });
        if (!same_window) plan->targets.push_back(std::move(target));
    }
    if (plan->targets.size() == first_target) return;  // the fallback is the request's own model
    const size_t first_candidate = plan->candidates.size();
    for (size_t t = first_target; t < plan->targets.size(); t++)
        plan_target_candidates(config, request, env, t, (unsigned)(t - first_target), plan);
    unsigned usable = 0;
    for (size_t i = first_candidate; i < plan->candidates.size(); i++) {
        PlannedCandidate& c = plan->candidates[i];
        c.context_fallback = true;
        c.held = !c.unusable;
        usable += c.held ? 1 : 0;
    }
    plan->context_fallback.model = std::move(model);
    plan->context_fallback.first_target = first_target;
    plan->context_fallback.attempts = std::min(usable, std::max(plan->budget.attempts, 1u));
}

}  // namespace routeshift
