// The Gemini embeddings wire (docs/design.md §22): every request goes to :batchEmbedContents, one
// EmbedContentRequest per input (several texts as parts of one content would be ONE embedding of
// their concatenation).
#pragma once
#include "canonical/embedding_request.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// Most requests one batchEmbedContents call takes.
inline constexpr size_t kGeminiMaxBatchEmbedRequests = 100;

// No token-id input, at most kGeminiMaxBatchEmbedRequests inputs.
bool gemini_embeddings_expressible(const EmbeddingRequest& request, std::string* why);

// {"requests":[{"model":"models/{m}","content":{"parts":[{"text"}]},"taskType"?,"title"?,
//  "outputDimensionality"?}]}
std::string gemini_embeddings_body(const EmbeddingRequest& request, std::string_view upstream_model);

// {"embeddings":[{"values":[…]}]} (or an embedContent {"embedding":{"values"}}); no token count.
bool gemini_embeddings_answer(std::string_view json, EmbeddingResult* out, std::string* error);

// …/models/{m}:generateContent -> …/models/{m}:batchEmbedContents.
bool gemini_embeddings_path(std::string_view chat_path, std::string* out);

}  // namespace routeshift
