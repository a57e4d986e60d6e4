// The cost ceiling: the requested output cap, the worst case of an attempt, the decision, and the
// planner's first-attempt check (targets over the ceiling set aside, 400 when none is left, 500
// when nothing is priced, the price in force by effective_from).
#include "routing/cost_ceiling.hpp"
#include "canonical/prompt_size.hpp"
#include "egress/wire_adapter.hpp"
#include "routing/planner.hpp"

#include "plan_environment_fixture.hpp"

#include "test_util.hpp"

#include <deque>

using namespace routeshift;
using test::TestEnvironment;

namespace {

// One model "m" on a cheap and a pricey provider (in that chain order), a third model unpriced.
// cheap: 1 microcent per input token, 2 per output token; pricey: 10 and 20, from t=1000 on; before
// that pricey costs the same as cheap. max_output_tokens only on cheap.
std::string snapshot(const std::string& settings) {
    return R"({"version": 1, "generation": 4, "settings": )" + settings + R"(,
  "providers": [
    {"id": 1, "name": "cheap", "kind": "openai_compat", "base_url": "http://127.0.0.1:9001/v1"},
    {"id": 2, "name": "pricey", "kind": "openai_compat", "base_url": "http://127.0.0.1:9002/v1"}
  ],
  "provider_keys": [
    {"id": 11, "provider_id": 1, "secret": "sk-cheap"},
    {"id": 21, "provider_id": 2, "secret": "sk-pricey-1"},
    {"id": 22, "provider_id": 2, "secret": "sk-pricey-2"}
  ],
  "models": [
    {"provider_id": 1, "model": "m", "upstream_model": "m-cheap"},
    {"provider_id": 2, "model": "m", "upstream_model": "m-pricey"},
    {"provider_id": 1, "model": "unpriced"}
  ],
  "teams": [{"id": 1, "name": "default"}], "virtual_keys": [], "model_aliases": [], "routing_rules": [],
  "model_prices": [
    {"id": 1, "provider_id": 1, "model": "m-cheap", "input_microcents_per_mtok": 1000000,
     "output_microcents_per_mtok": 2000000, "max_output_tokens": 50, "effective_from": 0},
    {"id": 2, "provider_id": 2, "model": "m-pricey", "input_microcents_per_mtok": 1000000,
     "output_microcents_per_mtok": 2000000, "effective_from": 0},
    {"id": 3, "provider_id": 2, "model": "m-pricey", "input_microcents_per_mtok": 10000000,
     "output_microcents_per_mtok": 20000000, "effective_from": 1000}
  ]})";
}

std::shared_ptr<const Config> config(const std::string& settings) {
    std::string err;
    auto cfg = parse_snapshot(snapshot(settings), &err);
    if (!cfg) fail_msg("snapshot rejected: %s", err.c_str());
    return cfg;
}

ChatRequest request(std::string_view body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("test request rejected: %s", err.message.c_str());
    return std::move(*r);
}

VirtualKey caller() {
    VirtualKey vk;
    vk.team_id = 1;
    return vk;
}

// "hi" from the user: ceil(2 / 4) + 4 per message = 5 estimated prompt tokens.
constexpr const char* kHi100 = R"({"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]})";

}  // namespace

static void test_requested_output_cap(void**) {
    assert_int_equal(requested_max_output_tokens(request(
                         R"({"model":"m","max_tokens":10,"max_completion_tokens":20,"messages":[{"role":"user"}]})")),
                     20);
    assert_int_equal(requested_max_output_tokens(request(R"({"model":"m","max_tokens":10,"messages":[{"role":"user"}]})")),
                     10);
    assert_int_equal(requested_max_output_tokens(request(R"({"model":"m","messages":[{"role":"user"}]})")), -1);
    // not a non-negative integer: ignored
    assert_int_equal(requested_max_output_tokens(request(
                         R"({"model":"m","max_completion_tokens":"5","max_tokens":-3,"messages":[{"role":"user"}]})")),
                     -1);
    assert_int_equal(requested_max_output_tokens(request(R"({"model":"m","max_tokens":0,"messages":[{"role":"user"}]})")), 0);
}

static void test_worst_case_and_decision(void**) {
    ModelPrice p;
    p.input_microcents_per_mtok = 2500000;    // 2.5 microcents per token
    p.output_microcents_per_mtok = 10000000;  // 10 per token
    p.max_output_tokens = 4096;
    // ceil(5 × 2.5) + 100 × 10
    assert_int_equal(worst_case_microcents(5, 100, p), 13 + 1000);
    // no request cap: the row's maximum output
    assert_int_equal(worst_case_microcents(5, -1, p), 13 + 40960);
    assert_int_equal(output_cap_tokens(-1, p), 4096);
    // no cap anywhere: only the prompt counts
    p.max_output_tokens = 0;
    assert_int_equal(worst_case_microcents(5, -1, p), 13);
    assert_int_equal(worst_case_microcents(UINT64_MAX, 0, p), INT64_MAX);  // saturates

    assert_true(attempt_fits(0, 1000, 1000));     // exactly at the ceiling fits
    assert_false(attempt_fits(1, 1000, 1000));
    assert_false(attempt_fits(1000, 1, 1000));
    assert_true(attempt_fits(400, 600, 1000));
    assert_false(attempt_fits(0, -1, 1000));      // unknown cost never fits
    assert_true(attempt_fits(5000, -1, 0));       // no ceiling
    assert_false(attempt_fits(INT64_MAX, INT64_MAX, INT64_MAX - 1));  // no overflow
}

static void test_no_ceiling_no_costs(void**) {
    auto cfg = config("{}");
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, caller(), request(kHi100), 5000, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(p.budget.cost_ceiling_microcents, 0);
    assert_true(p.target_costs.empty());
    assert_int_equal(env.health_seen.size(), 3);
}

static void test_ceiling_allows_every_target(void**) {
    auto cfg = config(R"({"cost_ceiling_microcents": 3000})");
    TestEnvironment env(*cfg);
    ChatRequest req = request(kHi100);
    assert_int_equal(measure_prompt(req).estimated_tokens, 5);
    Plan p = plan_request(*cfg, caller(), req, 5000, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(p.budget.cost_ceiling_microcents, 3000);
    assert_int_equal(p.target_costs.size(), 2);
    assert_int_equal(p.target_costs[0].worst_case_microcents, 5 * 1 + 100 * 2);   // cheap
    assert_int_equal(p.target_costs[1].worst_case_microcents, 5 * 10 + 100 * 20); // pricey (row 3)
    assert_int_equal(p.target_costs[1].price->id, 3);
    assert_int_equal(env.health_seen.size(), 3);
}

static void test_targets_over_the_ceiling_set_aside(void**) {
    auto cfg = config(R"({"cost_ceiling_microcents": 1000})");
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, caller(), request(kHi100), 5000, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(env.health_seen.size(), 1);
    assert_int_equal(env.health_seen[0], 11);  // only the cheap key may be picked
    size_t set_aside = 0;
    for (const PlannedCandidate& c : p.candidates) {
        if (cfg->keys[c.key].provider == 1) {
            assert_true(c.unusable);
            assert_contains(c.unusable_reason, "cost ceiling");
            set_aside++;
        }
    }
    assert_int_equal(set_aside, 2);
    assert_int_equal(p.budget.attempts, 1);  // capped by the one key left
}

static void test_first_attempt_over_the_ceiling_400(void**) {
    auto cfg = config(R"({"cost_ceiling_microcents": 204})");  // cheapest worst case: 205
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, caller(), request(kHi100), 5000, PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 400);
    assert_str_eq(p.error.type, "invalid_request_error");
    assert_str_eq(p.error.code, "cost_ceiling_exceeded");
    assert_str_eq(p.error.message,
                  "This request could cost up to 205 microcents on its cheapest route (model 'm': about 5 prompt "
                  "tokens and up to 100 output tokens), more than the cost ceiling of 204 microcents. Lower "
                  "max_completion_tokens or shorten the prompt.");
    assert_int_equal(env.health_calls, 0);  // nothing picked
    // at exactly the worst case it fits
    auto exact = config(R"({"cost_ceiling_microcents": 205})");
    TestEnvironment env2(*exact);
    assert_true(plan_request(*exact, caller(), request(kHi100), 5000, PlanOptions{}, env2).ok);
}

static void test_price_switch_by_effective_from(void**) {
    // before t=1000 the pricey provider costs what the cheap one does: both fit 205
    auto cfg = config(R"({"cost_ceiling_microcents": 205})");
    TestEnvironment before(*cfg);
    Plan p = plan_request(*cfg, caller(), request(kHi100), 999, PlanOptions{}, before);
    assert_true(p.ok);
    assert_int_equal(p.target_costs[1].price->id, 2);
    assert_int_equal(before.health_seen.size(), 3);
    TestEnvironment after(*cfg);
    p = plan_request(*cfg, caller(), request(kHi100), 1000, PlanOptions{}, after);
    assert_true(p.ok);
    assert_int_equal(p.target_costs[1].price->id, 3);
    assert_int_equal(after.health_seen.size(), 1);
}

static void test_row_maximum_without_request_cap(void**) {
    // no max_tokens: cheap counts its max_output_tokens (50): 5 + 100; pricey has none: 50 (prompt only)
    auto cfg = config(R"({"cost_ceiling_microcents": 104})");
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, caller(), request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"),
                          5000, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(p.target_costs[0].worst_case_microcents, 105);
    assert_int_equal(p.target_costs[1].worst_case_microcents, 50);
    assert_int_equal(env.health_seen.size(), 2);
    for (int64_t id : env.health_seen) assert_true(id == 21 || id == 22);
}

static void test_unpriced_model_500(void**) {
    auto cfg = config(R"({"cost_ceiling_microcents": 1000000})");
    TestEnvironment env(*cfg);
    Plan p = plan_request(*cfg, caller(), request(R"({"model":"unpriced","messages":[{"role":"user","content":"hi"}]})"),
                          5000, PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 500);
    assert_str_eq(p.error.code, "cost_ceiling_unpriced");
    assert_contains(p.error.message, "model 'unpriced' of provider 'cheap' has no price");
    assert_int_equal(env.health_calls, 0);
    // without a ceiling the same model is served
    auto free_cfg = config("{}");
    TestEnvironment env2(*free_cfg);
    assert_true(plan_request(*free_cfg, caller(),
                             request(R"({"model":"unpriced","messages":[{"role":"user","content":"hi"}]})"), 5000,
                             PlanOptions{}, env2)
                    .ok);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requested_output_cap),
        cmocka_unit_test(test_worst_case_and_decision),
        cmocka_unit_test(test_no_ceiling_no_costs),
        cmocka_unit_test(test_ceiling_allows_every_target),
        cmocka_unit_test(test_targets_over_the_ceiling_set_aside),
        cmocka_unit_test(test_first_attempt_over_the_ceiling_400),
        cmocka_unit_test(test_price_switch_by_effective_from),
        cmocka_unit_test(test_row_maximum_without_request_cap),
        cmocka_unit_test(test_unpriced_model_500),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
