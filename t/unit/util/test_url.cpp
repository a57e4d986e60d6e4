// url: provider base URL parsing; provider_catalog: kinds, defaults, auth shapes.
#include "config/provider_catalog.hpp"
#include "util/url.hpp"

#include "test_util.hpp"

using namespace routeshift;

static Url ok(const char* text) {
    std::string err;
    auto u = parse_url(text, &err);
    if (!u) fail_msg("rejected %s: %s", text, err.c_str());
    return *u;
}

static void bad(const char* text) {
    std::string err;
    auto u = parse_url(text, &err);
    if (u) fail_msg("accepted %s", text);
    assert_false(err.empty());
}

static void test_https_default_port(void**) {
    Url u = ok("https://api.openai.com/v1");
    assert_true(u.tls);
    assert_str_eq(u.host, "api.openai.com");
    assert_int_equal(u.port, 443);
    assert_str_eq(u.path, "/v1");
    assert_false(u.host_is_ip);
    assert_str_eq(u.host_header, "api.openai.com");
}

static void test_http_port_trailing_slash(void**) {
    Url u = ok("http://LocalHost:8080/Api/V1/");
    assert_false(u.tls);
    assert_str_eq(u.host, "localhost");
    assert_int_equal(u.port, 8080);
    assert_str_eq(u.path, "/Api/V1");
    assert_str_eq(u.host_header, "localhost:8080");

    Url root = ok("https://example.com/");
    assert_str_eq(root.path, "");
    Url none = ok("HTTPS://example.com");
    assert_true(none.tls);
    assert_str_eq(none.path, "");
    Url explicit_default = ok("http://example.com:80/x");
    assert_str_eq(explicit_default.host_header, "example.com");
    Url https_on_80 = ok("https://example.com:80");
    assert_str_eq(https_on_80.host_header, "example.com:80");
}

static void test_ip_literals(void**) {
    Url v4 = ok("http://127.0.0.1:9000");
    assert_true(v4.host_is_ip);
    assert_str_eq(v4.host, "127.0.0.1");
    assert_str_eq(v4.host_header, "127.0.0.1:9000");
    Url v6 = ok("https://[::1]:8443/v1");
    assert_true(v6.host_is_ip);
    assert_str_eq(v6.host, "::1");
    assert_int_equal(v6.port, 8443);
    assert_str_eq(v6.host_header, "[::1]:8443");
    Url v6d = ok("http://[2001:DB8::1]");
    assert_str_eq(v6d.host, "2001:db8::1");
    assert_str_eq(v6d.host_header, "[2001:db8::1]");
}

static void test_rejects(void**) {
    bad("");
    bad("api.openai.com/v1");
    bad("ftp://example.com");
    bad("https://");
    bad("https:///v1");
    bad("https://example.com/v1?x=1");
    bad("https://example.com/v1#frag");
    bad("https://user:pass@example.com/v1");
    bad("https://example.com:0");
    bad("https://example.com:65536");
    bad("https://example.com:");
    bad("https://example.com:80a");
    bad("https://exa mple.com");
    bad("https://example.com/v 1");
    bad("https://example.com/v1\r\nX-Evil: 1");
    bad("https://[::1");
    bad("https://[zz::1]");
    bad("https://256.1.1.1");
    bad("https://1.2.3");
    bad("https://a..b");
    bad("https://example.com/%zz");
}

static void test_catalog(void**) {
    struct {
        const char* name;
        ProviderKind kind;
        const char* base;
        AuthShape auth;
    } expect[] = {
        {"openai", ProviderKind::openai, "https://api.openai.com/v1", AuthShape::bearer},
        {"azure", ProviderKind::azure, "", AuthShape::api_key},
        {"together", ProviderKind::together, "https://api.together.xyz/v1", AuthShape::bearer},
        {"groq", ProviderKind::groq, "https://api.groq.com/openai/v1", AuthShape::bearer},
        {"zai", ProviderKind::zai, "https://api.z.ai/api/paas/v4", AuthShape::bearer},
        {"mimo", ProviderKind::mimo, "https://api.xiaomimimo.com/v1", AuthShape::api_key},
        {"dashscope", ProviderKind::dashscope, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", AuthShape::bearer},
        {"openai_compat", ProviderKind::openai_compat, "", AuthShape::bearer},
    };
    for (const auto& e : expect) {
        const ProviderInfo* p = provider_info(e.name);
        assert_non_null(p);
        assert_true(p->kind == e.kind);
        assert_str_eq(p->name, e.name);
        assert_str_eq(p->default_base_url, e.base);
        assert_true(p->auth == e.auth);
        assert_ptr_equal(&provider_info(e.kind), p);
        if (*e.base) ok(e.base);  // every default parses
    }
    assert_null(provider_info("claude"));
    assert_true(provider_info("anthropic")->wire == WireFormat::anthropic);
    assert_true(provider_info("bedrock")->wire == WireFormat::bedrock);
    assert_true(wire_format(ProviderKind::zai, "anthropic") == WireFormat::anthropic);
    assert_true(wire_format(ProviderKind::zai, "") == WireFormat::openai);
    assert_true(wire_format(ProviderKind::groq, "anthropic") == WireFormat::openai);
    assert_null(provider_info("OpenAI"));
    assert_null(provider_info(""));
}

// issue 13: a NUL (or any control, space, non-ASCII byte) is refused, not cut off by inet_pton
static void test_rejects_nul_and_trailing_bytes(void**) {
    std::string err;
    assert_false(parse_url(std::string_view("http://127.0.0.1\0junk", 21), &err).has_value());
    assert_false(parse_url(std::string_view("http://127.0.0.1\0", 17), &err).has_value());
    assert_false(parse_url(std::string_view("http://[::1\0x]:80", 17), &err).has_value());
    assert_false(parse_url(std::string_view("http://host.example\0.com/v1", 27), &err).has_value());
    bad("http://127.0.0.1 junk");
    bad("http://127.0.0.1\tx");
    bad("https://api.example.com/v1\r\n");
    bad("https://h\xC3\xA9st.example.com");
    bad("https://host.example.com..");  // fuzz_url: accepted as "host.example.com." before
    Url u = ok("http://127.0.0.1:8081/v1");
    assert_str_eq(u.host, "127.0.0.1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_default_port), cmocka_unit_test(test_http_port_trailing_slash),
        cmocka_unit_test(test_ip_literals),        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_catalog),
        cmocka_unit_test(test_rejects_nul_and_trailing_bytes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
