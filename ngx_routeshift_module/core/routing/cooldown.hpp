// Which upstream outcomes park a provider key, and for how long.
#pragma once
#include <cstdint>
#include <string_view>

namespace routeshift {

// Statuses that mean "try another key" before any byte reached the client:
// 408, 409, 429, 500-599 (includes Anthropic's 529 and Groq's 498 is NOT included).
bool status_is_retryable(int status);

// Cooldown length in milliseconds after a retryable failure.
// `retry_after_ms` (float milliseconds) wins over `retry_after` (seconds, float, or an HTTP-date
// compared against `now_unix`); both are clamped to [1 s, 1 h]. Without either, uses
// `default_seconds` * 1000 (0 allowed = no cooldown).
int64_t cooldown_ms(std::string_view retry_after, std::string_view retry_after_ms,
                    int default_seconds, int64_t now_unix);

}  // namespace routeshift
