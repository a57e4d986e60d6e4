// cannot_express.hpp: one error type for every request builder (400 with param), any other
// exception a 500, bad_alloc passed on; and every builder uses it.
#include "egress/cannot_express.hpp"
#include "egress/provider_adapter.hpp"

#include <stdexcept>

#include "test_util.hpp"

using namespace routeshift;

static void test_cannot_express_is_400_with_param(void**) {
    ApiError err;
    bool ok = run_request_builder("Test", [] { cannot_express("messages[1].content", "no audio"); }, &err);
    assert_false(ok);
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_str_eq(err.param, "messages[1].content");
    assert_str_eq(err.message, "no audio");
    assert_true(err.code.empty());
}

static void test_other_exceptions_are_500(void**) {
    ApiError err;
    err.param = "stale";
    assert_false(run_request_builder("Test", [] { throw std::runtime_error("bug"); }, &err));
    assert_int_equal(err.status, 500);
    assert_str_eq(err.type, "server_error");
    assert_str_eq(err.message, "could not build the Test request");
    assert_true(err.param.empty());
    bool threw = false;
    try {
        run_request_builder("Test", [] { throw std::bad_alloc(); }, &err);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    assert_true(threw);
    assert_true(run_request_builder("Test", [] {}, nullptr));
    assert_false(run_request_builder("Test", [] { cannot_express("p", "m"); }, nullptr));
}

// The same unexpressible request (n=2) through the three builders: the same error shape.
static void test_every_builder_uses_it(void**) {
    ApiError perr;
    auto req = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]})", &perr);
    assert_true(req.has_value());
    ProviderKey key;
    key.secret = "secret-0123456789";
    key.metadata = json_parse(R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE"})", nullptr);
    std::string out;
    ApiError a, g, b;
    assert_false(anthropic_build_body(*req, "claude-sonnet-4-5", "anthropic", key, &out, &a));
    assert_false(gemini_build_body(*req, "gemini-2.5-flash", key, &out, &g));
    assert_false(bedrock_build_body(*req, "anthropic.claude", key, &out, &b));
    for (const ApiError* e : {&a, &g, &b}) {
        assert_int_equal(e->status, 400);
        assert_str_eq(e->type, "invalid_request_error");
        assert_true(e->param.rfind("messages[0].content[0]", 0) == 0);
        assert_not_contains(e->message, "secret-0123456789");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cannot_express_is_400_with_param),
        cmocka_unit_test(test_other_exceptions_are_500),
        cmocka_unit_test(test_every_builder_uses_it),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
