// util/hex: bytes and integer digits, lower case, zero-padded.
#include "util/hex.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_bytes(void**) {
    const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[8];
    assert_ptr_equal(write_hex(out, bytes, sizeof bytes), out + 8);
    assert_str_eq(std::string(out, 8), "000fa5ff");
    std::string s = "x";
    append_hex(s, bytes, sizeof bytes);
    append_hex(s, bytes, 0);
    assert_str_eq(s, "x000fa5ff");
}

static void test_integer_digits(void**) {
    std::string s;
    append_hex_digits(s, 0x1a2b, 8);
    assert_str_eq(s, "00001a2b");
    s.clear();
    append_hex_digits(s, 0x123456789abcdef0ULL, 4);  // the low digits only
    assert_str_eq(s, "def0");
    s.clear();
    append_hex_digits(s, UINT64_MAX, 16);
    assert_str_eq(s, "ffffffffffffffff");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_integer_digits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
