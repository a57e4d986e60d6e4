// Prompt measurement over the scanned request body (no DOM).
#include "canonical/prompt_size.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>

namespace routeshift {
namespace {

// Every byte but UTF-8 continuations (10xxxxxx). Prompts are large and routing rules, rate limits
// and the ceiling measure every request, so the count runs 16 bytes a step with SSE2 (x86-64
// baseline), else 8 with SWAR. Neither uses popcount: without -mpopcnt it is a libgcc call per
// word, which made this loop cost ~4 instructions a byte.
uint64_t code_points(std::string_view utf8) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(utf8.data());
    const unsigned char* end = p + utf8.size();
    uint64_t continuations = 0;
#if defined(__SSE2__)
    // As signed bytes, 0x80..0xBF are exactly those below -64. A compare gives 0xFF (-1) per
    // continuation; subtracting it counts per byte lane, which is summed before it can wrap at 255.
    const __m128i below = _mm_set1_epi8(-64);
    while (end - p >= 16) {
        size_t steps = std::min<size_t>((size_t)(end - p) / 16, 255);
        __m128i lanes = _mm_setzero_si128();
        for (size_t i = 0; i < steps; i++, p += 16) {
            __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            lanes = _mm_sub_epi8(lanes, _mm_cmplt_epi8(bytes, below));
        }
        __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());  // two 64-bit halves
        continuations += (uint64_t)_mm_cvtsi128_si64(sums) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
    }
#else
    // bit 7 set and bit 6 clear in the same byte (the shift's carry into the next byte is masked),
    // moved to bit 0 and added per byte lane; the lanes are summed before they can wrap at 255
    while (end - p >= 8) {
        size_t steps = std::min<size_t>((size_t)(end - p) / 8, 255);
        uint64_t lanes = 0;
        for (size_t i = 0; i < steps; i++, p += 8) {
            uint64_t word;
            std::memcpy(&word, p, 8);
            lanes += (word & ~(word << 1) & 0x8080808080808080ull) >> 7;
        }
        // byte lanes into 16-bit lanes (a sum of 8 is at most 2040), then their sum in the top 16 bits
        uint64_t pairs = (lanes & 0x00FF00FF00FF00FFull) + ((lanes >> 8) & 0x00FF00FF00FF00FFull);
        continuations += (pairs * 0x0001000100010001ull) >> 48;
    }
#endif
    for (; p < end; p++) continuations += (*p & 0xC0) == 0x80;
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
void measure_message(JsonValue message, const JsonMembers& document, PromptSize* size) {
    JsonValue role, content;
    uint64_t other = 0;
    JsonObjectReader members(message, document);
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
        JsonArrayReader parts(content, document);
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

const PromptSize& measure_prompt(const ChatRequest& request) {
    if (request.prompt_size_) return *request.prompt_size_;
    PromptSize& size = request.prompt_size_.emplace();
    JsonValue messages = json_find(request.members, "messages");
    if (messages.is(JsonType::array)) {
        JsonArrayReader reader(messages, request.members);
        JsonValue message;
        while (reader.next(&message)) {
            ++size.messages;
            if (message.is(JsonType::object)) measure_message(message, request.members, &size);
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

PromptSizeBound prompt_size_bound(const ChatRequest& request) {
    PromptSizeBound bound;
    JsonValue messages = request.top.messages;  // found by the request check: no lookup
    size_t count = 0;  // what measure_prompt counts: the elements of "messages"
    if (messages.is(JsonType::array)) {
        bound.characters += messages.text.size();
        // each element takes a byte and a separator: "[a,b]" holds (5 - 1) / 2 elements
        count = request.message_count > 0 ? request.message_count : (messages.text.size() - 1) / 2;
    }
    for (JsonValue value : {request.top.tools, request.top.functions})
        if (value.is(JsonType::array)) bound.characters += value.text.size();
    // ceil(c / 4) + ceil(o / 4) <= ceil((c + o) / 4) + 1
    bound.estimated_tokens = estimate_tokens(bound.characters) + 1 + 4 * (uint64_t)count;
    return bound;
}

}  // namespace routeshift
