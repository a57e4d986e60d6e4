// Continuation request bodies (see continuation_request.hpp). The provider body is edited as text:
// the new turns go before the closing bracket of its conversation array, found with the strict
// scanner, so the prompt is never parsed into a tree.
#include "continuation/continuation_request.hpp"

#include "util/json_scan.hpp"
#include "util/json_util.hpp"

namespace routeshift {
namespace {

// A turn whose text sits in a list of blocks: Gemini {"role","parts":[{"text"}]}, Bedrock
// {"role","content":[{"text"}]}.
void append_block_turn(std::string& out, std::string_view role, std::string_view blocks, std::string_view text) {
    out += "{\"role\":";
    json_quoted_append(out, role);
    out += ",\"";
    out += blocks;
    out += "\":[{\"text\":";
    json_quoted_append(out, text);
    out += "}]}";
}

// One turn holding `text` in the wire's message shape.
void append_turn(std::string& out, WireFormat wire, std::string_view role, std::string_view text) {
    switch (wire) {
        case WireFormat::gemini:
            append_block_turn(out, role == "assistant" ? "model" : role, "parts", text);
            return;
        case WireFormat::bedrock:
            append_block_turn(out, role, "content", text);
            return;
        case WireFormat::openai:
        case WireFormat::anthropic:
            out += "{\"role\":";
            json_quoted_append(out, role);
            out += ",\"content\":";
            json_quoted_append(out, text);
            out += '}';
            return;
    }
}

}  // namespace

std::string_view continuation_prefill(std::string_view delivered) {
    size_t end = delivered.size();
    while (end > 0 && (delivered[end - 1] == ' ' || delivered[end - 1] == '\t' || delivered[end - 1] == '\n' ||
                       delivered[end - 1] == '\r')) {
        end--;
    }
    return delivered.substr(0, end);
}

bool build_continuation_body(std::string_view provider_body, WireFormat wire, ContinuationStyle style,
                             std::string_view delivered, std::string* out, std::string* error) {
    if (style == ContinuationStyle::none) {
        *error = "this target does not continue streams";
        return false;
    }
    JsonValue root;
    JsonMembers top;
    if (!json_scan(provider_body, &root, &top, nullptr) || !root.is(JsonType::object)) {
        *error = "the request body is not a JSON object";
        return false;
    }
    JsonValue conversation = json_find(top, wire == WireFormat::gemini ? "contents" : "messages");
    if (!conversation.is(JsonType::array)) {
        *error = "the request body has no conversation to continue";
        return false;
    }
    // the new turns go right before the array's closing bracket
    size_t close = (size_t)(conversation.text.data() - provider_body.data()) + conversation.text.size() - 1;
    std::string turns;
    if (!json_array_empty(conversation)) turns += ',';
    switch (style) {
        case ContinuationStyle::prefill:
            append_turn(turns, wire, "assistant", continuation_prefill(delivered));
            break;
        case ContinuationStyle::prefix:
            append_turn(turns, wire, "assistant", delivered);
            turns.insert(turns.size() - 1, ",\"prefix\":true");
            break;
        case ContinuationStyle::continue_final_message:
            append_turn(turns, wire, "assistant", delivered);
            break;
        case ContinuationStyle::instruction:
            append_turn(turns, wire, "assistant", delivered);
            turns += ',';
            append_turn(turns, wire, "user", kContinuationInstruction);
            break;
        case ContinuationStyle::none:
            break;
    }
    out->clear();
    out->reserve(provider_body.size() + turns.size() + 64);
    out->append(provider_body.substr(0, close));
    out->append(turns);
    size_t root_close = (size_t)(root.text.data() - provider_body.data()) + root.text.size() - 1;
    out->append(provider_body.substr(close, root_close - close));
    if (style == ContinuationStyle::continue_final_message) {
        out->append(",\"continue_final_message\":true,\"add_generation_prompt\":false");
    }
    out->append(provider_body.substr(root_close));
    return true;
}

}  // namespace routeshift
