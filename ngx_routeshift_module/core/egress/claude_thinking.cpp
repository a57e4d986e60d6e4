#include "egress/claude_thinking.hpp"

#include "egress/cannot_express.hpp"

namespace routeshift {

ClaudeThinking claude_thinking_for_effort(std::string_view effort) {
    ClaudeThinking t;
    if (effort == "none") {
        t.disabled = true;
    } else if (effort == "minimal" || effort == "low") {
        t.budget_tokens = kClaudeThinkingMinBudget;
        t.level = "low";
    } else if (effort == "medium") {
        t.budget_tokens = 4096;
        t.level = "medium";
    } else if (effort == "high") {
        t.budget_tokens = 16384;
        t.level = "high";
    } else if (effort == "xhigh" || effort == "max") {
        t.budget_tokens = 32768;
        t.level = std::string(effort);
    } else {
        cannot_express("reasoning_effort", "Unsupported 'reasoning_effort' value '" + std::string(effort) + "'.");
    }
    return t;
}

void fit_claude_thinking_budget(int64_t* budget, int64_t* max_tokens, bool max_from_client,
                                int64_t default_max_tokens) {
    if (!max_from_client) {
        if (*max_tokens <= *budget) *max_tokens = *budget + default_max_tokens;
        return;
    }
    if (*budget < *max_tokens) return;
    *budget = *max_tokens - 1;
    if (*budget < kClaudeThinkingMinBudget)
        cannot_express("max_completion_tokens", "'reasoning_effort' needs an output cap above " +
                                                    std::to_string(kClaudeThinkingMinBudget) +
                                                    " tokens with this provider (thinking budget minimum).");
}

void refuse_logprobs() { cannot_express("logprobs", "'logprobs' is not supported by this provider."); }

}  // namespace routeshift
