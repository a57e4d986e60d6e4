// The context fallback's configuration check for `routeshift-sync check` (docs/design.md §20): a
// models row or route rule whose context_fallback_model names nothing the gateway can resolve (no
// enabled model of an enabled provider, no provider/model, no alias of any team) is an error —
// the gateway would relay every context-length error of that model instead of falling back.
#pragma once
#include "snapshot_builder.hpp"

#include <string>
#include <vector>

namespace rsync {

// One message per unresolvable fallback, naming the row (enabled rows only).
std::vector<std::string> check_context_fallbacks(const ConfigRows& rows);

}  // namespace rsync
