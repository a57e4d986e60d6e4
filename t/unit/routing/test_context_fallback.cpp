// The context-length fallback (docs/design.md §20): the models row's or the deciding route rule's
// context_fallback_model is planned like the request's own model (aliases, providers, bodies,
// cost ceiling) but held until a context-length error; the switch releases it and sets aside the
// rest of the chain.
#include "routing/context_fallback.hpp"
#include "routing/planner.hpp"

#include "plan_environment_fixture.hpp"

#include "test_util.hpp"

#include <string>

using namespace routeshift;
using test::TestEnvironment;

namespace {

const char* kSnapshot = R"({
  "version": 1, "generation": 4,
  "settings": {"retry_budget": 3},
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai"},
    {"id": 2, "name": "claude", "kind": "anthropic"},
    {"id": 3, "name": "gemini", "kind": "gemini"}
  ],
  "provider_keys": [
    {"id": 1, "provider_id": 1, "secret": "sk-oa-1"},
    {"id": 2, "provider_id": 1, "secret": "sk-oa-2"},
    {"id": 3, "provider_id": 2, "secret": "sk-ant-1"},
    {"id": 4, "provider_id": 3, "secret": "AIza-test-key-1"}
  ],
  "models": [
    {"provider_id": 1, "model": "small", "upstream_model": "gpt-small", "context_fallback_model": "long"},
    {"provider_id": 1, "model": "plain", "upstream_model": "gpt-plain"},
    {"provider_id": 1, "model": "self", "upstream_model": "gpt-self", "context_fallback_model": "self"},
    {"provider_id": 2, "model": "long", "upstream_model": "claude-long"},
    {"provider_id": 3, "model": "huge", "upstream_model": "gemini-huge"},
    {"provider_id": 1, "model": "dangling", "context_fallback_model": "nowhere"}
  ],
  "teams": [{"id": 1, "name": "default"}],
  "virtual_keys": [],
  "model_aliases": [{"team_id": 1, "alias": "bigger", "target": "gemini/huge"},
                    {"team_id": null, "alias": "routed", "target": "plain"}],
  "routing_rules": [
    {"id": 7, "priority": 1, "match": {"model": "routed"}, "action": {"route": {"models": ["small"]}},
     "context_fallback_model": "bigger"}
  ],
  "model_prices": []
})";

std::shared_ptr<const Config> g_config;

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

Plan plan_for(const char* model, TestEnvironment& env) {
    std::string body = std::string(R"({"model":")") + model + R"(","messages":[{"role":"user","content":"hi"}]})";
    return plan_request(*g_config, caller(), request(body), 1700000000, PlanOptions{}, env);
}

}  // namespace

static int setup(void**) {
    std::string err;
    g_config = parse_snapshot(kSnapshot, &err);
    if (!g_config) fail_msg("snapshot rejected: %s", err.c_str());
    return 0;
}
static int teardown(void**) {
    g_config.reset();
    return 0;
}

static void test_models_row_fallback_is_planned_and_held(void**) {
    TestEnvironment env(*g_config);
    Plan p = plan_for("small", env);
    assert_true(p.ok);
    assert_str_eq(p.context_fallback.model, "long");
    assert_int_equal(p.context_fallback.first_target, 1);
    assert_int_equal(p.targets.size(), 2);
    assert_str_eq(p.targets[1].upstream_model, "claude-long");
    assert_int_equal(p.candidates.size(), 3);
    assert_false(p.candidates[0].held);
    assert_false(p.candidates[0].context_fallback);
    assert_true(p.candidates[2].held);
    assert_true(p.candidates[2].context_fallback);
    assert_false(p.candidates[2].unusable);
    // its body is built for its own wire (Anthropic Messages)
    assert_true(p.bodies[p.candidates[2].body].bytes.find("\"claude-long\"") != std::string::npos);
    // health never sees a held key; the budget is capped by the request's own healthy keys
    for (int64_t id : env.health_seen) assert_int_not_equal(id, 3);
    assert_int_equal(p.budget.attempts, 2);
    assert_int_equal(p.context_fallback.attempts, 1);
}

static void test_rule_fallback_wins_and_resolves_aliases(void**) {
    TestEnvironment env(*g_config);
    Plan p = plan_for("routed", env);
    assert_true(p.ok);
    assert_int_equal(p.decided_rule, 7);
    assert_str_eq(p.context_fallback.model, "bigger");  // the rule's, not the models row's "long"
    assert_int_equal(p.targets.size(), 2);
    assert_str_eq(p.targets[1].upstream_model, "gemini-huge");  // the team alias "bigger"
    assert_true(p.candidates.back().held);
}

static void test_no_fallback_cases(void**) {
    TestEnvironment env(*g_config);
    Plan plain = plan_for("plain", env);
    assert_true(plain.ok);
    assert_true(plain.context_fallback.model.empty());
    assert_int_equal(plain.context_fallback.first_target, SIZE_MAX);
    // a fallback that names the request's own model adds nothing
    Plan self = plan_for("self", env);
    assert_true(self.ok);
    assert_int_equal(self.context_fallback.first_target, SIZE_MAX);
    assert_int_equal(self.targets.size(), 1);
    // a name that resolves to nothing leaves no fallback (routeshift-sync check reports it)
    Plan dangling = plan_for("dangling", env);
    assert_true(dangling.ok);
    assert_int_equal(dangling.context_fallback.first_target, SIZE_MAX);
}

static void test_held_keys_cannot_save_a_plan(void**) {
    TestEnvironment env(*g_config);
    env.cooling_ms[1] = 5000;
    env.cooling_ms[2] = 3000;
    Plan p = plan_for("small", env);  // the fallback's key 3 is healthy, but only after a context error
    assert_false(p.ok);
    assert_int_equal(p.error.status, 503);
    assert_str_eq(p.error.code, "all_keys_cooling_down");
}

static void test_switch_releases_the_fallback_once(void**) {
    TestEnvironment env(*g_config);
    Plan p = plan_for("small", env);
    std::span<PlannedCandidate> cands(p.candidates);
    unsigned attempts = switch_to_context_fallback(p.context_fallback, cands);
    assert_int_equal(attempts, 1);
    assert_true(p.context_fallback.switched);
    assert_false(p.candidates[2].held);
    assert_false(p.candidates[2].unusable);
    assert_true(p.candidates[0].unusable);  // the same context window: never tried again
    assert_true(p.candidates[1].unusable);
    assert_str_eq(p.candidates[1].unusable_reason, kContextTooSmallReason);
    // the fallback's own context error goes to the client
    assert_int_equal(switch_to_context_fallback(p.context_fallback, cands), 0);

    Plan plain = plan_for("plain", env);
    std::span<PlannedCandidate> plain_cands(plain.candidates);
    assert_int_equal(switch_to_context_fallback(plain.context_fallback, plain_cands), 0);
    assert_false(plain.candidates[0].unusable);
}

static void test_unusable_fallback_is_no_switch(void**) {
    TestEnvironment env(*g_config);
    env.refuse_endpoint.insert(3);
    Plan p = plan_for("small", env);
    assert_true(p.ok);
    assert_false(p.candidates[2].held);  // unusable for its own reason
    std::span<PlannedCandidate> cands(p.candidates);
    assert_int_equal(switch_to_context_fallback(p.context_fallback, cands), 0);
    assert_false(p.candidates[0].unusable);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_row_fallback_is_planned_and_held),
        cmocka_unit_test(test_rule_fallback_wins_and_resolves_aliases),
        cmocka_unit_test(test_no_fallback_cases),
        cmocka_unit_test(test_held_keys_cannot_save_a_plan),
        cmocka_unit_test(test_switch_releases_the_fallback_once),
        cmocka_unit_test(test_unusable_fallback_is_no_switch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
