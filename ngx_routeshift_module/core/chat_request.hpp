// Parsing and validation of an OpenAI chat-completions request body.
#pragma once
#include "json_util.hpp"
#include "openai_error.hpp"
#include <optional>
#include <string>
#include <string_view>

namespace routeshift {

struct ChatRequest {
    JsonPtr root;               // the whole parsed body (an object)
    std::string model;          // body.model as sent
    std::string route_hint;     // metadata.route_hint ("" if absent)
    std::string session_id;     // metadata.session_id ("" if absent)
    bool stream = false;
    bool include_usage = false; // stream_options.include_usage
    size_t message_count = 0;
};

// Returns the request, or fills `err` (status 400, type invalid_request_error, param set to the
// offending field, e.g. "model", "messages", "messages[2].role", "stream") and returns nullopt.
// Checks: body is a JSON object; model is a non-empty string; messages is a non-empty array of
// objects each with a string role in {system, developer, user, assistant, tool, function};
// stream (if present) is a boolean; stream_options (if present) is an object and only allowed with
// stream=true; metadata (if present) is an object whose route_hint/session_id are strings.
std::optional<ChatRequest> parse_chat_request(std::string_view body, ApiError* err);

}  // namespace routeshift
