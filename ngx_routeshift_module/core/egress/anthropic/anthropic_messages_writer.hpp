// The conversation part of an Anthropic Messages body ("system" and "messages"), written straight
// from the canonical request: message text is copied as the still-escaped JSON string token the
// client sent (JSON string escapes mean the same in both bodies), so the cost is linear in the
// prompt size and no DOM of the messages is built. Small sub-objects (cache_control markers, tool
// call arguments) go through jansson, as before.
#pragma once
#include "canonical/canonical_request.hpp"
#include "egress/anthropic/anthropic_block_list.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace routeshift::anthropic_internal {

class MessagesWriter {
public:
    explicit MessagesWriter(const CanonicalRequest& req) : req_(req) {}
    MessagesWriter(const MessagesWriter&) = delete;  // the lists point at own_
    MessagesWriter& operator=(const MessagesWriter&) = delete;

    // Converts every message (system/developer -> system blocks, tool/function results -> user
    // turns). Throws CannotExpress for content the Messages API cannot carry.
    void convert();
    // A system instruction made by the builder (plain text, escaped here); blank text is dropped.
    void add_system_text(std::string_view text);

    bool has_system() const { return !system_.empty(); }
    void append_system(std::string& out) const;  // the "system" array: [...]
    // The bytes append_system and append_messages will write (after convert).
    size_t size();
    // The "messages" array: same-role neighbours merged, tool_result / thinking blocks first in
    // their turn, a final assistant prefill without trailing whitespace.
    void append_messages(std::string& out);

    bool history_has_tools() const { return history_has_tools_; }
    const std::vector<std::string>& history_tool_names() const { return history_tool_names_; }

private:
    // One conversation turn: blocks as comma-separated JSON objects. `lead` holds the blocks that
    // must come first in the turn (tool_result in a user turn, thinking in an assistant turn).
    struct Turn {
        Turn(const char* r, std::string* own) : role(r), lead(own), blocks(own) {}
        const char* role;
        BlockList lead, blocks;
        // The piece of `blocks` holding the text token of its last block, when that is a text block.
        size_t last_text_piece = std::string::npos;
    };

    Turn& turn(const char* role);
    // `message_path`: "messages[i]" (errors name "messages[i].content...").
    void system_content(const CanonicalMessage& m, std::string_view message_path);
    void user_content(const CanonicalMessage& m, Turn& t, std::string_view message_path);
    void assistant_message(const CanonicalMessage& m, Turn& t, const std::string& path);
    void tool_message(const CanonicalMessage& m, Turn& t, const std::string& path);
    void function_message(const CanonicalMessage& m, Turn& t, const std::string& path);
    void tool_use(Turn& t, std::string_view id_json, JsonValue name, JsonValue args, const std::string& path);
    // The "content" of a tool_result block (",\"content\":..." or nothing).
    void tool_result_content(BlockList& out, const CanonicalMessage& m, const std::string& path);
    // Same-role neighbours merged into `merged_`, a final prefill trimmed (once, after convert).
    void merge_turns();

    const CanonicalRequest& req_;
    std::string own_;  // the bytes of every BlockList below that are not the client's
    BlockList system_{&own_};
    std::vector<Turn> turns_;
    std::vector<Turn*> merged_;
    bool merged_done_ = false;
    std::vector<std::string> history_tool_names_;  // tool_use names seen in the history (decoded)
    bool history_has_tools_ = false;               // tool_use / tool_result blocks in the history
    std::vector<std::pair<std::string, std::string>> legacy_calls_;  // function_call name -> id
    size_t legacy_seq_ = 0;
};

}  // namespace routeshift::anthropic_internal
