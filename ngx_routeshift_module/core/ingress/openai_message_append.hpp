// The OpenAI chat messages another dialect's turn becomes (an Anthropic Messages turn, a Gemini
// content): one writer for both body conversions.
#pragma once
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <string>

namespace routeshift {

// An assistant turn: its text (null content when it has none) and its tool calls; nothing at all
// when it has neither.
inline void append_assistant_message(json_t* messages, const std::string& text, JsonPtr& tool_calls) {
    if (text.empty() && json_array_size(tool_calls.get()) == 0) return;
    json_t* message = new_json_object();
    append_json_element(messages, message);
    set_json_member(message, "role", new_json_string("assistant"));
    set_json_member(message, "content", text.empty() ? json_null() : new_json_string(text));
    if (json_array_size(tool_calls.get())) set_json_member(message, "tool_calls", tool_calls.release());
}

// A user turn of content parts; nothing when it has none (a turn of tool results only).
inline void append_user_parts_message(json_t* messages, JsonPtr& parts) {
    if (json_array_size(parts.get()) == 0) return;
    json_t* message = new_json_object();
    append_json_element(messages, message);
    set_json_member(message, "role", new_json_string("user"));
    set_json_member(message, "content", parts.release());
}

}  // namespace routeshift
