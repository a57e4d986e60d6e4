// Error-message helpers of the snapshot parser (see snapshot_text.hpp).
#include "config/snapshot_text.hpp"

namespace routeshift {

namespace {
constexpr size_t kMaxEchoedValue = 64;  // bytes of a (non-secret) offending value quoted in errors
}

const char* json_type_name(const json_t* v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

std::string quote_value(std::string_view s) {
    std::string out = "'";
    size_t n = 0;
    for (unsigned char c : s) {
        if (++n > kMaxEchoedValue) {
            out += "...";
            break;
        }
        out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
    out += "'";
    return out;
}

bool has_control_characters(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

}  // namespace routeshift
