// balance_strategy: distribution of each strategy (weighted round-robin, latency, least-busy) and
// priority tiers, with the per-key state a test keeps (latency from latency_histogram and an
// injected clock, in-flight counts as the zone would keep them).
#include "routing/balance_strategy.hpp"
#include "routing/latency_histogram.hpp"
#include "routing/priority_tiers.hpp"

#include <vector>

#include "test_util.hpp"

using namespace routeshift;

namespace {

struct Key {
    int weight = 1;
    int64_t current = 0;
    int64_t tier = 0;
    uint32_t inflight = 0;
    int64_t p50 = -1;
    bool eligible = true;
    int picks = 0;
};

int pick(BalanceStrategy strategy, std::vector<Key>& keys) {
    std::vector<BalanceEntry> entries;
    for (Key& k : keys) entries.push_back(BalanceEntry{k.weight, &k.current, k.eligible, k.tier, k.inflight, k.p50});
    int i = balance_pick(strategy, entries);
    if (i >= 0) keys[(size_t)i].picks++;
    return i;
}

}  // namespace

static void test_names(void**) {
    assert_true(balance_strategy_from_name("latency") == BalanceStrategy::latency);
    assert_true(balance_strategy_from_name("least_busy") == BalanceStrategy::least_busy);
    assert_true(balance_strategy_from_name("weighted_round_robin") == BalanceStrategy::weighted_round_robin);
    assert_false(balance_strategy_from_name("round_robin").has_value());
    assert_str_eq(balance_strategy_name(BalanceStrategy::least_busy), "least_busy");
}

static void test_wrr_distribution(void**) {
    std::vector<Key> keys(2);
    keys[0].weight = 3;
    for (int i = 0; i < 400; i++) pick(BalanceStrategy::weighted_round_robin, keys);
    assert_int_equal(keys[0].picks, 300);
    assert_int_equal(keys[1].picks, 100);
}

// The latency strategy over time (injected clock): both keys explored first, then every request
// goes to the fast key; once the fast key's samples age out... it is explored and wins again.
static void test_latency_moves_traffic_to_the_fast_key(void**) {
    const uint64_t window = 300000, start = 5000000;
    LatencyHistogram hist[2] = {};
    const uint64_t latency[2] = {400, 40};  // key 0 slow, key 1 fast
    std::vector<Key> keys(2);
    uint64_t now = start;
    for (int request = 0; request < 200; request++, now += 500) {
        for (int k = 0; k < 2; k++) keys[k].p50 = latency_p50(hist[k], now, window);
        int i = pick(BalanceStrategy::latency, keys);
        assert_true(i >= 0);
        latency_record(hist[i], now, window, latency[i]);  // finished before the next request
    }
    assert_int_equal(keys[0].picks, 1);  // explored once
    assert_int_equal(keys[1].picks, 199);
}

static void test_latency_explores_one_request_at_a_time(void**) {
    std::vector<Key> keys(2);
    keys[0].p50 = 50;  // measured
    keys[1].p50 = -1;  // new key, idle: explored
    assert_int_equal(pick(BalanceStrategy::latency, keys), 1);
    keys[1].inflight = 1;  // its exploration is still running: the measured key serves
    for (int i = 0; i < 5; i++) assert_int_equal(pick(BalanceStrategy::latency, keys), 0);
}

static void test_latency_equal_bins_share_by_weight(void**) {
    std::vector<Key> keys(3);
    keys[0].p50 = 64;
    keys[1].p50 = 64;
    keys[1].weight = 3;
    keys[2].p50 = 256;
    for (int i = 0; i < 400; i++) pick(BalanceStrategy::latency, keys);
    assert_int_equal(keys[0].picks, 100);
    assert_int_equal(keys[1].picks, 300);
    assert_int_equal(keys[2].picks, 0);
}

static void test_latency_only_busy_unmeasured_keys_use_weight(void**) {
    std::vector<Key> keys(2);
    keys[0].inflight = keys[1].inflight = 2;
    for (int i = 0; i < 10; i++) pick(BalanceStrategy::latency, keys);
    assert_int_equal(keys[0].picks, 5);
    assert_int_equal(keys[1].picks, 5);
}

// Long requests that stay in flight: least-busy spreads them evenly whatever the weights.
static void test_least_busy_spreads_long_requests(void**) {
    std::vector<Key> keys(3);
    keys[0].weight = 10;
    for (int i = 0; i < 30; i++) {
        int k = pick(BalanceStrategy::least_busy, keys);
        keys[(size_t)k].inflight++;  // never finishes during the test
    }
    assert_int_equal(keys[0].picks, 10);
    assert_int_equal(keys[1].picks, 10);
    assert_int_equal(keys[2].picks, 10);
}

static void test_least_busy_prefers_idle_and_ties_by_weight(void**) {
    std::vector<Key> keys(3);
    keys[0].inflight = 4;
    keys[1].weight = 3;
    for (int i = 0; i < 40; i++) pick(BalanceStrategy::least_busy, keys);  // in-flight unchanged
    assert_int_equal(keys[0].picks, 0);
    assert_int_equal(keys[1].picks, 30);
    assert_int_equal(keys[2].picks, 10);
}

static void test_tiers_primary_then_backup(void**) {
    std::vector<Key> keys(3);
    keys[0].tier = priority_tier(0, 0);  // primary
    keys[1].tier = priority_tier(0, 0);  // primary
    keys[2].tier = priority_tier(0, 1);  // backup
    keys[2].weight = 1000;               // weight never overrides the tier
    for (int i = 0; i < 20; i++) pick(BalanceStrategy::weighted_round_robin, keys);
    assert_int_equal(keys[2].picks, 0);
    keys[0].eligible = false;  // cooling
    for (int i = 0; i < 10; i++) assert_int_equal(pick(BalanceStrategy::weighted_round_robin, keys), 1);
    keys[1].eligible = false;  // limited, or already tried by this request
    assert_int_equal(pick(BalanceStrategy::weighted_round_robin, keys), 2);
    keys[2].eligible = false;
    assert_int_equal(pick(BalanceStrategy::weighted_round_robin, keys), -1);
}

static void test_model_priority_outranks_key_priority(void**) {
    assert_true(priority_tier(0, 1000) < priority_tier(1, 0));
    std::vector<Key> keys(2);
    keys[0].tier = priority_tier(1, 0);
    keys[1].tier = priority_tier(0, 5);
    keys[0].p50 = 1;  // much faster, but a worse tier
    keys[1].p50 = 900;
    for (int i = 0; i < 5; i++) assert_int_equal(pick(BalanceStrategy::latency, keys), 1);
}

static void test_zero_weight_and_missing_state_never_picked(void**) {
    std::vector<Key> keys(2);
    keys[0].weight = 0;
    keys[1].inflight = 9;
    assert_int_equal(pick(BalanceStrategy::least_busy, keys), 1);
    std::vector<BalanceEntry> entries = {BalanceEntry{1, nullptr, true, 0, 0, -1}};
    assert_int_equal(balance_pick(BalanceStrategy::weighted_round_robin, entries), -1);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_wrr_distribution),
        cmocka_unit_test(test_latency_moves_traffic_to_the_fast_key),
        cmocka_unit_test(test_latency_explores_one_request_at_a_time),
        cmocka_unit_test(test_latency_equal_bins_share_by_weight),
        cmocka_unit_test(test_latency_only_busy_unmeasured_keys_use_weight),
        cmocka_unit_test(test_least_busy_spreads_long_requests),
        cmocka_unit_test(test_least_busy_prefers_idle_and_ties_by_weight),
        cmocka_unit_test(test_tiers_primary_then_backup),
        cmocka_unit_test(test_model_priority_outranks_key_priority),
        cmocka_unit_test(test_zero_weight_and_missing_state_never_picked),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
