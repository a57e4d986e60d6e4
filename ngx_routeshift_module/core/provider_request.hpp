// The per-attempt upstream request for any wire format: OpenAI-compatible kinds go through
// upstream_request.hpp, the others through their adapters (provider_adapter.hpp).
#pragma once
#include "chat_request.hpp"
#include "config_snapshot.hpp"
#include "openai_error.hpp"
#include "upstream_request.hpp"
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

// Where the chat request for `key` goes (URL, Host, TLS name). `stream` matters for Gemini and
// Bedrock, whose streaming operations have their own paths.
bool provider_endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model,
                       bool stream, UpstreamEndpoint* out, std::string* error);

// The provider's request body. False + a 400 `err` when the request cannot be expressed in the
// provider's format (the gateway then tries keys of other formats, or answers 400).
bool provider_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                   std::string_view upstream_model, std::string* out, ApiError* err);

// Whether the body depends on the key (not only on the provider and the model): Azure v1 names
// the deployment from key metadata. Others can share one body across a provider's keys.
bool body_depends_on_key(const Config& cfg, const ProviderKey& key);

// The complete HTTP/1.1 request bytes. Bedrock is signed (SigV4) for `now_unix`, so build it on
// every attempt. "" + `error` when the key cannot be used.
bool provider_http_request(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                           bool stream, std::string_view body, int64_t now_unix, std::string* out,
                           std::string* error);

}  // namespace routeshift
