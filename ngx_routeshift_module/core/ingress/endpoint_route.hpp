// URI dispatch of a routeshift_pass location: method + path -> the endpoint served and the client's
// dialect (docs/design.md §18). Plain C++, no nginx headers: the glue passes r->uri (decoded, no
// query) and the method name.
#pragma once
#include <string_view>

namespace routeshift {

// The API family a client speaks, by path prefix: its errors and answers are written in it.
enum class Dialect : unsigned char {
    openai,     // /v1/..., /openai/deployments/...
    anthropic,  // /v1/messages...
    google,     // /v1beta/..., /v1/models/gemini/...
};

enum class Endpoint : unsigned char {
    chat_completions,        // POST /v1/chat/completions (OpenAI)
    messages,                // POST /v1/messages (Anthropic)
    messages_count_tokens,   // POST /v1/messages/count_tokens (Anthropic)
    openai_relay,            // the other OpenAI endpoints, relayed (ingress/openai_relay_endpoints.hpp, §21)
    gemini_generate_content,         // POST /v1beta/models/{model}:generateContent (Google)
    gemini_stream_generate_content,  // POST /v1beta/models/{model}:streamGenerateContent (Google)
    gemini_count_tokens,             // POST /v1beta/models/{model}:countTokens (Google)
    embeddings,              // POST /v1/embeddings, Azure .../embeddings, Gemini :embedContent / :batchEmbedContents (§22)
    models_list,             // GET /v1/models (OpenAI; Anthropic's shape with anthropic-version)
    models_retrieve,         // GET /v1/models/{id}: the id is EndpointRoute::path_model
    not_served,              // an endpoint of the API surface (issue 10) this gateway does not serve yet
    unknown,                 // no such endpoint: 404
};

struct EndpointRoute {
    Endpoint endpoint = Endpoint::unknown;
    Dialect dialect = Dialect::openai;
    bool method_allowed = true;  // false: 405 with `allow`
    std::string_view allow;      // the methods the endpoint takes ("POST"), for the Allow header
    // The model the path names (a view into `path`): /v1/models/{id}, and the Azure-style
    // /openai/deployments/{name}/... (docs/design.md §18 "Models list", "Azure-style paths").
    std::string_view path_model;
};

// What `method` on `path` is. A path with a trailing slash is the same endpoint (clients that
// join a base URL ending in "/" send one). A location whose path is exactly the chat endpoint
// (`location = /v1/chat/completions`) is dispatched like any other.
EndpointRoute route_endpoint(std::string_view method, std::string_view path);

// The dialect's name ("openai", "anthropic", "google") and the endpoint's ("chat_completions", ...).
std::string_view dialect_name(Dialect dialect);
std::string_view endpoint_name(Endpoint endpoint);

}  // namespace routeshift
