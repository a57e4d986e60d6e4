// OpenAI-shaped error bodies (see openai_error.hpp).
#include "dialect/openai_error.hpp"
#include "util/redaction.hpp"
#include "util/utf8_text.hpp"

#include "util/json_util.hpp"

#include <string>
#include <vector>

namespace routeshift {

namespace {

constexpr size_t kMaxTextMessage = 1024;  // bytes of a non-JSON upstream body kept as message

// Appends `s` JSON-escaped; text that is not valid UTF-8 (a provider's bytes, a cut message)
// gets U+FFFD in place of the bad bytes, so the body is always valid UTF-8 JSON.
void append_text(std::string& out, std::string_view s) {
    if (valid_utf8(s)) json_escape_append(out, s);
    else json_escape_append(out, sanitize_utf8(s));
}

void append_string_or_null(std::string& out, std::string_view s) {
    if (s.empty()) {
        out += "null";
        return;
    }
    out += '"';
    append_text(out, s);
    out += '"';
}

// Redacts every string (values and object keys) of a parsed tree in place.
void redact_tree(json_t* v, std::span<const std::string_view> secrets) {
    if (json_is_string(v)) {
        std::string_view s(json_string_value(v), json_string_length(v));
        if (contains_secret(s, secrets)) {
            std::string r = sanitize_utf8(redact_secrets(s, secrets));
            json_string_setn_nocheck(v, r.data(), r.size());
        }
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; ++i) redact_tree(json_array_get(v, i), secrets);
    } else if (json_is_object(v)) {
        std::vector<std::string> bad_keys;
        const char* key;
        size_t key_len;
        json_t* val;
        json_object_keylen_foreach(v, key, key_len, val) {
            redact_tree(val, secrets);
            if (contains_secret(std::string_view(key, key_len), secrets)) bad_keys.emplace_back(key, key_len);
        }
        for (const auto& k : bad_keys) {
            json_t* val2 = json_object_getn(v, k.data(), k.size());
            json_incref(val2);
            json_object_deln(v, k.data(), k.size());
            std::string nk = sanitize_utf8(redact_secrets(k, secrets));
            json_object_setn_new_nocheck(v, nk.data(), nk.size(), val2);
        }
    }
}

std::string fallback_message(int status) {
    return "upstream request failed with HTTP status " + std::to_string(status);
}

// Builds the envelope from loose parts; `code` may be a string or integer JSON value.
std::string envelope(std::string_view message, std::string_view type, const json_t* param,
                     const json_t* code) {
    std::string out = "{\"error\":{\"message\":\"";
    append_text(out, message);
    out += "\",\"type\":\"";
    append_text(out, type);
    out += "\",\"param\":";
    if (param && (json_is_string(param) || json_is_integer(param))) json_dump_append(out, param);
    else out += "null";
    out += ",\"code\":";
    if (code && (json_is_string(code) || json_is_integer(code))) json_dump_append(out, code);
    else out += "null";
    out += "}}";
    return out;
}

}  // namespace

std::string_view openai_error_type_for_status(int status) {
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 408: return "timeout_error";
    case 409: return "conflict_error";
    case 413: return "invalid_request_error";
    case 422: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    default: break;
    }
    if (status >= 500 && status <= 599) return "server_error";
    if (status >= 400 && status <= 499) return "invalid_request_error";
    return "server_error";
}

std::string openai_error_body(const ApiError& e) {
    std::string out = "{\"error\":{\"message\":\"";
    append_text(out, e.message);
    out += "\",\"type\":\"";
    append_text(out, e.type.empty() ? openai_error_type_for_status(e.status) : e.type);
    out += "\",\"param\":";
    append_string_or_null(out, e.param);
    out += ",\"code\":";
    append_string_or_null(out, e.code);
    out += "}}";
    return out;
}

std::string normalize_upstream_error(int status, std::string_view body,
                                     std::span<const std::string_view> secrets) {
    const std::string_view default_type = openai_error_type_for_status(status);
    JsonPtr root = json_parse(body, nullptr);
    if (root && json_is_array(root.get()) && json_array_size(root.get()) >= 1 &&
        json_is_object(json_array_get(root.get(), 0))) {
        // Gemini's streaming endpoints wrap the error object in an array: [{"error":{...}}]
        root = JsonPtr(json_incref(json_array_get(root.get(), 0)));
    }

    if (root && json_is_object(root.get())) {
        redact_tree(root.get(), secrets);
        json_t* err = json_object_get(root.get(), "error");

        if (err && json_is_object(err)) {
            // Already OpenAI-shaped (or Anthropic/Gemini, which share the `error` object): keep
            // every field and make sure message/type/param/code exist.
            json_t* msg = json_object_get(err, "message");
            if (!msg || !json_is_string(msg)) {
                std::string m = msg && !json_is_null(msg) ? json_dump_compact(msg) : fallback_message(status);
                json_object_set_new(err, "message", json_stringn_nocheck(m.data(), m.size()));
            }
            json_t* type = json_object_get(err, "type");
            if (!type || !json_is_string(type) || json_string_length(type) == 0)
                json_object_set_new(err, "type", json_stringn(default_type.data(), default_type.size()));
            if (!json_object_get(err, "param")) json_object_set_new(err, "param", json_null());
            if (!json_object_get(err, "code")) json_object_set_new(err, "code", json_null());
            std::string out = "{\"error\":";
            json_dump_append(out, err);
            out += '}';
            return out;
        }

        std::string_view type = json_string_view(root.get(), "type");
        if (type.empty() || type == "error") type = default_type;
        if (err && json_is_string(err)) {
            // {"error":"text"} (Together legacy), possibly with sibling code/type/param.
            std::string_view m(json_string_value(err), json_string_length(err));
            return envelope(m.empty() ? std::string_view(fallback_message(status)) : m, type,
                            json_object_get(root.get(), "param"), json_object_get(root.get(), "code"));
        }
        json_t* msg = json_object_get(root.get(), "message");
        if (msg && json_is_string(msg)) {
            // {"message":...} (Cohere) and {"object":"error","message":...} (vLLM).
            std::string_view m(json_string_value(msg), json_string_length(msg));
            std::string fb = fallback_message(status);
            return envelope(m.empty() ? std::string_view(fb) : m, type,
                            json_object_get(root.get(), "param"), json_object_get(root.get(), "code"));
        }
        // Some other JSON object: pass it along as text in the message.
        std::string text = json_dump_compact(root.get());
        if (text.size() > kMaxTextMessage) text.resize(kMaxTextMessage);
        return envelope(sanitize_utf8(text), default_type, nullptr, nullptr);
    }

    // Not a JSON object: plain text, HTML from an intermediary, a bare JSON string, nothing.
    std::string text;
    if (root && json_is_string(root.get())) {
        text.assign(json_string_value(root.get()), json_string_length(root.get()));
    } else {
        text.assign(body);
    }
    text = redact_secrets(text, secrets);
    size_t b = text.find_first_not_of(" \t\r\n");
    size_t e = text.find_last_not_of(" \t\r\n");
    text = b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
    if (text.size() > kMaxTextMessage) {
        // never a partial character at the cut (sanitize would turn it into U+FFFD)
        text = std::string(utf8_prefix(text, kMaxTextMessage)) + "...";
    }
    if (text.empty()) text = fallback_message(status);
    return envelope(sanitize_utf8(text), default_type, nullptr, nullptr);
}

std::string openai_error_event(const ApiError& e) {
    std::string out = "data: ";
    out += openai_error_body(e);
    out += "\n\n";
    return out;
}

}  // namespace routeshift
