// Snapshot building: SQL rows -> design.md §2 JSON, validated by the module's parser; bad rows are
// reported by table and id; secrets are decrypted only for usable keys and never leak into errors.
#include "cmocka_cpp.hpp"
#include "config/config_snapshot.hpp"  // module core
#include "snapshot_builder.hpp"

#include <jansson.h>

using namespace rsync;

static const char* kHexKey = "4242424242424242424242424242424242424242424242424242424242424242";

struct Fixture {
    SecretBox box;
    ConfigRows rows;
};

static SealedSecret seal(const SecretBox& box, int64_t id, const std::string& plain) {
    SealedSecret s;
    std::string err;
    assert_true(box.seal(plain, provider_key_aad(id), &s, &err));
    return s;
}

static ProviderKeyRow key_row(const SecretBox& box, int64_t id, int64_t provider, const char* label,
                              const std::string& secret, bool enabled = true) {
    ProviderKeyRow k;
    k.id = id;
    k.provider_id = provider;
    k.label = label;
    k.sealed = seal(box, id, secret);
    k.enabled = enabled;
    return k;
}

static int setup(void** state) {
    auto* f = new Fixture;
    std::string err;
    assert_true(f->box.add_key(1, kHexKey, true, &err));
    ConfigRows& r = f->rows;
    r.generation = 17;
    r.settings.retry_budget = 3;
    r.settings.default_cooldown_seconds = 20;
    r.settings.files_provider = "openai";
    r.providers = {
        {1, "openai", "openai", std::nullopt, true},
        {2, "local", "openai_compat", std::string("http://127.0.0.1:9/v1"), true},
        {3, "off", "groq", std::nullopt, false},
    };
    r.provider_keys.push_back(key_row(f->box, 10, 1, "paid", "sk-paid-SECRET-aaaaaaaaaaaaaaaa"));
    r.provider_keys.back().weight = 3;
    r.provider_keys.back().rpm = 100;
    r.provider_keys.back().cooldown_seconds = 45;
    r.provider_keys.back().metadata_json = R"({"organization": "org-1"})";
    r.provider_keys.push_back(key_row(f->box, 11, 1, "trial", "sk-trial-SECRET-bbbbbbbbbbbbbbbb", false));
    r.provider_keys.push_back(key_row(f->box, 12, 2, "main", "local-SECRET-cccccccccccccccccc"));
    r.provider_keys.push_back(key_row(f->box, 13, 3, "groqkey", "gsk-SECRET-dddddddddddddddddddd"));
    r.models = {
        {1, 1, "gpt-4o", std::string("gpt-4o-2024-11-20"), true},
        {2, 1, "*", std::nullopt, true},
        {3, 2, "llama", std::nullopt, true},
        {4, 2, "retired", std::nullopt, false},
    };
    r.teams = {{1, "default"}, {2, "research"}};
    r.virtual_keys = {
        {5, 1, "ci", std::string(64, 'a'), true, std::nullopt},
        {6, 2, "old", std::string(64, 'b'), false, int64_t(1700000000)},
        {7, 2, "ancient", std::string(64, 'c'), true, int64_t(-5)},
    };
    r.model_aliases = {
        {1, std::nullopt, "cheap", "gpt-4o"},
        {2, int64_t(2), "smart", "openai/gpt-4o"},
    };
    RoutingRuleRow rule;
    rule.id = 1;
    rule.name = "block-big";
    rule.priority = 5;
    rule.match_json = R"({"model": "gpt-4o"})";
    rule.action_json = R"({"block": {"status": 403}})";
    RoutingRuleRow off = rule;
    off.id = 2;
    off.enabled = false;
    r.routing_rules = {rule, off};
    r.model_prices = {{1, 1, "gpt-4o-2024-11-20", 250000000, 1000000000, std::nullopt, 1700000000, 16384}};
    *state = f;
    return 0;
}

static int teardown(void** state) {
    delete static_cast<Fixture*>(*state);
    return 0;
}

static json_t* parse(const std::string& s) {
    json_error_t e;
    json_t* j = json_loads(s.c_str(), 0, &e);
    assert_non_null(j);
    return j;
}

static json_t* find_by_id(json_t* arr, long long id) {
    size_t i;
    json_t* v;
    json_array_foreach(arr, i, v) {
        if (json_integer_value(json_object_get(v, "id")) == id) return v;
    }
    return nullptr;
}

static void test_builds_design_shape(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    Snapshot snap;
    std::vector<std::string> errors;
    BuildOptions o;
    o.box = &f->box;
    assert_true(build_snapshot(f->rows, o, &snap, &errors));
    assert_true(errors.empty());
    assert_int_equal(snap.generation, 17);
    assert_int_equal(snap.provider_keys, 2);  // 11 disabled, 13 on a disabled provider

    json_t* j = parse(snap.json);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "generation")), 17);
    json_t* settings = json_object_get(j, "settings");
    assert_int_equal(json_integer_value(json_object_get(settings, "retry_budget")), 3);
    assert_int_equal(json_integer_value(json_object_get(settings, "default_cooldown_seconds")), 20);
    assert_string_equal(json_string_value(json_object_get(settings, "files_provider")), "openai");

    json_t* providers = json_object_get(j, "providers");
    assert_int_equal(json_array_size(providers), 3);
    assert_true(json_is_null(json_object_get(find_by_id(providers, 1), "base_url")));
    assert_string_equal(json_string_value(json_object_get(find_by_id(providers, 2), "base_url")), "http://127.0.0.1:9/v1");
    assert_true(json_is_false(json_object_get(find_by_id(providers, 3), "enabled")));

    json_t* keys = json_object_get(j, "provider_keys");
    assert_int_equal(json_array_size(keys), 2);
    json_t* k10 = find_by_id(keys, 10);
    assert_non_null(k10);
    assert_string_equal(json_string_value(json_object_get(k10, "secret")), "sk-paid-SECRET-aaaaaaaaaaaaaaaa");
    assert_string_equal(json_string_value(json_object_get(k10, "label")), "paid");
    assert_int_equal(json_integer_value(json_object_get(k10, "provider_id")), 1);
    assert_int_equal(json_integer_value(json_object_get(k10, "weight")), 3);
    assert_int_equal(json_integer_value(json_object_get(k10, "rpm")), 100);
    assert_true(json_is_null(json_object_get(k10, "tpm")));
    assert_int_equal(json_integer_value(json_object_get(k10, "cooldown_seconds")), 45);
    assert_string_equal(json_string_value(json_object_get(json_object_get(k10, "metadata"), "organization")), "org-1");
    assert_true(json_is_true(json_object_get(k10, "enabled")));
    assert_null(find_by_id(keys, 11));
    assert_null(find_by_id(keys, 13));
    assert_true(json_is_null(json_object_get(find_by_id(keys, 12), "cooldown_seconds")));
    assert_false(contains(snap.json, "sk-trial-SECRET"));  // disabled keys never leave the database
    assert_false(contains(snap.json, "gsk-SECRET"));

    json_t* models = json_object_get(j, "models");
    assert_int_equal(json_array_size(models), 3);  // "retired" is disabled
    json_t* m0 = json_array_get(models, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "upstream_model")), "gpt-4o-2024-11-20");
    assert_null(json_object_get(json_array_get(models, 1), "upstream_model"));  // "*": omitted

    json_t* vks = json_object_get(j, "virtual_keys");
    assert_int_equal(json_array_size(vks), 3);
    assert_true(json_is_null(json_object_get(find_by_id(vks, 5), "expires_at")));
    assert_true(json_is_false(json_object_get(find_by_id(vks, 6), "enabled")));
    assert_int_equal(json_integer_value(json_object_get(find_by_id(vks, 6), "expires_at")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(find_by_id(vks, 7), "expires_at")), 1);  // never 0

    json_t* aliases = json_object_get(j, "model_aliases");
    assert_true(json_is_null(json_object_get(json_array_get(aliases, 0), "team_id")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(aliases, 1), "team_id")), 2);

    json_t* rules = json_object_get(j, "routing_rules");
    assert_int_equal(json_array_size(rules), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(json_array_get(rules, 0), "action"),
                                                                        "block"), "status")), 403);
    json_t* prices = json_object_get(j, "model_prices");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(prices, 0), "input_microcents_per_mtok")), 250000000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(prices, 0), "max_output_tokens")), 16384);
    json_decref(j);

    // The module's parser agrees and sees what we meant.
    std::string err;
    auto cfg = routeshift::parse_snapshot(snap.json, &err);
    assert_non_null(cfg.get());
    assert_int_equal(cfg->generation, 17);
    assert_int_equal(cfg->keys.size(), 2);
    assert_int_equal(cfg->settings.retry_budget, 3);
    assert_string_equal(cfg->settings.files_provider.c_str(), "openai");  // the module reads what the sync wrote
    const std::string* t = cfg->alias_target(2, "smart");
    assert_non_null(t);
    assert_string_equal(t->c_str(), "openai/gpt-4o");
    assert_non_null(cfg->alias_target(0, "cheap"));
    assert_true(cfg->providers[0].any_model);
    for (const auto& k : cfg->keys) {
        if (k.id == 12) assert_int_equal(k.cooldown_seconds, 20);  // null -> settings default
        if (k.id == 10) assert_int_equal(k.cooldown_seconds, 45);
    }
}

static void test_redact(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    Snapshot snap;
    std::vector<std::string> errors;
    BuildOptions o;
    o.box = &f->box;
    assert_true(build_snapshot(f->rows, o, &snap, &errors));
    std::string text = snap.redact("upstream said: bad key sk-paid-SECRET-aaaaaaaaaaaaaaaa and sk-paid-SECR...");
    assert_false(contains(text, "sk-paid-SECRET"));
    assert_false(contains(text, "sk-paid-SECR"));  // first 12 characters too
    assert_true(contains(text, "[redacted]"));

    Snapshot shown;  // no box: nothing decrypted, secrets replaced
    BuildOptions no_box;
    assert_true(build_snapshot(f->rows, no_box, &shown, &errors));
    assert_false(contains(shown.json, "SECRET"));
    assert_true(contains(shown.json, "\"secret\":\"[redacted]\""));
    assert_true(shown.secrets.empty());
}

static void expect_failure(const ConfigRows& rows, const SecretBox* box, const char* expect1, const char* expect2 = nullptr) {
    Snapshot snap;
    snap.generation = 99;
    std::vector<std::string> errors;
    BuildOptions o;
    o.box = box;
    assert_false(build_snapshot(rows, o, &snap, &errors));
    assert_int_equal(snap.generation, 99);  // untouched
    assert_false(errors.empty());
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    if (!contains(all, expect1) || (expect2 && !contains(all, expect2))) {
        print_error("errors were:\n%s", all.c_str());
        fail();
    }
    assert_false(contains(all, "-SECRET-"));  // no plaintext in any message
}

static void test_tampered_secret_named(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    ConfigRows r = f->rows;
    r.provider_keys[0].sealed.ciphertext[3] ^= 1;
    expect_failure(r, &f->box, "provider_keys id 10 (provider openai, label paid)", "does not decrypt");
}

static void test_copied_ciphertext_fails(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    ConfigRows r = f->rows;
    r.provider_keys[2].sealed = r.provider_keys[0].sealed;  // row 12 gets row 10's ciphertext
    expect_failure(r, &f->box, "provider_keys id 12 (provider local, label main)", "does not decrypt");
}

static void test_wrong_master_key(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    SecretBox other;
    std::string err;
    assert_true(other.add_key(1, "a completely different master secret string", true, &err));
    expect_failure(f->rows, &other, "provider_keys id 10", "provider_keys id 12");
}

static void test_broken_disabled_key_is_ignored(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    ConfigRows r = f->rows;
    r.provider_keys[1].sealed.ciphertext[0] ^= 1;  // id 11, disabled
    r.provider_keys[3].sealed.key_version = 9;     // id 13, provider disabled
    Snapshot snap;
    std::vector<std::string> errors;
    BuildOptions o;
    o.box = &f->box;
    assert_true(build_snapshot(r, o, &snap, &errors));
}

static void test_validator_rejections_name_the_row(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    {
        ConfigRows r = f->rows;
        r.providers[1].kind = "claude";  // not a kind the module knows
        expect_failure(r, &f->box, "providers[1] (id 2)", "unknown kind");
    }
    {
        ConfigRows r = f->rows;
        r.providers[1].base_url = "http://127.0.0.1:9/v1?x=1";
        expect_failure(r, &f->box, "providers[1] (id 2)", "base_url");
    }
    {
        ConfigRows r = f->rows;
        r.providers[0].kind = "azure";  // azure without base_url needs metadata.resource_name
        expect_failure(r, &f->box, "provider_keys[0] (id 10)", "resource_name");
    }
    {
        ConfigRows r = f->rows;
        r.provider_keys[2].metadata_json = R"({"auth_header": "cookie"})";
        expect_failure(r, &f->box, "provider_keys[1] (id 12)", "auth_header");
    }
    {
        ConfigRows r = f->rows;
        r.virtual_keys[0].key_hash = "not-a-hash";
        expect_failure(r, &f->box, "virtual_keys[0] (id 5)", "key_hash");
    }
    {
        ConfigRows r = f->rows;
        r.virtual_keys[0].team_id = 77;
        expect_failure(r, &f->box, "virtual_keys[0] (id 5)", "team_id 77");
    }
    {
        ConfigRows r = f->rows;
        r.model_aliases.push_back({3, std::nullopt, "cheap", "llama"});  // duplicate global alias
        expect_failure(r, &f->box, "model_aliases[2]", "duplicate alias");
    }
    {
        ConfigRows r = f->rows;
        r.generation = 0;
        expect_failure(r, &f->box, "generation");
    }
    {
        ConfigRows r = f->rows;
        r.routing_rules[0].action_json = "[1,2]";
        expect_failure(r, &f->box, "routing_rules id 1");
    }
}

static void test_empty_config_is_valid(void**) {
    ConfigRows r;
    r.generation = 1;
    Snapshot snap;
    std::vector<std::string> errors;
    BuildOptions o;
    assert_true(build_snapshot(r, o, &snap, &errors));
    assert_true(contains(snap.json, "\"generation\":1"));
    assert_true(contains(snap.json, "\"provider_keys\":[]"));
    assert_false(contains(snap.json, "retry_budget"));  // NULL -> the nginx directive decides
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_builds_design_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_secret_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copied_ciphertext_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_master_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_disabled_key_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validator_rejections_name_the_row, setup, teardown),
        cmocka_unit_test(test_empty_config_is_valid),
    };
    return cmocka_run_group_tests_name("sync_snapshot_builder", tests, nullptr, nullptr);
}
