// UTF-8 hygiene for text that reaches clients inside JSON strings: whatever a provider, jansson or
// a truncation produced, what we emit must be valid UTF-8 (RFC 8259 §8.1).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace routeshift {

// Whether `s` is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD (one per offending byte).
std::string sanitize_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a multi-byte
// sequence (a cut never splits a character in two).
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

}  // namespace routeshift
