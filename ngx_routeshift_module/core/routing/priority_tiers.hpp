// Ordered failover: keys (and the providers serving a model) carry a priority; a lower tier (a
// higher number) gets traffic only while every key of the better tiers is ineligible — cooling,
// rate-limited, open-circuit or already tried by this request.
#pragma once
#include "routing/balance_strategy.hpp"

#include <cstdint>
#include <span>

namespace routeshift {

// A candidate's tier: the model row's priority first, then the key's (both lower first).
inline int64_t priority_tier(int model_priority, int key_priority) {
    return (int64_t)model_priority * 1000000 + key_priority;
}

// A route rule's chain is the outermost tier: its later models serve only while every key of the
// earlier ones is ineligible (priority tiers span 0..1000 * 1000000 + 1000, well below the factor).
inline int64_t chain_tier(unsigned chain_rank, int64_t priority_tier) {
    return (int64_t)chain_rank * 1000000000000 + priority_tier;
}

// Leaves only the eligible entries of the best (lowest) tier eligible.
void keep_best_tier(std::span<BalanceEntry> entries);

}  // namespace routeshift
