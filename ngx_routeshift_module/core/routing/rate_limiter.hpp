// Requests and tokens per window (RPM/TPM) for provider keys, virtual keys and teams: a sliding
// window counter (the current fixed window plus the previous one weighted by how much of it still
// overlaps the sliding window). Plain data stored as is in the shared zone (the zone locks around
// every call). TPM is reserved before an attempt (estimate) and corrected with real usage after.
#pragma once
#include "ingress/chat_request.hpp"

#include <cstdint>

namespace routeshift {

struct RateWindow {
    uint64_t window_start_ms;  // start of the current fixed window (a multiple of window_ms)
    int64_t current;           // amount taken in the current fixed window
    int64_t previous;          // amount taken in the one before it
};

// Usage of the sliding window ending at `now_ms`.
int64_t rate_usage(RateWindow& window, uint64_t now_ms, uint64_t window_ms);

// Whether `amount` more fits under `limit` now (limit <= 0: unlimited). When it does not,
// `retry_after_ms` (optional) gets how long until it would (at least 1 ms; a whole window when
// `amount` alone exceeds the limit).
bool rate_allows(RateWindow& window, int64_t limit, int64_t amount, uint64_t now_ms, uint64_t window_ms,
                 int64_t* retry_after_ms);

// Takes `amount` (negative: gives back, e.g. a reservation larger than the real usage). The
// current window never goes below zero.
void rate_take(RateWindow& window, int64_t amount, uint64_t now_ms, uint64_t window_ms);

// The tokens a request reserves against TPM limits before it is sent: the one prompt estimate
// (canonical/prompt_size) plus max_completion_tokens, else max_tokens, else nothing more.
int64_t tokens_to_reserve(const ChatRequest& request);

}  // namespace routeshift
