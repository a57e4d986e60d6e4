// Retry verdicts for errors from OpenAI-compatible providers (OpenAI, Azure, Together, Groq,
// Z.ai, MiMo, DashScope, generic): which failures another key may fix, and which it won't.
#pragma once
#include "egress/provider_adapter.hpp"
#include <string_view>

namespace routeshift {

// `body` may be empty or partial when the gateway could not wait for it.
// - 408, 409, 429, 498 (Groq capacity), 5xx: retry on another key and park this one;
// - a 429/402/403 whose body says the account is out of money or over a spend cap (OpenAI
//   insufficient_quota, Zhipu 1113, MiniMax 1008, DeepSeek/OpenRouter 402 "insufficient"):
//   no retry, park the key for kQuotaParkMs;
// - 401/403 (bad or revoked credential): retry on another key, park this one;
// - other 4xx (invalid request, context length, content policy): no retry, key stays healthy.
ErrorVerdict openai_classify_error(int status, std::string_view body);

inline constexpr int64_t kQuotaParkMs = 10 * 60 * 1000;

}  // namespace routeshift
