// Planning the relayed OpenAI endpoints (docs/design.md §21) where the chat planner does not fit:
// calls that name no model (file upload and list, batch create and list, a moderation without a
// model) go to one configured provider; calls about a provider object go to the key that holds it.
// Calls that name a model use plan_request (rules, aliases, balancing) with only OpenAI-wire keys.
#pragma once
#include "routing/planner.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace routeshift {

// A plan for a call served by provider `provider` (index into Config::providers): every enabled
// key with weight > 0, or only key `pinned_key` (index into Config::keys; enabled, any weight). Target 0 is
// the provider with an empty upstream model, named `public_name`; one empty body (the host
// splices). Errors as plan_request's health errors (503 no_provider_key / all_keys_cooling_down,
// 429 rate_limit_exceeded). The budget is the snapshot's retry_budget, else `directive_budget`,
// at most the number of healthy keys.
Plan plan_provider_call(const Config& config, size_t provider, std::optional<size_t> pinned_key,
                        std::string_view public_name, unsigned directive_budget, PlanEnvironment& env);

// The provider that serves calls without a model: settings.files_provider, when it names an
// enabled provider that has an OpenAI-wire key. False + `error` (400 for the client) otherwise.
bool relay_files_provider(const Config& config, size_t* provider, ApiError* error);

// Whether some provider that serves `model` for `team_id` (aliases applied) has an enabled
// OpenAI-wire key. False + `error`: 404 when nothing serves the model, 400 naming the endpoint
// (`path`) when only other wire formats do.
bool relay_model_on_openai_wire(const Config& config, int64_t team_id, std::string_view model, std::string_view path,
                                ApiError* error);

// The key with snapshot id `key_id` (index into Config::keys), if the snapshot has it.
std::optional<size_t> key_index_by_id(const Config& config, int64_t key_id);

}  // namespace routeshift
