// planner: model chain (aliases, route_hint), candidates per target, shared and per-key bodies,
// "no candidate can express this" (400), no key / all cooling (503 + Retry-After), budgets.
#include "routing/planner.hpp"
#include "egress/wire_adapter.hpp"
#include "snapshot_fixture.hpp"

#include "plan_environment_fixture.hpp"

#include "test_util.hpp"

#include <deque>
#include <map>
#include <set>

using namespace routeshift;
using test::TestEnvironment;

namespace {

std::shared_ptr<const Config> g_fixture;  // every OpenAI-wire provider kind
std::shared_ptr<const Config> g_mixed;    // one model on an Anthropic and an OpenAI provider

const char* kMixedSnapshot = R"({
  "version": 1, "generation": 3,
  "settings": {"retry_budget": 0},
  "providers": [
    {"id": 1, "name": "claude", "kind": "anthropic"},
    {"id": 2, "name": "openai", "kind": "openai"},
    {"id": 3, "name": "broken", "kind": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}
  ],
  "provider_keys": [
    {"id": 1, "provider_id": 1, "secret": "sk-ant-1"},
    {"id": 2, "provider_id": 1, "secret": "sk-ant-2", "weight": 0},
    {"id": 3, "provider_id": 2, "secret": "sk-oa-1"},
    {"id": 4, "provider_id": 2, "secret": "sk-oa-2"},
    {"id": 5, "provider_id": 3, "secret": "sk-br-1"}
  ],
  "models": [
    {"provider_id": 1, "model": "both", "upstream_model": "claude-sonnet-4-5"},
    {"provider_id": 2, "model": "both", "upstream_model": "gpt-4o"},
    {"provider_id": 1, "model": "claude-only", "upstream_model": "claude-sonnet-4-5"},
    {"provider_id": 3, "model": "broken-only"}
  ],
  "teams": [{"id": 1, "name": "default"}],
  "virtual_keys": [],
  "model_aliases": [],
  "routing_rules": [],
  "model_prices": []
})";

ChatRequest request(std::string_view body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("test request rejected: %s", err.message.c_str());
    return std::move(*r);
}

VirtualKey caller(int64_t team) {
    VirtualKey vk;
    vk.team_id = team;
    return vk;
}

std::string provider_of(const Config& cfg, const Plan& p, const PlannedCandidate& c) {
    return cfg.providers[cfg.keys[c.key].provider].name + "/" + p.targets[c.target].upstream_model;
}

}  // namespace

static int setup(void**) {
    g_fixture = test::fixture_config();
    std::string err;
    g_mixed = parse_snapshot(kMixedSnapshot, &err);
    if (!g_mixed) fail_msg("mixed snapshot rejected: %s", err.c_str());
    return 0;
}
static int teardown(void**) {
    g_fixture.reset();
    g_mixed.reset();
    return 0;
}

static void test_chain_and_shared_bodies(void**) {
    const Config& cfg = *g_fixture;
    TestEnvironment env(cfg);
    ChatRequest req = request(R"({"model":"llama-3.3-70b","messages":[{"role":"user","content":"hi"}]})");
    Plan p = plan_request(cfg, caller(1), req, 1700000000, PlanOptions{}, env);
    assert_true(p.ok);
    assert_str_eq(p.requested_model, "llama-3.3-70b");
    assert_int_equal(p.targets.size(), 2);  // the model chain, in order
    assert_int_equal(p.candidates.size(), 2);
    assert_str_eq(provider_of(cfg, p, p.candidates[0]), "together/meta-llama/Llama-3.3-70B-Instruct-Turbo");
    assert_str_eq(provider_of(cfg, p, p.candidates[1]), "groq/llama-3.3-70b-versatile");
    assert_int_equal(p.bodies.size(), 2);
    assert_true(p.bodies[p.candidates[1].body].bytes.find("\"llama-3.3-70b-versatile\"") != std::string::npos);
    assert_non_null(p.candidates[0].endpoint);
    assert_str_eq(p.candidates[0].endpoint->host, "api.together.xyz");
    assert_int_equal(p.planned_at_unix, 1700000000);
    assert_int_equal(env.health_calls, 1);
    // the fixture's retry_budget (3), capped by the two healthy keys
    assert_int_equal(p.budget.attempts, 2);
}

static void test_openai_keys_share_one_body_azure_v1_does_not(void**) {
    const Config& cfg = *g_fixture;
    TestEnvironment env(cfg);
    ChatRequest req = request(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
    Plan p = plan_request(cfg, caller(1), req, 0, PlanOptions{}, env);
    assert_true(p.ok);
    assert_int_equal(p.candidates.size(), 2);  // key 12 is disabled
    assert_int_equal(p.candidates[0].body, p.candidates[1].body);
    assert_int_equal(p.bodies.size(), 1);
    assert_int_equal(p.bodies[0].key_id, -1);
    assert_int_equal(p.budget.attempts, 2);

    Plan m = plan_request(cfg, caller(1), request(R"({"model":"azure-v1/gpt-4o-mini","messages":[{"role":"user"}]})"),
                          0, PlanOptions{}, env);
    assert_true(m.ok);
    assert_int_equal(m.candidates.size(), 2);
    assert_int_not_equal(m.candidates[0].body, m.candidates[1].body);  // deployment from each key
    assert_int_equal(m.bodies[m.candidates[0].body].key_id, 20);
    assert_true(m.bodies[m.candidates[0].body].bytes.find("\"gpt4o-prod\"") != std::string::npos);
}

static void test_aliases_and_route_hint(void**) {
    const Config& cfg = *g_fixture;
    TestEnvironment env(cfg);
    // team 1's own "smart" beats the global one
    Plan a = plan_request(cfg, caller(1), request(R"({"model":"smart","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_true(a.ok);
    assert_int_equal(a.targets.size(), 1);
    assert_str_eq(cfg.providers[a.targets[0].provider].name, "openai");
    assert_str_eq(a.targets[0].upstream_model, "gpt-4o-2024-11-20");
    Plan g = plan_request(cfg, caller(2), request(R"({"model":"smart","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_true(g.ok);
    assert_int_equal(g.targets.size(), 2);
    // metadata.route_hint replaces body.model for routing; the body keeps the upstream model
    Plan h = plan_request(cfg, caller(2),
                          request(R"({"model":"gpt-4o","metadata":{"route_hint":"fast"},"messages":[{"role":"user"}]})"),
                          0, PlanOptions{}, env);
    assert_true(h.ok);
    assert_str_eq(h.requested_model, "fast");
    assert_int_equal(h.targets.size(), 1);
    assert_str_eq(cfg.providers[h.targets[0].provider].name, "groq");
    assert_true(h.bodies[0].bytes.find("\"model\":\"llama-3.3-70b-versatile\"") != std::string::npos);
    assert_true(h.bodies[0].bytes.find("route_hint") == std::string::npos);
}

static void test_unknown_model_404(void**) {
    const Config& cfg = *g_fixture;
    TestEnvironment env(cfg);
    Plan p = plan_request(cfg, caller(1), request(R"({"model":"only-offline","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 404);
    assert_str_eq(p.error.code, "model_not_found");
    assert_int_equal(env.health_calls, 0);
}

static void test_format_that_cannot_express_request(void**) {
    const Config& cfg = *g_mixed;
    TestEnvironment env(cfg);
    const char* logprobs = R"({"model":"%s","logprobs":true,"messages":[{"role":"user","content":"hi"}]})";
    char body[256];
    // only Anthropic serves it: its 400 reaches the client
    snprintf(body, sizeof body, logprobs, "claude-only");
    Plan p = plan_request(cfg, caller(1), request(body), 0, PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 400);
    assert_str_eq(p.error.param, "logprobs");
    assert_int_equal(p.candidates.size(), 1);  // key 2 has weight 0
    assert_true(p.candidates[0].unusable);
    assert_int_equal(env.health_calls, 0);
    // an OpenAI provider also serves it: the Anthropic key is skipped, the plan stands
    snprintf(body, sizeof body, logprobs, "both");
    Plan q = plan_request(cfg, caller(1), request(body), 0, PlanOptions{}, env);
    assert_true(q.ok);
    assert_int_equal(q.candidates.size(), 3);
    assert_true(q.candidates[0].unusable);
    assert_str_eq(q.candidates[0].unusable_reason, p.error.message);
    assert_false(q.candidates[1].unusable);
    assert_false(q.candidates[2].unusable);
    assert_int_equal(env.health_seen.size(), 2);  // the unusable one is marked so health skips it
    // without logprobs the Anthropic body is built in its own format
    Plan r = plan_request(cfg, caller(1), request(R"({"model":"both","messages":[{"role":"user","content":"hi"}]})"), 0,
                          PlanOptions{}, env);
    assert_true(r.ok);
    assert_false(r.candidates[0].unusable);
    assert_true(r.bodies[r.candidates[0].body].bytes.find("\"max_tokens\"") != std::string::npos);
}

static void test_no_endpoint_is_no_provider_key(void**) {
    const Config& cfg = *g_mixed;
    TestEnvironment env(cfg);
    env.refuse_endpoint = {5};
    Plan p = plan_request(cfg, caller(1), request(R"({"model":"broken-only","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 503);
    assert_str_eq(p.error.code, "no_provider_key");
    assert_str_eq(p.error.type, "server_error");
    assert_str_eq(p.error.message, "No enabled provider key serves model 'broken-only'.");
    assert_int_equal(p.retry_after_seconds, 0);
    assert_str_eq(p.candidates[0].unusable_reason, "refused endpoint of key 5");
}

static void test_all_cooling_503_retry_after(void**) {
    const Config& cfg = *g_mixed;
    TestEnvironment env(cfg);
    env.cooling_ms = {{1, 4500}, {3, 1200}, {4, 9000}};
    Plan p = plan_request(cfg, caller(1), request(R"({"model":"both","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_false(p.ok);
    assert_int_equal(p.error.status, 503);
    assert_str_eq(p.error.code, "all_keys_cooling_down");
    assert_str_eq(p.error.message,
                  "Every provider key for model 'both' is cooling down after upstream errors; retry later.");
    assert_int_equal(p.retry_after_seconds, 2);  // 1200 ms, rounded up
    // one key back: the plan stands, with one attempt
    env.cooling_ms.erase(4);
    Plan q = plan_request(cfg, caller(1), request(R"({"model":"both","messages":[{"role":"user"}]})"), 0,
                          PlanOptions{}, env);
    assert_true(q.ok);
    assert_int_equal(q.budget.attempts, 1);
}

static void test_budget_sources(void**) {
    const Config& cfg = *g_mixed;  // settings.retry_budget 0: the directive decides
    TestEnvironment env(cfg);
    ChatRequest req = request(R"({"model":"both","messages":[{"role":"user"}]})");
    PlanOptions o;
    o.directive_retry_budget = 2;
    assert_int_equal(plan_request(cfg, caller(1), req, 0, o, env).budget.attempts, 2);
    o.directive_retry_budget = 0;  // never less than one attempt
    assert_int_equal(plan_request(cfg, caller(1), req, 0, o, env).budget.attempts, 1);
    o.directive_retry_budget = 10;  // never more than the healthy keys (3)
    assert_int_equal(plan_request(cfg, caller(1), req, 0, o, env).budget.attempts, 3);
    // the snapshot's budget wins over the directive
    TestEnvironment fenv(*g_fixture);
    o.directive_retry_budget = 1;
    Plan f = plan_request(*g_fixture, caller(1),
                          request(R"({"model":"local/x","messages":[{"role":"user"}]})"), 0, o, fenv);
    assert_true(f.ok);
    assert_int_equal(f.candidates.size(), 3);
    assert_int_equal(f.budget.attempts, 3);
}

static void test_stream_endpoint(void**) {
    const Config& cfg = *g_mixed;
    TestEnvironment env(cfg);
    Plan p = plan_request(cfg, caller(1),
                          request(R"({"model":"both","stream":true,"messages":[{"role":"user"}]})"), 0, PlanOptions{},
                          env);
    assert_true(p.ok);
    const std::string& oa = p.bodies[p.candidates[1].body].bytes;
    assert_true(oa.find("\"include_usage\":true") != std::string::npos);
    assert_true(p.bodies[p.candidates[0].body].bytes.find("\"stream\":true") != std::string::npos);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_and_shared_bodies),
        cmocka_unit_test(test_openai_keys_share_one_body_azure_v1_does_not),
        cmocka_unit_test(test_aliases_and_route_hint),
        cmocka_unit_test(test_unknown_model_404),
        cmocka_unit_test(test_format_that_cannot_express_request),
        cmocka_unit_test(test_no_endpoint_is_no_provider_key),
        cmocka_unit_test(test_all_cooling_503_retry_after),
        cmocka_unit_test(test_budget_sources),
        cmocka_unit_test(test_stream_endpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
