// Virtual keys: generation of "sk-proxy-<random>" strings and the hash stored in virtual_keys.
#pragma once
#include <string>
#include <string_view>

namespace rsync {

inline constexpr std::string_view kVirtualKeyPrefix = "sk-proxy-";
inline constexpr size_t kVirtualKeyRandomChars = 43;  // base62: ~256 bits of entropy

// "sk-proxy-" + 43 base62 characters drawn uniformly (rejection sampling) from RAND_bytes.
// Returns "" only if the OpenSSL RNG fails.
std::string generate_virtual_key();

// Lower-case hex SHA-256 of the whole key string (what virtual_keys.key_hash stores and what the
// module compares; identical to routeshift::hash_virtual_key_hex).
std::string virtual_key_hash_hex(std::string_view key);

// True for a syntactically plausible key: the prefix followed by >= 32 characters of [A-Za-z0-9].
bool looks_like_virtual_key(std::string_view key);

}  // namespace rsync
