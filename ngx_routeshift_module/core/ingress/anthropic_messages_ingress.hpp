// The Anthropic Messages ingress (POST /v1/messages, /v1/messages/count_tokens): validation with
// Anthropic-shaped errors, and the conversion of the body into the OpenAI chat shape the rest of the
// pipeline reads (docs/design.md §18: converted once, then parsed like any OpenAI request).
#pragma once
#include "dialect/openai_error.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// Which Anthropic endpoint the body was sent to: count_tokens takes the same body without the
// generation parameters (max_tokens is not required there).
enum class AnthropicBodyKind : unsigned char { messages, count_tokens };

// Validates the Anthropic Messages `body` and writes the same request in OpenAI chat shape to
// `openai_body`: system -> a leading system message, content blocks -> content parts, tool_use ->
// assistant tool_calls, tool_result -> tool messages, tools/tool_choice/stop_sequences/metadata
// mapped, max_tokens -> max_tokens. False: `err` is a 400 invalid_request_error whose message names
// the field as Anthropic does (e.g. "messages.0.content.1.type: ...").
bool anthropic_messages_to_openai(std::string_view body, AnthropicBodyKind kind, std::string* openai_body,
                                  ApiError* err);

// The client's Anthropic body with its top-level "model" replaced by `model` and nothing else
// changed (the Anthropic wire's splice). `body` must be a JSON object anthropic_messages_to_openai
// accepted.
std::string anthropic_body_with_model(std::string_view body, std::string_view model);

}  // namespace routeshift
