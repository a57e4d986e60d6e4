// latency_histogram: p50 over the window with an injected clock; old buckets age out.
#include "routing/latency_histogram.hpp"

#include "test_util.hpp"

using namespace routeshift;

static constexpr uint64_t kWindow = 300000;  // 5 minutes: 1-minute buckets
static constexpr uint64_t kStart = 1000000000;

static void test_empty_is_minus_one(void**) {
    LatencyHistogram h{};
    uint64_t samples = 7;
    assert_int_equal(latency_p50(h, kStart, kWindow, &samples), -1);
    assert_int_equal(samples, 0);
}

static void test_median_within_a_bin(void**) {
    LatencyHistogram h{};
    for (int i = 0; i < 10; i++) latency_record(h, kStart, kWindow, 100);
    for (int i = 0; i < 3; i++) latency_record(h, kStart, kWindow, 5000);
    uint64_t samples = 0;
    int64_t p50 = latency_p50(h, kStart, kWindow, &samples);
    assert_int_equal(samples, 13);
    // two bins per octave: within 20% of the true median
    assert_true(p50 >= 80 && p50 <= 120);
}

static void test_fast_and_slow_order(void**) {
    LatencyHistogram fast{}, slow{};
    for (int i = 0; i < 5; i++) {
        latency_record(fast, kStart + i, kWindow, 40);
        latency_record(slow, kStart + i, kWindow, 400);
    }
    assert_true(latency_p50(fast, kStart + 10, kWindow) < latency_p50(slow, kStart + 10, kWindow));
}

static void test_samples_age_out_after_the_window(void**) {
    LatencyHistogram h{};
    latency_record(h, kStart, kWindow, 900);
    assert_true(latency_p50(h, kStart + 4 * 60000, kWindow) > 0);   // 4 minutes later: still in
    assert_int_equal(latency_p50(h, kStart + 6 * 60000, kWindow), -1);  // 6 minutes: gone
    // a new sample reuses the old bucket's slot without counting the old ones
    latency_record(h, kStart + 5 * 60000 + 5, kWindow, 10);
    uint64_t samples = 0;
    int64_t p50 = latency_p50(h, kStart + 5 * 60000 + 6, kWindow, &samples);
    assert_int_equal(samples, 1);
    assert_true(p50 >= 8 && p50 <= 12);
}

static void test_median_moves_with_recent_samples(void**) {
    LatencyHistogram h{};
    for (int i = 0; i < 4; i++) latency_record(h, kStart, kWindow, 1000);
    for (int m = 1; m <= 5; m++)
        for (int i = 0; i < 4; i++) latency_record(h, kStart + m * 60000, kWindow, 50);
    // the 1000 ms minute left the window; only 50 ms samples remain
    int64_t p50 = latency_p50(h, kStart + 5 * 60000, kWindow);
    assert_true(p50 >= 40 && p50 <= 60);
}

static void test_extremes(void**) {
    LatencyHistogram h{};
    latency_record(h, kStart, kWindow, 0);
    assert_int_equal(latency_p50(h, kStart, kWindow), 0);
    LatencyHistogram big{};
    latency_record(big, kStart, kWindow, UINT64_MAX / 2);  // clamps into the last bin
    assert_true(latency_p50(big, kStart, kWindow) > 100000);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_minus_one),
        cmocka_unit_test(test_median_within_a_bin),
        cmocka_unit_test(test_fast_and_slow_order),
        cmocka_unit_test(test_samples_age_out_after_the_window),
        cmocka_unit_test(test_median_moves_with_recent_samples),
        cmocka_unit_test(test_extremes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
