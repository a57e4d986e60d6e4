// OpenAI chat-completions body -> canonical request (see openai_chat_ingress.hpp). One pass over
// each message and content part with the json_scan readers; nothing is decoded or copied.
#include "ingress/openai_chat_ingress.hpp"

namespace routeshift {

namespace {

MessageRole role_of(JsonValue role) {
    std::string_view plain;
    std::string decoded;  // an escaped role ("us\u0065r"): rare
    if (!json_string_plain(role, &plain)) {
        if (!json_string_decode(role, &decoded)) return MessageRole::other;
        plain = decoded;
    }
    if (plain == "user") return MessageRole::user;
    if (plain == "assistant") return MessageRole::assistant;
    if (plain == "system") return MessageRole::system;
    if (plain == "developer") return MessageRole::developer;
    if (plain == "tool") return MessageRole::tool;
    if (plain == "function") return MessageRole::function;
    return MessageRole::other;
}

PartKind kind_of(JsonValue type) {
    if (!type.is(JsonType::string)) return PartKind::malformed;
    if (json_string_equals(type, "text")) return PartKind::text;
    if (json_string_equals(type, "image_url")) return PartKind::image_url;
    if (json_string_equals(type, "input_audio")) return PartKind::input_audio;
    if (json_string_equals(type, "file")) return PartKind::file;
    if (json_string_equals(type, "refusal")) return PartKind::refusal;
    return PartKind::other;
}

ContentPart read_part(JsonValue raw) {
    ContentPart p;
    p.raw = raw;
    JsonValue text, refusal;
    JsonObjectReader r(raw);
    JsonMember m;
    while (r.next(&m)) {
        if (json_key_equals(m, "type")) p.type = m.value;
        else if (json_key_equals(m, "text")) text = m.value;
        else if (json_key_equals(m, "refusal")) refusal = m.value;
        else if (json_key_equals(m, "image_url")) p.image_url = m.value;
        else if (json_key_equals(m, "input_audio")) p.input_audio = m.value;
        else if (json_key_equals(m, "file")) p.file = m.value;
        else if (json_key_equals(m, "cache_control")) p.cache_control = m.value;
    }
    p.kind = raw.is(JsonType::object) ? kind_of(p.type) : PartKind::malformed;
    p.text = p.kind == PartKind::refusal ? refusal : text;
    if (p.image_url.is(JsonType::string)) {
        p.url = p.image_url;
    } else if (p.image_url.is(JsonType::object)) {
        JsonObjectReader ir(p.image_url);
        while (ir.next(&m)) {
            if (json_key_equals(m, "url")) p.url = m.value;
            else if (json_key_equals(m, "detail")) p.detail = m.value;
        }
    }
    if (p.file.is(JsonType::object)) {
        JsonObjectReader fr(p.file);
        while (fr.next(&m)) {
            if (json_key_equals(m, "file_data")) p.file_data = m.value;
            else if (json_key_equals(m, "file_id")) p.file_id = m.value;
            else if (json_key_equals(m, "filename")) p.filename = m.value;
        }
    }
    return p;
}

ToolCall read_tool_call(JsonValue raw) {
    ToolCall c;
    c.raw = raw;
    JsonObjectReader r(raw);
    JsonMember m;
    while (r.next(&m)) {
        if (json_key_equals(m, "id")) c.id = m.value;
        else if (json_key_equals(m, "type")) c.type = m.value;
        else if (json_key_equals(m, "function")) c.function = m.value;
    }
    JsonObjectReader fr(c.function);
    while (fr.next(&m)) {
        if (json_key_equals(m, "name")) c.name = m.value;
        else if (json_key_equals(m, "arguments")) c.arguments = m.value;
    }
    return c;
}

void read_message(JsonValue raw, const JsonMembers& document, CanonicalRequest* out) {
    CanonicalMessage msg;
    msg.raw = raw;
    JsonValue role;
    JsonObjectReader r(raw, document);
    JsonMember m;
    while (r.next(&m)) {
        if (json_key_equals(m, "role")) role = m.value;
        else if (json_key_equals(m, "content")) msg.content = m.value;
        else if (json_key_equals(m, "name")) msg.name = m.value;
        else if (json_key_equals(m, "tool_call_id")) msg.tool_call_id = m.value;
        else if (json_key_equals(m, "tool_calls")) msg.tool_calls = m.value;
        else if (json_key_equals(m, "function_call")) msg.function_call = m.value;
        else if (json_key_equals(m, "thinking_blocks")) msg.thinking_blocks = m.value;
        else if (json_key_equals(m, "reasoning_content")) msg.reasoning_content = m.value;
        else if (json_key_equals(m, "cache_control")) msg.cache_control = m.value;
    }
    msg.role = role_of(role);
    // Parts and calls of the last duplicate "content"/"tool_calls" only: read after the loop.
    msg.first_part = static_cast<uint32_t>(out->parts.size());
    JsonArrayReader parts(msg.content, document);
    JsonValue v;
    while (parts.next(&v)) out->parts.push_back(read_part(v));
    msg.part_count = static_cast<uint32_t>(out->parts.size() - msg.first_part);
    msg.first_call = static_cast<uint32_t>(out->tool_calls.size());
    JsonArrayReader calls(msg.tool_calls);
    while (calls.next(&v)) out->tool_calls.push_back(read_tool_call(v));
    msg.call_count = static_cast<uint32_t>(out->tool_calls.size() - msg.first_call);
    out->messages.push_back(msg);
}

// The top-level members the canonical request keeps, by name.
struct TopField {
    std::string_view name;
    JsonValue CanonicalRequest::*field;
};

constexpr TopField kTopFields[] = {
    {"model", &CanonicalRequest::model},
    {"tools", &CanonicalRequest::tools},
    {"functions", &CanonicalRequest::functions},
    {"tool_choice", &CanonicalRequest::tool_choice},
    {"function_call", &CanonicalRequest::function_call},
    {"parallel_tool_calls", &CanonicalRequest::parallel_tool_calls},
    {"temperature", &CanonicalRequest::temperature},
    {"top_p", &CanonicalRequest::top_p},
    {"top_k", &CanonicalRequest::top_k},
    {"stop", &CanonicalRequest::stop},
    {"seed", &CanonicalRequest::seed},
    {"n", &CanonicalRequest::n},
    {"max_tokens", &CanonicalRequest::max_tokens},
    {"max_completion_tokens", &CanonicalRequest::max_completion_tokens},
    {"frequency_penalty", &CanonicalRequest::frequency_penalty},
    {"presence_penalty", &CanonicalRequest::presence_penalty},
    {"logit_bias", &CanonicalRequest::logit_bias},
    {"logprobs", &CanonicalRequest::logprobs},
    {"top_logprobs", &CanonicalRequest::top_logprobs},
    {"reasoning_effort", &CanonicalRequest::reasoning_effort},
    {"thinking", &CanonicalRequest::thinking},
    {"response_format", &CanonicalRequest::response_format},
    {"modalities", &CanonicalRequest::modalities},
    {"audio", &CanonicalRequest::audio},
    {"stream_options", &CanonicalRequest::stream_options},
    {"metadata", &CanonicalRequest::metadata},
    {"user", &CanonicalRequest::user},
    {"safety_identifier", &CanonicalRequest::safety_identifier},
    {"service_tier", &CanonicalRequest::service_tier},
    {"store", &CanonicalRequest::store},
};

}  // namespace

void canonical_from_openai_chat(const JsonMembers& members, CanonicalRequest* out) {
    *out = CanonicalRequest();
    JsonValue messages, stream;
    for (size_t i = 0; i < members.size(); ++i) {  // document order: the last duplicate wins
        const JsonMember& m = members[i];
        if (json_key_equals(m, "messages")) {
            messages = m.value;
            continue;
        }
        if (json_key_equals(m, "stream")) {
            stream = m.value;
            continue;
        }
        for (const TopField& f : kTopFields)
            if (json_key_equals(m, f.name)) {
                out->*f.field = m.value;
                break;
            }
    }
    bool flag = false;
    out->stream = json_read_bool(stream, &flag) && flag;
    flag = false;
    out->include_usage = json_read_bool(json_object_find(out->stream_options, "include_usage"), &flag) && flag;

    JsonArrayReader r(messages, members);  // long contents: validated once, not re-read
    JsonValue v;
    while (r.next(&v)) read_message(v, members, out);
}

}  // namespace routeshift
