// config_snapshot: parsing, indexes and every validation rule of docs/design.md §2.
#include "config/config_snapshot.hpp"
#include "util/json_util.hpp"
#include "snapshot_fixture.hpp"
#include "ingress/virtual_key_auth.hpp"

#include "test_util.hpp"

using namespace routeshift;

static json_t* row(json_t* root, const char* table, size_t i) {
    return json_array_get(json_object_get(root, table), i);
}

// Applies `mutate` to the fixture and expects rejection with an error containing every `needles`.
static void expect_reject(const std::function<void(json_t*)>& mutate, std::vector<std::string> needles) {
    JsonPtr root = json_parse(test::fixture_snapshot_json(), nullptr);
    assert_non_null(root.get());
    mutate(root.get());
    std::string err;
    auto cfg = parse_snapshot(json_dump_compact(root.get()), &err);
    if (cfg) fail_msg("accepted a snapshot that should fail with: %s", needles[0].c_str());
    for (const auto& n : needles) assert_contains(err, n);
    // never a secret in the message
    for (const char* s : {"sk-openai-AAAA", "az-key", "tg-key", "gsk-key", "zai-key", "mimo-key", "ds-key",
                          "local-key", "compat-key", "HIDDEN-SECRET"})
        assert_not_contains(err, s);
}

static std::shared_ptr<const Config> accept(const std::function<void(json_t*)>& mutate) {
    JsonPtr root = json_parse(test::fixture_snapshot_json(), nullptr);
    mutate(root.get());
    std::string err;
    auto cfg = parse_snapshot(json_dump_compact(root.get()), &err);
    if (!cfg) fail_msg("rejected: %s", err.c_str());
    return cfg;
}

static void set(json_t* obj, const char* key, json_t* v) { json_object_set_new(obj, key, v); }

static void test_fixture_parses_and_indexes(void**) {
    auto cfg = test::fixture_config();
    assert_int_equal(cfg->generation, 17);
    assert_int_equal(cfg->settings.retry_budget, 3);
    assert_int_equal(cfg->settings.default_cooldown_seconds, 20);
    assert_int_equal(cfg->providers.size(), 12);
    assert_int_equal(cfg->keys.size(), 19);
    assert_int_equal(cfg->virtual_keys.size(), 4);

    const Provider& openai = cfg->providers[cfg->provider_by_name.at("openai")];
    assert_int_equal(openai.id, 1);
    assert_true(openai.kind == ProviderKind::openai);
    assert_str_eq(openai.base_url, "https://api.openai.com/v1");
    assert_true(openai.any_model);
    assert_int_equal(openai.keys.size(), 3);
    const ProviderKey& k10 = cfg->keys[openai.keys[0]];
    assert_int_equal(k10.id, 10);
    assert_str_eq(k10.label, "paid");
    assert_str_eq(k10.secret, test::kOpenAISecret);
    assert_int_equal(k10.weight, 3);
    assert_int_equal(k10.cooldown_seconds, 30);
    assert_int_equal(k10.rpm, 0);
    assert_true(k10.enabled);
    assert_str_eq(json_string_view(k10.metadata.get(), "organization"), "org-123");
    const ProviderKey& k11 = cfg->keys[openai.keys[1]];
    assert_int_equal(k11.cooldown_seconds, 20);  // settings default
    assert_true(json_is_object(k11.metadata.get()));
    assert_int_equal(json_object_size(k11.metadata.get()), 0);
    assert_false(cfg->keys[openai.keys[2]].enabled);

    assert_str_eq(cfg->providers[cfg->provider_by_name.at("local")].base_url, "http://127.0.0.1:8081/v1");
    assert_str_eq(cfg->providers[cfg->provider_by_name.at("azure-v1")].base_url, "");
    assert_str_eq(cfg->providers[cfg->provider_by_name.at("groq")].base_url, "https://api.groq.com/openai/v1");
    assert_false(cfg->providers[cfg->provider_by_name.at("offline")].enabled);
    assert_false(cfg->providers[cfg->provider_by_name.at("groq")].any_model);

    // models_by_name: public name -> entries; "*" rows are not public names
    assert_int_equal(cfg->models_by_name.at("gpt-4o").size(), 2);
    assert_int_equal(cfg->models_by_name.at("llama-3.3-70b").size(), 2);
    assert_int_equal(cfg->models_by_name.count("*"), 0);
    const ModelEntry& m = cfg->models[cfg->models_by_name.at("gpt-4o")[0]];
    assert_str_eq(m.upstream_model, "gpt-4o-2024-11-20");
    assert_int_equal(m.provider, cfg->provider_by_name.at("openai"));
    const ModelEntry& mini = cfg->models[cfg->models_by_name.at("gpt-4o-mini")[0]];
    assert_str_eq(mini.upstream_model, "gpt-4o-mini");  // defaults to model

    assert_non_null(cfg->alias_target(1, "smart"));
    assert_str_eq(*cfg->alias_target(1, "smart"), "openai/gpt-4o");
    assert_str_eq(*cfg->alias_target(0, "smart"), "llama-3.3-70b");
    assert_null(cfg->alias_target(2, "smart"));
    assert_null(cfg->alias_target(0, "fast"));

    unsigned char h[32];
    hash_virtual_key("sk-proxy-test-1", h);
    auto it = cfg->virtual_key_by_hash.find(std::string(reinterpret_cast<char*>(h), 32));
    assert_true(it != cfg->virtual_key_by_hash.end());
    const VirtualKey& vk = cfg->virtual_keys[it->second];
    assert_int_equal(vk.id, 5);
    assert_int_equal(vk.team_id, 1);
    assert_str_eq(vk.name, "ci");
    assert_int_equal(vk.expires_at, 0);
    assert_memory_equal(vk.hash, h, 32);
    assert_int_equal(cfg->virtual_keys[3].expires_at, 4102444800LL);
}

static void test_minimal_and_empty(void**) {
    std::string err;
    auto cfg = parse_snapshot(R"({"generation":1})", &err);
    assert_non_null(cfg.get());
    assert_int_equal(cfg->providers.size(), 0);
    assert_int_equal(cfg->settings.retry_budget, 0);
    assert_int_equal(cfg->settings.default_cooldown_seconds, 30);

    // upper-case hex and a null settings block are fine
    auto up = accept([](json_t* r) {
        set(r, "settings", json_null());
        set(row(r, "virtual_keys", 0), "key_hash",
            json_string(std::string(64, 'A').c_str()));
    });
    assert_int_equal(up->virtual_keys[0].hash[0], 0xAA);
    assert_int_equal(up->keys[1].cooldown_seconds, 30);
}

static void test_top_level_errors(void**) {
    std::string err;
    assert_null(parse_snapshot("", &err).get());
    assert_contains(err, "not valid JSON");
    assert_null(parse_snapshot("[]", &err).get());
    assert_contains(err, "must be a JSON object");
    // the parser's "near '<token>'" must not leak a secret fragment
    assert_null(parse_snapshot(R"({"provider_keys":[{"secret": HIDDEN-SECRET}]})", &err).get());
    assert_not_contains(err, "HIDDEN");

    expect_reject([](json_t* r) { json_object_del(r, "generation"); }, {"generation"});
    expect_reject([](json_t* r) { set(r, "generation", json_integer(0)); }, {"generation must be >= 1"});
    expect_reject([](json_t* r) { set(r, "generation", json_integer(-4)); }, {"generation"});
    expect_reject([](json_t* r) { set(r, "generation", json_real(2.5)); }, {"generation"});
    expect_reject([](json_t* r) { set(r, "generation", json_string("3")); }, {"generation"});
    expect_reject([](json_t* r) { set(r, "version", json_integer(2)); }, {"version"});
    expect_reject([](json_t* r) { set(r, "providers", json_object()); }, {"providers must be an array"});
    expect_reject([](json_t* r) { set(r, "routing_rules", json_string("x")); }, {"routing_rules"});
    expect_reject([](json_t* r) { set(r, "settings", json_integer(1)); }, {"settings"});
    expect_reject([](json_t* r) { set(json_object_get(r, "settings"), "retry_budget", json_integer(-1)); },
                  {"settings.retry_budget"});
    expect_reject([](json_t* r) { set(json_object_get(r, "settings"), "default_cooldown_seconds", json_string("30")); },
                  {"settings.default_cooldown_seconds"});
}

static void test_provider_errors(void**) {
    expect_reject([](json_t* r) { set(row(r, "providers", 2), "kind", json_string("claude")); },
                  {"providers[2] (id 3)", "unknown kind 'claude'"});
    expect_reject([](json_t* r) { json_object_del(row(r, "providers", 0), "kind"); }, {"providers[0] (id 1)", "kind"});
    expect_reject([](json_t* r) { set(row(r, "providers", 1), "id", json_integer(1)); }, {"providers[1] (id 1)", "duplicate id"});
    expect_reject([](json_t* r) { set(row(r, "providers", 1), "name", json_string("openai")); },
                  {"providers[1] (id 2)", "duplicate name 'openai'"});
    expect_reject([](json_t* r) { set(row(r, "providers", 1), "name", json_string("a/b")); }, {"providers[1]", "'/'"});
    expect_reject([](json_t* r) { set(row(r, "providers", 1), "name", json_string("")); }, {"providers[1]", "name"});
    expect_reject([](json_t* r) { set(row(r, "providers", 0), "id", json_string("1")); }, {"providers[0]", "id must be an integer"});
    expect_reject([](json_t* r) { json_array_append_new(json_object_get(r, "providers"), json_string("x")); },
                  {"providers[12]", "expected an object"});
    expect_reject([](json_t* r) { set(row(r, "providers", 0), "base_url", json_string("api.openai.com")); },
                  {"providers[0] (id 1)", "base_url"});
    expect_reject([](json_t* r) { set(row(r, "providers", 0), "base_url", json_string("https://x.com/v1?k=1")); },
                  {"providers[0] (id 1)", "query"});
    expect_reject([](json_t* r) { set(row(r, "providers", 0), "base_url", json_string("https://x.com/v1\r\nX: y")); },
                  {"providers[0] (id 1)", "base_url"});
    expect_reject([](json_t* r) { json_object_del(row(r, "providers", 8), "base_url"); },
                  {"providers[8] (id 9)", "openai_compat requires a base_url"});
    expect_reject([](json_t* r) { set(row(r, "providers", 0), "enabled", json_string("yes")); },
                  {"providers[0] (id 1)", "enabled must be a boolean"});
}

static void test_key_errors(void**) {
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 3), "provider_id", json_integer(99)); },
                  {"provider_keys[3] (id 20)", "provider_id 99 does not exist"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 1), "id", json_integer(10)); },
                  {"provider_keys[1] (id 10)", "duplicate id"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "weight", json_integer(1001)); },
                  {"provider_keys[0] (id 10)", "weight 1001"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "weight", json_integer(-1)); },
                  {"provider_keys[0] (id 10)", "weight -1"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "weight", json_real(1.5)); },
                  {"provider_keys[0] (id 10)", "weight"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "cooldown_seconds", json_integer(-5)); },
                  {"provider_keys[0] (id 10)", "cooldown_seconds"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "rpm", json_integer(-5)); },
                  {"provider_keys[0] (id 10)", "rpm"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "metadata", json_string("x")); },
                  {"provider_keys[0] (id 10)", "metadata must be an object"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "metadata", json_array()); },
                  {"provider_keys[0] (id 10)", "metadata must be an object"});
    // azure without resource_name and without base_url
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 3), "metadata", json_object()); },
                  {"provider_keys[3] (id 20)", "resource_name"});
    expect_reject([](json_t* r) { set(json_object_get(row(r, "provider_keys", 3), "metadata"), "resource_name", json_string("a.b")); },
                  {"provider_keys[3] (id 20)", "resource_name"});
    expect_reject([](json_t* r) { set(json_object_get(row(r, "provider_keys", 3), "metadata"), "resource_name", json_integer(5)); },
                  {"provider_keys[3] (id 20)", "resource_name must be a string"});
    expect_reject([](json_t* r) { set(json_object_get(row(r, "provider_keys", 3), "metadata"), "api_version", json_string("2024/10")); },
                  {"provider_keys[3] (id 20)", "api_version"});
    expect_reject([](json_t* r) { set(json_object_get(row(r, "provider_keys", 12), "metadata"), "auth_header", json_string("bearer")); },
                  {"provider_keys[12] (id 90)", "auth_header"});
    // header injection through secret or metadata
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "secret", json_string("HIDDEN-SECRET\r\nX-Evil: 1")); },
                  {"provider_keys[0] (id 10)", "secret contains control characters"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "secret", json_stringn("HIDDEN-SECRET\0x", 15)); },
                  {"provider_keys[0] (id 10)", "secret"});
    expect_reject([](json_t* r) { set(json_object_get(row(r, "provider_keys", 0), "metadata"), "organization", json_string("org\nX: y")); },
                  {"provider_keys[0] (id 10)", "metadata.'organization'"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "label", json_string("a\rb")); },
                  {"provider_keys[0] (id 10)", "label"});
    // empty secret only with auth none
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 1), "secret", json_string("")); },
                  {"provider_keys[1] (id 11)", "secret is required"});
    expect_reject([](json_t* r) { json_object_del(row(r, "provider_keys", 1), "secret"); },
                  {"provider_keys[1] (id 11)", "secret is required"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 14), "secret", json_string("")); },
                  {"provider_keys[14] (id 92)", "secret is required"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 0), "secret", json_integer(5)); },
                  {"provider_keys[0] (id 10)", "secret must be a string"});
    // weight boundaries accepted
    auto cfg = accept([](json_t* r) {
        set(row(r, "provider_keys", 0), "weight", json_integer(0));
        set(row(r, "provider_keys", 1), "weight", json_integer(1000));
    });
    assert_int_equal(cfg->keys[0].weight, 0);
    assert_int_equal(cfg->keys[1].weight, 1000);
    // azure with base_url needs no resource_name
    auto az = accept([](json_t* r) { set(row(r, "provider_keys", 16), "metadata", json_null()); });
    assert_true(json_is_object(az->keys[16].metadata.get()));
}

static void test_model_errors(void**) {
    expect_reject([](json_t* r) { set(row(r, "models", 3), "provider_id", json_integer(42)); },
                  {"models[3]", "provider_id 42 does not exist"});
    expect_reject([](json_t* r) { set(row(r, "models", 1), "model", json_string("gpt-4o")); },
                  {"models[1]", "duplicate model 'gpt-4o'"});
    expect_reject([](json_t* r) { set(row(r, "models", 1), "model", json_string("")); }, {"models[1]", "model"});
    expect_reject([](json_t* r) { set(row(r, "models", 0), "upstream_model", json_string("")); },
                  {"models[0]", "upstream_model"});
    expect_reject([](json_t* r) { set(row(r, "models", 0), "model", json_string("gpt\n4o")); },
                  {"models[0]", "control characters"});
}

static void test_team_vk_alias_errors(void**) {
    expect_reject([](json_t* r) { set(row(r, "teams", 1), "id", json_integer(1)); }, {"teams[1] (id 1)", "duplicate id"});
    expect_reject([](json_t* r) { set(row(r, "teams", 0), "id", json_integer(0)); }, {"teams[0] (id 0)", ">= 1"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 0), "team_id", json_integer(9)); },
                  {"virtual_keys[0] (id 5)", "team_id 9 does not exist"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 1), "id", json_integer(5)); },
                  {"virtual_keys[1] (id 5)", "duplicate id"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 0), "key_hash", json_string("abc")); },
                  {"virtual_keys[0] (id 5)", "key_hash"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 0), "key_hash", json_string(std::string(64, 'g').c_str())); },
                  {"virtual_keys[0] (id 5)", "key_hash"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 0), "key_hash", json_string(std::string(65, 'a').c_str())); },
                  {"virtual_keys[0] (id 5)", "key_hash"});
    expect_reject(
        [](json_t* r) { set(row(r, "virtual_keys", 1), "key_hash", json_incref(json_object_get(row(r, "virtual_keys", 0), "key_hash"))); },
        {"virtual_keys[1] (id 6)", "duplicate key_hash"});
    expect_reject([](json_t* r) { set(row(r, "virtual_keys", 0), "expires_at", json_string("2030-01-01")); },
                  {"virtual_keys[0] (id 5)", "expires_at"});
    expect_reject([](json_t* r) { set(row(r, "model_aliases", 0), "team_id", json_integer(9)); },
                  {"model_aliases[0]", "team_id 9 does not exist"});
    expect_reject([](json_t* r) { set(row(r, "model_aliases", 2), "alias", json_string("smart")); },
                  {"model_aliases[2]", "duplicate alias 'smart'"});
    expect_reject([](json_t* r) { set(row(r, "model_aliases", 0), "target", json_string("")); },
                  {"model_aliases[0]", "target"});
    expect_reject([](json_t* r) { json_object_del(row(r, "model_aliases", 0), "target"); }, {"model_aliases[0]", "target"});
    expect_reject([](json_t* r) { set(row(r, "model_aliases", 0), "alias", json_integer(3)); }, {"model_aliases[0]", "alias"});
    // the same alias for two different teams is fine
    auto cfg = accept([](json_t* r) { set(row(r, "model_aliases", 3), "alias", json_string("smart")); });
    assert_str_eq(*cfg->alias_target(2, "smart"), "groq/llama-3.3-70b");
}

// Key metadata is parsed once into typed fields (what every attempt reads), validated with
// row-naming errors.
static void test_typed_key_metadata(void**) {
    auto cfg = test::fixture_config();
    auto key = [&](int64_t id) -> const ProviderKey& {
        for (const ProviderKey& k : cfg->keys)
            if (k.id == id) return k;
        fail_msg("no key %lld", (long long)id);
        return cfg->keys[0];
    };
    assert_str_eq(key(10).meta.organization, "org-123");
    assert_str_eq(key(10).meta.project, "proj_abc");
    assert_true(key(10).auth == AuthShape::bearer);
    assert_str_eq(key(11).meta.organization, "");
    assert_str_eq(key(20).meta.resource_name, "myres");
    assert_str_eq(key(20).meta.deployment, "gpt4o-prod");
    assert_true(key(20).meta.azure_v1());
    assert_true(key(21).meta.azure_v1());
    assert_str_eq(key(30).meta.api_version, "2024-10-21");
    assert_str_eq(key(30).meta.deployment, "my deploy/1");
    assert_false(key(30).meta.azure_v1());
    assert_true(key(20).auth == AuthShape::api_key);  // azure's shape
    assert_true(key(90).auth == AuthShape::none);
    assert_true(key(91).auth == AuthShape::api_key);
    assert_true(key(92).auth == AuthShape::bearer);
    assert_true(key(120).auth == AuthShape::x_api_key);
    assert_true(key(121).auth == AuthShape::bearer);
    assert_true(key(121).meta.auth_header == AuthShape::bearer);
    assert_false(key(92).meta.auth_header.has_value());

    // zai with the Anthropic API, betas joined, region and version kept
    auto zai = accept([](json_t* r) {
        set(row(r, "provider_keys", 9), "metadata",
            json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "api", "anthropic", "region", "cn", "anthropic_version",
                      "2024-01-01", "anthropic_beta", "a-1", "", "b-2"));
    });
    const ProviderKey& z = zai->keys[9];
    assert_int_equal(z.id, 60);
    assert_true(z.wire == WireFormat::anthropic);
    assert_str_eq(z.meta.region, "cn");
    assert_str_eq(z.meta.anthropic_version, "2024-01-01");
    assert_str_eq(z.meta.anthropic_beta, "a-1,b-2");
    auto single = accept([](json_t* r) {
        set(row(r, "provider_keys", 9), "metadata", json_pack("{s:s}", "anthropic_beta", "only-one"));
    });
    assert_str_eq(single->keys[9].meta.anthropic_beta, "only-one");

    expect_reject([](json_t* r) { set(row(r, "provider_keys", 9), "metadata", json_pack("{s:i}", "anthropic_beta", 3)); },
                  {"provider_keys[9] (id 60)", "metadata.anthropic_beta"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 9), "metadata", json_pack("{s:[s,i]}", "anthropic_beta", "a", 1)); },
                  {"provider_keys[9] (id 60)", "metadata.anthropic_beta[1]"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 9), "metadata", json_pack("{s:[s]}", "anthropic_beta", "a\r\nX: y")); },
                  {"provider_keys[9] (id 60)", "control characters"});
    expect_reject([](json_t* r) { set(row(r, "provider_keys", 9), "metadata", json_pack("{s:i}", "anthropic_version", 1)); },
                  {"provider_keys[9] (id 60)", "metadata.anthropic_version must be a string"});
}

// Bedrock keys: region, SigV4 access key id or API-key auth, all checked at push time.
static void test_bedrock_key_metadata(void**) {
    auto with_bedrock = [](json_t* md) {
        return [md](json_t* r) {
            json_array_append_new(json_object_get(r, "providers"),
                                  json_pack("{s:i, s:s, s:s}", "id", 99, "name", "br", "kind", "bedrock"));
            json_array_append_new(json_object_get(r, "provider_keys"),
                                  json_pack("{s:i, s:i, s:s, s:O}", "id", 990, "provider_id", 99, "secret",
                                            "wJalrXUtnFEMI", "metadata", md));
            json_decref(md);
        };
    };
    auto cfg = accept(with_bedrock(json_pack("{s:s, s:s, s:s}", "region", "eu-west-1", "access_key_id", "AKIDEXAMPLE",
                                             "session_token", "FwoG+/=")));
    const ProviderKey& k = cfg->keys.back();
    assert_true(k.wire == WireFormat::bedrock);
    assert_str_eq(k.meta.region, "eu-west-1");
    assert_str_eq(k.meta.access_key_id, "AKIDEXAMPLE");
    assert_str_eq(k.meta.session_token, "FwoG+/=");
    assert_false(k.meta.bedrock_api_key);
    auto api = accept(with_bedrock(json_pack("{s:s, s:s}", "region", "us-west-2", "auth", "api_key")));
    assert_true(api->keys.back().meta.bedrock_api_key);
    assert_true(accept(with_bedrock(json_pack("{s:s, s:s}", "region", "us-west-2", "auth", "bearer")))->keys.back().meta.bedrock_api_key);

    expect_reject(with_bedrock(json_pack("{}")), {"provider_keys[19] (id 990)", "metadata.region"});
    expect_reject(with_bedrock(json_pack("{s:s, s:s}", "region", "US-EAST-1", "access_key_id", "AKID")),
                  {"provider_keys[19] (id 990)", "metadata.region"});
    expect_reject(with_bedrock(json_pack("{s:s}", "region", "us-east-1")), {"provider_keys[19]", "metadata.access_key_id"});
    expect_reject(with_bedrock(json_pack("{s:s, s:s}", "region", "us-east-1", "access_key_id", "AKID/x")),
                  {"provider_keys[19]", "access_key_id is malformed"});
    expect_reject(with_bedrock(json_pack("{s:s, s:s}", "region", "us-east-1", "auth", "oauth")),
                  {"provider_keys[19]", "metadata.auth"});
    expect_reject(with_bedrock(json_pack("{s:s, s:s, s:i}", "region", "us-east-1", "access_key_id", "AKID", "session_token", 5)),
                  {"provider_keys[19]", "metadata.session_token must be a string"});
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_parses_and_indexes),
        cmocka_unit_test(test_minimal_and_empty),
        cmocka_unit_test(test_top_level_errors),
        cmocka_unit_test(test_provider_errors),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_team_vk_alias_errors),
        cmocka_unit_test(test_typed_key_metadata),
        cmocka_unit_test(test_bedrock_key_metadata),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
