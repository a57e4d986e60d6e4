// Pass-through relay of an OpenAI-compatible SSE answer (see stream_relay.hpp).
#include "stream_relay.hpp"

#include "json_util.hpp"

namespace routeshift {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// True when the text has `"usage"` used as a key whose value is an object (`"usage": {`).
// Every OpenAI chunk carries `"usage":null` once include_usage is on, so a plain substring test
// would parse every chunk. A quote inside a JSON string is always escaped, so `"usage"` with both
// quotes unescaped can only be a key or the exact string value "usage".
bool has_usage_object(std::string_view d) {
    constexpr std::string_view needle = "\"usage\"";
    size_t pos = 0;
    while ((pos = d.find(needle, pos)) != std::string_view::npos) {
        size_t i = pos + needle.size();
        while (i < d.size() && is_ws(d[i])) ++i;
        if (i < d.size() && d[i] == ':') {
            ++i;
            while (i < d.size() && is_ws(d[i])) ++i;
            if (i < d.size() && d[i] == '{') return true;
        }
        pos += needle.size();
    }
    return false;
}

void read_usage(const json_t* u, Usage* out) {
    Usage x;
    long long v;
    if (json_get_int(u, "prompt_tokens", &v)) x.prompt_tokens = v;
    if (json_get_int(u, "completion_tokens", &v)) x.completion_tokens = v;
    if (json_get_int(u, "total_tokens", &v)) x.total_tokens = v;
    else if (x.prompt_tokens >= 0 && x.completion_tokens >= 0) x.total_tokens = x.prompt_tokens + x.completion_tokens;
    if (json_get_int(json_object_get(u, "prompt_tokens_details"), "cached_tokens", &v)) x.cached_tokens = v;
    *out = x;
}

}  // namespace

void OpenAIStreamRelay::on_event(const SseEvent& ev, std::string* out) {
    ++events_;
    std::string_view data = trim(ev.data);
    if (data == "[DONE]") {
        done_ = true;
    } else if (!data.empty() && data.front() == '{' &&
               (has_usage_object(data) || data.find("\"error\"") != std::string_view::npos)) {
        JsonPtr root = json_parse(data, nullptr);
        if (root && json_is_object(root.get())) {
            const json_t* r = root.get();
            const json_t* err = json_object_get(r, "error");
            const bool is_error = (err && !json_is_null(err)) || json_string_view(r, "object") == "error";
            if (is_error) error_ = true;

            const json_t* usage = json_object_get(r, "usage");
            const bool top_usage = json_is_object(usage);
            if (!top_usage) usage = json_object_get(json_object_get(r, "x_groq"), "usage");  // Groq legacy
            if (json_is_object(usage)) read_usage(usage, &usage_);

            if (!want_usage_ && top_usage && !is_error) {
                // the usage-only chunk the gateway forced via include_usage: accounted, not relayed
                const json_t* choices = json_object_get(r, "choices");
                if (json_is_array(choices) && json_array_size(choices) == 0) return;
            }
        }
    }
    out->append(ev.raw.data(), ev.raw.size());
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
    Usage u;
    JsonPtr root = json_parse(body, nullptr);
    if (root && json_is_object(root.get())) {
        const json_t* usage = json_object_get(root.get(), "usage");
        if (json_is_object(usage)) read_usage(usage, &u);
    }
    return u;
}

}  // namespace routeshift
