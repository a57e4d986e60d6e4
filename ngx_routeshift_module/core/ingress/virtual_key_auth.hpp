// Virtual-key (sk-proxy-...) authentication: keys are stored only as SHA-256 hashes.
#pragma once
#include "config/config_snapshot.hpp"
#include "dialect/openai_error.hpp"
#include <string>
#include <string_view>

namespace routeshift {

inline constexpr std::string_view kVirtualKeyPrefix = "sk-proxy-";

// Lower-case hex SHA-256 of the key string (what the virtual_keys table stores).
std::string hash_virtual_key_hex(std::string_view key);
void hash_virtual_key(std::string_view key, unsigned char out[32]);

// Extracts the presented key from `Authorization: Bearer <k>` (scheme case-insensitive) or, if
// that header is absent, from `x-api-key`, else from Azure OpenAI's `api-key`. Returns "" when
// none carries a key.
std::string_view presented_key(std::string_view authorization, std::string_view x_api_key,
                               std::string_view api_key = {});

// The raw (still percent-encoded) value of the `key` query parameter in `args` (the query string
// without '?'), a span of `args`; "" when absent. Google's clients may send their API key there
// (docs/design.md §18 "Gemini native"): the glue decodes it, then masks these bytes so the key is
// never logged.
std::string_view query_api_key(std::string_view args);

// Looks the key up (constant-time comparison of the digest). A key that matched before is found
// in cfg.virtual_key_cache without hashing (per worker; `cfg` must not be shared across threads). Returns the VirtualKey or null and
// fills `err` with a 401 authentication_error (code invalid_api_key / key_disabled / key_expired).
// The error message never echoes the presented key.
const VirtualKey* authenticate(const Config& cfg, std::string_view key, int64_t now_unix,
                               ApiError* err);

}  // namespace routeshift
