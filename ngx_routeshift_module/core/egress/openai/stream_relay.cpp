// Pass-through relay of an OpenAI-compatible SSE answer (see stream_relay.hpp).
#include "egress/openai/stream_relay.hpp"

#include <optional>

#include "accounting/session_inference.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"
#include "util/utf8_text.hpp"

namespace routeshift {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Whether one of the event's lines (ended by CR, LF or CRLF) is a data field; an event of
// comments alone has none. A bare "data" line (no colon) is a data field with an empty value.
bool has_data_line(std::string_view raw) {
    for (size_t p = 0; p < raw.size();) {
        if (raw.compare(p, 5, "data:") == 0) return true;
        if (raw.compare(p, 4, "data") == 0 && (p + 4 == raw.size() || raw[p + 4] == '\r' || raw[p + 4] == '\n'))
            return true;
        size_t e = raw.find_first_of("\r\n", p);
        if (e == std::string_view::npos) break;
        p = e + 1;
    }
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Looks at the value after each `"key":` of the text (whitespace skipped), until `verdict` gives
// an answer: true or false ends the search, nothing goes on to the next occurrence. A quote inside
// a JSON string is always escaped, so `"key"` with both quotes unescaped can only be a key or the
// exact string value "key" (which no ':' follows): no parse needed.
template <class Verdict>
bool first_verdict_for_key(std::string_view d, std::string_view quoted_key, Verdict verdict) {
    size_t pos = 0;
    while ((pos = d.find(quoted_key, pos)) != std::string_view::npos) {
        size_t i = pos + quoted_key.size();
        while (i < d.size() && is_ws(d[i])) ++i;
        if (i < d.size() && d[i] == ':') {
            ++i;
            while (i < d.size() && is_ws(d[i])) ++i;
            if (std::optional<bool> v = verdict(d.substr(i))) return *v;
        }
        pos += quoted_key.size();
    }
    return false;
}

// True when `"usage"` is a key whose value is an object. Every OpenAI chunk carries
// `"usage":null` once include_usage is on, so a plain substring test would parse every chunk.
bool has_usage_object(std::string_view d) {
    return first_verdict_for_key(d, "\"usage\"", [](std::string_view v) -> std::optional<bool> {
        if (!v.empty() && v[0] == '{') return true;
        return std::nullopt;
    });
}

// True when a choice carries a finish reason (`"finish_reason": "stop"`): every other chunk has
// `"finish_reason":null`.
bool has_finish_reason(std::string_view d) {
    return first_verdict_for_key(d, "\"finish_reason\"", [](std::string_view v) -> std::optional<bool> {
        if (!v.empty() && v[0] == '"') return true;
        return std::nullopt;
    });
}

// True when a chunk carries content: a non-empty string in a delta's content, reasoning or
// refusal, or tool calls. `"content":""` (the usual role chunk) and `null` values do not count.
bool has_content(std::string_view d) {
    for (std::string_view key : {std::string_view("\"content\""), std::string_view("\"reasoning_content\""),
                                 std::string_view("\"reasoning\""), std::string_view("\"refusal\""),
                                 std::string_view("\"tool_calls\"")}) {
        bool tool_calls = key == "\"tool_calls\"";
        std::optional<bool> found;
        first_verdict_for_key(d, key, [&](std::string_view v) -> std::optional<bool> {
            if (!v.empty() && v[0] == '[') found = tool_calls;
            else if (v.size() > 1 && v[0] == '"' && v[1] != '"') found = true;
            return found;
        });
        if (found) return *found;
    }
    return false;
}

// Usage counters from a `usage` object (scanned text). Last duplicate wins, as in jansson.
void read_usage(JsonValue u, Usage* out) {
    JsonValue prompt, completion, total, details;
    JsonObjectReader r(u);
    for (JsonMember m; r.next(&m);) {
        if (json_key_equals(m, "prompt_tokens")) prompt = m.value;
        else if (json_key_equals(m, "completion_tokens")) completion = m.value;
        else if (json_key_equals(m, "total_tokens")) total = m.value;
        else if (json_key_equals(m, "prompt_tokens_details")) details = m.value;
    }
    Usage x;
    int64_t v;
    if (json_read_int(prompt, &v)) x.prompt_tokens = v;
    if (json_read_int(completion, &v)) x.completion_tokens = v;
    if (json_read_int(total, &v)) x.total_tokens = v;
    else if (x.prompt_tokens >= 0 && x.completion_tokens >= 0) x.total_tokens = x.prompt_tokens + x.completion_tokens;
    if (json_read_int(json_object_find(details, "cached_tokens"), &v)) x.cached_tokens = v;
    *out = x;
}

}  // namespace

void OpenAIStreamRelay::on_event(const SseEvent& ev, std::string* out) {
    // [DONE] ends the answer: whatever a provider sends after it is not part of it (the client's
    // SDK stops reading there; relaying more would put events after the sentinel)
    if (done_) return;
    ++events_;
    std::string_view data = trim(ev.data);
    if (session_ && session_->awaiting_answer()) session_->answer_openai_chunk(data);
    if (data == "[DONE]") {
        // written as the sentinel alone, whatever else the provider put around it
        done_ = true;
        out->append("data: [DONE]\n\n");
        return;
    }
    if (data.empty() && has_data_line(ev.raw)) {
        // a data field with nothing in it: the client's SDK would JSON.parse("") and throw
        ++malformed_;
        return;
    }
    if (!data.empty()) {
        // Every event is checked (scanned, not parsed: same acceptance as jansson, no DOM, no
        // allocation): one that is not a JSON object would make the client's SDK throw, so it is
        // skipped and counted (the glue logs it), and the stream goes on.
        JsonValue root;
        JsonMembers top;
        const bool inspect = has_usage_object(data) || data.find("\"error\"") != std::string_view::npos;
        if (!json_scan(data, &root, inspect ? &top : nullptr, nullptr) || !root.is(JsonType::object)) {
            ++malformed_;
            return;
        }
        if (has_finish_reason(data)) finished_ = content_ = true;
        if (!content_ && has_content(data)) content_ = true;
        if (inspect) {
            const JsonValue err = json_find(top, "error");
            const bool is_error = !err.absent_or_null() || json_string_equals(json_find(top, "object"), "error");
            if (is_error) error_ = true;

            JsonValue usage = json_find(top, "usage");
            const bool top_usage = usage.is(JsonType::object);
            if (!top_usage) usage = json_object_find(json_find(top, "x_groq"), "usage");  // Groq legacy
            if (usage.is(JsonType::object)) {
                read_usage(usage, &usage_);
                saw_usage_ = true;
            }

            if (!want_usage_ && top_usage && !is_error) {
                // the usage-only chunk the gateway forced via include_usage: accounted, not relayed
                if (json_array_empty(json_find(top, "choices"))) return;
            }
        }
    }
    append_data_event(ev, out);
}

// The event as the client gets it: its exact bytes when every line is a data line or a readable
// comment (the common case: spliced, not rebuilt); otherwise only its data, so that no other line
// a provider sends (unknown fields, invalid UTF-8) reaches the client.
void OpenAIStreamRelay::append_data_event(const SseEvent& ev, std::string* out) {
    bool only_data = true;
    for (size_t p = 0; p < ev.raw.size() && only_data;) {
        // lines end at CR, LF or CRLF (a CRLF reads as a line and an empty one: harmless here)
        size_t e = ev.raw.find_first_of("\r\n", p);
        if (e == std::string_view::npos) e = ev.raw.size();
        std::string_view line = ev.raw.substr(p, e - p);
        // comments (": keep-alive") keep idle connections open on the way: relayed when readable
        only_data = line.empty() || line.starts_with("data:") || (line.front() == ':' && valid_utf8(line));
        p = e + 1;
    }
    if (only_data) {
        out->append(ev.raw.data(), ev.raw.size());
        // the stream's last event may lack its blank line: what the gateway writes next (its
        // stream_truncated error event) must not read as more lines of it
        out->append(sse_event_terminator(ev.raw));
        return;
    }
    if (ev.data.empty()) return;  // nothing but other fields or comments
    for (size_t p = 0; p <= ev.data.size();) {
        size_t e = ev.data.find('\n', p);
        if (e == std::string_view::npos) e = ev.data.size();
        out->append("data: ").append(ev.data.substr(p, e - p)).append("\n");
        p = e + 1;
    }
    out->append("\n");
}

bool OpenAIStreamRelay::feed(std::string_view bytes, std::string* out) {
    if (broken_) return false;
    if (parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); })) return true;
    broken_ = true;
    if (!error_ && !done_) {
        error_ = true;
        out->append(error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
    }
    return false;
}

bool OpenAIStreamRelay::finish(std::string* out) {
    if (broken_) return false;
    parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
    if (done_) return true;
    if (!error_ && finished_ && (saw_usage_ || !want_usage_)) {
        // the provider said the answer is complete (finish_reason, and the usage chunk the client
        // asked for) but sent no sentinel: the gateway ends the stream as OpenAI would
        out->append("data: [DONE]\n\n");
        done_ = true;
        return true;
    }
    if (!error_) out->append(error_event("upstream stream ended before completion", "stream_truncated"));
    return false;
}

std::string OpenAIStreamRelay::error_event(std::string_view message, std::string_view code) {
    std::string out = "data: {\"error\":{\"message\":\"";
    json_escape_append(out, message);
    out += "\",\"type\":\"server_error\",\"param\":null,\"code\":";
    if (code.empty()) {
        out += "null";
    } else {
        out += '"';
        json_escape_append(out, code);
        out += '"';
    }
    out += "}}\n\n";
    return out;
}

Usage usage_from_completion(std::string_view body) {
    JsonValue root;
    JsonMembers top;
    if (json_scan(body, &root, &top, nullptr) && root.is(JsonType::object)) return usage_from_members(top);
    return Usage{};
}

Usage usage_from_members(const JsonMembers& top) {
    Usage u;
    JsonValue usage = json_find(top, "usage");
    if (usage.is(JsonType::object)) read_usage(usage, &u);
    return u;
}

}  // namespace routeshift
