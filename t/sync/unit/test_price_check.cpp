// routeshift-sync check and the cost ceiling: served models without a price in force while a
// ceiling (settings or an enabled rule) is in force are errors naming the model row; "*" rows and
// prices without max_output_tokens are warnings; nothing is reported without a ceiling.
#include "price_check.hpp"

#include "cmocka_cpp.hpp"

using namespace rsync;

namespace {

constexpr int64_t kNow = 1700000000;

ConfigRows rows() {
    ConfigRows r;
    r.providers = {{1, "openai", "openai", std::nullopt, true}, {2, "off", "groq", std::nullopt, false}};
    r.models = {{7, 1, "gpt-4o", std::string("gpt-4o-2024-11-20"), true},
                {8, 1, "old", std::nullopt, false},            // disabled model
                {9, 2, "llama", std::nullopt, true}};          // disabled provider
    return r;
}

ModelPriceRow price(int64_t id, const std::string& model, int64_t effective_from,
                    std::optional<int64_t> max_output = std::nullopt) {
    ModelPriceRow p;
    p.id = id;
    p.provider_id = 1;
    p.model = model;
    p.input_microcents_per_mtok = 250000000;
    p.output_microcents_per_mtok = 1000000000;
    p.effective_from = effective_from;
    p.max_output_tokens = max_output;
    return p;
}

}  // namespace

static void test_no_ceiling_nothing_to_report(void**) {
    PriceCheck c = check_prices_for_ceiling(rows(), kNow);
    assert_true(c.errors.empty());
    assert_true(c.warnings.empty());
}

static void test_settings_ceiling_needs_a_price_in_force(void**) {
    ConfigRows r = rows();
    r.settings.cost_ceiling_microcents = 5000000;
    PriceCheck c = check_prices_for_ceiling(r, kNow);
    assert_int_equal(c.errors.size(), 1);  // disabled model and provider are not served
    assert_string_equal(c.errors[0].c_str(),
                        "models id 7 (provider openai, model gpt-4o, upstream model gpt-4o-2024-11-20): no price in "
                        "force for upstream model gpt-4o-2024-11-20 in model_prices, but a cost ceiling is in force "
                        "(settings.cost_ceiling_microcents)");
    // keyed by the upstream name: a price for the public name does not count
    r.model_prices.push_back(price(1, "gpt-4o", 0));
    assert_int_equal(check_prices_for_ceiling(r, kNow).errors.size(), 1);
    // a price from tomorrow is not in force yet
    r.model_prices.push_back(price(2, "gpt-4o-2024-11-20", kNow + 86400, 16384));
    c = check_prices_for_ceiling(r, kNow);
    assert_int_equal(c.errors.size(), 1);
    assert_true(contains(c.errors[0], "(its first price applies from unix time 1700086400)"));
    // one in force now (without max_output_tokens: a warning)
    r.model_prices.push_back(price(3, "gpt-4o-2024-11-20", kNow - 1));
    c = check_prices_for_ceiling(r, kNow);
    assert_true(c.errors.empty());
    assert_int_equal(c.warnings.size(), 1);
    assert_true(contains(c.warnings[0], "model_prices id 3 has no max_output_tokens"));
    // from tomorrow row 2 (with max_output_tokens) is in force: no warning
    c = check_prices_for_ceiling(r, kNow + 86400);
    assert_true(c.errors.empty() && c.warnings.empty());
}

static void test_rule_ceilings_and_any_model_rows(void**) {
    ConfigRows r = rows();
    RoutingRuleRow rule;
    rule.id = 4;
    rule.cost_ceiling_microcents = 1000;
    rule.enabled = false;
    r.routing_rules.push_back(rule);
    assert_true(check_prices_for_ceiling(r, kNow).errors.empty());  // a disabled rule is not in force
    r.routing_rules[0].enabled = true;
    r.settings.cost_ceiling_microcents = 7;
    r.models.push_back({10, 1, "*", std::nullopt, true});
    PriceCheck c = check_prices_for_ceiling(r, kNow);
    assert_int_equal(c.errors.size(), 1);
    assert_true(contains(c.errors[0], "(settings.cost_ceiling_microcents, routing_rules id 4)"));
    assert_int_equal(c.warnings.size(), 1);
    assert_true(contains(c.warnings[0], "models id 10 (provider openai, model \"*\")"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ceiling_nothing_to_report),
        cmocka_unit_test(test_settings_ceiling_needs_a_price_in_force),
        cmocka_unit_test(test_rule_ceilings_and_any_model_rows),
    };
    return cmocka_run_group_tests_name("sync_price_check", tests, nullptr, nullptr);
}
