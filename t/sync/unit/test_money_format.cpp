// Dollars <-> microcents for the spend and budget commands: exact, no floating point.
#include "cmocka_cpp.hpp"

#include "money_format.hpp"

using namespace rsync;

static void test_format_usd(void**) {
    assert_string_equal(format_usd(0).c_str(), "$0.00");
    assert_string_equal(format_usd(1).c_str(), "$0.00000001");  // one microcent
    assert_string_equal(format_usd(12345).c_str(), "$0.00012345");
    assert_string_equal(format_usd(150000000).c_str(), "$1.50");
    assert_string_equal(format_usd(250012345).c_str(), "$2.50012345");
    assert_string_equal(format_usd(100000000000).c_str(), "$1000.00");
    assert_string_equal(format_usd(-150000000).c_str(), "-$1.50");
    assert_string_equal(format_usd(INT64_MAX).c_str(), "$92233720368.54775807");
}

static void test_parse_usd(void**) {
    assert_int_equal(*parse_usd("5"), 500000000);
    assert_int_equal(*parse_usd("$5"), 500000000);
    assert_int_equal(*parse_usd("0.5"), 50000000);
    assert_int_equal(*parse_usd(".25"), 25000000);
    assert_int_equal(*parse_usd("0.00000001"), 1);
    assert_int_equal(*parse_usd("10.00000001"), 1000000001);
    assert_int_equal(*parse_usd("9999999999.99999999"), 999999999999999999);
    for (const char* bad : {"", "$", ".", "5.", "-1", "1.123456789", "1e3", "1,5", " 1", "12345678901", "0x10", "$-1"})
        assert_false(parse_usd(bad).has_value());
    // round trip
    for (int64_t v : {0LL, 1LL, 12345LL, 150000000LL, 999999999999LL})
        assert_int_equal(*parse_usd(format_usd(v)), v);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_usd),
        cmocka_unit_test(test_parse_usd),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
