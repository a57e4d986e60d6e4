// The OpenAI embeddings answer (docs/design.md §22) written from a canonical EmbeddingResult, for
// answers of providers that do not speak the OpenAI wire.
#pragma once
#include "canonical/embedding_request.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// {"object":"list","data":[{"object":"embedding","index":i,"embedding":…}],"model":…,
//  "usage":{"prompt_tokens":N,"total_tokens":N}}. `embedding` is a JSON array of numbers (shortest
// form that reads back as the same double), or for base64 the little-endian float32 bytes of the
// vector in base64 (what the openai SDK decodes into a Float32Array).
std::string openai_embeddings_answer_body(const EmbeddingResult& result, std::string_view model,
                                          EmbeddingEncoding encoding, int64_t prompt_tokens);

// Appends `values` as a JSON array of numbers (non-finite values written as 0: JSON has none).
void embedding_numbers_append(std::string& out, const std::vector<double>& values);

// Appends the base64 text of `values` as little-endian float32 bytes.
void embedding_float32_base64_append(std::string& out, const std::vector<double>& values);

}  // namespace routeshift
