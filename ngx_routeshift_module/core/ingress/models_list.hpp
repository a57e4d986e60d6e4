// GET /v1/models and /v1/models/{id} (docs/design.md §18 "Models list"): the names a caller's team
// may send as `model`, read from the snapshot only (no provider is asked).
#pragma once
#include "config/config_snapshot.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct ListedModel {
    std::string id;              // the name a client sends as `model`
    std::string_view owned_by;   // the serving provider's kind ("openai", ...) or "routeshift" (an alias)
};

// Every public model name an enabled provider serves ("*" rows are not names) and every alias the
// team sees (its own and the global ones; a team alias hides a global one of the same name) whose
// target resolves: sorted by id, each once. An alias that has the name of a model is listed as the
// alias (it is what the name resolves to). Team 0 sees the global aliases only.
std::vector<ListedModel> models_for_team(const Config& cfg, int64_t team_id);

// One name as the request path resolves it (alias, `provider/model`, bare name; docs/design.md §3):
// nullopt when the team's requests for it would get 404 model_not_found.
std::optional<ListedModel> model_for_team(const Config& cfg, int64_t team_id, std::string_view id);

}  // namespace routeshift
