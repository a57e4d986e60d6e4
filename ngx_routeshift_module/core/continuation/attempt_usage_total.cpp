// The running usage total (see attempt_usage_total.hpp).
#include "continuation/attempt_usage_total.hpp"

#include <algorithm>

namespace routeshift {
namespace {

bool has_tokens(const Usage& usage) { return usage.prompt_tokens > 0 || usage.completion_tokens > 0; }

void add_field(int64_t value, int64_t* total) {
    if (value < 0) return;
    *total = std::max<int64_t>(*total, 0) + value;
}

}  // namespace

void add_attempt_usage(Usage* total, const Usage& attempt) {
    add_field(attempt.prompt_tokens, &total->prompt_tokens);
    add_field(attempt.completion_tokens, &total->completion_tokens);
    add_field(attempt.cached_tokens, &total->cached_tokens);
    if (total->prompt_tokens >= 0 || total->completion_tokens >= 0) {
        total->total_tokens = std::max<int64_t>(total->prompt_tokens, 0) + std::max<int64_t>(total->completion_tokens, 0);
    }
}

const Usage& attempt_usage(const Usage& error_usage, const Usage& answer_usage, bool answered) {
    static const Usage kUnknown;
    if (has_tokens(error_usage)) return error_usage;
    return answered ? answer_usage : kUnknown;
}

}  // namespace routeshift
