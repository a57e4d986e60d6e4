// endpoint_route: method + path -> endpoint and client dialect (docs/design.md §18).
#include "ingress/endpoint_route.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_served_endpoints(void**) {
    EndpointRoute chat = route_endpoint("POST", "/v1/chat/completions");
    assert_int_equal((int)chat.endpoint, (int)Endpoint::chat_completions);
    assert_int_equal((int)chat.dialect, (int)Dialect::openai);
    assert_true(chat.method_allowed);

    EndpointRoute messages = route_endpoint("POST", "/v1/messages");
    assert_int_equal((int)messages.endpoint, (int)Endpoint::messages);
    assert_int_equal((int)messages.dialect, (int)Dialect::anthropic);

    EndpointRoute count = route_endpoint("POST", "/v1/messages/count_tokens");
    assert_int_equal((int)count.endpoint, (int)Endpoint::messages_count_tokens);
    assert_int_equal((int)count.dialect, (int)Dialect::anthropic);

    // a base URL ending in "/" joined by a client gives a trailing slash
    assert_int_equal((int)route_endpoint("POST", "/v1/messages/").endpoint, (int)Endpoint::messages);
    assert_int_equal((int)route_endpoint("POST", "/v1/chat/completions/").endpoint, (int)Endpoint::chat_completions);
}

static void test_wrong_method(void**) {
    for (const char* method : {"GET", "PUT", "DELETE", "post"}) {
        EndpointRoute route = route_endpoint(method, "/v1/messages");
        assert_int_equal((int)route.endpoint, (int)Endpoint::messages);
        assert_false(route.method_allowed);
        assert_str_eq(route.allow, "POST");
        assert_int_equal((int)route.dialect, (int)Dialect::anthropic);
    }
    assert_false(route_endpoint("GET", "/v1/chat/completions").method_allowed);
}

static void test_unknown_paths_by_prefix(void**) {
    struct Case {
        const char* path;
        Dialect dialect;
    } cases[] = {
        {"/v1/nope", Dialect::openai},
        {"/", Dialect::openai},
        {"/v2/chat/completions", Dialect::openai},
        {"/v1/chat/completion", Dialect::openai},
        {"/v1/messagesx", Dialect::openai},
        {"/v1/messages/nope", Dialect::anthropic},
        {"/v1beta/nope", Dialect::google},
        {"/v1beta", Dialect::google},
    };
    for (const Case& c : cases) {
        EndpointRoute route = route_endpoint("POST", c.path);
        if (route.endpoint != Endpoint::unknown) fail_msg("%s: not unknown", c.path);
        if (route.dialect != c.dialect) fail_msg("%s: dialect %s", c.path, std::string(dialect_name(route.dialect)).c_str());
    }
}

static void test_not_served_yet(void**) {
    struct Case {
        const char* method;
        const char* path;
        Dialect dialect;
    } cases[] = {
        {"POST", "/v1/threads", Dialect::openai},
        {"GET", "/v1/assistants/asst_1", Dialect::openai},
        {"POST", "/openai/deployments/gpt/completions", Dialect::openai},
        {"POST", "/v1beta/models/gemini-2.5-flash:predict", Dialect::google},
        {"POST", "/v1/models/gemini/gemini-2.5-flash:asyncBatchEmbedContent", Dialect::google},
        {"POST", "/v1/messages/batches", Dialect::anthropic},
    };
    for (const Case& c : cases) {
        EndpointRoute route = route_endpoint(c.method, c.path);
        if (route.endpoint != Endpoint::not_served) fail_msg("%s %s: %s", c.method, c.path,
                                                              std::string(endpoint_name(route.endpoint)).c_str());
        if (route.dialect != c.dialect) fail_msg("%s: dialect %s", c.path, std::string(dialect_name(route.dialect)).c_str());
    }
    // a prefix alone is no endpoint
    assert_int_equal((int)route_endpoint("POST", "/openai/deployments/").endpoint, (int)Endpoint::unknown);
}

static void test_models(void**) {
    EndpointRoute list = route_endpoint("GET", "/v1/models");
    assert_int_equal((int)list.endpoint, (int)Endpoint::models_list);
    assert_int_equal((int)list.dialect, (int)Dialect::openai);
    assert_true(list.method_allowed);
    assert_true(list.path_model.empty());
    assert_int_equal((int)route_endpoint("GET", "/v1/models/").endpoint, (int)Endpoint::models_list);

    EndpointRoute one = route_endpoint("GET", "/v1/models/gpt-4o");
    assert_int_equal((int)one.endpoint, (int)Endpoint::models_retrieve);
    assert_str_eq(one.path_model, "gpt-4o");
    // provider-scoped ids keep their slashes (nginx has decoded the SDK's %2F)
    assert_str_eq(route_endpoint("GET", "/v1/models/openai/gpt-4o").path_model, "openai/gpt-4o");

    EndpointRoute post = route_endpoint("POST", "/v1/models");
    assert_false(post.method_allowed);
    assert_str_eq(post.allow, "GET");
    assert_false(route_endpoint("DELETE", "/v1/models/ft:gpt-4o").method_allowed);

    // the Google dialect's alias paths stay its own
    EndpointRoute gemini = route_endpoint("GET", "/v1/models/gemini/gemini-2.5-flash");
    assert_int_equal((int)gemini.dialect, (int)Dialect::google);
    assert_true(gemini.endpoint != Endpoint::models_retrieve);
    assert_int_equal((int)route_endpoint("GET", "/v1/modelsx").endpoint, (int)Endpoint::unknown);
}

static void test_azure_deployments(void**) {
    EndpointRoute chat = route_endpoint("POST", "/openai/deployments/prod-gpt4o/chat/completions");
    assert_int_equal((int)chat.endpoint, (int)Endpoint::chat_completions);
    assert_int_equal((int)chat.dialect, (int)Dialect::openai);
    assert_str_eq(chat.path_model, "prod-gpt4o");
    assert_true(chat.method_allowed);
    assert_false(route_endpoint("GET", "/openai/deployments/d/chat/completions").method_allowed);
    // an empty name or a name alone is no endpoint
    assert_int_equal((int)route_endpoint("POST", "/openai/deployments//chat/completions").endpoint, (int)Endpoint::not_served);
    assert_int_equal((int)route_endpoint("POST", "/openai/deployments/d").endpoint, (int)Endpoint::not_served);
    // the plain chat path names no model
    assert_true(route_endpoint("POST", "/v1/chat/completions").path_model.empty());
}

// docs/design.md §22: every dialect's embeddings path is one endpoint
static void test_embeddings(void**) {
    struct Case {
        const char* path;
        Dialect dialect;
        const char* path_model;
    } cases[] = {
        {"/v1/embeddings", Dialect::openai, ""},
        {"/v1/embeddings/", Dialect::openai, ""},
        {"/openai/deployments/emb-small/embeddings", Dialect::openai, "emb-small"},
        {"/v1beta/models/gemini-embedding-001:embedContent", Dialect::google, ""},
        {"/v1beta/models/gemini-embedding-001:batchEmbedContents", Dialect::google, ""},
        {"/v1/models/gemini/gemini-embedding-001:embedContent", Dialect::google, ""},
    };
    for (const Case& c : cases) {
        EndpointRoute route = route_endpoint("POST", c.path);
        if (route.endpoint != Endpoint::embeddings) fail_msg("%s: %s", c.path, std::string(endpoint_name(route.endpoint)).c_str());
        if (route.dialect != c.dialect) fail_msg("%s: dialect %s", c.path, std::string(dialect_name(route.dialect)).c_str());
        assert_str_eq(route.path_model, c.path_model);
        assert_true(route.method_allowed);
    }
    EndpointRoute get = route_endpoint("GET", "/v1/embeddings");
    assert_false(get.method_allowed);
    assert_str_eq(get.allow, "POST");
    assert_str_eq(endpoint_name(Endpoint::embeddings), "embeddings");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_endpoints),
        cmocka_unit_test(test_wrong_method),
        cmocka_unit_test(test_unknown_paths_by_prefix),
        cmocka_unit_test(test_not_served_yet),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_azure_deployments),
        cmocka_unit_test(test_embeddings),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
