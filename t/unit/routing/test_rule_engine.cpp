// rule_engine + planner: each match kind, first route/block/static decides while tags accumulate,
// conditions (team, environment, key gates, time windows and days in a zone with an injected clock,
// percentage stability and spread), facts computed only when a rule needs them, a pathological
// regex counted as no match, and what the planner makes of it: the rule chain, route_hint over
// the chain, block errors, static answers, per-rule retry budget and cost ceiling.
#include "routing/planner.hpp"
#include "routing/rule_engine.hpp"
#include "canonical/prompt_size.hpp"
#include "egress/wire_adapter.hpp"
#include "rules_fixture.hpp"

#include "plan_environment_fixture.hpp"

#include "test_util.hpp"

#include <chrono>
#include <deque>

using namespace routeshift;
using test::TestEnvironment;

namespace {

// Counts the matches the rules run (to see which facts and regexes were needed).
class CountingEngine final : public RegexEngine {
public:
    mutable size_t matches = 0;
    std::unique_ptr<RegexMatcher> compile(std::string_view pattern, bool caseless, std::string* error) const override {
        auto inner = pcre2_.compile(pattern, caseless, error);
        if (!inner) return nullptr;
        return std::make_unique<Counted>(std::move(inner), &matches);
    }

private:
    class Counted final : public RegexMatcher {
    public:
        Counted(std::unique_ptr<RegexMatcher> inner, size_t* count) : inner_(std::move(inner)), count_(count) {}
        RegexResult match(std::string_view text) const override {
            ++*count_;
            return inner_->match(text);
        }

    private:
        std::unique_ptr<RegexMatcher> inner_;
        size_t* count_;
    };
    Pcre2RegexEngine pcre2_;
};

CountingEngine g_engine;

std::shared_ptr<const Config> config(const std::string& rules, const std::string& zones = "{}") {
    std::string error;
    auto cfg = parse_snapshot(test::rules_snapshot(rules, zones), &error);
    if (!cfg) fail_msg("snapshot rejected: %s", error.c_str());
    return cfg;
}

ChatRequest request(std::string_view body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("test request rejected: %s", err.message.c_str());
    return std::move(*r);
}

const VirtualKey& key(const Config& cfg, int64_t id) {
    for (const VirtualKey& k : cfg.virtual_keys)
        if (k.id == id) return k;
    fail_msg("no virtual key %lld", (long long)id);
    return cfg.virtual_keys[0];
}

const char* kHello = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]})";
constexpr int64_t kNoon = 1751371200;  // 2025-07-01 12:00 UTC, a Tuesday

int64_t decided(const RuleOutcome& o) { return o.decided ? o.decided->id : 0; }

Plan plan(const Config& cfg, int64_t vk, std::string_view body, std::string_view environment = "") {
    TestEnvironment env(cfg);
    PlanOptions options;
    options.environment = environment;
    ChatRequest req = request(body);
    return plan_request(cfg, key(cfg, vk), req, kNoon, options, env);
}

std::string target_models(const Plan& p) {
    std::string out;
    for (const Target& t : p.targets) out += (out.empty() ? "" : ",") + t.upstream_model;
    return out;
}

}  // namespace

static int setup(void**) {
    install_regex_engine(&g_engine);
    return 0;
}

static void test_first_decider_wins_tags_accumulate(void**) {
    auto cfg = config(R"([
      {"id": 1, "priority": 1, "action": {"tag": {"labels": ["all", "seen"]}}},
      {"id": 2, "priority": 2, "match": {"model": "claude-sonnet"}, "action": {"block": {"status": 403}}},
      {"id": 3, "priority": 3, "match": {"model": ["gpt-4o", "x"]}, "action": {"tag": {"labels": ["gpt", "seen"]}}},
      {"id": 4, "priority": 4, "match": {"model_glob": "gpt-*"}, "action": {"route": {"model": "gpt-4o-mini"}}},
      {"id": 5, "priority": 5, "action": {"static": {"content": "never reached"}}}
    ])");
    ChatRequest req = request(kHello);
    RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
    assert_int_equal(decided(o), 4);
    assert_int_equal(o.matched.size(), 3);
    assert_int_equal(o.matched[0], 1);
    assert_int_equal(o.matched[1], 3);
    assert_int_equal(o.matched[2], 4);
    assert_int_equal(o.tags.size(), 3);  // "seen" once
    assert_str_eq(o.tags[2], "gpt");
}

static void test_match_kinds(void**) {
    struct Case {
        const char* match;
        const char* body;
        int64_t vk;
        bool expect;
    } cases[] = {
        {R"({"virtual_keys": [5]})", kHello, 5, true},
        {R"({"virtual_keys": ["lab"]})", kHello, 5, false},
        {R"({"virtual_keys": ["lab"]})", kHello, 6, true},
        {R"({"teams": [2]})", kHello, 6, true},
        {R"({"teams": [2]})", kHello, 7, false},
        {R"({"model_regex": "^gpt-4o$"})", kHello, 5, true},
        {R"({"model_regex": "mini"})", kHello, 5, false},
        {R"({"content_regex": "(?i)HELLO"})", kHello, 5, true},
        {R"({"content_regex": "secret"})", R"({"model":"m","messages":[{"role":"assistant","content":"secret"}]})", 5, false},
        {R"({"content_regex": "sec\u00e9ret"})", R"({"model":"m","messages":[{"role":"system","content":"a sec\u00e9ret"}]})", 5, true},
        // UTF-8 semantics without PCRE2's per-match UTF check: "." is one code point, caseless folds é/É
        {R"({"content_regex": "^.$"})", R"({"model":"m","messages":[{"role":"user","content":"\u00e9"}]})", 5, true},
        {R"({"content_regex": "(?i)^\u00c9t\u00e9$"})", R"({"model":"m","messages":[{"role":"user","content":"\u00e9T\u00c9"}]})", 5, true},
        {R"({"content_regex": "partB"})", R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"partA"},{"type":"text","text":"partB"}]}]})", 5, true},
        {R"({"messages_min": 2})", kHello, 5, false},
        {R"({"messages_max": 1})", kHello, 5, true},
        {R"({"characters_min": 5, "characters_max": 5})", kHello, 5, true},
        // code points, not bytes: 9 x "é" (2 bytes) + "€" (3 bytes) + "bc" = 12 characters in 23 bytes
        {R"({"characters_min": 12, "characters_max": 12})",
         R"({"model":"m","messages":[{"role":"user","content":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u20acbc"}]})", 5, true},  // JSON escapes
        {R"({"characters_min": 12, "characters_max": 12})",
         "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u20acbc\"}]}", 5, true},  // raw UTF-8
        {R"({"tokens_min": 6})", kHello, 5, true},   // ceil(5/4) + 4 per message = 6
        {R"({"tokens_min": 7})", kHello, 5, false},
        {R"({"system_characters_min": 1})", kHello, 5, false},
        {R"({"system_tokens_max": 2})", R"({"model":"m","messages":[{"role":"system","content":"12345678"},{"role":"user","content":"x"}]})", 5, true},
        {R"({"system_tokens_max": 1})", R"({"model":"m","messages":[{"role":"system","content":"12345678"},{"role":"user","content":"x"}]})", 5, false},
        {R"({"metadata": {"tier": "gold"}})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"tier":"gold"}})", 5, true},
        {R"({"metadata": {"tier": "gold"}})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"tier":"silver"}})", 5, false},
        {R"({"metadata": {"tier": "gold"}})", kHello, 5, false},
        {R"({"metadata": {"tier": "gold"}})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":null})", 5, false},
        {R"({"metadata": {"ticket": {"regex": "^T-\\d+$"}}})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"ticket":"T-42"}})", 5, true},
        {R"({"stream": true})", kHello, 5, false},
        {R"({"stream": true})", R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})", 5, true},
        {R"({"tools": false})", kHello, 5, true},
        {R"({"tools": true})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]})", 5, true},
        {R"({"tools": true})", R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[]})", 5, false},
    };
    for (const Case& c : cases) {
        auto cfg = config(std::string(R"([{"id": 1, "match": )") + c.match + R"(, "action": {"tag": {"labels": ["hit"]}}}])");
        ChatRequest req = request(c.body);
        RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, c.vk), req, kNoon, "");
        if (o.matched.empty() == c.expect)
            fail_msg("match %s on %s (vk %lld): expected %s", c.match, c.body, (long long)c.vk,
                     c.expect ? "a match" : "no match");
    }
}

static void test_conditions(void**) {
    std::string zones = R"({"America/New_York": ")" + test::read_zone_base64("America/New_York") + R"("})";
    struct Case {
        const char* conditions;
        int64_t vk;
        std::string_view environment;
        int64_t now;
        bool expect;
    } cases[] = {
        {R"({"environments": ["prod"]})", 5, "prod", kNoon, true},
        {R"({"environments": ["prod"]})", 5, "staging", kNoon, false},
        {R"({"environments": ["prod"]})", 5, "", kNoon, false},
        {R"({"virtual_keys": ["web"]})", 7, "", kNoon, true},
        {R"({"virtual_keys": ["web"]})", 5, "", kNoon, false},
        {R"({"teams": [1]})", 6, "", kNoon, false},
        // 12:00 UTC = 08:00 in New York (EDT) on Tuesday 2025-07-01
        {R"({"time_zone": "America/New_York", "time_windows": [{"start": "08:00", "end": "09:00"}]})", 5, "", kNoon, true},
        {R"({"time_zone": "America/New_York", "time_windows": [{"start": "08:01", "end": "09:00"}]})", 5, "", kNoon, false},
        {R"({"time_windows": [{"start": "12:00", "end": "12:01"}]})", 5, "", kNoon, true},  // UTC by default
        {R"({"time_zone": "America/New_York", "days": ["tue"]})", 5, "", kNoon, true},
        {R"({"time_zone": "America/New_York", "days": ["mon"]})", 5, "", kNoon + 14 * 3600, false},
        // 02:00 UTC Wednesday = 22:00 Tuesday in New York: a window across midnight, Tuesday's
        {R"({"time_zone": "America/New_York", "time_windows": [{"start": "21:00", "end": "03:00"}], "days": ["tue"]})", 5, "",
         kNoon + 14 * 3600, true},
        {R"({"time_zone": "America/New_York", "time_windows": [{"start": "21:00", "end": "03:00"}], "days": ["wed"]})", 5, "",
         kNoon + 14 * 3600, false},
        // winter: 12:00 UTC = 07:00 EST
        {R"({"time_zone": "America/New_York", "time_windows": [{"start": "07:00", "end": "08:00"}]})", 5, "", 1736942400, true},
        {R"({"percentage": 100})", 5, "", kNoon, true},
        {R"({"percentage": 0})", 5, "", kNoon, false},
    };
    for (const Case& c : cases) {
        auto cfg = config(std::string(R"([{"id": 1, "conditions": )") + c.conditions +
                              R"(, "action": {"tag": {"labels": ["hit"]}}}])",
                          zones);
        ChatRequest req = request(kHello);
        RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, c.vk), req, c.now, c.environment);
        if (o.matched.empty() == c.expect)
            fail_msg("conditions %s (vk %lld, env '%.*s'): expected %s", c.conditions, (long long)c.vk,
                     (int)c.environment.size(), c.environment.data(), c.expect ? "a match" : "no match");
    }
    // team_id of the rule is a gate too
    auto cfg = config(R"([{"id": 1, "team_id": 2, "action": {"tag": {"labels": ["hit"]}}}])");
    ChatRequest req = request(kHello);
    assert_true(evaluate_rules(cfg->routing_rules, key(*cfg, 6), req, kNoon, "").matched.size() == 1);
    assert_true(evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "").matched.empty());
}

static void test_percentage_is_stable_and_spread(void**) {
    // The same subject always lands in the same bucket; 10000 subjects spread evenly.
    assert_int_equal(percentage_bucket(7, "k:5"), percentage_bucket(7, "k:5"));
    size_t below = 0;
    for (int i = 0; i < 10000; i++) below += percentage_bucket(7, "s:session-" + std::to_string(i)) < 2500;
    assert_true(below > 2300 && below < 2700);
    // different rules split independently
    size_t same = 0;
    for (int i = 0; i < 1000; i++)
        same += (percentage_bucket(1, "k:" + std::to_string(i)) < 5000) == (percentage_bucket(2, "k:" + std::to_string(i)) < 5000);
    assert_true(same > 400 && same < 600);
    // by session: the session decides, the key does not
    auto cfg = config(R"([{"id": 1, "conditions": {"percentage": 50, "percentage_by": "session"}, "action": {"tag": {"labels": ["hit"]}}}])");
    size_t hits = 0;
    for (int i = 0; i < 400; i++) {
        std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"session_id":"s)" +
                           std::to_string(i) + R"("}})";
        ChatRequest req = request(body);
        bool a = !evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "").matched.empty();
        bool b = !evaluate_rules(cfg->routing_rules, key(*cfg, 6), req, kNoon, "").matched.empty();
        assert_int_equal(a, b);
        hits += a;
    }
    assert_true(hits > 150 && hits < 250);
}

static void test_facts_and_regexes_only_when_needed(void**) {
    auto cfg = config(R"([
      {"id": 1, "match": {"model": "claude-sonnet", "content_regex": "x"}, "action": {"tag": {"labels": ["a"]}}},
      {"id": 2, "conditions": {"environments": ["prod"]}, "match": {"content_regex": "x"}, "action": {"tag": {"labels": ["b"]}}},
      {"id": 3, "match": {"content_regex": "hel+o"}, "action": {"tag": {"labels": ["c"]}}}
    ])");
    ChatRequest req = request(kHello);
    g_engine.matches = 0;
    RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "staging");
    assert_int_equal(g_engine.matches, 1);  // rules 1 and 2 fail on cheap tests before their regex
    assert_int_equal(o.matched.size(), 1);
    assert_int_equal(o.matched[0], 3);
}

// A size minimum above what the request's bytes could hold is rejected without measuring the
// prompt (prompt_size_bound); every minimum, below, at and above the measured size and the bound,
// gives the answer the measurement gives.
static void test_size_minimums_agree_with_the_measurement(void**) {
    const std::string body = R"({"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},)"
                             R"({"role":"user","content":"What is 2 + 2? )" + std::string(300, 'x') + R"("}]})";
    ChatRequest probe = request(body);
    const PromptSize measured = measure_prompt(probe);
    const PromptSizeBound bound = prompt_size_bound(probe);
    assert_true(bound.estimated_tokens >= measured.estimated_tokens);
    struct Kind {
        const char* field;
        uint64_t measured, bound;
    } kinds[] = {
        {"tokens_min", measured.estimated_tokens, bound.estimated_tokens},
        {"characters_min", measured.characters, bound.characters},
        {"system_characters_min", measured.system_characters, bound.characters},
        {"system_tokens_min", estimate_tokens(measured.system_characters), estimate_tokens(bound.characters)},
    };
    for (const Kind& kind : kinds) {
        for (uint64_t min : {uint64_t{0}, kind.measured, kind.measured + 1, kind.bound, kind.bound + 1, kind.bound * 1000}) {
            auto cfg = config(std::string(R"([{"id": 1, "match": {")") + kind.field + R"(": )" + std::to_string(min) +
                              R"(}, "action": {"block": {"status": 403}}}])");
            ChatRequest req = request(body);
            RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
            assert_int_equal(decided(o), min <= kind.measured ? 1 : 0);
        }
    }
}

static std::vector<int64_t> indexed_ids(const Config& cfg, std::string_view model, bool stream) {
    std::vector<int64_t> ids;
    const std::vector<uint32_t>* list = cfg.routing_rules.model_index.candidates(model, stream);
    if (list == nullptr) return {-1};
    for (uint32_t i : *list) ids.push_back(cfg.routing_rules.rules[i].id);
    return ids;
}

// The per-snapshot model index: a known name (public model or alias, team aliases included) walks
// only the rules its model and stream tests let through, without running those tests per request
// (no model-regex match at all); an unknown name takes the whole list; the outcome is the same.
static void test_model_index_skips_rules_and_agrees(void**) {
    auto cfg = config(R"([
      {"id": 1, "priority": 1, "match": {"model": "claude-sonnet"}, "action": {"tag": {"labels": ["a"]}}},
      {"id": 2, "priority": 2, "match": {"model_glob": "gpt-*"}, "action": {"tag": {"labels": ["b"]}}},
      {"id": 3, "priority": 3, "match": {"model_regex": "^gpt-4o$"}, "action": {"tag": {"labels": ["c"]}}},
      {"id": 4, "priority": 4, "match": {"stream": true}, "action": {"tag": {"labels": ["d"]}}},
      {"id": 5, "priority": 5, "match": {"messages_max": 9}, "action": {"tag": {"labels": ["e"]}}},
      {"id": 6, "priority": 6, "match": {"model_regex": "mini|^deep$", "stream": false}, "action": {"block": {"status": 403}}},
      {"id": 7, "priority": 7, "match": {"model": ["smart", "zzz"]}, "action": {"static": {"content": "s"}}}
    ])");
    assert_true((indexed_ids(*cfg, "gpt-4o", false) == std::vector<int64_t>{2, 3, 5}));
    assert_true((indexed_ids(*cfg, "gpt-4o", true) == std::vector<int64_t>{2, 3, 4, 5}));
    assert_true((indexed_ids(*cfg, "gpt-4o-mini", false) == std::vector<int64_t>{2, 5, 6}));
    assert_true((indexed_ids(*cfg, "deep", false) == std::vector<int64_t>{5, 6}));  // a team's alias
    assert_true((indexed_ids(*cfg, "smart", true) == std::vector<int64_t>{4, 5, 7}));
    assert_true((indexed_ids(*cfg, "zzz", false) == std::vector<int64_t>{-1}));  // not a known name

    g_engine.matches = 0;
    ChatRequest req = request(kHello);
    RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
    assert_int_equal(g_engine.matches, 0);  // the model regexes ran once, at snapshot time
    assert_true((o.matched == std::vector<int64_t>{2, 3, 5}));
    assert_null(o.decided);

    req = request(R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]})");
    o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
    assert_int_equal(decided(o), 6);
    assert_true((o.matched == std::vector<int64_t>{2, 5, 6}));

    g_engine.matches = 0;
    req = request(R"({"model":"zzz","stream":true,"messages":[{"role":"user","content":"x"}]})");
    o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
    assert_int_equal(g_engine.matches, 1);  // the full loop: rule 3's model regex per request (6 fails on stream)
    assert_int_equal(decided(o), 7);
    assert_true((o.matched == std::vector<int64_t>{4, 5, 7}));
}

// The index per environment: a rule gated to other environments is not in the list (an
// environment no rule names gets only the ungated rules), and the outcome is the full loop's.
static void test_model_index_by_environment(void**) {
    auto cfg = config(R"([
      {"id": 1, "priority": 1, "conditions": {"environments": ["staging"]}, "action": {"tag": {"labels": ["s"]}}},
      {"id": 2, "priority": 2, "conditions": {"environments": ["prod", "canary"]}, "action": {"tag": {"labels": ["p"]}}},
      {"id": 3, "priority": 3, "match": {"messages_max": 9}, "action": {"tag": {"labels": ["all"]}}},
      {"id": 4, "priority": 4, "conditions": {"environments": ["canary"]}, "action": {"block": {"status": 403}}}
    ])");
    auto ids = [&](std::string_view environment) {
        std::vector<int64_t> out;
        for (uint32_t i : *cfg->routing_rules.model_index.candidates("gpt-4o", false, environment))
            out.push_back(cfg->routing_rules.rules[i].id);
        return out;
    };
    assert_true((ids("") == std::vector<int64_t>{3}));
    assert_true((ids("dev") == std::vector<int64_t>{3}));
    assert_true((ids("staging") == std::vector<int64_t>{1, 3}));
    assert_true((ids("prod") == std::vector<int64_t>{2, 3}));
    assert_true((ids("canary") == std::vector<int64_t>{2, 3, 4}));
    for (std::string_view environment : {"", "dev", "staging", "prod", "canary"}) {
        ChatRequest indexed = request(kHello);  // gpt-4o: indexed
        ChatRequest full = request(R"({"model":"not-indexed","messages":[{"role":"user","content":"hello"}]})");
        RuleOutcome a = evaluate_rules(cfg->routing_rules, key(*cfg, 5), indexed, kNoon, environment);
        RuleOutcome b = evaluate_rules(cfg->routing_rules, key(*cfg, 5), full, kNoon, environment);
        assert_true(a.matched == b.matched);
        assert_true(a.tags == b.tags);
        assert_int_equal(decided(a), decided(b));
    }
    assert_int_equal(decided(evaluate_rules(cfg->routing_rules, key(*cfg, 5), request(kHello), kNoon, "canary")), 4);
}

static void test_pathological_regex_is_no_match(void**) {
    auto cfg = config(R"([{"id": 1, "match": {"content_regex": "^(a+)+$"}, "action": {"block": {"status": 400}}}])");
    std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":")" + std::string(40, 'a') + R"(b"}]})";
    ChatRequest req = request(body);
    auto start = std::chrono::steady_clock::now();
    RuleOutcome o = evaluate_rules(cfg->routing_rules, key(*cfg, 5), req, kNoon, "");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    assert_null(o.decided);
    assert_int_equal(o.regex_errors, 1);
    assert_true(ms < 2000);
}

static void test_planner_route_chain_and_caps(void**) {
    auto cfg = config(R"([{"id": 11, "match": {"model": "gpt-4o"}, "action": {"route": {"models": ["gpt-4o-mini", "smart", "claude-sonnet"]}},
                           "retry_budget": 2, "cost_ceiling_microcents": 900, "first_token_timeout_ms": 1500}])");
    Plan p = plan(*cfg, 5, kHello);
    assert_true(p.ok);
    assert_str_eq(target_models(p), "gpt-4o-mini,gpt-4o,claude-sonnet-4-5");  // the alias resolved in place
    assert_int_equal(p.candidates.size(), 5);  // 2 + 2 openai keys, 1 anthropic key
    unsigned ranks[] = {0, 0, 1, 1, 2};        // the chain position of each candidate's model
    for (size_t i = 0; i < 5; i++) assert_int_equal(p.candidates[i].chain_rank, ranks[i]);
    assert_int_equal(p.decided_rule, 11);
    assert_int_equal(p.budget.attempts, 2);
    assert_int_equal(p.budget.cost_ceiling_microcents, 900);
    assert_int_equal(p.budget.first_token_timeout_ms, 1500);
    assert_str_eq(p.requested_model, "gpt-4o");
    // without a matching rule: the request's model, the settings' budget, no ceiling
    Plan q = plan(*cfg, 5, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]})");
    assert_str_eq(target_models(q), "gpt-4o-mini");
    assert_int_equal(q.decided_rule, 0);
    assert_int_equal(q.budget.attempts, 2);  // settings' 3, capped by gpt-4o-mini's two healthy keys
    assert_int_equal(q.budget.cost_ceiling_microcents, 0);
    assert_int_equal(q.budget.first_token_timeout_ms, 0);  // the directive's limit
}

static void test_planner_route_hint_overrides_the_chain(void**) {
    auto cfg = config(R"([{"id": 11, "action": {"route": {"model": "claude-sonnet"}}, "retry_budget": 1},
                          {"id": 12, "priority": 200, "action": {"block": {"status": 403}}}])");
    Plan p = plan(*cfg, 5, R"({"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"metadata":{"route_hint":"smart"}})");
    assert_true(p.ok);
    assert_str_eq(target_models(p), "gpt-4o");  // pinned to the alias
    assert_int_equal(p.decided_rule, 11);       // the same rule decides; its caps apply
    assert_int_equal(p.budget.attempts, 1);
}

static void test_planner_block_and_static(void**) {
    auto cfg = config(R"([{"id": 1, "priority": 1, "match": {"content_regex": "forbidden"}, "action": {"block": {"status": 451, "message": "Not here."}}},
                          {"id": 2, "priority": 2, "match": {"model": "gpt-4o"}, "action": {"static": {"content": "We are closed."}}},
                          {"id": 3, "priority": 0, "action": {"tag": {"labels": ["seen"]}}}])");
    Plan b = plan(*cfg, 5, R"({"model":"gpt-4o","messages":[{"role":"user","content":"forbidden fruit"}],"metadata":{"route_hint":"smart"}})");
    assert_false(b.ok);  // route_hint does not escape a block
    assert_int_equal(b.error.status, 451);
    assert_str_eq(b.error.message, "Not here.");
    assert_str_eq(b.error.code, "blocked_by_rule");
    assert_int_equal(b.decided_rule, 1);
    assert_int_equal(b.tags.size(), 1);
    Plan s = plan(*cfg, 5, kHello);
    assert_true(s.ok);
    assert_true(s.static_answer);
    assert_str_eq(s.static_content, "We are closed.");
    assert_true(s.targets.empty());
    assert_true(s.candidates.empty());
    Plan n = plan(*cfg, 5, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]})");
    assert_true(n.ok);
    assert_false(n.static_answer);
    assert_int_equal(n.matched_rules.size(), 1);
}

static void test_planner_environment(void**) {
    auto cfg = config(R"([{"id": 1, "conditions": {"environments": ["canary"]}, "action": {"route": {"model": "claude-sonnet"}}}])");
    assert_str_eq(target_models(plan(*cfg, 5, kHello, "canary")), "claude-sonnet-4-5");
    assert_str_eq(target_models(plan(*cfg, 5, kHello, "prod")), "gpt-4o");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_decider_wins_tags_accumulate),
        cmocka_unit_test(test_match_kinds),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_percentage_is_stable_and_spread),
        cmocka_unit_test(test_facts_and_regexes_only_when_needed),
        cmocka_unit_test(test_size_minimums_agree_with_the_measurement),
        cmocka_unit_test(test_pathological_regex_is_no_match),
        cmocka_unit_test(test_model_index_skips_rules_and_agrees),
        cmocka_unit_test(test_model_index_by_environment),
        cmocka_unit_test(test_planner_route_chain_and_caps),
        cmocka_unit_test(test_planner_route_hint_overrides_the_chain),
        cmocka_unit_test(test_planner_block_and_static),
        cmocka_unit_test(test_planner_environment),
    };
    return cmocka_run_group_tests(tests, setup, nullptr);
}
