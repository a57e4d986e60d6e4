// Internal to the Anthropic Messages adapter: the JSON helpers, limits and error mapping that more
// than one of its files (request builder, response translator, errors, endpoint) needs.
#pragma once
#include "egress/claude_thinking.hpp"
#include "egress/provider_adapter.hpp"

#include "util/ascii_text.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cctype>
#include <new>
#include <span>
#include <string>
#include <string_view>

namespace routeshift::anthropic_internal {

inline constexpr int64_t kDefaultMaxTokens = 4096;      // when the client sends no output cap
inline constexpr int64_t kThinkingMinBudget = kClaudeThinkingMinBudget;  // Anthropic's minimum budget_tokens
inline constexpr int64_t kLongParkMs = 60LL * 60 * 1000; // spend cap / broken credentials: 1 hour
inline constexpr size_t kMaxJsonAnswer = 64u << 20;      // a non-streaming answer larger than this is refused
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

enum class Flavor { anthropic, minimax, moonshot, zai, mimo };

inline Flavor flavor_of(std::string_view kind_name) {
    if (kind_name == "minimax") return Flavor::minimax;
    if (kind_name == "moonshot") return Flavor::moonshot;
    if (kind_name == "zai") return Flavor::zai;
    if (kind_name == "mimo") return Flavor::mimo;
    return Flavor::anthropic;  // "anthropic" and any other kind configured with the Messages API
}

// Borrowed value -> new reference (for sharing subtrees of the request DOM in the output tree).
inline json_t* share(const json_t* v) { return json_incref(const_cast<json_t*>(v)); }

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// ---- model-name rules (anthropic_model_rules.cpp) ----------------------------------------------

struct ClaudeModel {
    bool claude = false;
    int major = 0, minor = 0;
    bool mythos = false;
};

// "claude-opus-4-7", "claude-sonnet-4-5-20250929", "claude-3-5-sonnet-20241022",
// "us.anthropic.claude-opus-4-8-v1:0", "claude-mythos-preview", "claude-sonnet-5".
ClaudeModel parse_claude(std::string_view model);
// Models released after Claude Opus 4.6: only temperature 1.0, no top_k, top_p >= 0.99.
// Rule: Claude major >= 5, or 4.7+, or any "mythos" model.
bool claude_post_opus46(const ClaudeModel& m);
// Adaptive thinking + output_config.effort (the SDK deprecates thinking.type=enabled from 4.6 on).
bool claude_adaptive_thinking(const ClaudeModel& m);
// Structured outputs (output_config.format): Claude 4.1 and later.
bool claude_structured_outputs(const ClaudeModel& m);
// Kimi models whose sampling parameters are fixed (kimi-k2.5 class): kimi-k<version>, version >= 2.5.
bool kimi_fixed_sampling(std::string_view model);

// ---- error mapping shared by the classifier and the translator (anthropic_errors.cpp) ----------

struct ErrorInfo {
    std::string type;        // Anthropic error.type (or a compatible provider's)
    std::string message;
    std::string detail_code; // error.details.error_code
    std::string code;        // error.code (string or integer, as text) / base_resp.status_code
};

ErrorInfo error_info(const json_t* root);
int status_for_error_type(std::string_view t);

enum class ErrorClass { billing, overloaded, rate_limit, auth, permission, server, timeout_retry, content_filter, invalid };

ErrorClass classify_info(int status, const ErrorInfo& e);

// The OpenAI-shaped error for a classified upstream error.
ApiError openai_error_for(int status, ErrorClass cls, const ErrorInfo& e, std::span<const std::string_view> secrets);

}  // namespace routeshift::anthropic_internal
