// Price × tokens: ceil(tokens × price / 1e6) per token class, cached prompt tokens at their own
// price, unknown counts as zero, saturation instead of overflow.
#include "accounting/cost.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

ModelPrice price(int64_t input, int64_t output, int64_t cached) {
    ModelPrice p;
    p.input_microcents_per_mtok = input;
    p.output_microcents_per_mtok = output;
    p.cached_input_microcents_per_mtok = cached;
    return p;
}

Usage usage(int64_t prompt, int64_t completion, int64_t cached) {
    Usage u;
    u.prompt_tokens = prompt;
    u.completion_tokens = completion;
    u.cached_tokens = cached;
    return u;
}

}  // namespace

static void test_token_cost_rounds_up(void**) {
    // $2.50 / 1M tokens = 250000000 microcents per Mtok: one token = 250 microcents exactly
    assert_int_equal(token_cost_microcents(1, 250000000), 250);
    assert_int_equal(token_cost_microcents(1000000, 250000000), 250000000);
    assert_int_equal(token_cost_microcents(3, 1), 1);              // 3e-6 microcents -> 1
    assert_int_equal(token_cost_microcents(1000000, 1), 1);        // exactly 1
    assert_int_equal(token_cost_microcents(1000001, 1), 2);        // a hair over -> 2
    assert_int_equal(token_cost_microcents(3, 333333), 1);         // 999999 / 1e6 -> 1
    assert_int_equal(token_cost_microcents(3, 333334), 2);         // 1000002 / 1e6 -> 2
    assert_int_equal(token_cost_microcents(0, 250000000), 0);
    assert_int_equal(token_cost_microcents(-5, 250000000), 0);
    assert_int_equal(token_cost_microcents(5, 0), 0);
    // tokens × price passes 2^63 before the division: still exact
    assert_int_equal(token_cost_microcents(10000000, 2000000000000LL), 20000000000000LL);
    assert_int_equal(token_cost_microcents(INT64_MAX, INT64_MAX), INT64_MAX);  // saturates
    assert_int_equal(add_microcents(INT64_MAX - 1, 5), INT64_MAX);
    assert_int_equal(add_microcents(2, 5), 7);
}

static void test_usage_cost_by_class(void**) {
    // 1000 prompt tokens of which 400 cached, 500 completion tokens
    ModelPrice p = price(250000000, 1000000000, 125000000);
    // 600 × 250 + 400 × 125 + 500 × 1000 microcents
    assert_int_equal(usage_cost_microcents(usage(1000, 500, 400), p), 150000 + 50000 + 500000);
    // no cached price given in the row means the input price (the parser fills it in)
    assert_int_equal(usage_cost_microcents(usage(1000, 500, 400), price(250000000, 1000000000, 250000000)),
                     250000 + 500000);
    // each class is rounded up on its own: 1 uncached, 1 cached, 1 completion token at 1 microcent/Mtok
    assert_int_equal(usage_cost_microcents(usage(2, 1, 1), price(1, 1, 1)), 3);
}

static void test_usage_cost_unknown_and_odd_counts(void**) {
    ModelPrice p = price(1000000, 2000000, 500000);  // 1, 2 and 0.5 microcents per token
    assert_int_equal(usage_cost_microcents(Usage{}, p), 0);                 // all unknown (-1)
    assert_int_equal(usage_cost_microcents(usage(10, -1, -1), p), 10);     // completion unknown
    assert_int_equal(usage_cost_microcents(usage(-1, 10, -1), p), 20);     // prompt unknown
    assert_int_equal(usage_cost_microcents(usage(10, 0, 50), p), 5);       // cached capped at the prompt
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_cost_rounds_up),
        cmocka_unit_test(test_usage_cost_by_class),
        cmocka_unit_test(test_usage_cost_unknown_and_odd_counts),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
