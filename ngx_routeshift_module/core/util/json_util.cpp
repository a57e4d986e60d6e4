// RAII and small helpers around jansson (see json_util.hpp).
#include "util/json_util.hpp"
#include "util/hex.hpp"
#include "util/json_scan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace routeshift {

JsonPtr json_parse(std::string_view text, std::string* error) {
    // A raw NUL byte is never valid JSON, but jansson 2.14 skips one directly after a number or a
    // literal ("[1\0]" parses as [1]). json_scan refuses it, and both readers must accept the same
    // documents: a body one dialect's ingress took (jansson) would fail the same-format splice
    // (json_scan) and go upstream untouched, with the client's model name.
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
        JsonScanError scan_error;
        json_scan(text, nullptr, nullptr, &scan_error);
        if (error) *error = scan_error.to_string();
        return nullptr;
    }
    json_error_t jerr;
    // DECODE_ANY: callers decide which top-level type they accept and report it themselves.
    // ALLOW_NUL: "\u0000" inside strings is valid JSON; strings are always read with their length.
    json_t* root = json_loadb(text.data(), text.size(), JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        if (error) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "line %d column %d: ", jerr.line, jerr.column);
            *error = buf;
            *error += jerr.text;
        }
        return nullptr;
    }
    return JsonPtr(root);
}

namespace {

// True when one of the 8 bytes in `w` must be escaped: below 0x20, '"' or '\\' (exact per word,
// the classic has-zero-byte / has-less-than tricks); plain prose skips 8 bytes a test.
inline bool word_needs_escape(uint64_t w) {
    constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    const uint64_t control = (w - ones * 0x20) & ~w;
    return ((control | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & highs) != 0;
}

}  // namespace

void json_escape_append(std::string& out, std::string_view s) {
    const char* const data = s.data();
    const size_t size = s.size();
    size_t run = 0;  // start of the current run of bytes that need no escaping
    size_t i = 0;
    while (i < size) {
        if (size - i >= 8) {
            uint64_t w;
            std::memcpy(&w, data + i, 8);
            if (!word_needs_escape(w)) {
                i += 8;
                continue;
            }
        }
        for (const size_t stop = std::min(size, i + 8); i < stop; ++i) {
            unsigned char c = static_cast<unsigned char>(data[i]);
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            out.append(data + run, i - run);
            run = i + 1;
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                char u[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15]};
                out.append(u, 6);
            }
            }
        }
    }
    out.append(data + run, size - run);
}

static void append_real(std::string& out, double d) {
    if (!std::isfinite(d)) {  // cannot come from a parsed document; keep the output valid JSON
        out += "null";
        return;
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip representation
    std::string_view txt(buf, static_cast<size_t>(res.ptr - buf));
    out += txt;
    if (txt.find_first_of(".eE") == std::string_view::npos) out += ".0";  // stay a real
}

void json_dump_append(std::string& out, const json_t* v) {
    if (!v) {
        out += "null";
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        out += '{';
        bool first = true;
        const char* key;
        size_t key_len;
        json_t* val;
        json_object_keylen_foreach(const_cast<json_t*>(v), key, key_len, val) {
            if (!first) out += ',';
            first = false;
            out += '"';
            json_escape_append(out, std::string_view(key, key_len));
            out += "\":";
            json_dump_append(out, val);
        }
        out += '}';
        break;
    }
    case JSON_ARRAY: {
        out += '[';
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; ++i) {
            if (i) out += ',';
            json_dump_append(out, json_array_get(v, i));
        }
        out += ']';
        break;
    }
    case JSON_STRING:
        out += '"';
        json_escape_append(out, std::string_view(json_string_value(v), json_string_length(v)));
        out += '"';
        break;
    case JSON_INTEGER: {
        char buf[32];
        auto res = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(json_integer_value(v)));
        out.append(buf, static_cast<size_t>(res.ptr - buf));
        break;
    }
    case JSON_REAL: append_real(out, json_real_value(v)); break;
    case JSON_TRUE: out += "true"; break;
    case JSON_FALSE: out += "false"; break;
    case JSON_NULL: out += "null"; break;
    }
}

std::string json_dump_compact(const json_t* value) {
    std::string out;
    json_dump_append(out, value);
    return out;
}

std::string_view json_string_view(const json_t* obj, const char* key) {
    if (!obj || !json_is_object(obj)) return {};
    const json_t* v = json_object_get(obj, key);
    if (!v || !json_is_string(v)) return {};
    return std::string_view(json_string_value(v), json_string_length(v));
}

bool json_get_int(const json_t* obj, const char* key, long long* out) {
    if (!obj || !json_is_object(obj)) return false;
    const json_t* v = json_object_get(obj, key);
    if (!v || !json_is_integer(v)) return false;
    if (out) *out = static_cast<long long>(json_integer_value(v));
    return true;
}

}  // namespace routeshift
