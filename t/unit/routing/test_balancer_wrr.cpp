// balancer_wrr: nginx smooth weighted round-robin.
#include "routing/balancer_wrr.hpp"

#include <string>
#include <vector>

#include "test_util.hpp"

using namespace routeshift;

static std::string run(std::vector<WrrEntry>& e, int picks) {
    std::string seq;
    for (int i = 0; i < picks; ++i) {
        int p = wrr_pick(e);
        seq += p < 0 ? '-' : static_cast<char>('A' + p);
    }
    return seq;
}

static void test_three_to_one(void**) {
    int64_t ca = 0, cb = 0;
    std::vector<WrrEntry> e = {{3, &ca, true}, {1, &cb, true}};
    std::string seq = run(e, 400);
    assert_int_equal(test::count(seq, "A"), 300);
    assert_int_equal(test::count(seq, "B"), 100);
    // smooth: A A B A repeated, never A A A B
    for (int i = 0; i < 400; i += 4) assert_str_eq(seq.substr(i, 4), "AABA");
    assert_int_equal(ca, 0);  // back to the start after every full cycle
    assert_int_equal(cb, 0);
}

static void test_smoothness_5_1_1(void**) {
    int64_t c[3] = {0, 0, 0};
    std::vector<WrrEntry> e = {{5, &c[0], true}, {1, &c[1], true}, {1, &c[2], true}};
    std::string seq = run(e, 7);
    assert_str_eq(seq, "AABACAA");  // the example from nginx's commit 52327e0
    seq = run(e, 700);
    assert_int_equal(test::count(seq, "A"), 500);
    assert_int_equal(test::count(seq, "B"), 100);
    assert_int_equal(test::count(seq, "C"), 100);
    assert_int_equal(test::count(seq, "AAAAA"), 0);  // "AABACAA" repeats: at most 4 in a row
    for (int i = 0; i < 700; i += 7) assert_str_eq(seq.substr(i, 7), "AABACAA");
}

static void test_ineligible_untouched(void**) {
    int64_t ca = 0, cb = 0, cc = 0;
    std::vector<WrrEntry> e = {{3, &ca, true}, {1, &cb, false}, {2, &cc, true}};
    std::string seq = run(e, 50);
    assert_int_equal(test::count(seq, "B"), 0);
    assert_int_equal(cb, 0);  // not part of the round
    assert_int_equal(test::count(seq, "A"), 30);
    assert_int_equal(test::count(seq, "C"), 20);
    // becomes eligible again: it takes part from its stored current weight
    e[1].eligible = true;
    seq = run(e, 60);
    assert_int_equal(test::count(seq, "A"), 30);
    assert_int_equal(test::count(seq, "B"), 10);
    assert_int_equal(test::count(seq, "C"), 20);
}

static void test_zero_and_negative_weights(void**) {
    int64_t ca = 0, cb = 0, cc = 0;
    std::vector<WrrEntry> e = {{0, &ca, true}, {-3, &cb, true}, {2, &cc, true}};
    std::string seq = run(e, 10);
    assert_str_eq(seq, "CCCCCCCCCC");
    assert_int_equal(ca, 0);
    assert_int_equal(cb, 0);

    std::vector<WrrEntry> zeros = {{0, &ca, true}, {0, &cb, true}};
    assert_int_equal(wrr_pick(zeros), -1);
}

static void test_none_eligible(void**) {
    int64_t ca = 7, cb = -2;
    std::vector<WrrEntry> e = {{3, &ca, false}, {1, &cb, false}};
    assert_int_equal(wrr_pick(e), -1);
    assert_int_equal(ca, 7);
    assert_int_equal(cb, -2);
    std::vector<WrrEntry> empty;
    assert_int_equal(wrr_pick(empty), -1);
    std::vector<WrrEntry> nullcur = {{3, nullptr, true}};
    assert_int_equal(wrr_pick(nullcur), -1);
}

static void test_retry_excludes_tried(void**) {
    // a request marks its tried key ineligible and picks again: the other key is chosen
    int64_t ca = 0, cb = 0;
    std::vector<WrrEntry> e = {{1, &ca, true}, {1, &cb, true}};
    int first = wrr_pick(e);
    e[static_cast<size_t>(first)].eligible = false;
    int second = wrr_pick(e);
    assert_int_not_equal(first, second);
    assert_int_equal(wrr_pick(e), second);  // only one eligible
}

static void test_single_entry(void**) {
    int64_t c = 0;
    std::vector<WrrEntry> e = {{1000, &c, true}};
    for (int i = 0; i < 5; ++i) assert_int_equal(wrr_pick(e), 0);
    assert_int_equal(c, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_to_one),         cmocka_unit_test(test_smoothness_5_1_1),
        cmocka_unit_test(test_ineligible_untouched), cmocka_unit_test(test_zero_and_negative_weights),
        cmocka_unit_test(test_none_eligible),        cmocka_unit_test(test_retry_excludes_tried),
        cmocka_unit_test(test_single_entry),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
