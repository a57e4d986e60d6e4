// The client's view of a streamed answer (see delivered_stream.hpp). One strict scan per chunk; the
// only copies are the delivered text (needed for the continuation's prefill) and three small
// strings.
#include "continuation/delivered_stream.hpp"

#include "util/json_scan.hpp"

namespace routeshift {

size_t DeliveredStream::observe(std::string_view out) {
    size_t pos = 0;
    while (pos < out.size()) {
        size_t end = out.find("\n\n", pos);
        size_t next = end == std::string_view::npos ? out.size() : end + 2;
        std::string_view event = out.substr(pos, next - pos);
        // our own events carry one data line each; comments (keep-alives) have none
        size_t data = event.find("data:");
        if (data != std::string_view::npos) {
            std::string_view json = event.substr(data + 5);
            while (!json.empty() && json.front() == ' ') json.remove_prefix(1);
            while (!json.empty() && (json.back() == '\n' || json.back() == '\r')) json.remove_suffix(1);
            JsonValue root;
            JsonMembers top;
            if (!json.empty() && json.front() == '{' && json_scan(json, &root, &top, nullptr)) {
                if (json_find(top, "error")) return pos;
                observe_chunk(top);
            }
        }
        pos = next;
    }
    return out.size();
}

void DeliveredStream::observe_chunk(const JsonMembers& top) {
    if (JsonValue id = json_find(top, "id"); id.is(JsonType::string) && id_.empty()) json_string_decode(id, &id_);
    if (JsonValue model = json_find(top, "model"); model.is(JsonType::string) && model_.empty()) {
        json_string_decode(model, &model_);
    }
    if (JsonValue created = json_find(top, "created"); created_ == 0) json_read_int(created, &created_);
    JsonValue choices = json_find(top, "choices");
    if (!choices.is(JsonType::array)) return;
    JsonArrayReader reader(choices);
    JsonValue choice;
    while (reader.next(&choice)) {
        int64_t index = 0;
        json_read_int(json_object_find(choice, "index"), &index);
        if (index != 0) {
            several_choices_ = true;
            continue;
        }
        JsonValue delta = json_object_find(choice, "delta");
        if (json_object_find(delta, "role").is(JsonType::string)) role_sent_ = true;
        JsonValue content = json_object_find(delta, "content");
        if (content.is(JsonType::string) && !too_long_) {
            std::string piece;
            json_string_decode(content, &piece);
            if (text_.size() + piece.size() > kMaxText) {
                too_long_ = true;
                std::string().swap(text_);
            } else {
                text_ += piece;
            }
        }
        JsonValue calls = json_object_find(delta, "tool_calls");
        if ((calls.is(JsonType::array) && !json_array_empty(calls)) || json_object_find(delta, "function_call")) {
            tool_call_ = true;
        }
        if (!json_object_find(choice, "finish_reason").absent_or_null()) finished_ = true;
    }
}

}  // namespace routeshift
