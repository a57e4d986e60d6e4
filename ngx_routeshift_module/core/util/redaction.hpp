// The one redaction rule: where a provider secret could reach a client, a log or a status page,
// it is replaced by "[redacted]". Every component masks through these two functions.
//
// Text may be plain or JSON (a serialised body, or an error body that only looks like JSON), so a
// secret is also found in its JSON-escaped forms ("\/" for '/', "\u0041" for 'A', ...), and a
// replacement always covers whole escapes: redacting valid JSON text gives valid JSON text.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

// `text` with every secret (and the first 12 characters of a secret longer than 16, so a
// truncated echo is caught too) replaced by "[redacted]", raw or JSON-escaped.
std::string redact_secrets(std::string_view text, std::span<const std::string_view> secrets);

// Whether `text` holds any secret (or the 12-character prefix of a long one), raw or JSON-escaped.
bool contains_secret(std::string_view text, std::span<const std::string_view> secrets);

}  // namespace routeshift
