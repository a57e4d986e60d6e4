// Gemini's embeddings answers (docs/design.md §22) written from a canonical EmbeddingResult:
// EmbedContentResponse for :embedContent, BatchEmbedContentsResponse for :batchEmbedContents.
#pragma once
#include "canonical/embedding_request.hpp"

#include <string>

namespace routeshift {

// single: {"embedding":{"values":[…]}}; else {"embeddings":[{"values":[…]},…]}.
std::string gemini_embed_answer_body(const EmbeddingResult& result, bool single);

}  // namespace routeshift
