// The Anthropic Messages client's view of its stream (see delivered_stream.hpp): message_start's id
// and model, the text of the text blocks, which block is open, whether a tool_use (or another
// non-text block) is under way at the cut, and whether message_delta (the stop reason) went out.
// The same events whether the gateway wrote them or relayed an Anthropic-wire provider's.
#include "continuation/delivered_stream.hpp"

#include "util/json_scan.hpp"

namespace routeshift {

void DeliveredStream::observe_anthropic_event(const JsonMembers& top) {
    JsonValue type = json_find(top, "type");
    if (json_string_equals(type, "message_start")) {
        JsonValue message = json_find(top, "message");
        if (id_.empty()) json_string_decode(json_object_find(message, "id"), &id_);
        if (model_.empty()) json_string_decode(json_object_find(message, "model"), &model_);
        role_sent_ = true;
        return;
    }
    if (json_string_equals(type, "content_block_start")) {
        // one block at a time: a block that starts while another is open is not a stream we resume
        if (text_block_open_ || other_block_open_) several_choices_ = true;
        int64_t index = -1;
        json_read_int(json_find(top, "index"), &index);
        if (index >= 0 && (size_t)index + 1 > blocks_started_) blocks_started_ = (size_t)index + 1;
        JsonValue block = json_find(top, "content_block");
        JsonValue block_type = json_object_find(block, "type");
        if (json_string_equals(block_type, "text")) {
            text_block_open_ = true;
            JsonValue initial = json_object_find(block, "text");
            if (initial.is(JsonType::string) && json_string_decode(initial, &piece_)) append_text(piece_);
        } else {
            other_block_open_ = true;
            if (json_string_equals(block_type, "tool_use") || json_string_equals(block_type, "server_tool_use")) {
                tool_call_ = true;
            }
        }
        return;
    }
    if (json_string_equals(type, "content_block_delta")) {
        JsonValue delta = json_find(top, "delta");
        if (!json_string_equals(json_object_find(delta, "type"), "text_delta")) return;
        JsonValue text = json_object_find(delta, "text");
        if (text.is(JsonType::string) && json_string_decode(text, &piece_)) append_text(piece_);
        return;
    }
    if (json_string_equals(type, "content_block_stop")) {
        text_block_open_ = false;
        other_block_open_ = false;
        return;
    }
    if (json_string_equals(type, "message_delta") || json_string_equals(type, "message_stop")) finished_ = true;
}

}  // namespace routeshift
