// rate_limiter: sliding-window RPM/TPM with an injected clock: limits, Retry-After from the
// window, reservations given back and corrected, the prompt estimate + max_tokens reservation.
#include "routing/rate_limiter.hpp"
#include "canonical/prompt_size.hpp"

#include "test_util.hpp"

using namespace routeshift;

static constexpr uint64_t kMinute = 60000;
static constexpr uint64_t kStart = 600000;  // the start of a fixed window

static void test_unlimited(void**) {
    RateWindow w{};
    for (int i = 0; i < 1000; i++) {
        assert_true(rate_allows(w, 0, 1, kStart, kMinute, nullptr));
        rate_take(w, 1, kStart, kMinute);
    }
}

static void test_rpm_limit_and_retry_after(void**) {
    RateWindow w{};
    for (int i = 0; i < 3; i++) {
        assert_true(rate_allows(w, 3, 1, kStart + 1000, kMinute, nullptr));
        rate_take(w, 1, kStart + 1000, kMinute);
    }
    int64_t wait = 0;
    assert_false(rate_allows(w, 3, 1, kStart + 1000, kMinute, &wait));
    // the 3 requests slide out of the window: at 2/3 into the next window the previous weighs 1/3,
    // 3 * 1/3 + 1 = 2 <= 3 already holds once 1 of them has slid out: e >= W * (1 - 2/3)
    assert_int_equal(wait, (int64_t)(kMinute - 1000) + 20000);
    assert_false(rate_allows(w, 3, 1, kStart + 1000 + wait - 1000, kMinute, nullptr));
    assert_true(rate_allows(w, 3, 1, kStart + 1000 + wait, kMinute, nullptr));
    assert_int_equal(rate_usage(w, kStart + 2 * kMinute, kMinute), 0);  // two windows later: empty
}

static void test_sliding_usage(void**) {
    RateWindow w{};
    rate_take(w, 100, kStart + 10, kMinute);
    assert_int_equal(rate_usage(w, kStart + 20, kMinute), 100);
    assert_int_equal(rate_usage(w, kStart + kMinute + kMinute / 4, kMinute), 75);  // 3/4 still overlaps
    assert_int_equal(rate_usage(w, kStart + kMinute + kMinute / 2, kMinute), 50);
}

static void test_amount_over_the_limit_waits_a_window(void**) {
    RateWindow w{};
    int64_t wait = 0;
    assert_false(rate_allows(w, 100, 101, kStart, kMinute, &wait));
    assert_int_equal(wait, (int64_t)kMinute);
}

static void test_tpm_reservation_corrected(void**) {
    RateWindow w{};
    rate_take(w, 500, kStart, kMinute);  // reserved: estimate + max_tokens
    assert_false(rate_allows(w, 1000, 600, kStart, kMinute, nullptr));
    rate_take(w, 120 - 500, kStart + 5, kMinute);  // the answer used 120
    assert_int_equal(rate_usage(w, kStart + 5, kMinute), 120);
    assert_true(rate_allows(w, 1000, 600, kStart + 5, kMinute, nullptr));
    rate_take(w, -10000, kStart + 6, kMinute);  // never below zero
    assert_int_equal(rate_usage(w, kStart + 6, kMinute), 0);
}

static void test_tokens_to_reserve(void**) {
    ApiError err;
    auto body = std::string(R"({"model":"m","messages":[{"role":"user","content":"12345678"}],"max_tokens":50})");
    auto req = parse_chat_request(body, &err);
    assert_true(req.has_value());
    int64_t prompt = (int64_t)measure_prompt(*req).estimated_tokens;
    assert_true(prompt > 0);
    assert_int_equal(tokens_to_reserve(*req), prompt + 50);
    // max_completion_tokens wins over max_tokens
    auto body2 = std::string(R"({"model":"m","messages":[{"role":"user","content":"12345678"}],"max_tokens":50,"max_completion_tokens":7})");
    auto req2 = parse_chat_request(body2, &err);
    assert_int_equal(tokens_to_reserve(*req2), prompt + 7);
    auto body3 = std::string(R"({"model":"m","messages":[{"role":"user","content":"12345678"}]})");
    auto req3 = parse_chat_request(body3, &err);
    assert_int_equal(tokens_to_reserve(*req3), prompt);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_rpm_limit_and_retry_after),
        cmocka_unit_test(test_sliding_usage),
        cmocka_unit_test(test_amount_over_the_limit_waits_a_window),
        cmocka_unit_test(test_tpm_reservation_corrected),
        cmocka_unit_test(test_tokens_to_reserve),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
