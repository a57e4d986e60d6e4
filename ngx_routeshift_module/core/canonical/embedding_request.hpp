// The canonical embedding request and result (docs/design.md §22): what every embeddings ingress
// (OpenAI /v1/embeddings, Azure deployments, Gemini :embedContent / :batchEmbedContents) parses
// into, and what every wire's answer decoder produces for the dialect writers.
#pragma once
#include "canonical/prompt_size_value.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace routeshift {

enum class EmbeddingEncoding : unsigned char {
    floats,  // a JSON array of numbers
    base64,  // little-endian float32 bytes, base64 (the openai SDK's default)
};

struct EmbeddingInput {
    std::string text;       // the decoded text (token-id inputs: empty, see EmbeddingRequest::token_input)
    std::string task_type;  // Gemini taskType ("RETRIEVAL_DOCUMENT", ...); "" = not given
    std::string title;      // Gemini title (RETRIEVAL_DOCUMENT only); "" = not given
};

struct EmbeddingRequest {
    std::string model;                  // the requested (public) model
    std::vector<EmbeddingInput> inputs;  // never empty once parsed
    bool single = false;       // one input given as a plain string (Gemini: :embedContent)
    bool token_input = false;  // OpenAI token-id input: only OpenAI-wire providers take it
    size_t token_count = 0;    // token_input: the number of token ids (the usage estimate)
    int64_t dimensions = 0;    // 0 = the model's default
    EmbeddingEncoding encoding = EmbeddingEncoding::floats;
    std::string user;          // OpenAI `user`; "" = not given
};

// One vector per input, in input order, and the provider's input-token count (-1: not reported).
struct EmbeddingResult {
    std::vector<std::vector<double>> vectors;
    int64_t prompt_tokens = -1;
};

// The input-token estimate for providers that report none (Gemini, Cohere on Bedrock): the one
// character heuristic of every other estimate (canonical/prompt_size_value.hpp).
inline int64_t estimate_embedding_tokens(const EmbeddingRequest& request) {
    if (request.token_input) return (int64_t)request.token_count;
    uint64_t characters = 0;
    for (const EmbeddingInput& input : request.inputs) characters += input.text.size();
    return (int64_t)estimate_tokens(characters);
}

}  // namespace routeshift
