// The request planner: from an authenticated caller and a validated chat request to everything the
// transport needs before its first attempt (docs/design.md §6): the ordered model chain (aliases
// and metadata.route_hint applied), the provider keys that may serve each target, one upstream
// body per (target, provider[, key]), and the request's budgets. Plain C++: the host (the nginx
// glue, or a test) answers the two questions that need runtime state through PlanEnvironment.
#pragma once
#include "config/config_snapshot.hpp"
#include "dialect/openai_error.hpp"
#include "egress/openai/upstream_request.hpp"
#include "ingress/chat_request.hpp"
#include "routing/context_fallback.hpp"
#include "routing/cost_ceiling.hpp"
#include "routing/model_resolver.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace routeshift {

// One upstream body, built once and shared by every key of its provider (Azure v1: per key).
struct PlannedBody {
    size_t target;          // index into Plan::targets
    size_t provider;        // index into Config::providers
    int64_t key_id;         // -1 when the provider's keys share it
    bool ok = false;        // false: this wire format cannot express the request (`error`, a 400)
    std::string bytes;
    ApiError error;
};

// One provider key that may serve a target.
struct PlannedCandidate {
    size_t key;                                  // index into Config::keys
    size_t target;                               // index into Plan::targets
    size_t body = SIZE_MAX;                      // index into Plan::bodies
    const UpstreamEndpoint* endpoint = nullptr;  // from PlanEnvironment::endpoint; null if unusable
    bool unusable = false;                       // no endpoint, no body for its wire format, over the cost ceiling
    bool over_cost_ceiling = false;              // set aside by the cost ceiling (cost_ceiling.hpp)
    // Position in a route rule's chain of the model that produced its target (0 otherwise): a
    // higher rank is for when every key of the lower ranks is cooling, limited or already failed.
    unsigned chain_rank = 0;
    std::string unusable_reason;
    int64_t tier = 0;                            // failover tier (routing/priority_tiers.hpp)
    // Planned for the context-length fallback (context_fallback.hpp): `held` (and unusable) until
    // an attempt fails with context_length_exceeded.
    bool context_fallback = false;
    bool held = false;
};

// Per-request limits: the matched routing rule's, else the settings' defaults.
struct PlanBudget {
    unsigned attempts = 1;  // upstream attempts, first one included (>= 1)
    int64_t cost_ceiling_microcents = 0;  // max spend across all attempts; 0 = no ceiling
    int64_t first_token_timeout_ms = 0;   // the deciding rule's first-token limit for streams; 0 = the directive's
    bool stream_continuation = true;      // the deciding rule allows mid-stream continuation (§19)
};

// What the host tells the planner about the keys' runtime health.
struct KeyHealth {
    size_t healthy = 0;         // usable candidates that are not cooling down
    int64_t min_wait_ms = -1;   // shortest remaining cooldown among the others; -1 = none cooling
    size_t limited = 0;         // usable candidates held back only by their RPM/TPM limit
    int64_t min_limit_wait_ms = -1;  // shortest wait until one of those fits; -1 = none limited
};

class PlanEnvironment {
public:
    virtual ~PlanEnvironment() = default;
    // Where key `key` (index into Config::keys) sends `upstream_model`; null + `error` when it
    // cannot (bad base URL, missing metadata). The pointer must outlive the plan.
    virtual const UpstreamEndpoint* endpoint(size_t key, const std::string& upstream_model, bool stream,
                                             std::string* error) = 0;
    // Looked at once per plan, after the candidates are known (the unusable ones included, to be
    // skipped). The glue answers from the shared zone.
    virtual KeyHealth health(std::span<const PlannedCandidate> candidates) = 0;
};

// Settings that come from the host, not from the snapshot.
struct PlanOptions {
    unsigned directive_retry_budget = 3;  // routeshift_retry_budget; the snapshot's setting wins
    std::string_view environment;         // routeshift_environment, matched by rule conditions
};

struct Plan {
    bool ok = false;
    ApiError error;                     // !ok: the client's error (status, type, code, message)
    int64_t retry_after_seconds = 0;    // !ok with 503 all_keys_cooling_down or 429: Retry-After

    std::string requested_model;        // route_hint when given, else body.model
    std::vector<Target> targets;        // the model chain, in the order it is tried
    std::vector<PlannedCandidate> candidates;  // grouped by target, in target order
    std::vector<PlannedBody> bodies;
    PlanBudget budget;
    std::vector<TargetCost> target_costs;  // per target, when a cost ceiling is in force (cost_ceiling.hpp)
    ContextFallbackPlan context_fallback;  // where a context-length error goes (context_fallback.hpp)
    int64_t planned_at_unix = 0;        // `now` of plan_request (rules with time windows use it)

    // Routing rules (docs/routing-rules.md). A block rule makes the plan fail with its error; a
    // static rule makes it succeed with no targets: the host answers `static_content` itself.
    std::vector<int64_t> matched_rules;  // ids of every matching rule, in evaluation order
    int64_t decided_rule = 0;            // the route/block/static rule that decided; 0 = none
    std::vector<std::string> tags;       // labels of the matching tag rules
    bool static_answer = false;
    std::string static_content;
};

// Appends the candidates of target `t` (every enabled key with weight > 0 of its provider, with
// endpoint and body; unusable when either fails) to plan->candidates. Returns the index of the
// first body a wire could not build (SIZE_MAX: none).
size_t plan_target_candidates(const Config& config, const ChatRequest& request, PlanEnvironment& env, size_t t,
                              unsigned chain_rank, Plan* plan);

// Plans `request` for `caller`. Routing rules come first (block → the rule's error, static → a
// static answer, route → the rule's model chain unless metadata.route_hint is given; the deciding
// rule's retry_budget and cost ceiling replace the defaults). Errors, in the order they are checked:
//   404 model_not_found (resolve_model); 400 from the adapters when no candidate's wire format can
//   express the request; 503 no_provider_key when no enabled key with weight > 0 and a usable
//   endpoint serves the model; 503 all_keys_cooling_down (+ retry_after_seconds) when every such
//   key is cooling down (or has an open circuit); 429 rate_limit_exceeded (+ retry_after_seconds)
//   when every such key is held back by its RPM/TPM limit and none is cooling; before those, with a
//   cost ceiling (settings, or the matched rule's), 400 cost_ceiling_exceeded / 500
//   cost_ceiling_unpriced (apply_cost_ceiling). Budget: the snapshot's retry_budget, else
//   options.directive_retry_budget, at least 1, at most the number of healthy candidates; cost
//   ceiling: settings.cost_ceiling_microcents (0 = none).
Plan plan_request(const Config& config, const VirtualKey& caller, const ChatRequest& request, int64_t now_unix,
                  const PlanOptions& options, PlanEnvironment& env);

}  // namespace routeshift
