// The conversation part of a Gemini GenerateContentRequest ("systemInstruction" and "contents"),
// written straight from the canonical request: message text is copied as the still-escaped JSON
// string token the client sent (JSON string escapes mean the same in both bodies), so the cost is
// linear in the prompt size and no DOM of the messages is built. Small values (tool call
// arguments, a tool result that is JSON) go through jansson, as before.
#pragma once
#include "canonical/canonical_request.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace routeshift::gemini_internal {

class ContentsWriter {
public:
    // `generation`: the model's major version (gemini_generation); 3+ needs a thoughtSignature on
    // the first function call of a step.
    ContentsWriter(const CanonicalRequest& req, int generation) : req_(req), generation_(generation) {}

    // Converts every message (system/developer -> systemInstruction parts, tool/function results
    // -> functionResponse parts of a user turn, same-role neighbours merged). Throws CannotExpress.
    void convert();
    // Appends "systemInstruction" (when there is one) and "contents", without a leading comma. A
    // request of instructions only is sent as the user turn.
    void append(std::string& out);

private:
    struct Turn {
        bool model = false;
        std::string parts;  // comma-separated part objects
    };
    std::string& turn(bool model_role);
    void content_parts(JsonValue content, uint32_t first_part, uint32_t part_count, const std::string& param,
                       bool text_only, std::string& parts);
    void assistant(const CanonicalMessage& m, const std::string& param);
    void function_call(std::string& parts, std::string_view id, JsonValue function, JsonValue name,
                       JsonValue arguments, const std::string& param, bool* first_call);
    void tool_result(std::string_view name, const CanonicalMessage& m, const std::string& param);

    const CanonicalRequest& req_;
    int generation_;
    std::string system_;  // comma-separated text parts
    std::vector<Turn> turns_;
    std::unordered_map<std::string, std::string> call_names_;  // tool_call id -> function name
};

}  // namespace routeshift::gemini_internal
