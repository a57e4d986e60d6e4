// WireAdapter::request_head: for every wire format the head ends with the blank line, carries the
// body's Content-Length and no body bytes; head + body is byte for byte the complete request the
// full builders produce (the transport sends the body from its shared buffer after the head).
#include "egress/wire_adapter.hpp"
#include "egress/provider_adapter.hpp"
#include "config/config_snapshot.hpp"

#include "test_util.hpp"

#include <string>

using namespace routeshift;

namespace {

std::shared_ptr<const Config> g_cfg;

const char* kSnapshot = R"({
  "version": 1, "generation": 1,
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai"},
    {"id": 2, "name": "claude", "kind": "anthropic"},
    {"id": 3, "name": "gemini", "kind": "gemini"},
    {"id": 4, "name": "bedrock", "kind": "bedrock"},
    {"id": 5, "name": "bedrock-key", "kind": "bedrock"}
  ],
  "provider_keys": [
    {"id": 1, "provider_id": 1, "secret": "sk-openai-HEADTEST", "metadata": {"organization": "org-1"}},
    {"id": 2, "provider_id": 2, "secret": "sk-ant-HEADTEST"},
    {"id": 3, "provider_id": 3, "secret": "gemini-HEADTEST"},
    {"id": 4, "provider_id": 4, "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "metadata": {"region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "session_token": "tok"}},
    {"id": 5, "provider_id": 5, "secret": "bedrock-api-key", "metadata": {"region": "eu-west-1", "auth": "api_key"}}
  ],
  "models": [], "teams": [], "virtual_keys": [], "model_aliases": [], "routing_rules": [], "model_prices": []
})";

const std::string kBody = R"({"model":"m","messages":[{"role":"user","content":"h\u00e9llo"}]})";

std::string head_of(const ProviderKey& key, bool stream, int64_t now, UpstreamEndpoint* ep) {
    std::string error;
    if (!wire_adapter(key).endpoint(*g_cfg, key, "m", stream, ep, &error)) fail_msg("endpoint: %s", error.c_str());
    std::string head;
    if (!wire_adapter(key).request_head(*g_cfg, key, *ep, stream, kBody, now, &head, &error))
        fail_msg("request_head: %s", error.c_str());
    // the head alone: blank line last, the body's length, none of its bytes
    assert_true(head.size() > 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0);
    assert_true(head.find("\r\n\r\n") == head.size() - 4);
    assert_true(head.find("Content-Length: " + std::to_string(kBody.size()) + "\r\n") != std::string::npos);
    assert_true(head.find("u00e9llo") == std::string::npos);
    assert_true(head.rfind("POST ", 0) == 0);
    return head;
}

}  // namespace

static int setup(void**) {
    std::string err;
    g_cfg = parse_snapshot(kSnapshot, &err);
    if (!g_cfg) fail_msg("snapshot rejected: %s", err.c_str());
    return 0;
}
static int teardown(void**) {
    g_cfg.reset();
    return 0;
}

static void test_openai_head_plus_body_is_the_full_request(void**) {
    for (bool stream : {false, true}) {
        UpstreamEndpoint ep;
        std::string head = head_of(g_cfg->keys[0], stream, 0, &ep);
        assert_str_eq(head + kBody, build_http_request(*g_cfg, g_cfg->keys[0], ep, stream, kBody));
        assert_true(head.find("OpenAI-Organization: org-1\r\n") != std::string::npos);
    }
}

static void test_anthropic_and_gemini_heads(void**) {
    UpstreamEndpoint ep;
    std::string a = head_of(g_cfg->keys[1], false, 0, &ep);
    assert_true(a.find("x-api-key: sk-ant-HEADTEST\r\n") != std::string::npos);
    assert_true(a.find("Accept: application/json\r\n") != std::string::npos);
    std::string g = head_of(g_cfg->keys[2], true, 0, &ep);
    assert_true(g.find("Accept: text/event-stream\r\n") != std::string::npos);
    assert_true(g.find(":streamGenerateContent?alt=sse") != std::string::npos);
}

static void test_bedrock_signed_head_plus_body_is_the_full_request(void**) {
    for (const ProviderKey* key : {&g_cfg->keys[3], &g_cfg->keys[4]}) {
        for (bool stream : {false, true}) {
            UpstreamEndpoint ep;
            std::string head = head_of(*key, stream, 1735689600, &ep);
            std::string full, error;
            assert_true(bedrock_http_request(ep.host, ep.host_header, ep.path, *key, stream, kBody, 1735689600, &full,
                                             &error));
            assert_str_eq(head + kBody, full);  // same signature: the payload hash covers the body
        }
    }
    UpstreamEndpoint ep;
    std::string earlier = head_of(g_cfg->keys[3], false, 1735689600, &ep);
    std::string later = head_of(g_cfg->keys[3], false, 1735689601, &ep);
    assert_true(earlier != later);  // re-signed per attempt
    assert_true(later.find("X-Amz-Security-Token: tok\r\n") != std::string::npos);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_head_plus_body_is_the_full_request),
        cmocka_unit_test(test_anthropic_and_gemini_heads),
        cmocka_unit_test(test_bedrock_signed_head_plus_body_is_the_full_request),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
