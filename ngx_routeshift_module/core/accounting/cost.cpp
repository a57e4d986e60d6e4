// Price × tokens (see cost.hpp).
#include "accounting/cost.hpp"

#include <algorithm>

namespace routeshift {

int64_t token_cost_microcents(int64_t tokens, int64_t microcents_per_mtok) {
    if (tokens <= 0 || microcents_per_mtok <= 0) return 0;
    // 128-bit product: a large prompt at a high price passes 2^63 before the division.
    unsigned __int128 product = (unsigned __int128)(uint64_t)tokens * (uint64_t)microcents_per_mtok;
    unsigned __int128 cost = (product + 999999) / 1000000;
    return cost > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)cost;
}

int64_t add_microcents(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

int64_t usage_cost_microcents(const Usage& usage, const ModelPrice& price) {
    int64_t prompt = std::max<int64_t>(usage.prompt_tokens, 0);
    int64_t cached = std::min(std::max<int64_t>(usage.cached_tokens, 0), prompt);
    int64_t completion = std::max<int64_t>(usage.completion_tokens, 0);
    int64_t cost = token_cost_microcents(prompt - cached, price.input_microcents_per_mtok);
    cost = add_microcents(cost, token_cost_microcents(cached, price.cached_input_microcents_per_mtok));
    return add_microcents(cost, token_cost_microcents(completion, price.output_microcents_per_mtok));
}

}  // namespace routeshift
