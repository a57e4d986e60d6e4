// metric_counters: fixed-size status slots and what one attempt / one request adds.
#include "metrics/metric_counters.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_status_slots(void**) {
    assert_int_equal(status_slot(200), 0);
    StatusLabels l = status_slot_labels(status_slot(429));
    assert_str_eq(std::string(l.code), "429");
    assert_str_eq(std::string(l.status_class), "4xx");
    l = status_slot_labels(status_slot(418));  // untracked: its class's "other"
    assert_str_eq(std::string(l.code), "other");
    assert_str_eq(std::string(l.status_class), "4xx");
    l = status_slot_labels(status_slot(201));
    assert_str_eq(std::string(l.code), "other");
    assert_str_eq(std::string(l.status_class), "2xx");
    l = status_slot_labels(status_slot(0));
    assert_str_eq(std::string(l.code), "other");
    assert_str_eq(std::string(l.status_class), "unknown");
    assert_int_equal(status_slot(0), status_slot(600));
    // every tracked code has its own slot and labels that spell it
    for (size_t i = 0; i < kTrackedStatusCount; i++) {
        int code = kTrackedStatusCodes[i].code;
        assert_int_equal(status_slot(code), i);
        assert_str_eq(std::string(status_slot_labels(i).code), std::to_string(code));
    }
    assert_true(status_slot(599) < kStatusSlots);
    assert_true(status_slot(100) < kStatusSlots);
}

static void test_key_attempts(void**) {
    KeyMetrics m{};
    AttemptSample first;
    first.status = 429;
    first.cooldown = true;
    first.ttfb_ms = 30;
    first.duration_ms = 40;
    key_metrics_record(m, first);
    AttemptSample retry;
    retry.status = 200;
    retry.retry = true;
    retry.ttfb_ms = -1;  // no status line: no TTFB sample
    retry.duration_ms = 700;
    retry.cost_microcents = 1234;
    key_metrics_record(m, retry);
    assert_int_equal(m.attempts[status_slot(429)], 1);
    assert_int_equal(m.attempts[status_slot(200)], 1);
    assert_int_equal(m.retries, 1);
    assert_int_equal(m.cooldowns, 1);
    assert_int_equal(m.cost_microcents, 1234);
    assert_int_equal(m.ttfb.count, 1);
    assert_int_equal(m.duration.count, 2);
    assert_int_equal(m.duration.sum_ms, 740);
}

static void test_model_requests(void**) {
    ModelMetrics m{};
    RequestSample s;
    s.status = 200;
    s.ttfb_ms = 120;
    s.duration_ms = 300;
    s.prompt_tokens = 11;
    s.completion_tokens = 5;
    s.cost_microcents = 99;
    model_metrics_record(m, s);
    s.status = 503;
    s.ttfb_ms = -1;
    s.prompt_tokens = -1;  // unknown counts add nothing
    s.completion_tokens = 0;
    s.cost_microcents = 0;
    model_metrics_record(m, s);
    assert_int_equal(m.requests[status_slot(200)], 1);
    assert_int_equal(m.requests[status_slot(503)], 1);
    assert_int_equal(m.prompt_tokens, 11);
    assert_int_equal(m.completion_tokens, 5);
    assert_int_equal(m.cost_microcents, 99);
    assert_int_equal(m.ttfb.count, 1);
    assert_int_equal(m.duration.count, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_slots),
        cmocka_unit_test(test_key_attempts),
        cmocka_unit_test(test_model_requests),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
