// models_list: the names a team may send as `model` (docs/design.md §18 "Models list").
#include "ingress/models_list.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::shared_ptr<const Config> config() {
    std::string error;
    auto cfg = parse_snapshot(R"({
  "version": 1, "generation": 3,
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai"},
    {"id": 2, "name": "claude", "kind": "anthropic"},
    {"id": 3, "name": "old", "kind": "openai", "enabled": false},
    {"id": 4, "name": "any", "kind": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}
  ],
  "provider_keys": [
    {"id": 10, "provider_id": 1, "secret": "k1"}, {"id": 20, "provider_id": 2, "secret": "k2"},
    {"id": 30, "provider_id": 3, "secret": "k3"}, {"id": 40, "provider_id": 4, "secret": "k4"}
  ],
  "models": [
    {"provider_id": 1, "model": "gpt-4o", "upstream_model": "gpt-4o-2024-11-20"},
    {"provider_id": 2, "model": "gpt-4o"},
    {"provider_id": 2, "model": "claude-sonnet"},
    {"provider_id": 3, "model": "only-old"},
    {"provider_id": 4, "model": "*"}
  ],
  "teams": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
  "virtual_keys": [],
  "model_aliases": [
    {"team_id": null, "alias": "smart", "target": "claude-sonnet"},
    {"team_id": 1, "alias": "smart", "target": "openai/gpt-4o"},
    {"team_id": 2, "alias": "fast", "target": "gpt-4o"},
    {"team_id": null, "alias": "gone", "target": "only-old"},
    {"team_id": null, "alias": "claude-sonnet", "target": "gpt-4o"}
  ]
})", &error);
    if (!cfg) fail_msg("snapshot: %s", error.c_str());
    return cfg;
}

std::string listing(const std::vector<ListedModel>& models) {
    std::string out;
    for (const ListedModel& m : models) out += m.id + "=" + std::string(m.owned_by) + " ";
    return out;
}

void test_list_per_team(void**) {
    auto cfg = config();
    // disabled providers' names, "*" and aliases whose target no longer resolves are left out; an
    // alias with a model's name is listed as the alias; the first serving provider owns a name
    assert_str_eq(listing(models_for_team(*cfg, 1)), "claude-sonnet=routeshift gpt-4o=openai smart=routeshift ");
    assert_str_eq(listing(models_for_team(*cfg, 2)), "claude-sonnet=routeshift fast=routeshift gpt-4o=openai smart=routeshift ");
    assert_str_eq(listing(models_for_team(*cfg, 0)), "claude-sonnet=routeshift gpt-4o=openai smart=routeshift ");
    // a team alias and the global one of the same name: listed once
    assert_int_equal(models_for_team(*cfg, 1).size(), 3);
}

void test_retrieve(void**) {
    auto cfg = config();
    auto m = model_for_team(*cfg, 1, "gpt-4o");
    assert_true(m.has_value());
    assert_str_eq(m->owned_by, "openai");
    assert_str_eq(model_for_team(*cfg, 1, "smart")->owned_by, "routeshift");
    assert_str_eq(model_for_team(*cfg, 2, "fast")->owned_by, "routeshift");
    assert_false(model_for_team(*cfg, 1, "fast").has_value());  // another team's alias
    // what a request could send: provider-scoped names, any name of a "*" provider
    assert_str_eq(model_for_team(*cfg, 1, "any/some-model")->owned_by, "openai_compat");
    assert_str_eq(model_for_team(*cfg, 1, "any/some-model")->id, "any/some-model");
    assert_false(model_for_team(*cfg, 1, "only-old").has_value());  // provider disabled
    assert_false(model_for_team(*cfg, 1, "nope").has_value());
    assert_false(model_for_team(*cfg, 1, "").has_value());
    assert_false(model_for_team(*cfg, 1, "gpt-4o\n").has_value());
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_per_team),
        cmocka_unit_test(test_retrieve),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
