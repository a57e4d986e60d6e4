// POST /v1/embeddings and Azure's /openai/deployments/{name}/embeddings (docs/design.md §22): the
// OpenAI body validated into the canonical embedding request.
#pragma once
#include "canonical/embedding_request.hpp"
#include "dialect/openai_error.hpp"

#include <string_view>

namespace routeshift {

// Most inputs one request may carry (OpenAI's limit).
inline constexpr size_t kMaxOpenAIEmbeddingInputs = 2048;

// `body` -> `out`. `path_model` (Azure deployment paths) is the model whatever the body says. False
// + a 400 `err` (OpenAI shape, `param` named) for: not a JSON object, a missing or non-string model,
// a missing, empty or mistyped input (a string, an array of strings, an array of token ids or an
// array of such arrays; no empty string, no empty array), more than kMaxOpenAIEmbeddingInputs
// inputs, an encoding_format other than "float" / "base64", dimensions not a positive integer, a
// non-string user, or a member the API does not know.
bool parse_openai_embeddings_body(std::string_view body, std::string_view path_model, EmbeddingRequest* out,
                                  ApiError* err);

}  // namespace routeshift
