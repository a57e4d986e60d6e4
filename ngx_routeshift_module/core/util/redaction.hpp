// The one redaction rule: where a provider secret could reach a client, a log or a status page,
// it is replaced by "[redacted]". Every component masks through these two functions.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

// `text` with every secret (and the first 12 characters of a secret longer than 16, so a
// truncated echo is caught too) replaced by "[redacted]".
std::string redact_secrets(std::string_view text, std::span<const std::string_view> secrets);

// Whether `text` holds any secret (or the 12-character prefix of a long one).
bool contains_secret(std::string_view text, std::span<const std::string_view> secrets);

}  // namespace routeshift
