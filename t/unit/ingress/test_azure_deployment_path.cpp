// azure_deployment_path: the deployment in the path is the body's model (docs/design.md §18).
#include "ingress/azure_deployment_path.hpp"
#include "ingress/chat_request.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_model_replaced_or_added(void**) {
    assert_str_eq(body_with_deployment_model(R"({"model":"other","messages":[]})", "prod-gpt4o"),
                  R"({"model":"prod-gpt4o","messages":[]})");
    // absent: added first; every duplicate replaced (the last would win)
    assert_str_eq(body_with_deployment_model(R"( {"messages":[]} )", "d"), R"( {"model":"d","messages":[]} )");
    assert_str_eq(body_with_deployment_model(R"({})", "d"), R"({"model":"d"})");
    assert_str_eq(body_with_deployment_model(R"({"model":1,"x":{"model":"keep"},"model" : null})", "d"),
                  R"({"model":"d","x":{"model":"keep"},"model" : "d"})");
    // escaped key and a name that needs escaping
    assert_str_eq(body_with_deployment_model(R"({"mod\u0065l":"x"})", "a\"b"), R"({"mod\u0065l":"a\"b"})");
    // not an object: unchanged, the chat parser answers it
    assert_str_eq(body_with_deployment_model("[1]", "d"), "[1]");
    assert_str_eq(body_with_deployment_model("{\"model\":", "d"), "{\"model\":");
}

static void test_parses_as_chat_request(void**) {
    std::string body = body_with_deployment_model(R"({"messages":[{"role":"user","content":"Hi"}],"stream":true})", "dep-1");
    ApiError err;
    auto req = parse_chat_request(body, &err);
    assert_true(req.has_value());
    assert_str_eq(req->model, "dep-1");
    assert_true(req->stream);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_replaced_or_added),
        cmocka_unit_test(test_parses_as_chat_request),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
