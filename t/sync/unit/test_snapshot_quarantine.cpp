// Quarantine (issue 12): a bad row is left out, or served in its last good version, and the rest
// of the config is still built; rows that need a dropped provider go with it; problems no row can
// be blamed for still fail the build; the strict mode (rule add, push) is unchanged.
#include "cmocka_cpp.hpp"
#include "snapshot_builder.hpp"

#include <jansson.h>

using namespace rsync;

static const char* kHexKey = "4242424242424242424242424242424242424242424242424242424242424242";

struct Fixture {
    SecretBox box;
    ConfigRows rows;
};

static ProviderKeyRow key_row(const SecretBox& box, int64_t id, int64_t provider, const char* label,
                              const std::string& secret) {
    ProviderKeyRow k;
    k.id = id;
    k.provider_id = provider;
    k.label = label;
    std::string err;
    assert_true(box.seal(secret, provider_key_aad(id), &k.sealed, &err));
    return k;
}

static int setup(void** state) {
    auto* f = new Fixture;
    std::string err;
    assert_true(f->box.add_key(1, kHexKey, true, &err));
    ConfigRows& r = f->rows;
    r.generation = 5;
    r.providers = {
        {1, "openai", "openai", std::nullopt, true},
        {2, "local", "openai_compat", std::string("http://127.0.0.1:9/v1"), true},
    };
    r.provider_keys = {key_row(f->box, 10, 1, "paid", "sk-paid-SECRET-aaaaaaaaaaaaaaaa"),
                       key_row(f->box, 12, 2, "main", "local-SECRET-cccccccccccccccccc")};
    r.models = {{1, 1, "gpt-4o", std::nullopt, true}, {3, 2, "llama", std::nullopt, true}};
    r.teams = {{1, "default"}};
    r.virtual_keys = {{5, 1, "ci", std::string(64, 'a'), true, std::nullopt}};
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

static json_t* find_by_id(json_t* root, const char* table, long long id) {
    size_t i;
    json_t* v;
    json_array_foreach(json_object_get(root, table), i, v) {
        if (json_integer_value(json_object_get(v, "id")) == id) return v;
    }
    return nullptr;
}

static bool build(const ConfigRows& rows, const SecretBox& box, Snapshot* out, const std::string* previous,
                  std::vector<std::string>* errors) {
    BuildOptions o;
    o.box = &box;
    o.quarantine = true;
    o.previous_json = previous;
    return build_snapshot(rows, o, out, errors);
}

static void test_bad_provider_left_out_with_its_rows(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    ConfigRows r = f->rows;
    r.providers[1].base_url = std::nullopt;  // openai_compat needs one
    Snapshot snap;
    std::vector<std::string> errors;
    assert_true(build(r, f->box, &snap, nullptr, &errors));
    assert_true(errors.empty());
    json_t* root = parse(snap.json);
    assert_null(find_by_id(root, "providers", 2));
    assert_null(find_by_id(root, "provider_keys", 12));  // its key goes with it
    assert_non_null(find_by_id(root, "providers", 1));    // the rest is shipped
    assert_non_null(find_by_id(root, "provider_keys", 10));
    assert_int_equal(json_array_size(json_object_get(root, "models")), 1);
    json_t* q = json_object_get(root, "quarantined");
    assert_true(json_array_size(q) >= 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "table")), "providers");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(q, 0), "id")), 2);
    assert_true(contains(json_string_value(json_object_get(json_array_get(q, 0), "reason")), "base_url"));
    assert_true(json_is_false(json_object_get(json_array_get(q, 0), "kept_previous")));
    assert_int_equal(snap.provider_keys, 1);
    assert_int_equal(snap.secrets.size(), 1);
    for (const auto& row : snap.quarantined) assert_false(contains(row.reason, "SECRET"));
    json_decref(root);
}

static void test_bad_edit_keeps_the_last_good_version(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    Snapshot good;
    std::vector<std::string> errors;
    assert_true(build(f->rows, f->box, &good, nullptr, &errors));
    ConfigRows r = f->rows;
    r.generation = 6;
    r.providers[1].base_url = "http://127.0.0.1:9/v1?x=1";  // the module refuses a query
    r.providers[0].name = "openai-renamed";                 // a good change in the same commit
    Snapshot next;
    assert_true(build(r, f->box, &next, &good.json, &errors));
    json_t* root = parse(next.json);
    json_t* p2 = find_by_id(root, "providers", 2);
    assert_non_null(p2);
    assert_string_equal(json_string_value(json_object_get(p2, "base_url")), "http://127.0.0.1:9/v1");
    assert_string_equal(json_string_value(json_object_get(find_by_id(root, "providers", 1), "name")),
                        "openai-renamed");
    assert_non_null(find_by_id(root, "provider_keys", 12));
    assert_int_equal(next.quarantined.size(), 1);
    assert_true(next.quarantined[0].kept_previous);
    json_decref(root);
}

static void test_undecryptable_key(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    Snapshot good;
    std::vector<std::string> errors;
    assert_true(build(f->rows, f->box, &good, nullptr, &errors));
    ConfigRows r = f->rows;
    r.provider_keys[1].sealed = r.provider_keys[0].sealed;  // copied ciphertext: AAD mismatch
    Snapshot without_previous;
    assert_true(build(r, f->box, &without_previous, nullptr, &errors));
    assert_int_equal(without_previous.provider_keys, 1);
    assert_int_equal(without_previous.quarantined.size(), 1);
    assert_string_equal(without_previous.quarantined[0].table.c_str(), "provider_keys");
    assert_int_equal(without_previous.quarantined[0].id, 12);
    assert_true(contains(without_previous.quarantined[0].reason, "does not decrypt"));
    // with a last good snapshot: the old secret keeps serving (and is redacted from answers)
    Snapshot with_previous;
    assert_true(build(r, f->box, &with_previous, &good.json, &errors));
    assert_int_equal(with_previous.provider_keys, 2);
    assert_true(with_previous.quarantined[0].kept_previous);
    assert_string_equal(with_previous.redact("x local-SECRET-cccccccccccccccccc y").c_str(), "x [redacted] y");
    assert_true(errors.empty());
}

static void test_strict_mode_and_unattributable_problems_fail(void** state) {
    auto* f = static_cast<Fixture*>(*state);
    ConfigRows r = f->rows;
    r.providers[1].base_url = std::nullopt;
    Snapshot snap;
    std::vector<std::string> errors;
    BuildOptions strict;
    strict.box = &f->box;
    assert_false(build_snapshot(r, strict, &snap, &errors));
    assert_true(contains(errors.at(0), "providers[1] (id 2)"));
    errors.clear();
    ConfigRows no_generation = f->rows;
    no_generation.generation = 0;
    assert_false(build(no_generation, f->box, &snap, nullptr, &errors));
    assert_false(errors.empty());
    errors.clear();
    ConfigRows bad_settings = f->rows;
    bad_settings.settings.default_cooldown_seconds = -5;
    assert_false(build(bad_settings, f->box, &snap, nullptr, &errors));
    assert_true(contains(errors.at(0), "settings"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_provider_left_out_with_its_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_edit_keeps_the_last_good_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undecryptable_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strict_mode_and_unattributable_problems_fail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
