// Least-busy balancing: the key with the fewest attempts in flight across all workers; keys with
// the same count share by weight.
#pragma once
#include "routing/balance_strategy.hpp"

#include <span>

namespace routeshift {

// Narrows the eligible entries to those with the lowest in-flight count.
void keep_least_busy(std::span<BalanceEntry> entries);

}  // namespace routeshift
