// utf8_text: validation, repair and character-safe cutting of text that reaches clients in JSON.
#include "util/utf8_text.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_valid(void**) {
    assert_true(valid_utf8(""));
    assert_true(valid_utf8("plain ascii"));
    assert_true(valid_utf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    assert_false(valid_utf8("\xC3"));              // cut character
    assert_false(valid_utf8("\xC0\xAF"));          // overlong '/'
    assert_false(valid_utf8("\xED\xA0\x80"));      // surrogate
    assert_false(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    assert_false(valid_utf8("\xFF"));
}

static void test_sanitize(void**) {
    assert_str_eq(sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
    assert_str_eq(sanitize_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
    assert_str_eq(sanitize_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    assert_true(valid_utf8(sanitize_utf8("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

static void test_prefix_never_splits_a_character(void**) {
    assert_str_eq(std::string(utf8_prefix("abc", 10)), "abc");
    assert_str_eq(std::string(utf8_prefix("abcdef", 3)), "abc");
    // "a" + euro sign (3 bytes): a cut after 2 or 3 bytes keeps only "a"
    assert_str_eq(std::string(utf8_prefix("a\xE2\x82\xAC" "b", 2)), "a");
    assert_str_eq(std::string(utf8_prefix("a\xE2\x82\xAC" "b", 3)), "a");
    assert_str_eq(std::string(utf8_prefix("a\xE2\x82\xAC" "b", 4)), "a\xE2\x82\xAC");
    assert_true(valid_utf8(utf8_prefix("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 6)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_prefix_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
