// Per-key circuit breaker (see circuit_breaker.hpp).
#include "routing/circuit_breaker.hpp"

namespace routeshift {

BreakerState breaker_state(const CircuitBreaker& breaker, uint64_t now_ms) {
    if (!breaker.open) return BreakerState::closed;
    return now_ms < breaker.open_until_ms ? BreakerState::open : BreakerState::half_open;
}

std::string_view breaker_state_name(BreakerState state) {
    switch (state) {
        case BreakerState::open: return "open";
        case BreakerState::half_open: return "half_open";
        case BreakerState::closed: break;
    }
    return "closed";
}

bool breaker_allows(const CircuitBreaker& breaker, uint64_t now_ms) {
    switch (breaker_state(breaker, now_ms)) {
        case BreakerState::closed: return true;
        case BreakerState::half_open:
            return !breaker.probe_in_flight || now_ms - breaker.probe_since_ms >= kLostProbeMs;
        case BreakerState::open: break;
    }
    return false;
}

bool breaker_on_pick(CircuitBreaker& breaker, uint64_t now_ms) {
    if (breaker_state(breaker, now_ms) != BreakerState::half_open) return false;
    breaker.probe_in_flight = 1;
    breaker.probe_since_ms = now_ms;
    return true;
}

void breaker_on_result(CircuitBreaker& breaker, bool failed, bool probe, uint32_t threshold, uint64_t open_ms,
                       uint64_t now_ms) {
    if (probe) breaker.probe_in_flight = 0;
    if (!failed) {
        breaker.consecutive_failures = 0;
        // an attempt picked before the circuit opened does not close it: only the probe decides
        if (probe || !breaker.open) breaker.open = 0;
        return;
    }
    if (breaker.consecutive_failures != UINT32_MAX) breaker.consecutive_failures++;
    if (threshold == 0 || open_ms == 0) return;
    if (probe || (!breaker.open && breaker.consecutive_failures >= threshold)) {
        breaker.open = 1;
        breaker.open_until_ms = now_ms + open_ms;
    }
}

void breaker_on_abandon(CircuitBreaker& breaker, bool probe) {
    if (probe) breaker.probe_in_flight = 0;
}

}  // namespace routeshift
