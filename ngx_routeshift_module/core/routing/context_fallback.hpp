// The context-length fallback (docs/design.md §20): a prompt too long for the model it was routed
// to goes, after the provider's context_length_exceeded, to a configured larger-context model —
// the deciding route rule's `context_fallback_model`, else the `models` row's of the first target
// that names one. The planner plans the fallback's candidates like the request's own (aliases,
// providers, endpoints, bodies, cost ceiling) but holds them; the transport releases them only
// after a context-length error (switch_to_context_fallback).
#pragma once
#include "config/config_snapshot.hpp"
#include "ingress/chat_request.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace routeshift {

struct Plan;
struct PlannedCandidate;
struct RoutingRule;
class PlanEnvironment;

struct ContextFallbackPlan {
    std::string model;               // the configured name (a public model, provider/model or alias); "" = none
    size_t first_target = SIZE_MAX;  // its targets are Plan::targets[first_target..]; SIZE_MAX = none planned
    unsigned attempts = 0;           // attempts it may use once switched to (its usable keys, within the budget)
    bool switched = false;           // a context-length error released it
};

// The fallback model name for this plan: the deciding rule's (when it routes), else the
// `context_fallback_model` of the models row behind the first target that has one; "" = none.
std::string context_fallback_model_for(const Config& config, const Plan& plan, const RoutingRule* rule);

// Resolves the fallback (aliases of `team_id` first, as for the request's model) and appends its
// targets and held candidates to `plan`; targets that serve the same (provider, upstream model) as
// one of the request's are left out (the same context window). Call after the request's own
// candidates are planned and plan->budget.attempts is set, before the cost ceiling and health
// steps. A name that resolves to nothing leaves no fallback (routeshift-sync check reports it).
void plan_context_fallback(const Config& config, int64_t team_id, const ChatRequest& request, PlanEnvironment& env,
                           const RoutingRule* rule, Plan* plan);

inline constexpr const char* kContextTooSmallReason = "the prompt exceeds this model's context window";

// A context-length error on an attempt: releases the held candidates and sets aside every other
// candidate (the request's own targets share the window that was too small). Returns the attempts
// the fallback may use (0: no fallback planned, already switched, or none of its candidates is
// usable — the error then goes to the client). `Candidate` is PlannedCandidate or the host's type
// derived from it.
template <typename Candidate>
unsigned switch_to_context_fallback(ContextFallbackPlan& fallback, std::span<Candidate> candidates) {
    if (fallback.switched || fallback.first_target == SIZE_MAX) return 0;
    unsigned usable = 0;
    for (const Candidate& c : candidates) usable += c.held && !c.unusable ? 1 : 0;
    if (usable == 0) return 0;
    fallback.switched = true;
    for (Candidate& c : candidates) {
        if (c.held) {
            c.held = false;
        } else if (!c.context_fallback && !c.unusable) {
            c.unusable = true;
            c.unusable_reason = kContextTooSmallReason;
        }
    }
    return usable < fallback.attempts ? usable : fallback.attempts;
}

}  // namespace routeshift
