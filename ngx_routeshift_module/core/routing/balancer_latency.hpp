// Latency-based balancing: the key with the lowest p50 over the window wins (keys whose medians
// fall in the same histogram bin share by weight). A key without samples in the window (new, or
// recovered after its samples aged out) is explored: it gets the next request while it has none
// in flight, so exploring costs one request at a time, not a burst.
#pragma once
#include "routing/balance_strategy.hpp"

#include <span>

namespace routeshift {

// Narrows the eligible entries to the one(s) latency-based balancing would pick from.
void keep_fastest(std::span<BalanceEntry> entries);

}  // namespace routeshift
