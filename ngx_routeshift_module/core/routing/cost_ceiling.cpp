// The cost ceiling's arithmetic and the planner's first-attempt check (see cost_ceiling.hpp).
#include "routing/cost_ceiling.hpp"

#include "accounting/cost.hpp"
#include "canonical/prompt_size.hpp"
#include "routing/planner.hpp"

#include <algorithm>

namespace routeshift {

int64_t requested_max_output_tokens(const ChatRequest& request) {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        int64_t tokens;
        if (json_read_int(json_find(request.members, key), &tokens) && tokens >= 0) return tokens;
    }
    return -1;
}

int64_t output_cap_tokens(int64_t requested, const ModelPrice& price) {
    return requested >= 0 ? requested : price.max_output_tokens;
}

int64_t worst_case_microcents(uint64_t prompt_tokens, int64_t requested_max_output, const ModelPrice& price) {
    int64_t prompt = (int64_t)std::min<uint64_t>(prompt_tokens, (uint64_t)INT64_MAX);
    return add_microcents(token_cost_microcents(prompt, price.input_microcents_per_mtok),
                          token_cost_microcents(output_cap_tokens(requested_max_output, price),
                                                price.output_microcents_per_mtok));
}

bool attempt_fits(int64_t spent_microcents, int64_t worst_case_microcents, int64_t ceiling_microcents) {
    if (ceiling_microcents <= 0) return true;
    if (worst_case_microcents < 0) return false;
    return add_microcents(spent_microcents, worst_case_microcents) <= ceiling_microcents;
}

bool apply_cost_ceiling(const Config& config, const ChatRequest& request, int64_t now_unix, Plan* plan) {
    int64_t ceiling = plan->budget.cost_ceiling_microcents;
    if (ceiling <= 0) return true;
    uint64_t prompt_tokens = measure_prompt(request).estimated_tokens;
    int64_t requested_output = requested_max_output_tokens(request);
    plan->target_costs.assign(plan->targets.size(), TargetCost{});
    for (size_t t = 0; t < plan->targets.size(); t++) {
        TargetCost& cost = plan->target_costs[t];
        cost.price = config.prices.in_force(plan->targets[t].provider, plan->targets[t].upstream_model, now_unix);
        if (cost.price) cost.worst_case_microcents = worst_case_microcents(prompt_tokens, requested_output, *cost.price);
    }

    bool usable_before = false, usable_after = false;
    const TargetCost* cheapest = nullptr;  // priced, for the error message
    size_t cheapest_target = 0, unpriced_target = SIZE_MAX;
    for (PlannedCandidate& c : plan->candidates) {
        if (c.unusable) continue;
        const TargetCost& cost = plan->target_costs[c.target];
        if (c.held) {  // a context fallback's candidate: set aside alike, but it cannot save the plan
            if (!attempt_fits(0, cost.worst_case_microcents, ceiling)) {
                c.held = false;
                c.unusable = true;
                c.over_cost_ceiling = true;
                c.unusable_reason = "its worst case passes the cost ceiling";
            }
            continue;
        }
        usable_before = true;
        if (attempt_fits(0, cost.worst_case_microcents, ceiling)) {
            usable_after = true;
            continue;
        }
        c.unusable = true;
        c.over_cost_ceiling = true;
        if (cost.price == nullptr) {
            c.unusable_reason = "no price for its model, so the cost ceiling cannot be checked";
            if (unpriced_target == SIZE_MAX) unpriced_target = c.target;
        } else {
            c.unusable_reason = "its worst case passes the cost ceiling";
            if (cheapest == nullptr || cost.worst_case_microcents < cheapest->worst_case_microcents) {
                cheapest = &cost;
                cheapest_target = c.target;
            }
        }
    }
    if (!usable_before || usable_after) return true;

    plan->ok = false;
    plan->error.param.clear();
    if (cheapest) {
        const Target& target = plan->targets[cheapest_target];
        plan->error.status = 400;
        plan->error.type = "invalid_request_error";
        plan->error.code = "cost_ceiling_exceeded";
        plan->error.message =
            "This request could cost up to " + std::to_string(cheapest->worst_case_microcents) +
            " microcents on its cheapest route (model '" + target.public_model + "': about " +
            std::to_string(prompt_tokens) + " prompt tokens and up to " +
            std::to_string(output_cap_tokens(requested_output, *cheapest->price)) +
            " output tokens), more than the cost ceiling of " + std::to_string(ceiling) +
            " microcents. Lower max_completion_tokens or shorten the prompt.";
        return false;
    }
    const Target& target = plan->targets[unpriced_target];
    plan->error.status = 500;
    plan->error.type = "server_error";
    plan->error.code = "cost_ceiling_unpriced";
    plan->error.message = "A cost ceiling is in force but model '" + target.upstream_model + "' of provider '" +
                          config.providers[target.provider].name +
                          "' has no price, so its cost cannot be checked (see routeshift-sync check).";
    return false;
}

}  // namespace routeshift
