// Tiers → strategy → smooth WRR (see balance_strategy.hpp).
#include "routing/balance_strategy.hpp"
#include "routing/balancer_latency.hpp"
#include "routing/balancer_least_busy.hpp"
#include "routing/balancer_wrr.hpp"
#include "routing/priority_tiers.hpp"

#include <vector>

namespace routeshift {

std::optional<BalanceStrategy> balance_strategy_from_name(std::string_view name) {
    if (name == "weighted_round_robin") return BalanceStrategy::weighted_round_robin;
    if (name == "latency") return BalanceStrategy::latency;
    if (name == "least_busy") return BalanceStrategy::least_busy;
    return std::nullopt;
}

std::string_view balance_strategy_name(BalanceStrategy strategy) {
    switch (strategy) {
        case BalanceStrategy::latency: return "latency";
        case BalanceStrategy::least_busy: return "least_busy";
        case BalanceStrategy::weighted_round_robin: break;
    }
    return "weighted_round_robin";
}

int balance_pick(BalanceStrategy strategy, std::span<BalanceEntry> entries) {
    for (BalanceEntry& e : entries) e.eligible = e.eligible && e.weight > 0 && e.current != nullptr;
    keep_best_tier(entries);
    if (strategy == BalanceStrategy::latency) keep_fastest(entries);
    if (strategy == BalanceStrategy::least_busy) keep_least_busy(entries);

    // the usual handful of candidates needs no heap allocation (this runs under the zone lock)
    constexpr size_t kInline = 16;
    WrrEntry inline_entries[kInline];
    std::vector<WrrEntry> heap_entries;
    WrrEntry* wrr = inline_entries;
    if (entries.size() > kInline) {
        heap_entries.resize(entries.size());
        wrr = heap_entries.data();
    }
    for (size_t i = 0; i < entries.size(); i++) wrr[i] = WrrEntry{entries[i].weight, entries[i].current, entries[i].eligible};
    return wrr_pick(std::span<WrrEntry>(wrr, entries.size()));
}

}  // namespace routeshift
