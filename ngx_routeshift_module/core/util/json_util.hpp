// RAII and small helpers around jansson. No nginx headers here.
#pragma once
#include <jansson.h>
#include <memory>
#include <string>
#include <string_view>

namespace routeshift {

struct JsonDecref {
    void operator()(json_t* j) const noexcept { json_decref(j); }
};
using JsonPtr = std::unique_ptr<json_t, JsonDecref>;

// Parses a whole document; returns null and fills `error` (line/column + text) on failure. Accepts
// exactly what json_scan accepts (json_scan.hpp): a raw NUL byte anywhere is refused.
JsonPtr json_parse(std::string_view text, std::string* error);

// Compact serialisation (no spaces), keys in insertion order. Never throws on valid input.
std::string json_dump_compact(const json_t* value);

// Lookups that tolerate a null/absent object.
std::string_view json_string_view(const json_t* obj, const char* key);  // "" if absent/not string
// The text of a JSON string; "" if null or not a string.
inline std::string_view json_string_view(const json_t* value) {
    if (!json_is_string(value)) return {};
    return std::string_view(json_string_value(value), json_string_length(value));
}
bool json_get_int(const json_t* obj, const char* key, long long* out);   // false if absent/not integer

// Appends `s` JSON-escaped (without the surrounding quotes) to `out`.
void json_escape_append(std::string& out, std::string_view s);

// Appends `s` as a JSON string literal (escaped, in double quotes) to `out`.
inline void json_quoted_append(std::string& out, std::string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

// Appends the compact serialisation of `value` to `out` (same output as json_dump_compact:
// keys in insertion order, reals in shortest round-trip form, UTF-8 kept as is).
void json_dump_append(std::string& out, const json_t* value);

}  // namespace routeshift
