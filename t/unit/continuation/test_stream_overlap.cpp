// stream_overlap: the longest suffix/prefix match between delivered text and a continuation.
#include "continuation/stream_overlap.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_overlap_length(void**) {
    assert_int_equal(overlap_length("one two three", "two three four", 4, 256), 9);
    assert_int_equal(overlap_length("one two three", " four", 4, 256), 0);
    assert_int_equal(overlap_length("one two three", "three four", 4, 256), 5);
    assert_int_equal(overlap_length("aaa", "a b", 4, 256), 0);          // below the minimum: chance
    assert_int_equal(overlap_length("aaa", "a b", 1, 256), 1);
    assert_int_equal(overlap_length("one two three", "two three four", 4, 5), 0);  // bounded: the 9-byte repeat is longer
    assert_int_equal(overlap_length("Hello ", " world", 1, 1), 1);     // the whitespace a prefill lost
    assert_int_equal(overlap_length("Hello ", "world", 1, 1), 0);
    assert_int_equal(overlap_length("", "x", 1, 10), 0);
    assert_int_equal(overlap_length("x", "", 1, 10), 0);
    assert_int_equal(overlap_length("abc", "abc", 1, 0), 0);             // max 0: exact continuation
    // the longest wins over a shorter repeat
    assert_int_equal(overlap_length("ab ab ab", "ab ab ab c", 2, 256), 8);
    // multi-byte text: the match ends on the same bytes
    assert_int_equal(overlap_length("caf\xc3\xa9 au", "caf\xc3\xa9 au lait", 4, 256), 8);
}

static void test_may_grow(void**) {
    assert_true(overlap_may_grow("one two three", "", 256));
    assert_true(overlap_may_grow("one two three", "tw", 256));
    assert_true(overlap_may_grow("one two three", "two th", 256));
    assert_false(overlap_may_grow("one two three", "two three", 256));  // reaches the end: decided
    assert_false(overlap_may_grow("one two three", "xyz", 256));
    assert_false(overlap_may_grow("one two three", "one", 5));           // outside the bounded tail
    assert_false(overlap_may_grow("one two three", "abcdef", 3));        // enough seen
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlap_length),
        cmocka_unit_test(test_may_grow),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
