// What kind of failure a provider's error answer is, the same way for every wire (docs/design.md
// §20). Each wire's classifier (egress/<wire>/*_errors.cpp) reads its own shapes into an
// ErrorVerdict; this file names the class the transport acts on: the retryable failures go to
// another key, a context-length error to the configured larger-context model, and a
// content-policy or invalid request goes to the client with the provider's reason.
#pragma once
#include "egress/provider_adapter.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

enum class UpstreamErrorClass : uint8_t {
    retryable,        // 408/409/429/5xx/529, throttling, overload: another key, this one parked
    credential,       // 401/403, a revoked or unauthorised key: another key, this one parked long
    quota,            // the account's balance or spend cap: not retried, key parked long
    context_length,   // the prompt does not fit the model: the context fallback model, if any
    content_policy,   // the provider's content policy refused it: not retried, key healthy
    invalid_request,  // any other fault of the request: not retried, key healthy
};

// The class of a wire's verdict (its retry/park decision and its error code).
UpstreamErrorClass upstream_error_class(const ErrorVerdict& verdict);

// The token of the class in $routeshift_attempt_statuses and the request log's error_class:
// "context" / "policy" for the two classes the transport routes differently, "" for the others
// (their HTTP status says enough).
std::string_view attempt_status_token(UpstreamErrorClass error_class);
// The name used in metrics labels and the request log ("context_length", "content_policy",
// "invalid_request", "retryable", "credential", "quota").
std::string_view error_class_name(UpstreamErrorClass error_class);

// The codes the client gets for the two classes in every dialect.
inline constexpr std::string_view kContextLengthCode = "context_length_exceeded";
inline constexpr std::string_view kContentPolicyCode = "content_policy_violation";

// A provider message that says the prompt is longer than the model's context window, in the
// wordings of OpenAI, Azure, Anthropic ("prompt is too long"), Gemini ("input token count …
// exceeds the maximum number of tokens"), Bedrock ("Input is too long", "too many input tokens"),
// Mistral ("too large for model with … maximum context length"), DeepSeek, Groq, vLLM ("maximum
// context length", "reduce the length of the messages"), Together ("must be <=" on
// `inputs` tokens).
bool says_context_length_exceeded(std::string_view message);

// An error code (or inner code) that names a content-policy refusal: OpenAI
// content_policy_violation, Azure content_filter / ResponsibleAIPolicyViolation, Zhipu 1301,
// MiniMax 1026/1027.
bool is_content_policy_code(std::string_view code);

// An OpenAI error envelope ({"error":{...}}) whose code names its class: a context-length error
// always gets code `context_length_exceeded` (vLLM, Mistral and DeepSeek send other codes or none),
// a content-policy error keeps the provider's string code (Azure `content_filter`) or gets
// `content_policy_violation`. Other classes and unreadable envelopes come back unchanged.
std::string error_body_with_class_code(std::string envelope, UpstreamErrorClass error_class);

}  // namespace routeshift
