// Balancing and limits in the snapshot and the planner: the new snapshot fields (strategy, tiers,
// limits, breaker threshold, windows) parse into typed fields and bad values reject the snapshot;
// candidates carry their failover tier; every key rate-limited → 429 + Retry-After.
#include "routing/planner.hpp"
#include "routing/priority_tiers.hpp"

#include "plan_environment_fixture.hpp"

#include "test_util.hpp"

#include <deque>
#include <map>

using namespace routeshift;
using test::TestEnvironment;

namespace {

const char* kSnapshot = R"({
  "version": 1, "generation": 4,
  "settings": {"circuit_breaker_threshold": 4, "latency_window_seconds": 10, "rate_limit_window_seconds": 2},
  "providers": [
    {"id": 1, "name": "fast", "kind": "openai", "balancing": "latency"},
    {"id": 2, "name": "busy", "kind": "openai_compat", "base_url": "http://127.0.0.1:9/v1", "balancing": "least_busy"}
  ],
  "provider_keys": [
    {"id": 1, "provider_id": 1, "secret": "sk-1", "rpm": 5, "tpm": 900},
    {"id": 2, "provider_id": 1, "secret": "sk-2", "priority": 2, "circuit_breaker_threshold": 0},
    {"id": 3, "provider_id": 2, "secret": "sk-3"}
  ],
  "models": [
    {"provider_id": 1, "model": "m"},
    {"provider_id": 2, "model": "m", "priority": 1}
  ],
  "teams": [{"id": 1, "name": "default", "rpm_limit": 10, "tpm_limit": 5000}, {"id": 2, "name": "free"}],
  "virtual_keys": [{"id": 7, "team_id": 1, "name": "ci", "rpm_limit": 3, "tpm_limit": null,
                    "key_hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}],
  "model_aliases": [], "routing_rules": [], "model_prices": []
})";

std::shared_ptr<const Config> parse(const std::string& text) {
    std::string err;
    auto cfg = parse_snapshot(text, &err);
    if (!cfg) fail_msg("snapshot rejected: %s", err.c_str());
    return cfg;
}

ChatRequest request() {
    ApiError err;
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", &err);
    if (!r) fail_msg("test request rejected: %s", err.message.c_str());
    return std::move(*r);
}

std::string rejected(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    std::string err;
    if (parse_snapshot(text, &err)) fail_msg("snapshot with %s accepted", to.c_str());
    return err;
}

}  // namespace

static void test_snapshot_fields(void**) {
    auto cfg = parse(kSnapshot);
    assert_true(cfg->providers[0].balancing == BalanceStrategy::latency);
    assert_true(cfg->providers[1].balancing == BalanceStrategy::least_busy);
    assert_int_equal(cfg->settings.circuit_breaker_threshold, 4);
    assert_int_equal(cfg->settings.latency_window_seconds, 10);
    assert_int_equal(cfg->settings.rate_limit_window_seconds, 2);
    assert_int_equal(cfg->keys[0].rpm, 5);
    assert_int_equal(cfg->keys[0].breaker_threshold, 4);  // the settings default
    assert_int_equal(cfg->keys[1].breaker_threshold, 0);
    assert_int_equal(cfg->keys[1].priority, 2);
    assert_int_equal(cfg->models[1].priority, 1);
    assert_int_equal(cfg->virtual_keys[0].rpm_limit, 3);
    assert_int_equal(cfg->virtual_keys[0].tpm_limit, 0);
    assert_int_equal(cfg->team_limits.size(), 1);
    assert_int_equal(cfg->team_limits.at(1).tpm_limit, 5000);
    assert_true(cfg->token_limits);
    // defaults without the new fields
    auto plain = parse(R"({"version":1,"generation":1,"providers":[{"id":1,"name":"o","kind":"openai"}],
                          "provider_keys":[{"id":1,"provider_id":1,"secret":"s"}]})");
    assert_true(plain->providers[0].balancing == BalanceStrategy::weighted_round_robin);
    assert_int_equal(plain->keys[0].breaker_threshold, 5);
    assert_int_equal(plain->settings.rate_limit_window_seconds, 60);
    assert_int_equal(plain->settings.latency_window_seconds, 300);
    assert_false(plain->token_limits);
}

static void test_bad_values_reject_the_snapshot(void**) {
    assert_contains(rejected(kSnapshot, "\"least_busy\"", "\"fastest\""),
                    "providers[1] (id 2): unknown balancing 'fastest'");
    assert_contains(rejected(kSnapshot, "\"priority\": 2", "\"priority\": -1"), "priority -1 is out of range");
    assert_contains(rejected(kSnapshot, "\"rpm_limit\": 3", "\"rpm_limit\": \"3\""),
                    "virtual_keys[0] (id 7): rpm_limit must be an integer");
    assert_contains(rejected(kSnapshot, "\"rate_limit_window_seconds\": 2", "\"rate_limit_window_seconds\": 0"),
                    "settings.rate_limit_window_seconds 0 is out of range");
}

static void test_candidates_carry_their_tier(void**) {
    auto cfg = parse(kSnapshot);
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, VirtualKey{}, request(), 0, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(p.candidates.size(), 3);
    assert_int_equal(p.candidates[0].tier, priority_tier(0, 0));  // fast, key 1
    assert_int_equal(p.candidates[1].tier, priority_tier(0, 2));  // fast, key 2 (priority 2)
    assert_int_equal(p.candidates[2].tier, priority_tier(1, 0));  // busy (model priority 1)
}

static void test_every_key_limited_is_429(void**) {
    auto cfg = parse(kSnapshot);
    TestEnvironment env(*cfg);
    env.limited_ms = {{1, 2500}, {2, 1200}, {3, 9000}};
    Plan p = plan_request(*cfg, VirtualKey{}, request(), 0, PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 429);
    assert_str_eq(p.error.code, "rate_limit_exceeded");
    assert_str_eq(p.error.type, "rate_limit_error");
    assert_int_equal(p.retry_after_seconds, 2);  // 1200 ms rounded up
    // limited and cooling together: 503 with the shorter of both waits
    env.limited_ms.erase(2);
    env.cooling_ms = {{2, 4000}};
    Plan q = plan_request(*cfg, VirtualKey{}, request(), 0, PlanOptions{}, env);
    assert_int_equal(q.error.status, 503);
    assert_str_eq(q.error.code, "all_keys_cooling_down");
    assert_int_equal(q.retry_after_seconds, 3);  // key 1's 2500 ms limit wait
    // one key within its limits: planned, one attempt
    env.cooling_ms.clear();
    Plan r = plan_request(*cfg, VirtualKey{}, request(), 0, PlanOptions{}, env);
    assert_true(r.ok);
    assert_int_equal(r.budget.attempts, 1);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_fields),
        cmocka_unit_test(test_bad_values_reject_the_snapshot),
        cmocka_unit_test(test_candidates_carry_their_tier),
        cmocka_unit_test(test_every_key_limited_is_429),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
