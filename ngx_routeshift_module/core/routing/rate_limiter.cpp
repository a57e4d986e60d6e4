// Sliding-window rate limits (see rate_limiter.hpp).
#include "routing/rate_limiter.hpp"
#include "canonical/prompt_size.hpp"
#include "util/json_scan.hpp"

#include <algorithm>
#include <cmath>

namespace routeshift {
namespace {

// Moves the window forward to the fixed window containing `now_ms`.
void advance(RateWindow& w, uint64_t now_ms, uint64_t window_ms) {
    uint64_t start = now_ms - now_ms % window_ms;
    if (start == w.window_start_ms) return;
    w.previous = start - w.window_start_ms == window_ms ? w.current : 0;
    w.current = 0;
    w.window_start_ms = start;
}

// How much of the previous window still overlaps the sliding window at `elapsed` ms into the
// current one.
double previous_weight(uint64_t elapsed, uint64_t window_ms) {
    return 1.0 - (double)elapsed / (double)window_ms;
}

// Smallest elapsed time e (ms into a fixed window) where previous*(1 - e/W) + current + amount <=
// limit, or -1 when even e = W does not do it.
int64_t time_until_fits(int64_t previous, int64_t current, int64_t amount, int64_t limit, uint64_t window_ms) {
    int64_t room = limit - current - amount;
    if (room < 0) return -1;
    if (previous <= room) return 0;
    // ceil(W * (previous - room) / previous), exact (128-bit: windows and token counts are large)
    unsigned __int128 numerator = (unsigned __int128)window_ms * (uint64_t)(previous - room);
    return (int64_t)((numerator + (uint64_t)previous - 1) / (uint64_t)previous);
}

}  // namespace

int64_t rate_usage(RateWindow& window, uint64_t now_ms, uint64_t window_ms) {
    if (window_ms == 0) return 0;
    advance(window, now_ms, window_ms);
    double used = (double)window.previous * previous_weight(now_ms - window.window_start_ms, window_ms) +
                  (double)window.current;
    return (int64_t)std::ceil(used);
}

bool rate_allows(RateWindow& window, int64_t limit, int64_t amount, uint64_t now_ms, uint64_t window_ms,
                 int64_t* retry_after_ms) {
    if (limit <= 0 || window_ms == 0) return true;
    advance(window, now_ms, window_ms);
    uint64_t elapsed = now_ms - window.window_start_ms;
    double used = (double)window.previous * previous_weight(elapsed, window_ms) + (double)window.current;
    if (used + (double)amount <= (double)limit) return true;
    if (retry_after_ms) {
        int64_t wait;
        int64_t e = time_until_fits(window.previous, window.current, amount, limit, window_ms);
        if (e >= 0) {
            wait = e - (int64_t)elapsed;
        } else {  // not in this fixed window: in the next one, today's `current` is the previous
            int64_t next = time_until_fits(window.current, 0, amount, limit, window_ms);
            wait = next < 0 ? (int64_t)window_ms : (int64_t)(window_ms - elapsed) + next;
        }
        *retry_after_ms = std::max<int64_t>(wait, 1);
    }
    return false;
}

void rate_take(RateWindow& window, int64_t amount, uint64_t now_ms, uint64_t window_ms) {
    if (window_ms == 0) return;
    advance(window, now_ms, window_ms);
    window.current = std::max<int64_t>(window.current + amount, 0);
}

int64_t tokens_to_reserve(const ChatRequest& request) {
    int64_t tokens = (int64_t)measure_prompt(request).estimated_tokens;
    int64_t max_tokens = 0;
    if (!json_read_int(json_find(request.members, "max_completion_tokens"), &max_tokens))
        json_read_int(json_find(request.members, "max_tokens"), &max_tokens);
    return tokens + std::max<int64_t>(max_tokens, 0);
}

}  // namespace routeshift
