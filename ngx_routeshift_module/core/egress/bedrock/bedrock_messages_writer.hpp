// The conversation part of a Bedrock Converse body ("messages" and "system"), written straight from
// the canonical request: message text is copied as the still-escaped JSON string token the client
// sent (JSON string escapes mean the same in both bodies), so the cost is linear in the prompt size
// and no DOM of the messages is built. Tool call arguments go through jansson, as before.
#pragma once
#include "canonical/canonical_request.hpp"
#include "egress/cannot_express.hpp"

#include <string>
#include <vector>

namespace routeshift::bedrock_internal {

class MessagesWriter {
public:
    explicit MessagesWriter(const CanonicalRequest& req) : req_(req) {}

    // Converts every message (system/developer -> system blocks, tool/function results -> user
    // turns of toolResult blocks, same-role neighbours merged). Throws CannotExpress.
    void convert();
    // "messages":[...] and, when there is one, ,"system":[...] (no leading comma).
    void append(std::string& out) const;

    bool history_has_tools() const { return history_tools_; }  // toolUse/toolResult blocks
    // A system text block of the gateway's own after the client's (an instruction standing in for a
    // parameter the model lacks, e.g. response_format json_object). After convert().
    void add_system_text(std::string_view text);
    // The last assistant message calls tools (tool_calls or a legacy function_call). Bedrock gets
    // no thinking blocks replayed, so Claude would refuse that turn with thinking on.
    bool last_assistant_calls_tools() const;

private:
    struct Turn {
        const char* role;
        std::string blocks;  // comma-separated content blocks
    };
    void text_block(std::string& blocks, JsonValue token);  // unless blank (Converse rejects it)
    // Content that is a string (one text block unless blank, appended to `blocks`) or an array of
    // parts (each given to `visit(part, part_path)`); anything else present is rejected.
    template <class Visit>
    void visit_content(const CanonicalMessage& m, const std::string& path, std::string& blocks,
                       const char* not_content, Visit&& visit) {
        if (m.content.is(JsonType::string)) {
            text_block(blocks, m.content);
        } else if (m.content.is(JsonType::array)) {
            for (uint32_t i = 0; i < m.part_count; ++i) visit(req_.parts_of(m)[i], path + "[" + std::to_string(i) + "]");
        } else if (!m.content.absent_or_null()) {
            cannot_express(path, not_content);
        }
    }
    void media_block(std::string& blocks, const ContentPart& part, const std::string& path, bool allow_documents);
    void system_content(const CanonicalMessage& m, const std::string& path);
    std::string user_blocks(const CanonicalMessage& m, const std::string& path);
    std::string assistant_blocks(const CanonicalMessage& m, const std::string& path);
    void tool_use(std::string& blocks, std::string_view id, JsonValue name, JsonValue arguments, const std::string& path);
    std::string tool_result_content(const CanonicalMessage& m, const std::string& path);
    void append_turn(const char* role, std::string blocks);

    const CanonicalRequest& req_;
    std::string system_;
    std::vector<Turn> turns_;
    bool history_tools_ = false;
    size_t documents_ = 0;
    std::string last_function_call_id_;  // legacy function_call / role "function" pairing
};

}  // namespace routeshift::bedrock_internal
