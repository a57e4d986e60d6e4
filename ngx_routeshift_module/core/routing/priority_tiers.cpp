// Ordered failover by priority tier (see priority_tiers.hpp).
#include "routing/priority_tiers.hpp"

namespace routeshift {

void keep_best_tier(std::span<BalanceEntry> entries) {
    bool any = false;
    int64_t best = 0;
    for (const BalanceEntry& e : entries) {
        if (!e.eligible) continue;
        if (!any || e.tier < best) best = e.tier;
        any = true;
    }
    for (BalanceEntry& e : entries)
        if (e.tier != best) e.eligible = false;
}

}  // namespace routeshift
