// The cost ceiling's configuration check for `routeshift-sync check` (docs/design.md "Cost
// ceiling"): while a ceiling is in force (settings.cost_ceiling_microcents, or any enabled routing
// rule's cost_ceiling_microcents), every model an enabled provider serves needs a price in force,
// keyed by its upstream model; without one the gateway cannot check the ceiling and refuses the
// model's requests (500 cost_ceiling_unpriced).
#pragma once
#include "snapshot_builder.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rsync {

struct PriceCheck {
    std::vector<std::string> errors;    // a served model without a price in force (names the model)
    std::vector<std::string> warnings;  // a price without max_output_tokens; "*" models (not checkable)
};

// Checks `rows` at `now_unix`. Nothing to report when no ceiling is in force.
PriceCheck check_prices_for_ceiling(const ConfigRows& rows, int64_t now_unix);

}  // namespace rsync
