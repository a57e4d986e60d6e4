// upstream_request: endpoints, auth shapes and bodies for every provider kind.
#include "chat_body_gen.hpp"
#include "ingress/chat_request.hpp"
#include "util/json_scan.hpp"
#include "snapshot_fixture.hpp"
#include "egress/openai/stream_relay.hpp"
#include "egress/openai/upstream_request.hpp"

#include <cstdlib>

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

static UpstreamEndpoint endpoint(int64_t key_id, std::string_view upstream_model) {
    UpstreamEndpoint ep;
    std::string err;
    if (!chat_endpoint(*g_cfg, test::key_by_id(*g_cfg, key_id), upstream_model, &ep, &err))
        fail_msg("chat_endpoint(key %lld) failed: %s", static_cast<long long>(key_id), err.c_str());
    return ep;
}

static ChatRequest request(const char* body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("bad test body: %s", err.message.c_str());
    return std::move(*r);
}

static const char* kSimple = R"({"model":"x","messages":[{"role":"user","content":"hi"}]})";

// Full request bytes for `key_id`, streaming or not.
static std::string http(int64_t key_id, std::string_view model, bool stream) {
    const ProviderKey& k = test::key_by_id(*g_cfg, key_id);
    UpstreamEndpoint ep = endpoint(key_id, model);
    ChatRequest req = request(stream ? R"({"model":"x","messages":[{"role":"user","content":"hi"}],"stream":true})"
                                     : kSimple);
    std::string body = build_chat_body(*g_cfg, k, req, model);
    return build_http_request(*g_cfg, k, ep, stream, body);
}

static std::string headers_of(const std::string& req) { return req.substr(0, req.find("\r\n\r\n") + 4); }

static void check_ep(const UpstreamEndpoint& ep, bool tls, const char* host, unsigned port, const char* host_header,
                     const char* sni, const char* path) {
    assert_int_equal(ep.tls, tls);
    assert_str_eq(ep.host, host);
    assert_int_equal(ep.port, port);
    assert_str_eq(ep.host_header, host_header);
    assert_str_eq(ep.sni, sni);
    assert_str_eq(ep.path, path);
}

static void test_openai_exact_request(void**) {
    UpstreamEndpoint ep = endpoint(10, "gpt-4o-2024-11-20");
    check_ep(ep, true, "api.openai.com", 443, "api.openai.com", "api.openai.com", "/v1/chat/completions");
    assert_false(ep.host_is_ip);

    const ProviderKey& k = test::key_by_id(*g_cfg, 10);
    ChatRequest req = request(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
    std::string body = build_chat_body(*g_cfg, k, req, "gpt-4o-2024-11-20");
    assert_str_eq(body, R"({"model":"gpt-4o-2024-11-20","messages":[{"role":"user","content":"hi"}]})");
    std::string r = build_http_request(*g_cfg, k, ep, false, body);
    std::string expect = std::string("POST /v1/chat/completions HTTP/1.1\r\n"
                                     "Host: api.openai.com\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Content-Length: ") +
                         std::to_string(body.size()) +
                         "\r\n"
                         "Accept: application/json\r\n"
                         "User-Agent: RouteShift/0.1\r\n"
                         "Authorization: Bearer sk-openai-AAAAAAAAAAAAAAAAAAAAAAAA\r\n"
                         "OpenAI-Organization: org-123\r\n"
                         "OpenAI-Project: proj_abc\r\n"
                         "\r\n" +
                         body;
    assert_str_eq(r, expect);

    std::string s = http(10, "gpt-4o", true);
    assert_contains(s, "\r\nAccept: text/event-stream\r\n");
    assert_not_contains(s, "Connection");
    // key 11 has no organization/project metadata
    std::string plain = headers_of(http(11, "gpt-4o", false));
    assert_contains(plain, "\r\nAuthorization: Bearer sk-openai-B\r\n");
    assert_not_contains(plain, "OpenAI-Organization");
    assert_not_contains(plain, "OpenAI-Project");
}

static void test_azure_v1(void**) {
    // api_version absent, deployment set: v1 path, body model = deployment
    UpstreamEndpoint ep = endpoint(20, "gpt-4o-mini-2024-07-18");
    check_ep(ep, true, "myres.openai.azure.com", 443, "myres.openai.azure.com", "myres.openai.azure.com",
             "/openai/v1/chat/completions");
    std::string r = http(20, "gpt-4o-mini-2024-07-18", false);
    std::string h = headers_of(r);
    assert_contains(h, "\r\napi-key: az-key-1\r\n");
    assert_not_contains(h, "Authorization");
    assert_not_contains(h, "OpenAI-Organization");
    assert_contains(r, R"("model":"gpt4o-prod")");
    assert_not_contains(r, "gpt-4o-mini-2024-07-18");

    // api_version "v1", no deployment: body model = the upstream model
    UpstreamEndpoint ep2 = endpoint(21, "gpt-4o-mini-2024-07-18");
    assert_str_eq(ep2.path, "/openai/v1/chat/completions");
    assert_contains(http(21, "gpt-4o-mini-2024-07-18", false), R"({"model":"gpt-4o-mini-2024-07-18",)");
}

static void test_azure_dated(void**) {
    UpstreamEndpoint ep = endpoint(30, "gpt-4o");
    check_ep(ep, true, "myres2.openai.azure.com", 443, "myres2.openai.azure.com", "myres2.openai.azure.com",
             "/openai/deployments/my%20deploy%2F1/chat/completions?api-version=2024-10-21");
    std::string r = http(30, "gpt-4o", false);
    assert_contains(r, "POST /openai/deployments/my%20deploy%2F1/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n");
    assert_contains(r, "\r\napi-key: az-key-2\r\n");
    assert_contains(r, R"({"model":"gpt-4o",)");

    // no deployment: the upstream model names the deployment
    UpstreamEndpoint ep2 = endpoint(31, "gpt-4o mini");
    assert_str_eq(ep2.path, "/openai/deployments/gpt-4o%20mini/chat/completions?api-version=2025-04-01-preview");
}

static void test_azure_base_url_override(void**) {
    UpstreamEndpoint ep = endpoint(110, "gpt-4o");
    check_ep(ep, false, "127.0.0.1", 9000, "127.0.0.1:9000", "", "/openai/v1/chat/completions");
    assert_true(ep.host_is_ip);
    std::string r = http(110, "gpt-4o", false);
    assert_contains(r, "\r\nHost: 127.0.0.1:9000\r\n");
    assert_contains(r, "\r\napi-key: az-local\r\n");
    assert_contains(r, R"("model":"dep-local")");
}

static void test_bearer_kinds(void**) {
    struct {
        int64_t key;
        const char* host;
        const char* path;
        const char* secret;
    } cases[] = {
        {40, "api.together.xyz", "/v1/chat/completions", "tg-key"},
        {50, "api.groq.com", "/openai/v1/chat/completions", "gsk-key"},
        {60, "api.z.ai", "/api/paas/v4/chat/completions", "zai-key"},
        {80, "dashscope-intl.aliyuncs.com", "/compatible-mode/v1/chat/completions", "ds-key"},
    };
    for (const auto& c : cases) {
        UpstreamEndpoint ep = endpoint(c.key, "m");
        check_ep(ep, true, c.host, 443, c.host, c.host, c.path);
        std::string h = headers_of(http(c.key, "m", false));
        assert_contains(h, std::string("\r\nAuthorization: Bearer ") + c.secret + "\r\n");
        assert_contains(h, std::string("POST ") + c.path + " HTTP/1.1\r\nHost: " + c.host + "\r\n");
        assert_not_contains(h, "api-key");
        assert_not_contains(h, "OpenAI-Organization");
    }
}

static void test_mimo_api_key(void**) {
    UpstreamEndpoint ep = endpoint(70, "mimo-v2-flash");
    check_ep(ep, true, "api.xiaomimimo.com", 443, "api.xiaomimimo.com", "api.xiaomimimo.com", "/v1/chat/completions");
    std::string h = headers_of(http(70, "mimo-v2-flash", false));
    assert_contains(h, "\r\napi-key: mimo-key\r\n");
    assert_not_contains(h, "Authorization");
    assert_not_contains(h, "x-api-key");
}

static void test_openai_compat_auth_shapes(void**) {
    UpstreamEndpoint ep = endpoint(90, "llama3");
    check_ep(ep, false, "127.0.0.1", 8081, "127.0.0.1:8081", "", "/v1/chat/completions");
    std::string none = headers_of(http(90, "llama3", false));
    assert_not_contains(none, "Authorization");
    assert_not_contains(none, "api-key");

    assert_contains(headers_of(http(91, "llama3", false)), "\r\napi-key: local-key\r\n");
    std::string bearer = headers_of(http(92, "llama3", false));
    assert_contains(bearer, "\r\nAuthorization: Bearer local-key-2\r\n");

    UpstreamEndpoint ep2 = endpoint(120, "m");
    check_ep(ep2, true, "llm.example.com", 8443, "llm.example.com:8443", "llm.example.com", "/api/chat/completions");
    std::string xk = headers_of(http(120, "m", false));
    assert_contains(xk, "\r\nx-api-key: compat-key\r\n");
    assert_not_contains(xk, "Authorization");
    assert_contains(headers_of(http(121, "m", false)), "\r\nAuthorization: Bearer compat-key-2\r\n");
}

static void test_body_rewrites(void**) {
    const ProviderKey& k = test::key_by_id(*g_cfg, 10);
    // metadata stripped, model replaced in place, order and values kept (reals, unicode, nested)
    ChatRequest r1 = request(
        R"({"temperature":0.7,"model":"smart","metadata":{"route_hint":"x"},"messages":[{"role":"developer","content":"é \"q\""}],"n":1,"user":null,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]})");
    assert_str_eq(build_chat_body(*g_cfg, k, r1, "gpt-4o-2024-11-20"),
                  R"({"temperature":0.7,"model":"gpt-4o-2024-11-20","messages":[{"role":"developer","content":"é \"q\""}],"n":1,"user":null,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]})");

    // stream without stream_options: include_usage added
    ChatRequest r2 = request(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})");
    assert_str_eq(build_chat_body(*g_cfg, k, r2, "up"),
                  R"({"model":"up","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})");

    // include_usage false -> forced true, other stream_options keys kept in place
    ChatRequest r3 = request(
        R"({"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true,"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]})");
    assert_str_eq(build_chat_body(*g_cfg, k, r3, "up"),
                  R"({"model":"up","stream":true,"stream_options":{"continuous_usage_stats":true,"include_usage":true,"x":1},"messages":[{"role":"user","content":"hi"}]})");

    // stream_options without include_usage
    ChatRequest r4 = request(R"({"model":"m","stream":true,"stream_options":{},"messages":[{"role":"user"}]})");
    assert_str_eq(build_chat_body(*g_cfg, k, r4, "up"),
                  R"({"model":"up","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user"}]})");

    // not streaming: nothing added
    ChatRequest r5 = request(R"({"model":"m","stream":false,"messages":[{"role":"user"}]})");
    assert_str_eq(build_chat_body(*g_cfg, k, r5, "up"), R"({"model":"up","stream":false,"messages":[{"role":"user"}]})");
    // the parsed request itself is not modified
    assert_str_eq(json_string_view(r1.dom(), "model"), "smart");
    assert_non_null(json_object_get(r1.dom(), "metadata"));
}

static void test_zai_developer_role(void**) {
    const ProviderKey& zai = test::key_by_id(*g_cfg, 60);
    const char* body =
        R"({"model":"glm","messages":[{"role":"developer","content":"be terse","name":"d"},{"role":"user","content":"developer"},{"content":"x","role":"developer"}]})";
    ChatRequest r = request(body);
    assert_str_eq(build_chat_body(*g_cfg, zai, r, "glm-4.6"),
                  R"({"model":"glm-4.6","messages":[{"role":"system","content":"be terse","name":"d"},{"role":"user","content":"developer"},{"content":"x","role":"system"}]})");
    // other kinds keep developer
    const ProviderKey& openai = test::key_by_id(*g_cfg, 10);
    assert_contains(build_chat_body(*g_cfg, openai, r, "gpt"), R"("role":"developer")");
}

static void test_content_length_and_framing(void**) {
    const ProviderKey& k = test::key_by_id(*g_cfg, 40);
    UpstreamEndpoint ep = endpoint(40, "m");
    std::string body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"h\xc3\xa9llo\"}]}";
    std::string r = build_http_request(*g_cfg, k, ep, true, body);
    assert_contains(r, "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n");
    size_t end = r.find("\r\n\r\n");
    assert_true(end != std::string::npos);
    assert_str_eq(r.substr(end + 4), body);
    assert_int_equal(test::count(r.substr(0, end + 4), "\r\n"), 8);  // request line + 6 headers + blank line
    assert_not_contains(r.substr(0, end), "\n\n");
}

// A Config that bypasses parse_snapshot, to check the request builder's own defences.
static std::shared_ptr<Config> raw_config(ProviderKind kind, const char* base_url, const char* secret,
                                          const char* metadata) {
    auto cfg = std::make_shared<Config>();
    Provider p;
    p.id = 1;
    p.name = "p";
    p.kind = kind;
    p.base_url = base_url;
    cfg->providers.push_back(std::move(p));
    ProviderKey k;
    k.id = 7;
    k.provider = 0;
    k.secret = secret;
    k.metadata = json_parse(metadata, nullptr);
    // the typed fields parse_snapshot would fill, unvalidated (this config bypasses the parser)
    k.meta.organization = json_string_view(k.metadata.get(), "organization");
    k.meta.resource_name = json_string_view(k.metadata.get(), "resource_name");
    cfg->keys.push_back(std::move(k));
    cfg->providers[0].keys.push_back(0);
    return cfg;
}

static void test_header_injection_rejected(void**) {
    UpstreamEndpoint ep;
    std::string err;
    auto c1 = raw_config(ProviderKind::openai, "https://api.openai.com/v1", "sk-SECRET\r\nX-Evil: 1", "{}");
    assert_false(chat_endpoint(*c1, c1->keys[0], "m", &ep, &err));
    assert_contains(err, "secret");
    assert_not_contains(err, "SECRET");
    // build_http_request never emits the unsafe value either
    UpstreamEndpoint ok_ep{true, "api.openai.com", 443, false, "api.openai.com", "api.openai.com", "/v1/chat/completions"};
    std::string r = build_http_request(*c1, c1->keys[0], ok_ep, false, "{}");
    assert_not_contains(r, "X-Evil");

    auto c2 = raw_config(ProviderKind::openai, "https://api.openai.com/v1", "sk-x", R"({"organization":"org\nX-Evil: 1"})");
    assert_false(chat_endpoint(*c2, c2->keys[0], "m", &ep, &err));
    assert_contains(err, "organization");
    assert_not_contains(build_http_request(*c2, c2->keys[0], ok_ep, false, "{}"), "X-Evil");

    auto c3 = raw_config(ProviderKind::openai, "https://api.openai.com/v1", std::string("sk-\0x", 5).c_str(), "{}");
    c3->keys[0].secret = std::string("sk-\0x", 5);
    assert_false(chat_endpoint(*c3, c3->keys[0], "m", &ep, &err));

    auto c4 = raw_config(ProviderKind::azure, "", "k", R"({"resource_name":"evil.com/x"})");
    assert_false(chat_endpoint(*c4, c4->keys[0], "m", &ep, &err));
    auto c5 = raw_config(ProviderKind::azure, "", "k", "{}");
    assert_false(chat_endpoint(*c5, c5->keys[0], "m", &ep, &err));
    assert_contains(err, "resource_name");

    // the parser refuses the same snapshot content up front
    std::string perr;
    assert_null(parse_snapshot(
        R"({"generation":1,"providers":[{"id":1,"name":"o","kind":"openai"}],"provider_keys":[{"id":1,"provider_id":1,"secret":"a\r\nX-Evil: 1"}]})",
        &perr).get());
    assert_contains(perr, "provider_keys[0] (id 1)");
}

// The client's own metadata reaches OpenAI and Azure (stored completions), never the gateway's
// members; Azure versions before 2024-09-01 reject stream_options and get none.
static void test_metadata_and_old_azure_stream_options(void**) {
    std::string err;
    auto cfg = parse_snapshot(
        R"({"generation":1,"providers":[{"id":1,"name":"o","kind":"openai"},{"id":2,"name":"g","kind":"groq"},
            {"id":3,"name":"az","kind":"azure"}],
            "provider_keys":[{"id":1,"provider_id":1,"secret":"k1"},{"id":2,"provider_id":2,"secret":"k2"},
            {"id":3,"provider_id":3,"secret":"k3","metadata":{"resource_name":"r","api_version":"2024-06-01","deployment":"d"}},
            {"id":4,"provider_id":3,"secret":"k4","metadata":{"resource_name":"r","api_version":"2024-09-01-preview","deployment":"d"}},
            {"id":5,"provider_id":3,"secret":"k5","metadata":{"resource_name":"r","api_version":"2024-08-01-preview","deployment":"d"}}],
            "models":[{"provider_id":1,"model":"*"},{"provider_id":2,"model":"*"},{"provider_id":3,"model":"*"}]})",
        &err);
    if (!cfg) fail_msg("snapshot: %s", err.c_str());
    ChatRequest r = request(
        R"({"model":"m","store":true,"metadata":{"route_hint":"x","team":"blue","session_id":"s","n":{"a":1}},"messages":[{"role":"user","content":"hi"}]})");
    assert_str_eq(build_chat_body(*cfg, test::key_by_id(*cfg, 1), r, "gpt"),
                  R"({"model":"gpt","store":true,"metadata":{"team":"blue","n":{"a":1}},"messages":[{"role":"user","content":"hi"}]})");
    assert_str_eq(build_chat_body_dom(*cfg, test::key_by_id(*cfg, 1), r, "gpt"),
                  R"({"model":"gpt","store":true,"metadata":{"team":"blue","n":{"a":1}},"messages":[{"role":"user","content":"hi"}]})");
    assert_str_eq(build_chat_body(*cfg, test::key_by_id(*cfg, 3), r, "gpt"),
                  R"({"model":"gpt","store":true,"metadata":{"team":"blue","n":{"a":1}},"messages":[{"role":"user","content":"hi"}]})");
    // a provider that does not define metadata gets none; nor does anyone when only ours was sent
    assert_str_eq(build_chat_body(*cfg, test::key_by_id(*cfg, 2), r, "llama"),
                  R"({"model":"llama","store":true,"messages":[{"role":"user","content":"hi"}]})");
    ChatRequest ours = request(R"({"model":"m","metadata":{"route_hint":"x","session_id":"s"},"messages":[{"role":"user"}]})");
    assert_str_eq(build_chat_body(*cfg, test::key_by_id(*cfg, 1), ours, "gpt"), R"({"model":"gpt","messages":[{"role":"user"}]})");
    assert_str_eq(build_chat_body_dom(*cfg, test::key_by_id(*cfg, 1), ours, "gpt"), R"({"model":"gpt","messages":[{"role":"user"}]})");

    ChatRequest st = request(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user"}]})");
    ChatRequest plain = request(R"({"model":"m","stream":true,"messages":[{"role":"user"}]})");
    for (int64_t old_key : {3, 5}) {
        const ProviderKey& k = test::key_by_id(*cfg, old_key);
        assert_str_eq(build_chat_body(*cfg, k, st, "gpt"), R"({"model":"gpt","stream":true,"messages":[{"role":"user"}]})");
        assert_str_eq(build_chat_body_dom(*cfg, k, st, "gpt"), R"({"model":"gpt","stream":true,"messages":[{"role":"user"}]})");
        assert_str_eq(build_chat_body(*cfg, k, plain, "gpt"), R"({"model":"gpt","stream":true,"messages":[{"role":"user"}]})");
        assert_str_eq(build_chat_body_dom(*cfg, k, plain, "gpt"), R"({"model":"gpt","stream":true,"messages":[{"role":"user"}]})");
    }
    assert_str_eq(build_chat_body(*cfg, test::key_by_id(*cfg, 4), plain, "gpt"),
                  R"({"model":"gpt","stream":true,"messages":[{"role":"user"}],"stream_options":{"include_usage":true}})");
}

// ---- spliced body == DOM body -------------------------------------------------------------------

static std::vector<std::string> top_keys(const json_t* o) {
    std::vector<std::string> k;
    const char* key;
    size_t len;
    json_t* v;
    json_object_keylen_foreach(const_cast<json_t*>(o), key, len, v) k.emplace_back(key, len);
    return k;
}

// build_chat_body (splice) and build_chat_body_dom (reference) produce the same JSON document
// (jansson json_equal, same top-level key order), and the splice is valid JSON for both parsers.
static void expect_same_body(const ChatRequest& req, int64_t key_id, std::string_view model) {
    const ProviderKey& k = test::key_by_id(*g_cfg, key_id);
    std::string splice = build_chat_body(*g_cfg, k, req, model);
    std::string dom = build_chat_body_dom(*g_cfg, k, req, model);
    json_error_t e;
    JsonPtr a(json_loadb(splice.data(), splice.size(), JSON_ALLOW_NUL, &e));
    if (!a) fail_msg("spliced body is not JSON (%s):\n  %s\n  from: %s", e.text, splice.c_str(), std::string(req.body).c_str());
    JsonValue root;
    JsonScanError se;
    if (!json_scan(splice, &root, nullptr, &se) || !root.is(JsonType::object))
        fail_msg("scanner refuses the spliced body (%s): %s", se.to_string().c_str(), splice.c_str());
    JsonPtr b(json_loadb(dom.data(), dom.size(), JSON_ALLOW_NUL, &e));
    assert_non_null(b.get());
    if (!json_equal(a.get(), b.get()))
        fail_msg("bodies differ (key %lld, model %s):\n  splice: %s\n  dom:    %s\n  from:   %s",
                 static_cast<long long>(key_id), std::string(model).c_str(), splice.c_str(), dom.c_str(),
                 std::string(req.body).c_str());
    if (top_keys(a.get()) != top_keys(b.get()))
        fail_msg("top-level key order differs:\n  splice: %s\n  dom:    %s", splice.c_str(), dom.c_str());
    if (req.duplicate_keys) assert_str_eq(splice, dom);  // the fallback is the DOM path itself
}

static const int64_t kBodyKeys[] = {10, 20, 21, 30, 40, 50, 60, 70, 80, 90, 110, 120};
static const char* const kModels[] = {"up", "gpt-4o-2024-11-20", "we\"ird\\model\xc3\xa9\n\x01"};

static void expect_same_body_all(const ChatRequest& req) {
    for (int64_t k : kBodyKeys)
        for (const char* m : kModels) expect_same_body(req, k, m);
}

static void test_splice_equals_dom_corpus(void**) {
    const char* corpus[] = {
        // metadata first / middle / last / only, nested metadata kept
        R"({"metadata":{"route_hint":"x"},"model":"m","messages":[{"role":"user","content":"hi"}]})",
        R"({"model":"m","metadata":{"route_hint":"x","session_id":"s"},"messages":[{"role":"user"}]})",
        R"({"model":"m","messages":[{"role":"user"}],"metadata":{"route_hint":"x"}})",
        R"({"metadata":null,"model":"m","messages":[{"role":"user","content":{"metadata":{"a":1},"model":"inner"}}]})",
        R"({"model":"m","messages":[{"role":"user"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"metadata":{"type":"object"},"model":{"type":"string"}}}}}],"metadata":{}})",
        // key orders and whitespace
        R"({"messages":[{"role":"user","content":"hi"}],"model":"m"})",
        "{\r\n  \"model\" : \"m\" ,\r\n\t\"messages\" : [ { \"role\" : \"user\" , \"content\" : \" spaced  \" } ] ,\n  \"metadata\" : { } ,\n  \"temperature\" : 0.7\n}\n",
        "  {\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}  ",
        // escaped keys, unicode, escapes kept as sent
        R"({"mod\u0065l":"m","m\u0065ssages":[{"r\u006fle":"us\u0065r"}],"metad\u0061ta":{"route_hint":"x"}})",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \\u00e9\\ud83d\\ude00 \\/ \\\"q\\\"\"}],\"\xd0\xba\xd0\xbb\":\"\xe5\x80\xbc\"}",
        R"({"model":"m","messages":[{"role":"user","content":"a\u0000b"}],"x":"\u0000"})",
        R"({"model":"m","messages":[{"role":"user"}],"":"empty key","\u006dodels":1})",
        // numbers as sent
        R"({"model":"m","messages":[{"role":"user"}],"temperature":1E+0,"top_p":-0.0,"t":1e-300,"n":100.0,"seed":-9223372036854775808,"b":1.5e300})",
        // stream_options variants
        R"({"model":"m","messages":[{"role":"user"}],"stream":true})",
        R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":null})",
        R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":{}})",
        R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":{"include_usage":false}})",
        R"({"stream_options":{"include_usage":true,"x":1},"model":"m","messages":[{"role":"user"}],"stream":true})",
        R"({"model":"m","stream":true,"stream_options":{ "x" : {"include_usage":false} , "y" : [ 1 ] },"messages":[{"role":"user"}]})",
        R"({"model":"m","stream":true,"stream_options":{"include\u005fusage":false},"messages":[{"role":"user"}]})",
        R"({"model":"m","stream":true,"stream_options":{"include_usage":false,"include_usage":null},"messages":[{"role":"user"}]})",
        R"({"model":"m","stream":false,"stream_options":null,"messages":[{"role":"user"}]})",
        R"({"model":"m","stream":null,"stream_options":null,"messages":[{"role":"user"}]})",
        R"({"model":"m","stre\u0061m":true,"stream_opti\u006fns":{"include_usage":false},"messages":[{"role":"user"}]})",
        // zai: developer roles (escaped, duplicated, look-alikes that must stay)
        R"({"model":"glm","messages":[{"role":"developer","content":"be terse"},{"role":"develop\u0065r"},{"role":"user","content":"developer"},{"content":{"role":"developer"},"role":"user"},{"role":"user","role":"developer"},{"role":"developer","role":"user"}]})",
        "{\"model\":\"glm\",\"messages\":[ {\n \"role\" :  \"developer\" , \"content\":[{\"type\":\"text\",\"text\":\"x\"}] } ]}",
        // duplicate top-level keys: DOM fallback
        R"({"model":"a","messages":[{"role":"user"}],"model":"b"})",
        R"({"metadata":{"route_hint":"x"},"model":"m","messages":[{"role":"user"}],"metadata":null})",
        R"({"model":"m","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user"}],"stream_options":{"x":1}})",
        R"({"model":"m","messages":[{"role":"user"}],"t":1,"t":2})",
        R"({"model":"m","messages":[{"role":"user"}],"mod\u0065l":"n"})",
    };
    for (const char* body : corpus) {
        ApiError err;
        auto r = parse_chat_request(body, &err);
        if (!r) fail_msg("corpus body refused (%s): %s", err.message.c_str(), body);
        expect_same_body_all(*r);
    }
}

static void test_splice_exact_bytes(void**) {
    const ProviderKey& k = test::key_by_id(*g_cfg, 10);
    struct {
        const char* in;
        const char* out;
    } cases[] = {
        // (OpenAI: the client's metadata members stay, the gateway's go)
        {R"({"metadata":{"a":1},"model":"m","messages":[{"role":"user"}]})", R"({"metadata":{"a":1},"model":"up","messages":[{"role":"user"}]})"},
        {R"({"model":"m","metadata":{"route_hint":"h","a":1},"messages":[{"role":"user"}]})", R"({"model":"up","metadata":{"a":1},"messages":[{"role":"user"}]})"},
        {R"({"model":"m","messages":[{"role":"user"}],"metadata":{"route_hint":"h"}})", R"({"model":"up","messages":[{"role":"user"}]})"},
        // spacing between top-level members goes, everything inside values stays as sent
        {"{ \"model\" : \"m\" ,\n \"messages\" : [ {\"role\" : \"user\", \"content\":\"\\u00e9\\/\"} ] ,\n \"t\" : 1.0E2 }",
         "{\"model\":\"up\",\"messages\":[ {\"role\" : \"user\", \"content\":\"\\u00e9\\/\"} ],\"t\":1.0E2}"},
        {R"({"mod\u0065l":"m","messages":[{"role":"user"}]})", R"({"mod\u0065l":"up","messages":[{"role":"user"}]})"},
        {R"({"model":"m","stream":true,"stream_options":{"x":1, "include_usage" : false},"messages":[{"role":"user"}]})",
         R"({"model":"up","stream":true,"stream_options":{"x":1,"include_usage":true},"messages":[{"role":"user"}]})"},
        {R"({"model":"m","stream":true,"stream_options":null,"messages":[{"role":"user"}]})",
         R"({"model":"up","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user"}]})"},
        {R"({"model":"m","stream":false,"stream_options":null,"messages":[{"role":"user"}]})",
         R"({"model":"up","stream":false,"messages":[{"role":"user"}]})"},
    };
    for (const auto& c : cases) {
        ApiError err;
        auto r = parse_chat_request(c.in, &err);
        assert_true(r.has_value());
        assert_str_eq(build_chat_body(*g_cfg, k, *r, "up"), c.out);
    }
    // Azure v1: the deployment goes in model; zai: role values replaced in place
    ApiError err;
    auto r = parse_chat_request(R"({"model":"m","messages":[ {"role" : "developer","content":"x"} ]})", &err);
    assert_str_eq(build_chat_body(*g_cfg, test::key_by_id(*g_cfg, 20), *r, "up"),
                  R"({"model":"gpt4o-prod","messages":[ {"role" : "developer","content":"x"} ]})");
    assert_str_eq(build_chat_body(*g_cfg, test::key_by_id(*g_cfg, 60), *r, "up"),
                  R"({"model":"up","messages":[ {"role" : "system","content":"x"} ]})");
}

static void test_splice_equals_dom_generated(void**) {
    uint64_t seed = 11;
    size_t rounds = 1500;
    if (const char* e = std::getenv("RS_FUZZ_SEED")) seed = std::strtoull(e, nullptr, 10);
    if (const char* e = std::getenv("RS_FUZZ_ROUNDS")) rounds = std::strtoull(e, nullptr, 10);
    test::ChatBodyGen gen(seed);
    size_t checked = 0, dup = 0;
    for (size_t i = 0; i < rounds; ++i) {
        std::string body = gen.body(100);
        ApiError err;
        auto r = parse_chat_request(body, &err);
        if (!r) continue;  // e.g. stream_options without stream
        ++checked;
        dup += r->duplicate_keys;
        expect_same_body_all(*r);
    }
    std::printf("splice vs DOM: %zu generated bodies x %zu keys x %zu models (%zu with duplicate keys)\n", checked,
                sizeof kBodyKeys / sizeof *kBodyKeys, sizeof kModels / sizeof *kModels, dup);
    assert_true(checked > rounds / 3);
}

// ---- the body as spans of the client's (what the nginx glue sends) -----------------------------

// The spliced body's pieces: within their sources, sizes adding up, the same bytes as
// build_chat_body once flattened.
static SplicedBody spliced(const ChatRequest& r, int64_t key_id, std::string_view model) {
    const ProviderKey& k = test::key_by_id(*g_cfg, key_id);
    SplicedBody sb;
    splice_chat_body(*g_cfg, k, r, model, &sb);
    size_t total = 0, own = 0;
    for (const SplicedBody::Piece& p : sb.pieces) {
        assert_true(p.size > 0);
        if (p.own) {
            assert_true(p.offset + p.size <= sb.own.size());
            own += p.size;
        } else {
            assert_true(p.offset + p.size <= r.body.size());
        }
        total += p.size;
    }
    assert_int_equal(total, sb.size);
    assert_int_equal(own, sb.own.size());
    assert_str_eq(sb.flatten(r.body), build_chat_body(*g_cfg, k, r, model));
    return sb;
}

static void test_splice_pieces(void**) {
    // a compact body the splice leaves unchanged is one span: the client's body itself
    ChatRequest same = request(R"({"model":"gpt-4o","temperature":0.2,"messages":[{"role":"user","content":"hi"}]})");
    SplicedBody a = spliced(same, 10, "gpt-4o");
    assert_int_equal(a.pieces.size(), 1);
    assert_false(a.pieces[0].own);
    assert_int_equal(a.pieces[0].size, same.body.size());
    assert_true(a.own.empty());

    // a new model: the client's bytes before and after it, our bytes for the value only
    SplicedBody b = spliced(same, 10, "gpt-4o-2024-11-20");
    assert_int_equal(b.pieces.size(), 3);
    assert_str_eq(b.own, "\"gpt-4o-2024-11-20\"");
    assert_false(b.pieces[0].own);
    assert_true(b.pieces[1].own);
    assert_false(b.pieces[2].own);

    // metadata dropped: the spans on both sides of it, joined by our comma
    ChatRequest meta = request(R"({"model":"m","metadata":{"route_hint":"x"},"messages":[{"role":"user","content":"hi"}]})");
    SplicedBody c = spliced(meta, 10, "m");
    assert_str_eq(c.flatten(meta.body), R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
    assert_true(c.own.size() <= 2);

    // spacing between members goes (our bytes), values keep the client's bytes
    ChatRequest spaced = request("{ \"model\" : \"m\" ,\n \"messages\": [ {\"role\":\"user\",\"content\":\"hi\"} ] }");
    SplicedBody d = spliced(spaced, 10, "m");
    assert_str_eq(d.flatten(spaced.body), R"({"model":"m","messages":[ {"role":"user","content":"hi"} ]})");

    // stream: include_usage added by us after the client's bytes
    ChatRequest stream = request(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    SplicedBody e = spliced(stream, 10, "m");
    assert_false(e.pieces[0].own);
    assert_contains(e.own, "\"stream_options\":{\"include_usage\":true}");

    // zai: developer roles rewritten inside the messages span
    ChatRequest dev = request(R"({"model":"m","messages":[{"role":"developer","content":"x"},{"role":"user","content":"hi"}]})");
    SplicedBody f = spliced(dev, 60, "glm-4.6");
    assert_contains(f.flatten(dev.body), R"({"role":"system","content":"x"})");

    // duplicate top-level keys: the DOM's body, all ours
    ChatRequest dup = request(R"({"model":"a","model":"b","messages":[{"role":"user","content":"hi"}]})");
    SplicedBody g = spliced(dup, 10, "m");
    assert_int_equal(g.pieces.size(), 1);
    assert_true(g.pieces[0].own);
}

static void test_splice_pieces_generated(void**) {
    test::ChatBodyGen gen(23);
    size_t checked = 0;
    for (size_t i = 0; i < 400; ++i) {
        std::string body = gen.body(100);
        ApiError err;
        auto r = parse_chat_request(body, &err);
        if (!r) continue;
        ++checked;
        for (int64_t k : {10, 20, 60}) spliced(*r, k, "up");
    }
    assert_true(checked > 100);
}

// ---- no DOM on the passthrough path -------------------------------------------------------------

static size_t g_jansson_allocs = 0;
static void* counting_malloc(size_t n) {
    ++g_jansson_allocs;
    return std::malloc(n);
}

static void test_passthrough_builds_no_dom(void**) {
    const std::string body = R"({"model":"smart","messages":[{"role":"system","content":"be brief"},)"
                             R"({"role":"user","content":"hi"}],"stream":true,"metadata":{"route_hint":"x"}})";
    const std::string answer = R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":)"
                               R"({"role":"assistant","content":"hello"},"finish_reason":"stop"}],)"
                               R"("usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})";
    const std::string sse = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\n"
                            "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n"
                            "data: [DONE]\n\n";
    json_set_alloc_funcs(counting_malloc, std::free);
    g_jansson_allocs = 0;
    size_t body_bytes = 0;
    Usage u;
    OpenAIStreamRelay relay(false);
    std::string out;
    {
        ApiError err;
        auto r = parse_chat_request(body, &err);
        assert_true(r.has_value());
        for (int64_t k : {10, 20, 40, 60, 90}) body_bytes += build_chat_body(*g_cfg, test::key_by_id(*g_cfg, k), *r, "up").size();
        u = usage_from_completion(answer);
        relay.feed(sse, &out);
    }
    size_t allocs = g_jansson_allocs;
    json_set_alloc_funcs(std::malloc, std::free);
    assert_true(body_bytes > 0);
    assert_int_equal(u.total_tokens, 11);
    assert_int_equal(relay.usage().total_tokens, 11);
    assert_int_equal(allocs, 0);  // jansson never ran
}

// issue 13: a deployment named after the model never becomes a dot segment
static void test_azure_deployment_not_a_dot_segment(void**) {
    assert_str_eq(endpoint(31, "..").path, "/openai/deployments/%2E%2E/chat/completions?api-version=2025-04-01-preview");
    assert_str_eq(endpoint(31, ".").path, "/openai/deployments/%2E/chat/completions?api-version=2025-04-01-preview");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_exact_request),
        cmocka_unit_test(test_azure_v1),
        cmocka_unit_test(test_azure_dated),
        cmocka_unit_test(test_azure_base_url_override),
        cmocka_unit_test(test_bearer_kinds),
        cmocka_unit_test(test_mimo_api_key),
        cmocka_unit_test(test_openai_compat_auth_shapes),
        cmocka_unit_test(test_body_rewrites),
        cmocka_unit_test(test_zai_developer_role),
        cmocka_unit_test(test_content_length_and_framing),
        cmocka_unit_test(test_header_injection_rejected),
        cmocka_unit_test(test_splice_equals_dom_corpus),
        cmocka_unit_test(test_splice_exact_bytes),
        cmocka_unit_test(test_splice_equals_dom_generated),
        cmocka_unit_test(test_passthrough_builds_no_dom),
        cmocka_unit_test(test_splice_pieces),
        cmocka_unit_test(test_splice_pieces_generated),
        cmocka_unit_test(test_azure_deployment_not_a_dot_segment),
        cmocka_unit_test(test_metadata_and_old_azure_stream_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
