// Latency-based balancing (see balancer_latency.hpp).
#include "routing/balancer_latency.hpp"

namespace routeshift {

void keep_fastest(std::span<BalanceEntry> entries) {
    // exploration first: an idle key without samples
    for (size_t i = 0; i < entries.size(); i++) {
        if (entries[i].eligible && entries[i].p50_ms < 0 && entries[i].inflight == 0) {
            for (size_t j = 0; j < entries.size(); j++) entries[j].eligible = j == i;
            return;
        }
    }
    bool any_measured = false;
    int64_t best = 0;
    for (const BalanceEntry& e : entries) {
        if (!e.eligible || e.p50_ms < 0) continue;
        if (!any_measured || e.p50_ms < best) best = e.p50_ms;
        any_measured = true;
    }
    if (!any_measured) return;  // only unmeasured keys, all busy: weight decides among them
    for (BalanceEntry& e : entries)
        if (e.p50_ms != best) e.eligible = false;
}

}  // namespace routeshift
