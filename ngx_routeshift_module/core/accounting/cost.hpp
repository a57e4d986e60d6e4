// Money arithmetic of a price row (config/model_prices.hpp) and token counts: what an attempt cost,
// in microcents (1e-6 US cent). The rule of sql/001: cost = ceil(tokens × price_per_mtok / 1e6),
// applied to each token class separately (prompt, cached prompt, completion), so a price list
// entry always rounds the same way whatever else the request used. Results saturate at INT64_MAX
// instead of overflowing.
#pragma once
#include "config/model_prices.hpp"
#include "egress/openai/stream_relay.hpp"

#include <cstdint>

namespace routeshift {

// ceil(tokens × microcents_per_mtok / 1,000,000); 0 for tokens <= 0 or a price <= 0.
int64_t token_cost_microcents(int64_t tokens, int64_t microcents_per_mtok);

// a + b, at most INT64_MAX (both >= 0).
int64_t add_microcents(int64_t a, int64_t b);

// What `usage` cost at `price`: the prompt tokens that were not cached at the input price, the
// cached ones (OpenAI's prompt_tokens include them) at the cached price, the completion tokens
// (reasoning included) at the output price. Unknown counts (-1) count as 0; cached tokens beyond
// the prompt tokens are capped at them.
int64_t usage_cost_microcents(const Usage& usage, const ModelPrice& price);

}  // namespace routeshift
