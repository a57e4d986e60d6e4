// The 2xx answer of an embeddings call that is translated (docs/design.md §22): read whole
// (bounded), decoded by the key's wire into one vector per input, written in the client's dialect
// (OpenAI's list with float or base64 vectors, or Gemini's embedContent / batchEmbedContents
// answer). Usage: the provider's input-token count, else the gateway's estimate.
#pragma once
#include "canonical/embedding_request.hpp"
#include "config/provider_catalog.hpp"
#include "egress/provider_adapter.hpp"
#include "ingress/endpoint_route.hpp"

#include <memory>
#include <string>

namespace routeshift {

struct EmbeddingsAnswerOptions {
    WireFormat wire = WireFormat::openai;  // the provider's
    std::string upstream_model;            // Bedrock's family; the OpenAI answer's `model`
    Dialect dialect = Dialect::openai;     // the client's: openai or google
    bool gemini_single = false;            // a Google client's :embedContent (one embedding object)
    EmbeddingEncoding encoding = EmbeddingEncoding::floats;  // an OpenAI client's encoding_format
    size_t inputs = 0;                     // vectors expected
    int64_t estimated_tokens = 0;          // usage when the provider reports none
};

std::unique_ptr<ResponseTranslator> embeddings_answer_translator(EmbeddingsAnswerOptions options);

}  // namespace routeshift
