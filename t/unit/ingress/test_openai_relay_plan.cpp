// openai_relay_plan: the files provider, OpenAI-wire-only models, calls pinned to an object's key
// (docs/design.md §21).
#include "ingress/openai_relay_plan.hpp"

#include "plan_environment_fixture.hpp"
#include "test_util.hpp"

using namespace routeshift;

static std::shared_ptr<const Config> config(const char* files_provider) {
    std::string json = R"({"version":1,"generation":1,"settings":{)";
    if (files_provider) json += std::string(R"("files_provider":")") + files_provider + "\"";
    json += R"(},
      "providers":[{"id":1,"name":"oa","kind":"openai","base_url":"http://127.0.0.1:9/v1"},
                   {"id":2,"name":"claude","kind":"anthropic","base_url":"http://127.0.0.1:9"}],
      "provider_keys":[{"id":11,"provider_id":1,"label":"a","secret":"sk-a","weight":1},
                       {"id":12,"provider_id":1,"label":"b","secret":"sk-b","weight":0},
                       {"id":13,"provider_id":1,"label":"c","secret":"sk-c","weight":1,"enabled":false},
                       {"id":21,"provider_id":2,"label":"x","secret":"sk-x","weight":1}],
      "models":[{"provider_id":1,"model":"both"},{"provider_id":2,"model":"both"},
                {"provider_id":2,"model":"claude-only"},{"provider_id":1,"model":"gpt"}],
      "teams":[{"id":1,"name":"t"}],"virtual_keys":[],"model_aliases":[{"team_id":null,"alias":"c","target":"claude-only"}],
      "routing_rules":[],"model_prices":[]})";
    std::string err;
    auto cfg = parse_snapshot(json, &err);
    if (!cfg) fail_msg("snapshot: %s", err.c_str());
    return cfg;
}

static void test_files_provider(void**) {
    size_t provider = 99;
    ApiError err;
    assert_false(relay_files_provider(*config(nullptr), &provider, &err));
    assert_int_equal(err.status, 400);
    assert_str_eq(err.code, "files_provider_not_configured");
    assert_false(relay_files_provider(*config("claude"), &provider, &err));  // no OpenAI-wire key
    assert_str_eq(err.code, "files_provider_unavailable");
    assert_false(relay_files_provider(*config("nope"), &provider, &err));
    assert_true(relay_files_provider(*config("oa"), &provider, &err));
    assert_int_equal(provider, 0);
}

static void test_model_wire(void**) {
    auto cfg = config("oa");
    ApiError err;
    assert_true(relay_model_on_openai_wire(*cfg, 1, "both", "/v1/completions", &err));
    assert_true(relay_model_on_openai_wire(*cfg, 1, "gpt", "/v1/completions", &err));
    assert_false(relay_model_on_openai_wire(*cfg, 1, "claude-only", "/v1/audio/speech", &err));
    assert_int_equal(err.status, 400);
    assert_str_eq(err.code, "endpoint_not_available_for_model");
    assert_contains(err.message, "/v1/audio/speech");
    assert_false(relay_model_on_openai_wire(*cfg, 1, "c", "/v1/rerank", &err));  // through an alias
    assert_str_eq(err.code, "endpoint_not_available_for_model");
    assert_false(relay_model_on_openai_wire(*cfg, 1, "missing", "/v1/rerank", &err));
    assert_int_equal(err.status, 404);
}

static void test_provider_call_and_pinned_key(void**) {
    auto cfg = config("oa");
    test::TestEnvironment env(*cfg);
    Plan plan = plan_provider_call(*cfg, 0, std::nullopt, "oa", 3, env);
    assert_true(plan.ok);
    assert_int_equal(plan.candidates.size(), 1);  // weight 0 and disabled keys take no new calls
    assert_int_equal(cfg->keys[plan.candidates[0].key].id, 11);
    assert_int_equal(plan.budget.attempts, 1);
    assert_true(plan.targets[0].upstream_model.empty());

    // an object on the weight-0 key is still served by it
    std::optional<size_t> b = key_index_by_id(*cfg, 12);
    assert_true(b.has_value());
    plan = plan_provider_call(*cfg, 0, b, "oa", 3, env);
    assert_true(plan.ok);
    assert_int_equal(plan.candidates.size(), 1);
    assert_int_equal(cfg->keys[plan.candidates[0].key].id, 12);
    // ...but never by a disabled key, and a cooling key says so
    plan = plan_provider_call(*cfg, 0, key_index_by_id(*cfg, 13), "oa", 3, env);
    assert_false(plan.ok);
    assert_str_eq(plan.error.code, "no_provider_key");
    env.cooling_ms[12] = 4500;
    plan = plan_provider_call(*cfg, 0, b, "oa", 3, env);
    assert_false(plan.ok);
    assert_int_equal(plan.error.status, 503);
    assert_str_eq(plan.error.code, "all_keys_cooling_down");
    assert_int_equal(plan.retry_after_seconds, 5);
    assert_false(key_index_by_id(*cfg, 999).has_value());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_provider),
        cmocka_unit_test(test_model_wire),
        cmocka_unit_test(test_provider_call_and_pinned_key),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
