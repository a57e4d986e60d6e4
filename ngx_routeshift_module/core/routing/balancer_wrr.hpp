// Smooth weighted round-robin (the nginx upstream algorithm): deterministic, spreads picks evenly
// (weights 3:1 give A A B A, not A A A B). The state lives in the shared zone, so the caller
// holds the zone lock while calling this.
#pragma once
#include <cstdint>
#include <span>

namespace routeshift {

struct WrrEntry {
    int weight;          // configured weight; <= 0 never picked
    int64_t* current;    // persistent current weight (shared-zone storage)
    bool eligible;       // healthy, enabled, not yet tried by this request
};

// Returns the index of the chosen entry, or -1 when none is eligible with weight > 0.
// Only eligible entries take part in the round (their `current` is updated); others are untouched.
int wrr_pick(std::span<WrrEntry> entries);

}  // namespace routeshift
