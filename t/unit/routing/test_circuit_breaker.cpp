// circuit_breaker: N consecutive failures open the circuit for the cooldown; half-open lets
// exactly one probe through; the probe's verdict closes or re-opens it (injected clock).
#include "routing/circuit_breaker.hpp"

#include "test_util.hpp"

using namespace routeshift;

static constexpr uint64_t kOpen = 5000;

static void fail_once(CircuitBreaker& b, uint64_t now, bool probe = false) {
    breaker_on_result(b, true, probe, 3, kOpen, now);
}

static void test_opens_after_threshold_consecutive_failures(void**) {
    CircuitBreaker b{};
    fail_once(b, 100);
    fail_once(b, 110);
    breaker_on_result(b, false, false, 3, kOpen, 120);  // a success resets the count
    fail_once(b, 130);
    fail_once(b, 140);
    assert_true(breaker_state(b, 150) == BreakerState::closed);
    fail_once(b, 150);
    assert_true(breaker_state(b, 151) == BreakerState::open);
    assert_false(breaker_allows(b, 151));
    assert_int_equal(b.open_until_ms, 150 + kOpen);
}

static void test_half_open_lets_exactly_one_probe(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 3; i++) fail_once(b, 0);
    uint64_t later = kOpen + 1;
    assert_true(breaker_state(b, later) == BreakerState::half_open);
    assert_str_eq(breaker_state_name(breaker_state(b, later)), "half_open");
    assert_true(breaker_allows(b, later));
    assert_true(breaker_on_pick(b, later));  // the probe
    assert_false(breaker_allows(b, later));  // nobody else while it is out
    assert_false(breaker_allows(b, later + 100000));
    breaker_on_result(b, false, true, 3, kOpen, later + 10);  // probe succeeded
    assert_true(breaker_state(b, later + 11) == BreakerState::closed);
    assert_true(breaker_allows(b, later + 11));
    assert_false(breaker_on_pick(b, later + 11));  // closed: ordinary picks are no probes
}

static void test_failed_probe_reopens(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 3; i++) fail_once(b, 0);
    assert_true(breaker_on_pick(b, kOpen));
    fail_once(b, kOpen + 20, true);
    assert_true(breaker_state(b, kOpen + 21) == BreakerState::open);
    assert_int_equal(b.open_until_ms, kOpen + 20 + kOpen);
    assert_false(b.probe_in_flight);
}

static void test_abandoned_probe_frees_the_slot(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 3; i++) fail_once(b, 0);
    assert_true(breaker_on_pick(b, kOpen));
    breaker_on_abandon(b, true);
    assert_true(breaker_allows(b, kOpen));
    assert_true(breaker_state(b, kOpen) == BreakerState::half_open);
}

static void test_lost_probe_is_replaced(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 3; i++) fail_once(b, 0);
    assert_true(breaker_on_pick(b, kOpen));
    assert_false(breaker_allows(b, kOpen + kLostProbeMs - 1));
    assert_true(breaker_allows(b, kOpen + kLostProbeMs));  // its worker died: another may probe
    assert_true(breaker_on_pick(b, kOpen + kLostProbeMs));
    assert_false(breaker_allows(b, kOpen + kLostProbeMs + 1));
}

static void test_late_success_of_an_older_attempt_does_not_close(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 3; i++) fail_once(b, 0);
    breaker_on_result(b, false, false, 3, kOpen, 10);  // picked before it opened
    assert_true(breaker_state(b, 11) == BreakerState::open);
}

static void test_off_when_threshold_or_cooldown_is_zero(void**) {
    CircuitBreaker b{};
    for (int i = 0; i < 10; i++) breaker_on_result(b, true, false, 0, kOpen, 0);
    assert_true(breaker_state(b, 1) == BreakerState::closed);
    CircuitBreaker c{};
    for (int i = 0; i < 10; i++) breaker_on_result(c, true, false, 3, 0, 0);
    assert_true(breaker_state(c, 1) == BreakerState::closed);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_after_threshold_consecutive_failures),
        cmocka_unit_test(test_half_open_lets_exactly_one_probe),
        cmocka_unit_test(test_failed_probe_reopens),
        cmocka_unit_test(test_abandoned_probe_frees_the_slot),
        cmocka_unit_test(test_lost_probe_is_replaced),
        cmocka_unit_test(test_late_success_of_an_older_attempt_does_not_close),
        cmocka_unit_test(test_off_when_threshold_or_cooldown_is_zero),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
