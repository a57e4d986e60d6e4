// Least-busy balancing (see balancer_least_busy.hpp).
#include "routing/balancer_least_busy.hpp"

namespace routeshift {

void keep_least_busy(std::span<BalanceEntry> entries) {
    bool any = false;
    uint32_t fewest = 0;
    for (const BalanceEntry& e : entries) {
        if (!e.eligible) continue;
        if (!any || e.inflight < fewest) fewest = e.inflight;
        any = true;
    }
    for (BalanceEntry& e : entries)
        if (e.inflight != fewest) e.eligible = false;
}

}  // namespace routeshift
