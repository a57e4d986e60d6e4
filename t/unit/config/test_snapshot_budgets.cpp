// Spend budgets in the snapshot (docs/design.md §13): teams[] and virtual_keys[]
// daily_budget_microcents / monthly_budget_microcents, null or absent = none, 0 or less rejected.
#include "config/config_snapshot.hpp"
#include "util/json_util.hpp"
#include "snapshot_fixture.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

json_t* row(json_t* root, const char* table, size_t i) { return json_array_get(json_object_get(root, table), i); }

std::shared_ptr<const Config> parse_mutated(void (*mutate)(json_t*), std::string* error) {
    JsonPtr root = json_parse(test::fixture_snapshot_json(), nullptr);
    assert_non_null(root.get());
    mutate(root.get());
    return parse_snapshot(json_dump_compact(root.get()), error);
}

const VirtualKey& vk_by_id(const Config& cfg, int64_t id) {
    for (const VirtualKey& vk : cfg.virtual_keys)
        if (vk.id == id) return vk;
    fail_msg("no virtual key %lld", (long long)id);
    std::abort();
}

}  // namespace

static void test_no_budgets_by_default(void**) {
    auto cfg = test::fixture_config();
    assert_true(cfg->team_budgets.empty());
    for (const VirtualKey& vk : cfg->virtual_keys) assert_false(vk.budget.any());
}

static void test_budgets_are_parsed(void**) {
    std::string error;
    auto cfg = parse_mutated(
        [](json_t* r) {
            json_object_set_new(row(r, "teams", 1), "monthly_budget_microcents", json_integer(500000000));
            json_object_set_new(row(r, "teams", 0), "daily_budget_microcents", json_null());
            json_object_set_new(row(r, "virtual_keys", 0), "daily_budget_microcents", json_integer(1000));
            json_object_set_new(row(r, "virtual_keys", 0), "monthly_budget_microcents", json_integer(20000));
        },
        &error);
    if (!cfg) fail_msg("rejected: %s", error.c_str());
    assert_int_equal(cfg->team_budgets.size(), 1);  // only budgeted teams are listed
    assert_int_equal(cfg->team_budgets.at(2).monthly_microcents, 500000000);
    assert_int_equal(cfg->team_budgets.at(2).daily_microcents, 0);
    const VirtualKey& ci = vk_by_id(*cfg, 5);
    assert_int_equal(ci.budget.daily_microcents, 1000);
    assert_int_equal(ci.budget.monthly_microcents, 20000);
    assert_false(vk_by_id(*cfg, 8).budget.any());
}

static void test_bad_budgets_are_rejected_naming_the_row(void**) {
    std::string error;
    assert_true(nullptr == parse_mutated([](json_t* r) { json_object_set_new(row(r, "teams", 1), "daily_budget_microcents", json_integer(0)); },
                               &error));
    assert_contains(error, "teams[1] (id 2)");
    assert_contains(error, "daily_budget_microcents 0 is out of range");
    assert_true(nullptr == parse_mutated(
        [](json_t* r) { json_object_set_new(row(r, "virtual_keys", 0), "monthly_budget_microcents", json_integer(-5)); },
        &error));
    assert_contains(error, "virtual_keys[0] (id 5)");
    assert_contains(error, "monthly_budget_microcents");
    assert_true(nullptr == parse_mutated(
        [](json_t* r) { json_object_set_new(row(r, "virtual_keys", 1), "daily_budget_microcents", json_string("100")); },
        &error));
    assert_contains(error, "daily_budget_microcents");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_budgets_by_default),
        cmocka_unit_test(test_budgets_are_parsed),
        cmocka_unit_test(test_bad_budgets_are_rejected_naming_the_row),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
