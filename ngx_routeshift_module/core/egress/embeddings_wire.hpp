// Embeddings on every wire (docs/design.md §22): which keys can serve an embedding request, the
// provider's path, body and answer. The one switch on the wire format for embeddings; the
// translators themselves live per wire (egress/<wire>/<wire>_embeddings.*).
#pragma once
#include "canonical/embedding_request.hpp"
#include "config/provider_catalog.hpp"

#include <jansson.h>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// Whether a key of `wire` serving `upstream_model` can express `request`; false + why (a sentence
// for the client's 400) when not: Anthropic has no embeddings; Gemini and Bedrock take no token-id
// input; Bedrock serves Titan (one input) and Cohere (at most 96) embedding models only.
bool embeddings_expressible(WireFormat wire, std::string_view upstream_model, const EmbeddingRequest& request,
                            std::string* why);

// The provider's embeddings path from the key's chat path (its base path and query kept):
// OpenAI …/chat/completions -> …/embeddings; Gemini …:generateContent -> …:batchEmbedContents;
// Bedrock /model/{id}/converse -> /model/{id}/invoke.
bool embeddings_upstream_path(WireFormat wire, std::string_view chat_path, std::string* out);

// The provider's body for `request` (expressible: checked above).
std::string embeddings_upstream_body(WireFormat wire, const EmbeddingRequest& request, std::string_view upstream_model);

// A 2xx answer of `wire` -> one vector per input and the provider's token count. False + a short
// reason when it is not the shape the wire documents.
bool embeddings_decode_answer(WireFormat wire, std::string_view upstream_model, std::string_view json,
                              EmbeddingResult* out, std::string* error);

// A JSON array of numbers -> `out`; false for anything else (shared by the wires' decoders).
bool embedding_vector_from_json(const json_t* array, std::vector<double>* out);

}  // namespace routeshift
