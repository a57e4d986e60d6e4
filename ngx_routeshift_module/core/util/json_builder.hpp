// Building jansson trees inside code that reports allocation failure by throwing: every helper
// checks the new reference and throws std::bad_alloc when jansson returned null, so a builder never
// has to test each call. Shared by the egress request builders (Anthropic, Bedrock, Gemini).
#pragma once
#include <jansson.h>

#include <new>
#include <string_view>

namespace routeshift {

// True when `value` exists and is not JSON null (an explicit null means "not set" in the OpenAI API).
inline bool json_present(const json_t* value) { return value && !json_is_null(value); }

// Returns `value`, or throws std::bad_alloc when the jansson constructor that made it returned null.
inline json_t* require_allocated(json_t* value) {
    if (!value) throw std::bad_alloc();
    return value;
}

// object[key] = value; takes ownership of `value` (also when it throws).
inline void set_json_member(json_t* object, const char* key, json_t* value) {
    require_allocated(value);
    if (json_object_set_new(object, key, value) != 0) throw std::bad_alloc();
}

// Appends `value` to `array`; takes ownership of `value` (also when it throws).
inline void append_json_element(json_t* array, json_t* value) {
    require_allocated(value);
    if (json_array_append_new(array, value) != 0) throw std::bad_alloc();
}

// A new JSON string (length-delimited, may hold NUL). jansson also refuses invalid UTF-8, which is
// reported as std::bad_alloc here; callers pass text that came from parsed JSON.
inline json_t* new_json_string(std::string_view text) { return require_allocated(json_stringn(text.data(), text.size())); }

inline json_t* new_json_object() { return require_allocated(json_object()); }
inline json_t* new_json_array() { return require_allocated(json_array()); }

}  // namespace routeshift
