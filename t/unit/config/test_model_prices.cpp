// model_prices in the snapshot: typed rows by (provider, upstream model), the row in force by
// effective_from (future rows take over at their time), validation naming the row; the settings'
// cost ceiling default.
#include "config/config_snapshot.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::string snapshot(const std::string& settings, const std::string& prices) {
    return R"({"version": 1, "generation": 2, "settings": )" + settings + R"(,
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai"},
    {"id": 2, "name": "other", "kind": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}
  ],
  "provider_keys": [], "models": [], "teams": [], "virtual_keys": [], "model_aliases": [],
  "routing_rules": [], "model_prices": )" + prices + "}";
}

std::shared_ptr<const Config> parse_ok(const std::string& json) {
    std::string err;
    auto cfg = parse_snapshot(json, &err);
    if (!cfg) fail_msg("snapshot rejected: %s", err.c_str());
    return cfg;
}

std::string parse_error(const std::string& json) {
    std::string err;
    auto cfg = parse_snapshot(json, &err);
    if (cfg) fail_msg("snapshot accepted, expected an error");
    return err;
}

}  // namespace

static void test_row_in_force_by_effective_from(void**) {
    // rows deliberately out of order: the later price first
    auto cfg = parse_ok(snapshot("{}", R"([
      {"id": 2, "provider_id": 1, "model": "gpt-4o-2024-11-20", "input_microcents_per_mtok": 300000000,
       "output_microcents_per_mtok": 1200000000, "cached_input_microcents_per_mtok": 150000000,
       "max_output_tokens": 16384, "effective_from": 2000},
      {"id": 1, "provider_id": 1, "model": "gpt-4o-2024-11-20", "input_microcents_per_mtok": 250000000,
       "output_microcents_per_mtok": 1000000000, "cached_input_microcents_per_mtok": null,
       "effective_from": 1000},
      {"id": 3, "provider_id": 2, "model": "gpt-4o-2024-11-20", "input_microcents_per_mtok": 7,
       "output_microcents_per_mtok": 8, "effective_from": 0}
    ])"));
    const ModelPrices& prices = cfg->prices;
    assert_int_equal(prices.size(), 3);
    assert_null(prices.in_force(0, "gpt-4o-2024-11-20", 999));  // before the first row
    const ModelPrice* p = prices.in_force(0, "gpt-4o-2024-11-20", 1000);
    assert_non_null(p);
    assert_int_equal(p->id, 1);
    assert_int_equal(p->input_microcents_per_mtok, 250000000);
    assert_int_equal(p->cached_input_microcents_per_mtok, 250000000);  // NULL = the input price
    assert_int_equal(p->max_output_tokens, 0);                        // not configured
    assert_int_equal(prices.in_force(0, "gpt-4o-2024-11-20", 1999)->id, 1);
    // the future row takes over at its time, without a new snapshot
    p = prices.in_force(0, "gpt-4o-2024-11-20", 2000);
    assert_int_equal(p->id, 2);
    assert_int_equal(p->cached_input_microcents_per_mtok, 150000000);
    assert_int_equal(p->max_output_tokens, 16384);
    assert_int_equal(prices.in_force(0, "gpt-4o-2024-11-20", INT64_MAX)->id, 2);
    // per provider
    assert_int_equal(prices.in_force(1, "gpt-4o-2024-11-20", 5)->id, 3);
    assert_null(prices.in_force(1, "gpt-4o-2024-11-20", -1));
    // keyed by the exact upstream name
    assert_null(prices.in_force(0, "gpt-4o", 5000));
    assert_null(prices.in_force(7, "gpt-4o-2024-11-20", 5000));  // no such provider index
}

static void test_no_prices(void**) {
    auto cfg = parse_ok(snapshot("{}", "[]"));
    assert_int_equal(cfg->prices.size(), 0);
    assert_null(cfg->prices.in_force(0, "x", 0));
    assert_int_equal(cfg->settings.cost_ceiling_microcents, 0);
    auto none = parse_ok(snapshot(R"({"cost_ceiling_microcents": null})", "null"));
    assert_int_equal(none->settings.cost_ceiling_microcents, 0);
}

static void test_settings_cost_ceiling(void**) {
    auto cfg = parse_ok(snapshot(R"({"cost_ceiling_microcents": 5000000000})", "[]"));
    assert_int_equal(cfg->settings.cost_ceiling_microcents, 5000000000LL);
    assert_contains(parse_error(snapshot(R"({"cost_ceiling_microcents": -1})", "[]")),
                    "settings.cost_ceiling_microcents -1 is out of range");
    assert_contains(parse_error(snapshot(R"({"cost_ceiling_microcents": "10"})", "[]")),
                    "settings.cost_ceiling_microcents must be an integer");
}

static void test_bad_rows_named(void**) {
    const std::string good = R"("model": "m", "input_microcents_per_mtok": 1, "output_microcents_per_mtok": 2)";
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 9, )" + good + R"(, "effective_from": 0}])")),
                  "model_prices[0] (id 7): provider_id 9 does not exist");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, )" + good + "}]")),
                  "model_prices[0] (id 7): effective_from is required");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, "model": "m",
        "input_microcents_per_mtok": -1, "output_microcents_per_mtok": 2, "effective_from": 0}])")),
                  "model_prices[0] (id 7): input_microcents_per_mtok -1 must be >= 0");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, "model": "m",
        "input_microcents_per_mtok": 1, "output_microcents_per_mtok": 2.5, "effective_from": 0}])")),
                  "model_prices[0] (id 7): output_microcents_per_mtok must be an integer, got a number");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, )" + good +
                                                  R"(, "max_output_tokens": 0, "effective_from": 0}])")),
                  "model_prices[0] (id 7): max_output_tokens 0 must be >= 1");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, )" + good +
                                                  R"(, "cached_input_microcents_per_mtok": -5, "effective_from": 0}])")),
                  "model_prices[0] (id 7): cached_input_microcents_per_mtok -5 must be >= 0");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, "model": "",
        "input_microcents_per_mtok": 1, "output_microcents_per_mtok": 2, "effective_from": 0}])")),
                  "model_prices[0] (id 7): model must be a non-empty string");
    assert_str_eq(parse_error(snapshot("{}", R"([{"id": 7, "provider_id": 1, )" + good + R"(, "effective_from": 5},
        {"id": 8, "provider_id": 1, )" + good + R"(, "effective_from": 5}])")),
                  "model_prices[1] (id 8): duplicate price for model 'm' of provider_id 1 from 5");
    assert_str_eq(parse_error(snapshot("{}", "[3]")), "model_prices[0]: expected an object");
    assert_contains(parse_error(snapshot("{}", "{}")), "model_prices must be an array");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_in_force_by_effective_from),
        cmocka_unit_test(test_no_prices),
        cmocka_unit_test(test_settings_cost_ceiling),
        cmocka_unit_test(test_bad_rows_named),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
