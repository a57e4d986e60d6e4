// routing_rules: every rule kind parses into typed rules in priority order; unknown fields and bad
// values (regexes, statuses, models, aliases, keys, teams, time zones, windows, percentages)
// reject the snapshot with a message naming the row and the field; time zones come from the
// snapshot's embedded TZif data.
#include "config/routing_rules.hpp"
#include "rules_fixture.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::shared_ptr<const Config> parse_ok(const std::string& rules, const std::string& zones = "{}") {
    std::string error;
    auto cfg = parse_snapshot(test::rules_snapshot(rules, zones), &error);
    if (!cfg) fail_msg("snapshot rejected: %s", error.c_str());
    return cfg;
}

std::string parse_error(const std::string& rules, const std::string& zones = "{}") {
    std::string error;
    auto cfg = parse_snapshot(test::rules_snapshot(rules, zones), &error);
    if (cfg) fail_msg("snapshot accepted, expected an error for %s", rules.c_str());
    return error;
}

}  // namespace

static int setup(void**) {
    test::install_test_regex_engine();
    return 0;
}

static void test_every_kind_parses_in_priority_order(void**) {
    auto cfg = parse_ok(R"([
      {"id": 4, "priority": 50, "match": {"model": "gpt-4o", "stream": true}, "action": {"route": {"models": ["gpt-4o-mini", "claude-sonnet"]}},
       "retry_budget": 2, "cost_ceiling_microcents": 5000, "first_token_timeout_ms": 2500},
      {"id": 3, "priority": 10, "match": {"content_regex": "(?i)password"}, "action": {"block": {"status": 403, "message": "no secrets"}}},
      {"id": 2, "priority": 50, "match": {"metadata": {"team": "blue", "ticket": {"regex": "^T-[0-9]+$"}}}, "action": {"tag": {"labels": ["blue", "ticketed"]}}},
      {"id": 1, "priority": 90, "match": {"model_glob": "claude-*"}, "action": {"static": {"content": "maintenance"}}},
      {"id": 9, "priority": 1, "enabled": false, "action": {"tag": {"labels": ["off"]}}},
      {"id": 8, "priority": 70, "team_id": 2, "action": {"route": {"alias": "deep"}},
       "conditions": {"time_windows": [{"start": "22:00", "end": "06:00"}], "days": ["sat", "sun"],
                      "environments": ["prod"], "virtual_keys": ["lab", 5], "teams": [2], "percentage": 12.5,
                      "percentage_by": "session"}}
    ])");
    const auto& rules = cfg->routing_rules.rules;
    assert_int_equal(rules.size(), 5);  // the disabled one is left out
    int64_t order[] = {3, 2, 4, 8, 1};  // priority, then id
    for (size_t i = 0; i < 5; i++) assert_int_equal(rules[i].id, order[i]);
    assert_true(rules[0].action == RuleAction::block);
    assert_int_equal(rules[0].block_status, 403);
    assert_str_eq(rules[0].block_message, "no secrets");
    assert_true(rules[0].needs_text);
    assert_true(rules[1].action == RuleAction::tag);
    assert_int_equal(rules[1].labels.size(), 2);
    assert_int_equal(rules[1].metadata.size(), 2);
    assert_true(rules[2].action == RuleAction::route);
    assert_int_equal(rules[2].route_models.size(), 2);
    assert_int_equal(rules[2].retry_budget, 2);
    assert_int_equal(rules[2].cost_ceiling_microcents, 5000);
    assert_int_equal(rules[2].first_token_timeout_ms, 2500);
    assert_int_equal(rules[0].first_token_timeout_ms, 0);  // not set: the directive's limit
    assert_true(rules[2].stream.has_value() && *rules[2].stream);
    assert_false(rules[2].needs_prompt_size);
    assert_int_equal(rules[3].team_id, 2);
    assert_int_equal(rules[3].time_windows.size(), 1);
    assert_int_equal(rules[3].time_windows[0].first, 22 * 60);
    assert_int_equal(rules[3].days, 0x41);  // sun + sat
    assert_int_equal(rules[3].percentage_basis_points, 1250);
    assert_true(rules[3].percentage_by_session);
    assert_int_equal(rules[3].gate_virtual_keys.names.size(), 1);
    assert_int_equal(rules[3].gate_virtual_keys.ids.size(), 1);
    assert_true(rules[4].action == RuleAction::static_response);
    assert_str_eq(rules[4].static_content, "maintenance");
    // the tests each rule has, which the engine runs and no other (rule_tests)
    assert_int_equal(rules[1].tests, kRuleTestMetadata);
    assert_int_equal(rules[3].tests, kRuleTestConditions);
    assert_int_equal(rules[4].tests, kRuleTestModelNames);
    assert_int_equal(rules[0].tests & kRuleTestContent, kRuleTestContent);
    assert_int_equal(rules[2].tests & (kRuleTestModelNames | kRuleTestSize), kRuleTestModelNames);
}

static void test_sizes_need_the_prompt_measure(void**) {
    auto cfg = parse_ok(R"([{"id": 1, "match": {"tokens_min": 1000, "system_characters_max": 10},
                              "action": {"route": {"model": "gpt-4o-mini"}}}])");
    const RoutingRule& rule = cfg->routing_rules.rules[0];
    assert_true(rule.needs_prompt_size);
    assert_int_equal(rule.tests, kRuleTestSize);
    assert_true(rule.tokens.set);
    assert_int_equal(rule.tokens.min, 1000);
    assert_int_equal(rule.system_characters.max, 10);
    assert_false(rule.characters.set);
}

static void test_unknown_fields_rejected_naming_the_row(void**) {
    std::string e = parse_error(R"([{"id": 7, "action": {"tag": {"labels": ["a"]}}, "colour": "red"}])");
    assert_contains(e, "routing_rules[0] (id 7)");
    assert_contains(e, "colour");
    e = parse_error(R"([{"id": 1, "action": {"tag": {"labels": ["a"]}}}, {"id": 8, "match": {"modle": "x"}, "action": {"tag": {"labels": ["a"]}}}])");
    assert_contains(e, "routing_rules[1] (id 8).match");
    assert_contains(e, "modle");
    e = parse_error(R"([{"id": 7, "action": {"tag": {"labels": ["a"]}}, "conditions": {"timezone": "UTC"}}])");
    assert_contains(e, "conditions");
    assert_contains(e, "timezone");
    e = parse_error(R"([{"id": 7, "action": {"redirect": {}}}])");
    assert_contains(e, "redirect");
    e = parse_error(R"([{"id": 7, "action": {"tag": {"labels": ["a"]}, "block": {"status": 403}}}])");
    assert_contains(e, "exactly one");
    e = parse_error(R"([{"id": 7, "action": {"block": {"status": 403, "body": "x"}}}])");
    assert_contains(e, "action.block");
    e = parse_error(R"([{"id": 7, "action": {"tag": {"labels": ["a"]}}}, {"id": 7, "action": {"tag": {"labels": ["b"]}}}])");
    assert_contains(e, "duplicate id");
    e = parse_error(R"([{"id": 7}])");
    assert_contains(e, "action");
}

static void test_bad_values_rejected(void**) {
    struct Case {
        const char* rules;
        const char* expect;
    } cases[] = {
        {R"([{"id": 3, "match": {"content_regex": "(unclosed"}, "action": {"tag": {"labels": ["a"]}}}])",
         "match.content_regex: invalid regex"},
        {R"([{"id": 3, "match": {"model_regex": "a{2,1}"}, "action": {"tag": {"labels": ["a"]}}}])", "model_regex"},
        {R"([{"id": 3, "match": {"metadata": {"k": {"regex": "["}}}, "action": {"tag": {"labels": ["a"]}}}])",
         "metadata.k.regex"},
        {R"([{"id": 3, "action": {"block": {"status": 200}}}])", "out of range 400..599"},
        {R"([{"id": 3, "action": {"block": {}}}])", "status: is required"},
        {R"([{"id": 3, "action": {"route": {"model": "no-such-model"}}}])", "does not resolve"},
        {R"([{"id": 3, "action": {"route": {"alias": "deep"}}}])", "is not an alias"},  // team 2's alias, global rule
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o", "alias": "smart"}}}])", "exactly one of"},
        {R"([{"id": 3, "action": {"tag": {"labels": ["has space"]}}}])", "labels"},
        {R"([{"id": 3, "action": {"tag": {"labels": ["a"]}}, "retry_budget": 2}])", "never decides"},
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o"}}, "retry_budget": 21}])", "retry_budget"},
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o"}}, "cost_ceiling_microcents": 0}])", "cost_ceiling"},
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o"}}, "first_token_timeout_ms": 0}])", "first_token_timeout_ms"},
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o"}}, "first_token_timeout_ms": 3600001}])",
         "first_token_timeout_ms"},
        {R"([{"id": 3, "action": {"route": {"model": "gpt-4o"}}, "first_token_timeout_ms": "5s"}])", "first_token_timeout_ms"},
        {R"([{"id": 3, "action": {"tag": {"labels": ["a"]}}, "first_token_timeout_ms": 500}])", "never decides"},
        {R"([{"id": 3, "team_id": 9, "action": {"tag": {"labels": ["a"]}}}])", "team_id: 9 does not exist"},
        {R"([{"id": 3, "match": {"virtual_keys": ["nobody"]}, "action": {"tag": {"labels": ["a"]}}}])", "'nobody' does not exist"},
        {R"([{"id": 3, "match": {"teams": [42]}, "action": {"tag": {"labels": ["a"]}}}])", "team id 42"},
        {R"([{"id": 3, "match": {"messages_min": 5, "messages_max": 2}, "action": {"tag": {"labels": ["a"]}}}])", "greater than"},
        {R"([{"id": 3, "match": {"stream": "yes"}, "action": {"tag": {"labels": ["a"]}}}])", "boolean"},
        {R"([{"id": 3, "conditions": {"time_zone": "Mars/Olympus"}, "action": {"tag": {"labels": ["a"]}}}])",
         "not in the snapshot's time_zones"},
        {R"([{"id": 3, "conditions": {"time_windows": [{"start": "9:00", "end": "17:00"}]}, "action": {"tag": {"labels": ["a"]}}}])",
         "HH:MM"},
        {R"([{"id": 3, "conditions": {"time_windows": [{"start": "09:00", "end": "09:00"}]}, "action": {"tag": {"labels": ["a"]}}}])",
         "empty window"},
        {R"([{"id": 3, "conditions": {"days": ["monday"]}, "action": {"tag": {"labels": ["a"]}}}])", "'monday'"},
        {R"([{"id": 3, "conditions": {"percentage": 101}, "action": {"tag": {"labels": ["a"]}}}])", "0 to 100"},
        {R"([{"id": 3, "conditions": {"percentage_by": "session"}, "action": {"tag": {"labels": ["a"]}}}])", "needs a percentage"},
        {R"([{"id": 3, "conditions": {"environments": []}, "action": {"tag": {"labels": ["a"]}}}])", "must not be empty"},
    };
    for (const Case& c : cases) {
        std::string e = parse_error(c.rules);
        if (!test::contains(e, "routing_rules[0] (id 3)") || !test::contains(e, c.expect))
            fail_msg("for %s\n  got: %s\n  expected to contain: %s", c.rules, e.c_str(), c.expect);
    }
}

static void test_team_rule_may_use_its_team_alias(void**) {
    auto cfg = parse_ok(R"([{"id": 1, "team_id": 2, "action": {"route": {"alias": "deep"}}}])");
    assert_str_eq(cfg->routing_rules.rules[0].route_models[0], "deep");
}

static void test_time_zones_from_the_snapshot(void**) {
    std::string zones = R"({"Europe/Berlin": ")" + test::read_zone_base64("Europe/Berlin") + R"("})";
    auto cfg = parse_ok(R"([{"id": 1, "conditions": {"time_zone": "Europe/Berlin", "time_windows": [{"start": "09:00", "end": "17:00"}]},
                             "action": {"tag": {"labels": ["office"]}}}])",
                        zones);
    const RoutingRule& rule = cfg->routing_rules.rules[0];
    assert_non_null(rule.time_zone);
    assert_int_equal(rule.time_zone->utc_offset(1751371200), 7200);  // 2025-07-01 12:00 UTC: CEST
    std::string e = parse_error("[]", R"({"Europe/Berlin": "bm90IGEgem9uZQ=="})");
    assert_contains(e, "time_zones['Europe/Berlin']");
    e = parse_error("[]", R"({"Europe/Berlin": "%%%%"})");
    assert_contains(e, "base64");
}

static void test_no_regex_engine_rejects_regex_rules(void**) {
    install_regex_engine(nullptr);
    std::string e = parse_error(R"([{"id": 3, "match": {"content_regex": "x"}, "action": {"tag": {"labels": ["a"]}}}])");
    assert_contains(e, "no regex engine");
    parse_ok(R"([{"id": 3, "match": {"model": "gpt-4o"}, "action": {"tag": {"labels": ["a"]}}}])");
    test::install_test_regex_engine();
}

static void test_glob(void**) {
    assert_true(glob_match("gpt-*", "gpt-4o"));
    assert_true(glob_match("*mini", "gpt-4o-mini"));
    assert_true(glob_match("gpt-?o", "gpt-4o"));
    assert_true(glob_match("*", ""));
    assert_true(glob_match("a*b*c", "aXXbYYc"));
    assert_false(glob_match("gpt-*", "claude"));
    assert_false(glob_match("gpt-?o", "gpt-4oo"));
    assert_false(glob_match("a*b", "aXXbc"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_parses_in_priority_order),
        cmocka_unit_test(test_sizes_need_the_prompt_measure),
        cmocka_unit_test(test_unknown_fields_rejected_naming_the_row),
        cmocka_unit_test(test_bad_values_rejected),
        cmocka_unit_test(test_team_rule_may_use_its_team_alias),
        cmocka_unit_test(test_time_zones_from_the_snapshot),
        cmocka_unit_test(test_no_regex_engine_rejects_regex_rules),
        cmocka_unit_test(test_glob),
    };
    return cmocka_run_group_tests(tests, setup, nullptr);
}
