// Choosing one provider key among a request's eligible candidates: priority tiers first, then the
// provider's strategy narrows the set, then smooth weighted round-robin picks among what is left
// (so equally good keys still share traffic by weight). Plain C++ over plain entries; the shared
// zone fills them from its per-key state and holds its lock around the call.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace routeshift {

// providers.balancing (docs/design.md §9).
enum class BalanceStrategy : uint8_t {
    weighted_round_robin,  // default: traffic proportional to weight
    latency,               // lowest p50 over the latency window; keys without samples explored
    least_busy,            // lowest in-flight count across workers, ties by weight
};

std::optional<BalanceStrategy> balance_strategy_from_name(std::string_view name);
std::string_view balance_strategy_name(BalanceStrategy strategy);

struct BalanceEntry {
    int weight = 0;              // <= 0 never picked
    int64_t* current = nullptr;  // persistent smooth-WRR state (shared zone)
    bool eligible = false;       // may be picked now (not tried, not cooling, limited or open)
    int64_t tier = 0;            // lower tiers first (model priority, then key priority)
    uint32_t inflight = 0;       // attempts in flight on the key, all workers
    int64_t p50_ms = -1;         // median latency over the window; -1 = no samples
};

// Returns the index of the chosen entry, or -1 when none is eligible. Narrows `eligible` in place
// (callers pass a scratch copy when they need the flags afterwards).
int balance_pick(BalanceStrategy strategy, std::span<BalanceEntry> entries);

}  // namespace routeshift
