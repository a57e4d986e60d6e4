// OpenAI `reasoning_effort` -> Claude extended thinking, for every wire that serves Claude models
// (Anthropic Messages, Bedrock Converse's additionalModelRequestFields.thinking): one mapping.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

inline constexpr int64_t kClaudeThinkingMinBudget = 1024;  // Anthropic's minimum budget_tokens

struct ClaudeThinking {
    bool disabled = false;      // "none": thinking off
    int64_t budget_tokens = 0;  // minimal/low 1024, medium 4096, high 16384, xhigh/max 32768
    std::string level;          // output_config.effort's level: low, medium, high, xhigh, max
};

// Throws CannotExpress (param "reasoning_effort") for a value OpenAI does not define.
ClaudeThinking claude_thinking_for_effort(std::string_view effort);

// budget_tokens must stay below max_tokens: a cap the gateway chose (`max_from_client` false) is
// raised to budget + `default_max_tokens`; a client's cap lowers the budget, and below Anthropic's
// minimum that is a CannotExpress (param "max_completion_tokens").
void fit_claude_thinking_budget(int64_t* budget, int64_t* max_tokens, bool max_from_client,
                                int64_t default_max_tokens);

// The one refusal of `logprobs` by wires that have no token log probabilities (Anthropic, Bedrock).
[[noreturn]] void refuse_logprobs();

}  // namespace routeshift
