// How the snapshot parser talks about values in its error messages (shared by the row parser and
// the key-metadata parser): JSON type names, quoting of non-secret values, control characters.
#pragma once
#include "util/json_util.hpp"
#include <string>
#include <string_view>

namespace routeshift {

// "an object", "a string", ... for "must be X, got Y" messages.
const char* json_type_name(const json_t* v);

// A configuration value (never a secret) quoted for an error message, at most 64 bytes.
std::string quote_value(std::string_view s);

// True when `s` holds a control character (these strings reach headers and logs).
bool has_control_characters(std::string_view s);

}  // namespace routeshift
