// The models list in the client's dialect (docs/design.md §18 "Models list"): OpenAI's
// `{"object":"list","data":[model...]}` and model objects, Anthropic's paged
// `{"data":[...],"has_more","first_id","last_id"}` and model objects.
#pragma once
#include "dialect/openai_error.hpp"
#include "ingress/models_list.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

// `created` (unix seconds) is when the snapshot that lists the models was applied: the gateway
// knows no release dates.
std::string openai_models_list_json(std::span<const ListedModel> models, int64_t created);
std::string openai_model_json(const ListedModel& model, int64_t created);

// Anthropic's list parameters (query `limit`, `after_id`, `before_id`).
struct AnthropicModelsPage {
    size_t limit = 20;       // 1..1000
    std::string after_id;    // the page starts after this id
    std::string before_id;   // the page ends before this id
};

// Reads the query string (`r->args`, still percent-encoded). False: 400 in `err` (limit not an
// integer in 1..1000). Unknown parameters are ignored, as Anthropic does.
bool anthropic_models_page_from_query(std::string_view query, AnthropicModelsPage* page, ApiError* err);

std::string anthropic_models_list_json(std::span<const ListedModel> models, int64_t created,
                                       const AnthropicModelsPage& page);
std::string anthropic_model_json(const ListedModel& model, int64_t created);

}  // namespace routeshift
