// Per-key circuit breaker: N consecutive failures open the circuit for the key's cooldown; then it
// is half-open and lets exactly one probe through (across all workers: the state lives in the
// shared zone, which locks around every call); the probe's success closes it, its failure opens it
// again. Plain data stored as is in the zone.
#pragma once
#include <cstdint>
#include <string_view>

namespace routeshift {

enum class BreakerState : uint8_t { closed, open, half_open };

struct CircuitBreaker {
    uint32_t consecutive_failures;
    uint8_t open;              // 1 while open or half-open
    uint8_t probe_in_flight;   // half-open: the one probe is out
    uint64_t open_until_ms;    // open → half-open at this time
    uint64_t probe_since_ms;   // when the probe was picked
};

// A probe out for longer than this is taken as lost (its worker died, its request leaked) and the
// next request may probe instead: longer than any attempt's timeouts allow.
constexpr uint64_t kLostProbeMs = 10 * 60 * 1000;

BreakerState breaker_state(const CircuitBreaker& breaker, uint64_t now_ms);
std::string_view breaker_state_name(BreakerState state);

// Whether an attempt may go to the key now: closed, or half-open with no probe out (or a lost one).
bool breaker_allows(const CircuitBreaker& breaker, uint64_t now_ms);

// The key was picked; returns true when this attempt is the half-open probe.
bool breaker_on_pick(CircuitBreaker& breaker, uint64_t now_ms);

// An attempt ended. `failed`: the key's fault (it earned a cooldown). `threshold` consecutive
// failures open the circuit for `open_ms` (threshold or open_ms 0: the breaker is off). `probe`:
// the attempt was the half-open probe.
void breaker_on_result(CircuitBreaker& breaker, bool failed, bool probe, uint32_t threshold, uint64_t open_ms,
                       uint64_t now_ms);

// A probe that never reached the provider (given back, or the client left): the next request may
// probe instead.
void breaker_on_abandon(CircuitBreaker& breaker, bool probe);

}  // namespace routeshift
