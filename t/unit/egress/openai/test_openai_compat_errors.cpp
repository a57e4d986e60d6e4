// Retry verdicts for OpenAI-compatible provider errors.
#include "egress/openai/openai_compat_errors.hpp"
#include "test_util.hpp"

using namespace routeshift;

static void test_rate_limit_and_overload_retry(void**) {
    for (int status : {408, 409, 429, 498, 500, 502, 503, 504, 529}) {
        ErrorVerdict v = openai_classify_error(status, R"({"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}})");
        assert_true(v.retry);
        assert_true(v.park_key);
        assert_int_equal(v.park_ms, -1);  // Retry-After / the key's cooldown decide
    }
}

static void test_empty_balance_is_not_retried(void**) {
    const char* bodies[] = {
        R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
        R"({"error":{"code":"1113","message":"Insufficient balance or no resource package."}})",
        R"({"base_resp":{"status_code":1008,"status_msg":"insufficient balance"}})",
        R"({"error":{"message":"Insufficient Balance","type":"unknown_error"}})",
    };
    for (const char* b : bodies) {
        ErrorVerdict v = openai_classify_error(429, b);
        assert_false(v.retry);
        assert_true(v.park_key);
        assert_int_equal(v.park_ms, kQuotaParkMs);
        assert_string_equal(v.error.code.c_str(), "insufficient_quota");
    }
    ErrorVerdict v402 = openai_classify_error(402, R"({"error":{"message":"Insufficient credits"}})");
    assert_false(v402.retry);
    assert_true(v402.park_key);
}

static void test_broken_credential_retries_elsewhere(void**) {
    for (int status : {401, 403}) {
        ErrorVerdict v = openai_classify_error(status, R"({"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}})");
        assert_true(v.retry);
        assert_true(v.park_key);
    }
}

static void test_request_errors_are_final(void**) {
    for (int status : {400, 404, 413, 422}) {
        ErrorVerdict v = openai_classify_error(status, R"({"error":{"message":"context_length_exceeded"}})");
        assert_false(v.retry);
        assert_false(v.park_key);
        assert_int_equal(v.error.status, status);
    }
}

static void test_unknown_body_uses_status(void**) {
    ErrorVerdict v = openai_classify_error(429, "");
    assert_true(v.retry);
    v = openai_classify_error(503, "<html>bad gateway</html>");
    assert_true(v.retry);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limit_and_overload_retry),
        cmocka_unit_test(test_empty_balance_is_not_retried),
        cmocka_unit_test(test_broken_credential_retries_elsewhere),
        cmocka_unit_test(test_request_errors_are_final),
        cmocka_unit_test(test_unknown_body_uses_status),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
