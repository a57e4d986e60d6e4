// cooldown: retryable statuses and cooldown length from Retry-After / retry-after-ms.
#include "routing/cooldown.hpp"

#include "test_util.hpp"

using namespace routeshift;

static const int64_t kNow = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

static void test_retryable(void**) {
    for (int s : {408, 409, 429, 500, 502, 503, 504, 529, 599}) assert_true(status_is_retryable(s));
    for (int s : {0, 200, 201, 301, 400, 401, 402, 403, 404, 413, 422, 498, 600}) assert_false(status_is_retryable(s));
}

static void test_default(void**) {
    assert_int_equal(cooldown_ms("", "", 30, kNow), 30000);
    assert_int_equal(cooldown_ms("", "", 0, kNow), 0);
    assert_int_equal(cooldown_ms("", "", 7200, kNow), 7200000);  // config value, not clamped
    assert_int_equal(cooldown_ms("soon", "later", 12, kNow), 12000);  // junk ignored
    assert_int_equal(cooldown_ms("-5", "-1", 12, kNow), 12000);
    assert_int_equal(cooldown_ms("inf", "nan", 12, kNow), 12000);
}

static void test_seconds(void**) {
    assert_int_equal(cooldown_ms("6", "", 30, kNow), 6000);
    assert_int_equal(cooldown_ms(" 2.5 ", "", 30, kNow), 2500);
    assert_int_equal(cooldown_ms("0", "", 30, kNow), 1000);      // clamped up to 1 s
    assert_int_equal(cooldown_ms("0.2", "", 30, kNow), 1000);
    assert_int_equal(cooldown_ms("86400", "", 30, kNow), 3600000);  // clamped to 1 h
    assert_int_equal(cooldown_ms("3600", "", 30, kNow), 3600000);
    assert_int_equal(cooldown_ms("1e3", "", 30, kNow), 30000);  // not a delay-seconds value
}

static void test_ms_wins(void**) {
    assert_int_equal(cooldown_ms("6", "1500", 30, kNow), 1500);
    assert_int_equal(cooldown_ms("6", "2000.4", 30, kNow), 2001);  // rounded up
    assert_int_equal(cooldown_ms("", "20", 30, kNow), 1000);
    assert_int_equal(cooldown_ms("", "99999999", 30, kNow), 3600000);
    assert_int_equal(cooldown_ms("7", "bogus", 30, kNow), 7000);  // unusable ms header falls back
}

static void test_http_date(void**) {
    // IMF-fixdate 90 s after now
    assert_int_equal(cooldown_ms("Sun, 06 Nov 1994 08:51:07 GMT", "", 30, kNow), 90000);
    // in the past -> minimum
    assert_int_equal(cooldown_ms("Sun, 06 Nov 1994 08:00:00 GMT", "", 30, kNow), 1000);
    // far future -> maximum
    assert_int_equal(cooldown_ms("Wed, 21 Oct 2015 07:28:00 GMT", "", 30, kNow), 3600000);
    // leap day and year boundaries
    const int64_t leap = 951782400;  // Tue, 29 Feb 2000 00:00:00 GMT
    assert_int_equal(cooldown_ms("Tue, 29 Feb 2000 00:00:10 GMT", "", 30, leap), 10000);
    const int64_t ny = 1735689600;  // Wed, 01 Jan 2025 00:00:00 GMT
    assert_int_equal(cooldown_ms("Wed, 01 Jan 2025 00:01:00 GMT", "", 30, ny - 60), 120000);
    // obsolete formats
    assert_int_equal(cooldown_ms("Sunday, 06-Nov-94 08:51:07 GMT", "", 30, kNow), 90000);
    assert_int_equal(cooldown_ms("Sun Nov  6 08:51:07 1994", "", 30, kNow), 90000);
    // malformed dates fall back to the default
    assert_int_equal(cooldown_ms("Sun, 06 Nov 1994 08:51:07 UTC", "", 30, kNow), 30000);
    assert_int_equal(cooldown_ms("Sun, 31 Feb 1994 08:51:07 GMT", "", 30, kNow), 30000);
    assert_int_equal(cooldown_ms("Sun, 06 Foo 1994 08:51:07 GMT", "", 30, kNow), 30000);
    assert_int_equal(cooldown_ms("Sun, 06 Nov 1994 25:51:07 GMT", "", 30, kNow), 30000);
    assert_int_equal(cooldown_ms("Sun, 6 Nov 1994 08:51:07 GMT", "", 30, kNow), 30000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable), cmocka_unit_test(test_default), cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_ms_wins),   cmocka_unit_test(test_http_date),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
