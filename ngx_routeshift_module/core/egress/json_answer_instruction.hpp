// The system instruction that stands in for response_format where a provider or model has no JSON
// mode of its own (Anthropic before Claude 4.1, Bedrock json_object): one wording for every wire.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

// response_format {"type":"json_object"}
inline std::string json_object_instruction() {
    return "Respond with a single valid JSON object only: no prose, no Markdown code fences.";
}

// response_format {"type":"json_schema"}: `schema_json` is the schema as compact JSON text.
inline std::string json_schema_instruction(std::string_view schema_json) {
    std::string text = "Respond with a single valid JSON object only (no prose, no Markdown code fences) that "
                       "conforms to this JSON Schema:\n";
    text += schema_json;
    return text;
}

}  // namespace routeshift
