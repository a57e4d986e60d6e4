// The Gemini native client's view of its stream (see delivered_stream.hpp): each chunk is a
// GenerateContentResponse; candidate 0's text parts are the answer (thought parts are reasoning,
// not text), a functionCall part is a tool call, a finishReason ends the candidate. The same chunks
// whether the gateway wrote them or relayed a Gemini-wire provider's.
#include "continuation/delivered_stream.hpp"

#include "util/json_scan.hpp"

namespace routeshift {

void DeliveredStream::observe_gemini_chunk(const JsonMembers& top) {
    keep_first(top, "responseId", &id_);
    keep_first(top, "modelVersion", &model_);
    JsonValue candidates = json_find(top, "candidates");
    if (!candidates.is(JsonType::array)) return;
    JsonArrayReader reader(candidates);
    JsonValue candidate;
    while (reader.next(&candidate)) {
        int64_t index = 0;
        json_read_int(json_object_find(candidate, "index"), &index);
        if (index != 0) {
            several_choices_ = true;
            continue;
        }
        role_sent_ = true;
        JsonValue parts = json_object_find(json_object_find(candidate, "content"), "parts");
        if (parts.is(JsonType::array)) {
            JsonArrayReader part_reader(parts);
            JsonValue part;
            while (part_reader.next(&part)) {
                if (json_object_find(part, "functionCall")) tool_call_ = true;
                bool thought = false;
                json_read_bool(json_object_find(part, "thought"), &thought);
                JsonValue text = json_object_find(part, "text");
                if (!thought && text.is(JsonType::string) && json_string_decode(text, &piece_)) append_text(piece_);
            }
        }
        if (!json_object_find(candidate, "finishReason").absent_or_null()) finished_ = true;
    }
}

}  // namespace routeshift
