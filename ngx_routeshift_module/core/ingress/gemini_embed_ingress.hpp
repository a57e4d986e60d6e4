// Gemini native embeddings (docs/design.md §22): POST /v1beta/models/{model}:embedContent and
// :batchEmbedContents (and the /v1/models/gemini/{model}:… aliases), validated into the canonical
// embedding request with Google-shaped 400 messages.
#pragma once
#include "canonical/embedding_request.hpp"
#include "dialect/openai_error.hpp"

#include <string_view>

namespace routeshift {

enum class GeminiEmbedMethod : unsigned char { embed_content, batch_embed_contents };

// Most requests one :batchEmbedContents call may carry (Google's limit).
inline constexpr size_t kMaxGeminiEmbedRequests = 100;

// The method of a Gemini model path ("embedContent", "batchEmbedContents"); false for others.
bool gemini_embed_method(std::string_view method, GeminiEmbedMethod* out);

// `body` (an EmbedContentRequest, or a BatchEmbedContentsRequest whose `requests` each name
// `models/{model}`) -> `out`, with `model` (the path's) as its model. A content's text parts are
// one input (Gemini embeds them as one text); taskType and title are kept per input;
// outputDimensionality -> dimensions (one value for the whole batch). False: `err` is a 400 naming
// the field ("requests[1].content.parts[0]: …"); unknown members are refused as Google does.
bool parse_gemini_embed_body(std::string_view body, std::string_view model, GeminiEmbedMethod method,
                             EmbeddingRequest* out, ApiError* err);

}  // namespace routeshift
