// The client's view of a streamed answer (see delivered_stream.hpp). One strict scan per event; the
// only copies are the delivered text (needed for the continuation's prompt) and a few small
// strings. This file frames the events and reads OpenAI chat chunks; the Anthropic and Gemini
// readers are delivered_anthropic_events.cpp and delivered_gemini_chunks.cpp.
#include "continuation/delivered_stream.hpp"

#include "util/json_scan.hpp"

namespace routeshift {

size_t DeliveredStream::observe(std::string_view out) {
    // the events' raw bytes are the held start of an event followed by `out`
    size_t before = events_.pending();
    size_t seen = 0;
    size_t error_at = std::string_view::npos;
    bool ok = events_.feed(out, [&](const SseEvent& event) {
        if (error_at == std::string_view::npos && !event.data.empty() && !observe_data(event.data)) {
            error_at = seen > before ? seen - before : 0;
        }
        seen += event.raw.size();
    });
    if (!ok) {
        // an event over the bound is nobody's answer: the stream cannot be continued
        several_choices_ = true;
        return out.size();
    }
    if (error_at == std::string_view::npos) return out.size();
    // what follows the error event is not sent; a continuation's events start afresh
    events_.reset();
    return error_at;
}

bool DeliveredStream::observe_data(std::string_view json) {
    JsonValue root;
    JsonMembers top;
    if (json.empty() || json.front() != '{' || !json_scan(json, &root, &top, nullptr)) return true;  // [DONE], comments
    // every dialect's error event has a top-level "error" (Anthropic: {"type":"error","error":...})
    if (json_find(top, "error")) return false;
    switch (dialect_) {
    case Dialect::anthropic: observe_anthropic_event(top); break;
    case Dialect::google: observe_gemini_chunk(top); break;
    case Dialect::openai: observe_openai_chunk(top); break;
    }
    return true;
}

void DeliveredStream::append_text(std::string_view piece) {
    if (too_long_) return;
    if (text_.size() + piece.size() > kMaxText) {
        too_long_ = true;
        std::string().swap(text_);
        return;
    }
    text_ += piece;
}

void DeliveredStream::keep_first(const JsonMembers& top, std::string_view key, std::string* kept) {
    if (!kept->empty()) return;
    if (JsonValue v = json_find(top, key); v.is(JsonType::string)) json_string_decode(v, kept);
}

void DeliveredStream::observe_openai_chunk(const JsonMembers& top) {
    keep_first(top, "id", &id_);
    keep_first(top, "model", &model_);
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
        if (content.is(JsonType::string) && json_string_decode(content, &piece_)) append_text(piece_);
        JsonValue calls = json_object_find(delta, "tool_calls");
        if ((calls.is(JsonType::array) && !json_array_empty(calls)) || json_object_find(delta, "function_call")) {
            tool_call_ = true;
        }
        if (!json_object_find(choice, "finish_reason").absent_or_null()) finished_ = true;
    }
}

}  // namespace routeshift
