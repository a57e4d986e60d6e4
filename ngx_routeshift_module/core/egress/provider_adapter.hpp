// The contract every non-OpenAI wire format implements (Anthropic Messages, Gemini
// generateContent, Bedrock Converse): build the provider's request body from an OpenAI chat
// request, translate the provider's answer (JSON or stream) back into OpenAI objects event by
// event, and classify the provider's errors. No nginx headers; the glue picks the adapter by
// provider kind.
#pragma once
#include "ingress/chat_request.hpp"
#include "config/config_snapshot.hpp"
#include "dialect/openai_error.hpp"
#include "egress/openai/stream_relay.hpp"
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

class SessionInference;  // accounting/session_inference.hpp

// Options shared by every response translator.
struct TranslatorOptions {
    bool stream = false;          // the client asked for SSE
    bool include_usage = false;   // stream_options.include_usage
    std::string model;            // "model" of the OpenAI objects produced (the upstream model)
    std::string id;               // "id" of the OpenAI objects (chatcmpl-...), same on every chunk
    int64_t created = 0;          // unix seconds, same on every chunk
    bool legacy_functions = false;  // the client used `functions`: answer with message.function_call
};

// Translates one successful (2xx) provider answer into the OpenAI shape, incrementally.
// Memory is bounded by the largest single event (streams) or by the answer itself (JSON).
class ResponseTranslator {
public:
    virtual ~ResponseTranslator() = default;

    // Feeds de-framed upstream body bytes (HTTP chunking already removed), in any split.
    // Appends what the client must receive now to `out`. Returns false when the input is broken
    // beyond repair; the translator has then already appended the terminal error event (streams)
    // and ignores further input.
    virtual bool feed(std::string_view bytes, std::string* out) = 0;

    // The upstream body ended cleanly. Streams: append the finish/usage chunks and `data: [DONE]`
    // when the provider's stream was complete, otherwise an OpenAI error event and no [DONE]
    // (a truncated answer must never look complete). JSON: append the whole chat.completion
    // object (or an OpenAI error body when the provider's JSON was incomplete/invalid).
    // Returns true only for a complete answer.
    virtual bool finish(std::string* out) = 0;

    virtual const Usage& usage() const = 0;
    virtual bool complete() const = 0;    // the provider signalled a complete answer
    virtual bool saw_error() const = 0;   // an error event was produced
    // Choice 0 of the answer, as the client receives it, is fed to `session` (a first turn's id).
    virtual void observe_session(SessionInference* session) = 0;
    // Malformed upstream events skipped instead of relayed (the glue logs them).
    virtual uint64_t skipped_events() const { return 0; }
    // The answer has shown its first content (text, reasoning, refusal, a tool call, an image or a
    // finish): until then the glue holds the client's headers and may still fail over.
    virtual bool content_started() const { return true; }
    // usage() is the gateway's estimate, not the provider's count (the request log says so).
    virtual bool usage_estimated() const { return false; }
};

// What the gateway does with a provider error answer (status >= 400, or an error signalled in a
// 2xx body before anything was relayed).
struct ErrorVerdict {
    bool retry = false;           // try another key (Anthropic 529 overloaded_error, Bedrock
                                  // ThrottlingException, Gemini RESOURCE_EXHAUSTED/UNAVAILABLE, 5xx)
    bool park_key = false;        // put this key in cooldown (rate limits, overload, spend cap)
    int64_t park_ms = -1;         // -1: use Retry-After / the key's cooldown
    ApiError error;               // the OpenAI-shaped error the client gets if it is the last
};

// ---- Anthropic Messages API (kinds anthropic, minimax, moonshot; zai/mimo with metadata
// "api":"anthropic"). egress/anthropic/ (request builder, response translator, errors, endpoint)

// Builds the /v1/messages body. Returns false and fills `err` (400 invalid_request_error) for a
// request the Messages API cannot express.
bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model,
                          ProviderKind kind, const ProviderKey& key, std::string* out, ApiError* err);
std::unique_ptr<ResponseTranslator> anthropic_translator(const TranslatorOptions& opt);
ErrorVerdict anthropic_classify_error(int status, std::string_view body);

// The same, with the provider named by its kind name ("anthropic", "minimax", "moonshot", "zai",
// "mimo"; any other name gets plain Anthropic behaviour). The ProviderKind overloads forward
// provider_info(kind).name here.
bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model,
                          std::string_view kind_name, const ProviderKey& key, std::string* out,
                          ApiError* err);
// Also replaces every occurrence of the given secrets in the error message (the 2-argument form
// masks only credential-looking tokens such as "sk-ant-...").
ErrorVerdict anthropic_classify_error(int status, std::string_view body,
                                      std::span<const std::string_view> secrets);

// Per-attempt header lines, each ending "\r\n" (no Host/Content-Type/Content-Length/Accept):
// the credential -- `x-api-key` by default, `api-key` for mimo; key metadata
// "auth_header": "authorization" (Bearer) | "x-api-key" | "api-key" | "none" overrides -- then
// `anthropic-version: 2023-06-01` (metadata "anthropic_version" overrides) and `anthropic-beta`
// only when key metadata "anthropic_beta" (string or array of strings) asks for it.
std::string anthropic_request_headers(ProviderKind kind, const ProviderKey& key);
std::string anthropic_request_headers(std::string_view kind_name, const ProviderKey& key);

// An Anthropic client's `anthropic-beta` header value added to an Anthropic-wire request head
// (`head` ends with the blank line): joined to the key's own betas on their line, else a line of
// its own. A value with control characters, or an empty one, changes nothing (docs/design.md §18).
void add_client_anthropic_betas(std::string* head, std::string_view client_betas);

// Default base URL (no trailing slash); the chat endpoint is base + kAnthropicMessagesPath.
// anthropic https://api.anthropic.com; minimax https://api.minimax.io/anthropic (metadata
// "region":"cn" -> api.minimaxi.com); moonshot https://api.moonshot.ai/anthropic ("cn" ->
// api.moonshot.cn); zai https://api.z.ai/api/anthropic ("cn" -> open.bigmodel.cn/api/anthropic);
// mimo https://api.xiaomimimo.com/anthropic ("token-plan-cn|sgp|ams" -> that Token Plan host).
std::string anthropic_default_base_url(ProviderKind kind, const ProviderKey& key);
std::string anthropic_default_base_url(std::string_view kind_name, const ProviderKey& key);
inline constexpr std::string_view kAnthropicMessagesPath = "/v1/messages";

// ---- Google Gemini generateContent / streamGenerateContent?alt=sse. egress/gemini/
//
// Per attempt: POST {base_url path}{gemini_request_path(...)} with gemini_request_headers(key) and
// Content-Type: application/json (Accept: text/event-stream when streaming). Default base URL:
// kGeminiDefaultBaseUrl. The body carries no model and no stream flag (both are in the path).
//
// Key metadata (optional): "json_schema": true sends tool parameters / response_format schemas
// verbatim as parametersJsonSchema / responseJsonSchema (default: converted to the OpenAPI subset
// of `parameters` / `responseSchema`); "include_thoughts": true asks for thought summaries even
// without reasoning_effort; "safety_settings": [...] is copied to safetySettings.
//
// Tool-call ids: `<id>__thought__<thoughtSignature>` when Gemini attached a signature to the
// functionCall part (ids are synthesized as call_<24 hex> when Gemini sends none); the signature is
// split back out of assistant tool_calls in the next request. Gemini 3+ history calls without one
// get the documented placeholder "skip_thought_signature_validator".
//
// Translator: streams end with the finish chunk(s) (+ usage chunk) + [DONE] at finish() only when
// every candidate carried a finishReason (or the prompt was blocked: finish_reason content_filter);
// otherwise an OpenAI error event and no [DONE]. complete() turns true only when finish() produced
// that tail (Gemini has no end-of-stream event: a body that breaks after the last finishReason
// still needs the glue's error event). An error object mid-stream (data: {"error":..} or
// a raw JSON object outside the SSE framing) becomes an error event. JSON answers: the whole
// chat.completion at finish(), or an OpenAI error body (saw_error()) for a 2xx carrying an error,
// no candidates, or invalid JSON. Generated images come out as OpenRouter-style `images`.
inline constexpr std::string_view kGeminiDefaultBaseUrl = "https://generativelanguage.googleapis.com/v1beta";

bool gemini_build_body(const ChatRequest& req, std::string_view upstream_model,
                       const ProviderKey& key, std::string* out, ApiError* err);
std::unique_ptr<ResponseTranslator> gemini_translator(const TranslatorOptions& opt);
// Accepts {"error":{...}}, [{"error":{...}}], an SSE `data:` event holding one, or any other body
// (classified by status). park_ms comes from google.rpc.RetryInfo.retryDelay (or "retry in Ns" in
// the message); the glue may also turn it into Retry-After for the client.
ErrorVerdict gemini_classify_error(int status, std::string_view body);
// The same, with every secret in the message replaced (before any truncation).
ErrorVerdict gemini_classify_error(int status, std::string_view body, std::span<const std::string_view> secrets);
// "{base_path}/models/{model}:generateContent" or ":streamGenerateContent?alt=sse"; the model is
// percent-encoded, a "models/" (or "tunedModels/") prefix is accepted. base_path: the base URL's
// path ("/v1beta"), "" or without trailing slash.
std::string gemini_request_path(std::string_view base_path, std::string_view upstream_model, bool stream);
// "x-goog-api-key: <secret>\r\n" (CR/LF/NUL removed from the secret).
std::string gemini_request_headers(const ProviderKey& key);

// ---- AWS Bedrock Converse / ConverseStream. egress/bedrock/ (+ sigv4.*, aws_eventstream.*)
bool bedrock_build_body(const ChatRequest& req, std::string_view upstream_model,
                        const ProviderKey& key, std::string* out, ApiError* err);
std::unique_ptr<ResponseTranslator> bedrock_translator(const TranslatorOptions& opt);
// `amzn_error_type` is the x-amzn-ErrorType response header ("ThrottlingException:http://...").
ErrorVerdict bedrock_classify_error(int status, std::string_view body, std::string_view amzn_error_type);
// "/model/{model id percent-encoded as ONE segment (':' -> %3A, '/' -> %2F)}/converse" or
// ".../converse-stream". Prefix a base_url path, if any, before passing it to bedrock_http_request.
std::string bedrock_path(std::string_view upstream_model, bool stream);
// "bedrock-runtime.{metadata.region}.amazonaws.com" ("" when the region is missing/invalid).
std::string bedrock_default_host(const ProviderKey& key);
// Key metadata check (for snapshot validation and per attempt): "region" required; SigV4 (default):
// "access_key_id" required, optional "session_token", secret = secret access key; or
// "auth":"api_key": the secret is a Bedrock API key sent as Bearer. Never puts a secret in `error`.
bool bedrock_validate_key(const ProviderKey& key, std::string* error);
// The complete HTTP/1.1 request (request line, Host, Content-Type, Content-Length, Accept, User-Agent,
// X-Amz-Date, X-Amz-Security-Token if any, Authorization, blank line, body), signed with SigV4
// (service "bedrock", region from metadata) for `now_unix`. Call it on EVERY attempt (fresh date).
// `host_header` is the Host value sent and signed ("" -> `host`, "" -> bedrock_default_host).
// `path` may carry a query. Returns "" when the key metadata is unusable (the second form says why).
std::string bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                                 const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix);
bool bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error);
// The same request without its body (it ends with the blank line): the transport sends the body
// from the buffer it shares between attempts. `body` is still needed, for Content-Length and the
// payload hash that is signed.
bool bedrock_request_head(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error);

}  // namespace routeshift
