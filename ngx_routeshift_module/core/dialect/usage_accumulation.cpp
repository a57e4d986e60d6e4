#include "dialect/usage_accumulation.hpp"

#include <algorithm>

namespace routeshift {

void accumulate_usage(const canonical::UsageReport& report, canonical::UsageReport* tokens, Usage* usage) {
    auto take = [](int64_t v, int64_t* dst) {
        if (v >= 0) *dst = v;
    };
    take(report.input_tokens, &tokens->input_tokens);
    take(report.cache_read_tokens, &tokens->cache_read_tokens);
    take(report.cache_write_tokens, &tokens->cache_write_tokens);
    take(report.output_tokens, &tokens->output_tokens);
    take(report.reasoning_tokens, &tokens->reasoning_tokens);
    if (tokens->input_tokens < 0 && tokens->output_tokens < 0) return;  // nothing billable known yet
    // prompt_tokens include the cached tokens; completion_tokens include reasoning
    usage->prompt_tokens = std::max<int64_t>(tokens->input_tokens, 0) + std::max<int64_t>(tokens->cache_read_tokens, 0) +
                           std::max<int64_t>(tokens->cache_write_tokens, 0);
    usage->completion_tokens = std::max<int64_t>(tokens->output_tokens, 0);
    usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;
    usage->cached_tokens = std::max<int64_t>(tokens->cache_read_tokens, 0);
}

}  // namespace routeshift
