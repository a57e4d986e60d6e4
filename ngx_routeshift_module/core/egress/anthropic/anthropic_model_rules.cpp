// Anthropic model-name rules: which Claude / Kimi generations accept which sampling, thinking and
// structured-output parameters. Deterministic, from the model id alone.
#include "egress/anthropic/anthropic_internal.hpp"

#include <algorithm>
#include <cstdlib>

namespace routeshift::anthropic_internal {

// "claude-opus-4-7", "claude-sonnet-4-5-20250929", "claude-3-5-sonnet-20241022",
// "us.anthropic.claude-opus-4-8-v1:0", "claude-mythos-preview", "claude-sonnet-5".
ClaudeModel parse_claude(std::string_view model) {
    ClaudeModel m;
    // Lower-cased on the stack (every request parses its model): ids are short; a longer one is
    // lower-cased on the heap.
    char buffer[128];
    std::string long_name;
    std::string_view name;
    if (model.size() <= sizeof buffer) {
        for (size_t i = 0; i < model.size(); ++i) {
            char c = model[i];
            buffer[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        }
        name = std::string_view(buffer, model.size());
    } else {
        long_name = to_ascii_lower(model);
        name = long_name;
    }
    size_t p = name.find("claude-");
    if (p == std::string_view::npos) return m;
    m.claude = true;
    std::string_view rest = name.substr(p + 7);
    bool have_major = false, have_minor = false;
    while (!rest.empty()) {
        size_t dash = rest.find_first_of("-:.@");
        std::string_view tok = rest.substr(0, dash);
        rest = dash == std::string_view::npos ? std::string_view() : rest.substr(dash + 1);
        bool digits = !tok.empty() && std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (tok == "mythos") m.mythos = true;
        if (!digits) {
            if (have_major) have_minor = true;  // version tokens are over once a word follows them
            continue;
        }
        if (tok.size() > 2) break;  // a date (20250929): no more version tokens
        int number = 0;
        for (char c : tok) number = number * 10 + (c - '0');
        if (!have_major) {
            m.major = number;
            have_major = true;
        } else if (!have_minor) {
            m.minor = number;
            have_minor = true;
        }
    }
    return m;
}

// Models released after Claude Opus 4.6 (SDK docstrings): only temperature 1.0, no top_k,
// top_p >= 0.99. Rule: Claude major >= 5, or 4.7+, or any "mythos" model.
bool claude_post_opus46(const ClaudeModel& m) {
    return m.claude && (m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 7));
}

// Adaptive thinking + output_config.effort (the SDK deprecates thinking.type=enabled from 4.6 on).
bool claude_adaptive_thinking(const ClaudeModel& m) {
    return m.claude && (m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 6));
}

// Structured outputs (output_config.format): Claude 4.1 and later.
bool claude_structured_outputs(const ClaudeModel& m) {
    return !m.claude || m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 1);
}

// Kimi models whose sampling parameters are fixed (kimi-k2.5 class): kimi-k<version> with
// version >= 2.5.
bool kimi_fixed_sampling(std::string_view model) {
    std::string name = to_ascii_lower(model);
    size_t p = name.find("kimi-k");
    if (p == std::string::npos) return false;
    const char* s = name.c_str() + p + 6;
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s) return false;
    return v >= 2.5 - 1e-9;
}

}  // namespace routeshift::anthropic_internal
