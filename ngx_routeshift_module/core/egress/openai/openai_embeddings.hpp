// The OpenAI embeddings wire (docs/design.md §22) for clients of another dialect (Gemini): the
// body built from the canonical request, the answer decoded. OpenAI clients' bodies are spliced
// and their answers relayed (glue), not translated.
#pragma once
#include "canonical/embedding_request.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// {"model","input" (a string for a single input, else an array),"dimensions"?,"user"?,
//  "encoding_format":"float"} (floats: the gateway reads the numbers).
std::string openai_embeddings_body(const EmbeddingRequest& request, std::string_view upstream_model);

// data[].embedding (numbers, or base64 float32) in `index` order; usage.prompt_tokens.
bool openai_embeddings_answer(std::string_view json, EmbeddingResult* out, std::string* error);

// …/chat/completions[?query] -> …/embeddings[?query] (Azure deployments and api-version kept).
bool openai_embeddings_path(std::string_view chat_path, std::string* out);

}  // namespace routeshift
