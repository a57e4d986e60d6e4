// The per-request cost ceiling (docs/design.md "Cost ceiling"): before every attempt, what earlier
// attempts really spent plus the worst case of the next one must stay within the ceiling. The
// planner applies it to the first attempt (apply_cost_ceiling); the transport asks attempt_fits
// before each later one with the spend so far.
#pragma once
#include "config/config_snapshot.hpp"
#include "ingress/chat_request.hpp"

#include <cstdint>

namespace routeshift {

struct Plan;

// What the ceiling knows about one target of the model chain, computed once per plan.
struct TargetCost {
    const ModelPrice* price = nullptr;   // the row in force at plan time; null = no price
    int64_t worst_case_microcents = -1;  // the most one attempt on this target may cost; -1 = no price
};

// The output tokens the request allows: max_completion_tokens, else max_tokens (non-negative
// integers; anything else is ignored); -1 when it sets neither.
int64_t requested_max_output_tokens(const ChatRequest& request);

// The output cap of an attempt: the request's (`requested` >= 0), else the price row's configured
// maximum, else 0 (only the prompt is counted; `routeshift-sync check` warns about such rows).
int64_t output_cap_tokens(int64_t requested, const ModelPrice& price);

// The most one attempt may cost: prompt_tokens × input price + output cap × output price (each
// rounded up, as accounting/cost.hpp). The prompt is priced as uncached: the worst case.
int64_t worst_case_microcents(uint64_t prompt_tokens, int64_t requested_max_output, const ModelPrice& price);

// The decision before an attempt: spent + worst case <= ceiling. An unknown worst case (-1, no
// price) never fits; a ceiling <= 0 means none and everything fits.
bool attempt_fits(int64_t spent_microcents, int64_t worst_case_microcents, int64_t ceiling_microcents);

// The planner's step, run once plan->budget.cost_ceiling_microcents is final (settings default,
// a matched rule's ceiling) and before the first key is picked; does nothing without a ceiling.
// Fills plan->target_costs (prompt measured once with canonical/prompt_size) and marks unusable
// every candidate whose target has no price or whose first attempt alone would pass the ceiling.
// When that leaves no usable candidate (some were usable before), returns false with plan->error:
// 400 invalid_request_error `cost_ceiling_exceeded` when some target was priced, else 500
// server_error `cost_ceiling_unpriced` (a configuration error: the ceiling cannot be checked).
bool apply_cost_ceiling(const Config& config, const ChatRequest& request, int64_t now_unix, Plan* plan);

}  // namespace routeshift
