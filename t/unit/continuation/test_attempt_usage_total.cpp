// attempt_usage_total: the running usage total a continued stream reports (every attempt's usage,
// summed as the attempts are accounted, without the request log).
#include "continuation/attempt_usage_total.hpp"

#include "test_util.hpp"

using namespace routeshift;

static Usage usage(int64_t prompt, int64_t completion, int64_t cached) {
    Usage u;
    u.prompt_tokens = prompt;
    u.completion_tokens = completion;
    u.cached_tokens = cached;
    u.total_tokens = prompt >= 0 && completion >= 0 ? prompt + completion : -1;
    return u;
}

static void test_sum_of_known_fields(void**) {
    Usage total;
    assert_int_equal(total.prompt_tokens, -1);
    add_attempt_usage(&total, Usage{});  // an attempt that reported nothing leaves it unknown
    assert_int_equal(total.prompt_tokens, -1);
    assert_int_equal(total.total_tokens, -1);
    add_attempt_usage(&total, usage(9, 4, -1));
    add_attempt_usage(&total, usage(-1, -1, -1));
    add_attempt_usage(&total, usage(20, 5, 8));
    assert_int_equal(total.prompt_tokens, 29);
    assert_int_equal(total.completion_tokens, 9);
    assert_int_equal(total.cached_tokens, 8);
    assert_int_equal(total.total_tokens, 38);
    Usage only_output;
    add_attempt_usage(&only_output, usage(-1, 7, -1));
    assert_int_equal(only_output.prompt_tokens, -1);
    assert_int_equal(only_output.completion_tokens, 7);
    assert_int_equal(only_output.total_tokens, 7);
}

// An error body's usage is what the attempt was billed; else the answer's, once there was one.
static void test_attempt_usage_choice(void**) {
    Usage error = usage(5, 0, -1), answer = usage(9, 4, -1), none;
    assert_int_equal(attempt_usage(error, answer, true).prompt_tokens, 5);
    assert_int_equal(attempt_usage(none, answer, true).prompt_tokens, 9);
    assert_int_equal(attempt_usage(none, answer, false).prompt_tokens, -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_of_known_fields),
        cmocka_unit_test(test_attempt_usage_choice),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
