// One interface per wire format (OpenAI Chat Completions, Anthropic Messages, Gemini
// generateContent, Bedrock Converse) and the registry that maps a key's WireFormat to it. This is
// the only place that branches on the wire format: the planner and the glue call these methods.
#pragma once
#include "config/config_snapshot.hpp"
#include "dialect/openai_error.hpp"
#include "egress/openai/upstream_request.hpp"
#include "egress/provider_adapter.hpp"
#include "egress/response_decoder.hpp"
#include "ingress/chat_request.hpp"
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

// What the transport knows about a provider's error answer besides its status and body.
struct ErrorContext {
    std::span<const std::string_view> secrets;  // the key's secret(s): masked in any message
    std::string_view amzn_error_type;           // Bedrock's x-amzn-ErrorType header ("" elsewhere)
};

class WireAdapter {
public:
    virtual ~WireAdapter() = default;

    // Where the chat request for `key` goes (URL, Host, TLS name). `stream` matters for Gemini and
    // Bedrock, whose streaming operations have their own paths.
    virtual bool endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model,
                          bool stream, UpstreamEndpoint* out, std::string* error) const = 0;

    // The provider's request body. False + a 400 `err` when the request cannot be expressed in
    // this format (the planner then tries keys of other formats, or answers 400).
    virtual bool build_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                            std::string_view upstream_model, std::string* out, ApiError* err) const = 0;

    // Whether the body depends on the key, not only on the provider and the model (Azure v1 names
    // the deployment from key metadata). Others share one body across a provider's keys.
    virtual bool body_depends_on_key(const Config& cfg, const ProviderKey& key) const;

    // The HTTP/1.1 request head for one attempt: request line, headers, blank line. The body goes
    // on the wire right after it, unchanged, from the buffer every attempt shares; `body` is
    // passed for Content-Length (and Bedrock's signed payload hash). Bedrock signs with
    // `now_unix`, so the glue calls this on every attempt. False + `error` when the key cannot be
    // used.
    virtual bool request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                              std::string_view body, int64_t now_unix, std::string* out,
                              std::string* error) const = 0;

    // One attempt's request built from spans of the client's body (`head` + `body`, see
    // SplicedBody) instead of PlannedBody::bytes, for a request planned with
    // req.host_splices_body: a wire whose body is the client's with a few top-level members
    // rewritten (OpenAI chat) sends the client's bytes without copying them. False: this wire
    // does not splice; use build_body's bytes and request_head.
    virtual bool spliced_request(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                                 const ChatRequest& req, std::string_view upstream_model, std::string* head,
                                 SplicedBody* body) const;

    // Whether a 2xx answer is converted into the OpenAI shape (false: OpenAI wire, relayed).
    virtual bool converts() const = 0;

    // The translator of a 2xx answer with this Content-Type; null = relay the bytes untouched.
    virtual std::unique_ptr<ResponseTranslator> translator(const TranslatorOptions& opt,
                                                           std::string_view content_type) const = 0;

    // What to do with an error answer (retry, park, the client's error).
    virtual ErrorVerdict classify_error(int status, std::string_view body, const ErrorContext& ctx) const = 0;

    // The OpenAI-shaped body the client gets when this error answer is the last one, secrets
    // masked.
    virtual std::string client_error_body(int status, std::string_view body, const ErrorContext& ctx) const;
};

// The adapter of a wire format (static objects, never null).
const WireAdapter& wire_adapter(WireFormat wire);

inline const WireAdapter& wire_adapter(const ProviderKey& key) { return wire_adapter(key.wire); }

// The decoder of a 2xx answer of `wire` into canonical events, for a client whose dialect is not
// the wire's (docs/design.md §18). `gateway_id`: the id the client will see (Gemini tool-call ids).
std::unique_ptr<ResponseDecoder> wire_response_decoder(WireFormat wire, bool stream, std::string gateway_id);

}  // namespace routeshift
