// The canonical request: what an ingress dialect asked for (messages, tools, sampling, stream,
// response format, metadata), independent of the wire format it will be sent in. Built without a
// DOM: every value is a JsonValue span into the request body (strings still escaped, quotes
// included), so a request builder copies message text verbatim into the provider's body and the
// cost stays linear in the prompt size. The body must outlive the canonical request.
//
// The canonical parse only sorts the body into these fields; whether a field has the right shape
// for a given provider (and the error the client gets when it has not) is the request builder's
// decision. Duplicate keys: the last one wins at every level (as in jansson's DOM).
#pragma once
#include "util/json_scan.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace routeshift {

enum class MessageRole : uint8_t { system, developer, user, assistant, tool, function, other };

enum class PartKind : uint8_t {
    text,         // {"type":"text","text":...}
    refusal,      // {"type":"refusal","refusal":...} (assistant history)
    image_url,    // {"type":"image_url","image_url":{"url":...}} or "image_url":"..."
    input_audio,  // {"type":"input_audio","input_audio":{"data","format"}}
    file,         // {"type":"file","file":{"file_data"|"file_id","filename"}}
    other,        // any other "type" (see `type`)
    malformed,    // not an object, or no string "type"
};

// One element of a message's content array.
struct ContentPart {
    PartKind kind = PartKind::malformed;
    JsonValue raw;            // the element as sent
    JsonValue type;           // its "type" member
    JsonValue text;           // text: "text"; refusal: "refusal" (any JSON type: builders check)
    JsonValue image_url;      // image_url: the member "image_url" (string or object)
    JsonValue url;            // image_url: the URL string token ("image_url" itself when a string, else .url)
    JsonValue detail;         // image_url.detail
    JsonValue input_audio;    // input_audio: the object
    JsonValue file;           // file: the object
    JsonValue file_data;      // file.file_data
    JsonValue file_id;        // file.file_id
    JsonValue filename;       // file.filename
    JsonValue cache_control;  // Anthropic-style prompt caching marker on the part
};

// One element of an assistant message's tool_calls array.
struct ToolCall {
    JsonValue raw;
    JsonValue id;
    JsonValue type;
    JsonValue function;       // the object
    JsonValue name;           // function.name
    JsonValue arguments;      // function.arguments (a JSON-encoded string; some clients send an object)
};

struct CanonicalMessage {
    MessageRole role = MessageRole::other;
    JsonValue raw;
    JsonValue content;          // as sent: string, array, null or absent (or anything else: builders check)
    uint32_t first_part = 0;    // content array elements: CanonicalRequest::parts[first_part, +part_count)
    uint32_t part_count = 0;
    JsonValue name;
    JsonValue tool_call_id;     // tool messages
    JsonValue tool_calls;       // as sent (array or anything else)
    uint32_t first_call = 0;    // tool_calls array elements: CanonicalRequest::tool_calls[first_call, +call_count)
    uint32_t call_count = 0;
    JsonValue function_call;    // legacy single call of an assistant message
    JsonValue thinking_blocks;  // replayed signed thinking (LiteLLM shape)
    JsonValue reasoning_content;
    JsonValue cache_control;
};

struct CanonicalRequest {
    JsonValue model;
    std::vector<CanonicalMessage> messages;
    std::vector<ContentPart> parts;     // every message's content parts, in order
    std::vector<ToolCall> tool_calls;   // every message's tool calls, in order

    // tools
    JsonValue tools, functions;         // "functions": legacy
    JsonValue tool_choice, function_call, parallel_tool_calls;
    // sampling and output
    JsonValue temperature, top_p, top_k, stop, seed, n;
    JsonValue max_tokens, max_completion_tokens;
    JsonValue frequency_penalty, presence_penalty, logit_bias, logprobs, top_logprobs;
    JsonValue reasoning_effort, thinking;
    JsonValue response_format;
    JsonValue modalities, audio;
    // stream
    bool stream = false;                // "stream": true
    bool include_usage = false;         // "stream_options": {"include_usage": true}
    JsonValue stream_options;
    // metadata
    JsonValue metadata, user, safety_identifier, service_tier, store;

    const ContentPart* parts_of(const CanonicalMessage& m) const { return parts.data() + m.first_part; }
    const ToolCall* calls_of(const CanonicalMessage& m) const { return tool_calls.data() + m.first_call; }
};

}  // namespace routeshift
