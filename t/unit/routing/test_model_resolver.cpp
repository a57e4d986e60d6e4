// model_resolver: aliases, provider-scoped and bare names, disabled providers, 404s.
#include "routing/model_resolver.hpp"
#include "snapshot_fixture.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::shared_ptr<const Config> g_cfg;

static int setup(void**) {
    g_cfg = test::fixture_config();
    return 0;
}
static int teardown(void**) {
    g_cfg.reset();
    return 0;
}

static std::string pname(const Target& t) { return g_cfg->providers[t.provider].name; }

static std::vector<Target> resolve_ok(int64_t team, std::string_view name) {
    std::vector<Target> out;
    ApiError err;
    if (!resolve_model(*g_cfg, team, name, &out, &err))
        fail_msg("'%.*s' not resolved: %s", static_cast<int>(name.size()), name.data(), err.message.c_str());
    return out;
}

static void expect_404(int64_t team, std::string_view name) {
    std::vector<Target> out = {Target{0, "stale", "stale"}};
    ApiError err;
    if (resolve_model(*g_cfg, team, name, &out, &err))
        fail_msg("'%.*s' unexpectedly resolved", static_cast<int>(name.size()), name.data());
    assert_int_equal(out.size(), 0);
    assert_int_equal(err.status, 404);
    assert_str_eq(err.type, "not_found_error");
    assert_str_eq(err.code, "model_not_found");
    assert_str_eq(err.param, "model");
}

static void test_bare_single(void**) {
    auto t = resolve_ok(0, "gpt-4o");  // the disabled "offline" provider also lists it
    assert_int_equal(t.size(), 1);
    assert_str_eq(pname(t[0]), "openai");
    assert_str_eq(t[0].upstream_model, "gpt-4o-2024-11-20");
    assert_str_eq(t[0].public_model, "gpt-4o");
}

static void test_bare_multi(void**) {
    auto t = resolve_ok(1, "llama-3.3-70b");
    assert_int_equal(t.size(), 2);
    assert_str_eq(pname(t[0]), "together");
    assert_str_eq(t[0].upstream_model, "meta-llama/Llama-3.3-70B-Instruct-Turbo");
    assert_str_eq(pname(t[1]), "groq");
    assert_str_eq(t[1].upstream_model, "llama-3.3-70b-versatile");

    auto m = resolve_ok(0, "gpt-4o-mini");
    assert_int_equal(m.size(), 2);
    assert_str_eq(pname(m[0]), "openai");
    assert_str_eq(m[0].upstream_model, "gpt-4o-mini");
    assert_str_eq(pname(m[1]), "azure-v1");
    assert_str_eq(m[1].upstream_model, "gpt-4o-mini-2024-07-18");
}

static void test_provider_scoped(void**) {
    auto t = resolve_ok(0, "groq/llama-3.3-70b");
    assert_int_equal(t.size(), 1);
    assert_str_eq(pname(t[0]), "groq");
    assert_str_eq(t[0].upstream_model, "llama-3.3-70b-versatile");
    assert_str_eq(t[0].public_model, "groq/llama-3.3-70b");

    // listed model under a provider that also has "*": the listed upstream name wins
    auto o = resolve_ok(0, "openai/gpt-4o");
    assert_int_equal(o.size(), 1);
    assert_str_eq(o[0].upstream_model, "gpt-4o-2024-11-20");

    // "*" lets the provider serve any model, passed through verbatim (may contain '/')
    auto any = resolve_ok(0, "openai/o3-pro");
    assert_int_equal(any.size(), 1);
    assert_str_eq(pname(any[0]), "openai");
    assert_str_eq(any[0].upstream_model, "o3-pro");
    auto nested = resolve_ok(0, "local/qwen/qwen3-8b");
    assert_str_eq(pname(nested[0]), "local");
    assert_str_eq(nested[0].upstream_model, "qwen/qwen3-8b");

    // not listed and no "*"
    expect_404(0, "groq/gpt-4o");
    // a disabled provider never matches, even with "*"
    expect_404(0, "offline/gpt-4o");
    expect_404(0, "offline/anything");
    expect_404(0, "only-offline");
}

static void test_slash_in_bare_name(void**) {
    // "meta-llama" is not a provider: the whole string is a bare public name
    auto t = resolve_ok(0, "meta-llama/Llama-3.3-70B-Instruct-Turbo");
    assert_int_equal(t.size(), 1);
    assert_str_eq(pname(t[0]), "together");
    assert_str_eq(t[0].upstream_model, "meta-llama/Llama-3.3-70B-Instruct-Turbo");
    // scoped to together explicitly
    auto s = resolve_ok(0, "together/meta-llama/Llama-3.3-70B-Instruct-Turbo");
    assert_str_eq(pname(s[0]), "together");
    expect_404(0, "nobody/gpt-4o");
    expect_404(0, "/gpt-4o");
    expect_404(0, "openai/");
}

static void test_aliases(void**) {
    // team 1 alias beats the global one
    auto t1 = resolve_ok(1, "smart");
    assert_int_equal(t1.size(), 1);
    assert_str_eq(pname(t1[0]), "openai");
    assert_str_eq(t1[0].upstream_model, "gpt-4o-2024-11-20");
    assert_str_eq(t1[0].public_model, "openai/gpt-4o");
    // team 2 has no "smart": global alias -> bare name with two providers
    auto t2 = resolve_ok(2, "smart");
    assert_int_equal(t2.size(), 2);
    assert_str_eq(t2[0].public_model, "llama-3.3-70b");
    // no team (0) uses global aliases only
    assert_int_equal(resolve_ok(0, "smart").size(), 2);
    // team-only alias
    auto f = resolve_ok(2, "fast");
    assert_int_equal(f.size(), 1);
    assert_str_eq(pname(f[0]), "groq");
    expect_404(1, "fast");
    // global alias to a bare name
    assert_int_equal(resolve_ok(7, "cheap").size(), 2);
    // alias to a disabled provider
    expect_404(0, "ghost");
}

static void test_not_found(void**) {
    expect_404(0, "gpt-5");
    expect_404(0, "");
    expect_404(0, "GPT-4O");
    expect_404(0, "*");
    expect_404(0, "openai/gpt-4o\r\nX-Evil: 1");
    ApiError err;
    std::vector<Target> out;
    assert_false(resolve_model(*g_cfg, 0, "no-such-model", &out, &err));
    assert_contains(err.message, "no-such-model");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_single),     cmocka_unit_test(test_bare_multi),
        cmocka_unit_test(test_provider_scoped), cmocka_unit_test(test_slash_in_bare_name),
        cmocka_unit_test(test_aliases),         cmocka_unit_test(test_not_found),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
