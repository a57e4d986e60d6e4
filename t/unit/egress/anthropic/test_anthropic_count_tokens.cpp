// anthropic_count_tokens: which providers relay count_tokens, and where (docs/design.md §18).
#include "egress/anthropic/anthropic_count_tokens.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_only_the_anthropic_api_relays(void**) {
    assert_true(relays_count_tokens(ProviderKind::anthropic));
    for (ProviderKind k : {ProviderKind::minimax, ProviderKind::moonshot, ProviderKind::zai, ProviderKind::mimo,
                           ProviderKind::openai, ProviderKind::gemini, ProviderKind::bedrock})
        assert_false(relays_count_tokens(k));
}

static void test_endpoint_beside_messages(void**) {
    UpstreamEndpoint e;
    e.path = "/v1/messages";
    assert_true(count_tokens_endpoint(&e));
    assert_str_eq(e.path, "/v1/messages/count_tokens");
    e.path = "/proxy/v1/messages";
    assert_true(count_tokens_endpoint(&e));
    assert_str_eq(e.path, "/proxy/v1/messages/count_tokens");
    e.path = "/v1/chat/completions";
    assert_false(count_tokens_endpoint(&e));
    assert_str_eq(e.path, "/v1/chat/completions");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_anthropic_api_relays),
        cmocka_unit_test(test_endpoint_beside_messages),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
