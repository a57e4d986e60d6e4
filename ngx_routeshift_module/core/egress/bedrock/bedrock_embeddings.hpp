// Embeddings on Bedrock through InvokeModel (docs/design.md §22): Amazon Titan Text Embeddings
// (`amazon.titan-embed-text-v1`, `…-v2:0`; one text per call) and Cohere Embed (`cohere.embed-*`;
// `texts`, at most 96). The model family is read from the model id (region-prefixed inference
// profiles such as "us.cohere.embed-v4:0" included).
#pragma once
#include "canonical/embedding_request.hpp"

#include <string>
#include <string_view>

namespace routeshift {

enum class BedrockEmbeddingFamily : unsigned char { none, titan, cohere };

inline constexpr size_t kBedrockCohereMaxTexts = 96;

BedrockEmbeddingFamily bedrock_embedding_family(std::string_view model_id);

// Titan: exactly one text input (an array of several is refused: an attempt is one provider call,
// and N calls per attempt would break retries and accounting); dimensions only on v2. Cohere: at
// most 96 texts, dimensions only on embed-v4. Never token ids; other models: not an embedding model.
bool bedrock_embeddings_expressible(std::string_view model_id, const EmbeddingRequest& request, std::string* why);

// Titan {"inputText","dimensions"?}; Cohere {"texts","input_type","embedding_types":["float"],
// "output_dimension"?} with input_type from the first input's Gemini taskType (RETRIEVAL_QUERY ->
// search_query, CLASSIFICATION, CLUSTERING), default search_document.
std::string bedrock_embeddings_body(const EmbeddingRequest& request, std::string_view model_id);

// Titan {"embedding":[…],"inputTextTokenCount":N}; Cohere {"embeddings":{"float":[[…]]}} or
// {"embeddings":[[…]]} (no token count).
bool bedrock_embeddings_answer(std::string_view model_id, std::string_view json, EmbeddingResult* out,
                               std::string* error);

// /model/{id}/converse -> /model/{id}/invoke (a base path before it kept).
bool bedrock_embeddings_path(std::string_view chat_path, std::string* out);

}  // namespace routeshift
