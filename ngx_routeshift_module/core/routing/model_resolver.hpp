// Resolves the model a client asked for into concrete (provider, upstream model) targets.
#pragma once
#include "config/config_snapshot.hpp"
#include "dialect/openai_error.hpp"
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct Target {
    size_t provider;            // index into Config::providers
    std::string upstream_model; // what the provider is asked for
    std::string public_model;   // the resolved name reported in X-RouteShift-Resolved-Model
};

// docs/design.md §3. Returns false and fills `err` (404 not_found_error, code model_not_found,
// param "model") when nothing serves the name. Disabled providers never match.
bool resolve_model(const Config& cfg, int64_t team_id, std::string_view requested,
                   std::vector<Target>* out, ApiError* err);

}  // namespace routeshift
