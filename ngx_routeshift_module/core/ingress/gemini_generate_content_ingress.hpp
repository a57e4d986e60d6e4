// The Gemini native ingress (:generateContent, :streamGenerateContent, :countTokens): validation
// with Google-shaped errors, and the conversion of a GenerateContentRequest into the OpenAI chat
// shape the rest of the pipeline reads (docs/design.md §18 "Gemini native": converted once, then
// parsed like any OpenAI request, as the Anthropic ingress does).
#pragma once
#include "dialect/openai_error.hpp"

#include <string>
#include <string_view>

namespace routeshift {

enum class GeminiBodyKind : unsigned char { generate, stream_generate, count_tokens };

// Validates the Gemini `body` and writes the same request in OpenAI chat shape to `openai_body`,
// with `model` (the path's) as its model: systemInstruction -> a system message, contents -> user /
// assistant messages (text, inline images and audio, functionCall -> tool_calls, functionResponse
// -> tool messages), generationConfig -> sampling, stop, n, max_tokens, response_format,
// tools.functionDeclarations -> tools, toolConfig -> tool_choice. countTokens takes its contents
// directly or inside `generateContentRequest`. False: `err` is a 400 whose message names the field
// as Google does (e.g. "contents[0].parts[1]: ..."); what cannot be expressed (code execution,
// Google Search, cached content, fileData) is a 400, never dropped silently.
bool gemini_generate_content_to_openai(std::string_view body, std::string_view model, GeminiBodyKind kind,
                                       std::string* openai_body, ApiError* err);

}  // namespace routeshift
