// Prompt measurement over the scanned request body (no DOM).
#include "canonical/prompt_size.hpp"

#include <bit>
#include <cstring>
#include <string>

namespace routeshift {
namespace {

// Every byte but UTF-8 continuations (10xxxxxx), counted 8 bytes at a time: prompts are large and
// routing rules, rate limits and the ceiling measure every request.
uint64_t code_points(std::string_view utf8) {
    uint64_t continuations = 0;
    size_t i = 0;
    for (; i + 8 <= utf8.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, utf8.data() + i, 8);
        // bit 7 set and bit 6 clear in the same byte (the shift's carry into the next byte is masked)
        continuations += (uint64_t)std::popcount(word & ~(word << 1) & 0x8080808080808080ull);
    }
    for (; i < utf8.size(); i++) continuations += ((unsigned char)utf8[i] & 0xC0) == 0x80;
    return utf8.size() - continuations;
}

// Characters of a JSON string value (decoded); 0 for anything else.
uint64_t string_characters(JsonValue value) {
    if (!value.is(JsonType::string)) return 0;
    std::string_view inner;
    if (json_string_plain(value, &inner)) return code_points(inner);
    std::string decoded;
    json_string_decode(value, &decoded);
    return code_points(decoded);
}

bool is_system_role(JsonValue role) {
    return json_string_equals(role, "system") || json_string_equals(role, "developer");
}

// One message: text characters into `size`, its other members' bytes into other_bytes.
void measure_message(JsonValue message, PromptSize* size) {
    JsonValue role, content;
    uint64_t other = 0;
    JsonObjectReader members(message);
    JsonMember member;
    while (members.next(&member)) {
        if (json_key_equals(member, "role")) role = member.value;
        else if (json_key_equals(member, "content")) content = member.value;
        else if (json_key_equals(member, "tool_calls") || json_key_equals(member, "function_call"))
            other += member.value.text.size();
    }
    uint64_t characters = 0;
    if (content.is(JsonType::string)) {
        characters = string_characters(content);
    } else if (content.is(JsonType::array)) {
        JsonArrayReader parts(content);
        JsonValue part, text;
        while (parts.next(&part, "text", &text)) {
            if (text.is(JsonType::string)) characters += string_characters(text);
            else other += part.text.size();  // images, audio, files: their JSON bytes
        }
    }
    size->characters += characters;
    if (is_system_role(role)) size->system_characters += characters;
    size->other_bytes += other;
}

}  // namespace

PromptSize measure_prompt(const ChatRequest& request) {
    PromptSize size;
    JsonValue messages = json_find(request.members, "messages");
    if (messages.is(JsonType::array)) {
        JsonArrayReader reader(messages);
        JsonValue message;
        while (reader.next(&message)) {
            ++size.messages;
            if (message.is(JsonType::object)) measure_message(message, &size);
        }
    }
    for (const char* key : {"tools", "functions"}) {
        JsonValue value = json_find(request.members, key);
        if (value.is(JsonType::array)) size.other_bytes += value.text.size();
    }
    size.estimated_tokens =
        estimate_tokens(size.characters) + estimate_tokens(size.other_bytes) + 4 * size.messages;
    return size;
}

}  // namespace routeshift
