// Smooth weighted round-robin, as in nginx's ngx_http_upstream_get_peer (see balancer_wrr.hpp).
#include "routing/balancer_wrr.hpp"

namespace routeshift {

int wrr_pick(std::span<WrrEntry> entries) {
    int best = -1;
    int64_t total = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        WrrEntry& e = entries[i];
        if (!e.eligible || e.weight <= 0 || e.current == nullptr) continue;
        *e.current += e.weight;
        total += e.weight;
        if (best < 0 || *e.current > *entries[static_cast<size_t>(best)].current) best = static_cast<int>(i);
    }
    if (best >= 0) *entries[static_cast<size_t>(best)].current -= total;
    return best;
}

}  // namespace routeshift
