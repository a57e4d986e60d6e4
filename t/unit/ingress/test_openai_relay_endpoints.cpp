// openai_relay_endpoints: the relayed OpenAI endpoints' rows, provider paths and dispatch
// (docs/design.md §21).
#include "ingress/endpoint_route.hpp"
#include "ingress/openai_relay_endpoints.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_rows(void**) {
    struct Case {
        const char* method;
        const char* path;
        RelayEndpoint endpoint;
        RelayBody body;
        bool names_model;
        const char* object_id;
    } cases[] = {
        {"POST", "/v1/completions", RelayEndpoint::completions, RelayBody::json, true, ""},
        {"POST", "/v1/responses", RelayEndpoint::responses, RelayBody::json, true, ""},
        {"GET", "/v1/responses/resp_1", RelayEndpoint::response_object, RelayBody::none, false, "resp_1"},
        {"DELETE", "/v1/responses/resp_1", RelayEndpoint::response_object, RelayBody::none, false, "resp_1"},
        {"GET", "/v1/responses/resp_1/input_items", RelayEndpoint::response_input_items, RelayBody::none, false, "resp_1"},
        {"POST", "/v1/responses/resp_1/cancel", RelayEndpoint::response_cancel, RelayBody::none, false, "resp_1"},
        {"POST", "/v1/moderations", RelayEndpoint::moderations, RelayBody::json, true, ""},
        {"POST", "/v1/images/generations", RelayEndpoint::images_generations, RelayBody::json, true, ""},
        {"POST", "/v1/images/edits", RelayEndpoint::images_edits, RelayBody::multipart, true, ""},
        {"POST", "/v1/audio/transcriptions", RelayEndpoint::audio_transcriptions, RelayBody::multipart, true, ""},
        {"POST", "/v1/audio/speech", RelayEndpoint::audio_speech, RelayBody::json, true, ""},
        {"POST", "/v1/rerank", RelayEndpoint::rerank, RelayBody::json, true, ""},
        {"POST", "/v1/files", RelayEndpoint::files_upload, RelayBody::multipart, false, ""},
        {"GET", "/v1/files", RelayEndpoint::files_list, RelayBody::none, false, ""},
        {"GET", "/v1/files/file-1", RelayEndpoint::file_object, RelayBody::none, false, "file-1"},
        {"DELETE", "/v1/files/file-1", RelayEndpoint::file_object, RelayBody::none, false, "file-1"},
        {"GET", "/v1/files/file-1/content", RelayEndpoint::file_content, RelayBody::none, false, "file-1"},
        {"POST", "/v1/batches", RelayEndpoint::batches_create, RelayBody::json, false, ""},
        {"GET", "/v1/batches", RelayEndpoint::batches_list, RelayBody::none, false, ""},
        {"GET", "/v1/batches/batch_1", RelayEndpoint::batch_object, RelayBody::none, false, "batch_1"},
        {"POST", "/v1/batches/batch_1/cancel", RelayEndpoint::batch_cancel, RelayBody::none, false, "batch_1"},
    };
    for (const Case& c : cases) {
        RelayRoute route;
        if (!route_relay(c.method, c.path, &route)) fail_msg("not a relay path: %s %s", c.method, c.path);
        assert_true(route.method_allowed);
        if (route.endpoint != c.endpoint) fail_msg("%s %s: %s", c.method, c.path, std::string(relay_endpoint_name(route.endpoint)).c_str());
        assert_int_equal((int)route.body, (int)c.body);
        assert_int_equal(route.names_model, c.names_model);
        assert_str_eq(route.object_id, c.object_id);
        assert_int_equal(route.has_object, c.object_id[0] != 0);
        // the dispatch serves every one of them, in OpenAI's dialect, with the same Allow
        EndpointRoute dispatched = route_endpoint(c.method, c.path);
        assert_int_equal((int)dispatched.endpoint, (int)Endpoint::openai_relay);
        assert_int_equal((int)dispatched.dialect, (int)Dialect::openai);
        assert_true(dispatched.method_allowed);
    }
    // a trailing slash is the same endpoint (the dispatcher strips it)
    assert_int_equal((int)route_endpoint("GET", "/v1/files/").endpoint, (int)Endpoint::openai_relay);
}

static void test_methods_and_shapes_refused(void**) {
    RelayRoute route;
    assert_true(route_relay("PUT", "/v1/files", &route));
    assert_false(route.method_allowed);
    assert_str_eq(route.allow, "GET, POST");
    assert_true(route_relay("POST", "/v1/files/file-1", &route));
    assert_false(route.method_allowed);
    assert_str_eq(route.allow, "GET, DELETE");
    assert_true(route_relay("GET", "/v1/completions", &route));
    assert_false(route.method_allowed);
    assert_str_eq(route.allow, "POST");
    EndpointRoute dispatched = route_endpoint("GET", "/v1/audio/speech");
    assert_false(dispatched.method_allowed);
    assert_str_eq(dispatched.allow, "POST");
    // no id, nested ids, unknown sub-paths: not relay endpoints
    for (const char* path : {"/v1/files//content", "/v1/files/a/b", "/v1/batches/b/nope", "/v1/audio", "/v1/images",
                             "/v1/completion", "/v1/responsesx"}) {
        if (route_relay("GET", path, &route) && route.method_allowed) fail_msg("matched %s", path);
        if (route_relay("POST", path, &route) && route.method_allowed) fail_msg("matched %s", path);
    }
    // the Anthropic and Google prefixes never reach the relay
    assert_int_equal((int)route_endpoint("POST", "/v1/messages/batches").endpoint, (int)Endpoint::not_served);
}

static void test_upstream_paths(void**) {
    RelayRoute route;
    std::string path;
    assert_true(route_relay("GET", "/v1/files/file-1/content", &route));
    assert_true(relay_upstream_path("/v1/chat/completions", route, "file-abc", "", &path));
    assert_str_eq(path, "/v1/files/file-abc/content");
    // provider ids are percent-encoded as one segment, never a dot segment
    assert_true(relay_upstream_path("/v1/chat/completions", route, "../x y", "", &path));
    assert_str_eq(path, "/v1/files/..%2Fx%20y/content");
    assert_true(relay_upstream_path("/v1/chat/completions", route, "..", "", &path));
    assert_str_eq(path, "/v1/files/%2E%2E/content");
    // a base path and the client's query
    assert_true(route_relay("GET", "/v1/files", &route));
    assert_true(relay_upstream_path("/api/openai/v1/chat/completions", route, "", "limit=2&after=file-x", &path));
    assert_str_eq(path, "/api/openai/v1/files?limit=2&after=file-x");
    // Azure: the deployment stays for a model's endpoint, goes for model-less ones; api-version kept
    std::string azure = "/openai/deployments/dep%201/chat/completions?api-version=2024-10-21";
    assert_true(relay_upstream_path(azure, route, "", "limit=1", &path));
    assert_str_eq(path, "/openai/files?api-version=2024-10-21&limit=1");
    assert_true(route_relay("POST", "/v1/audio/transcriptions", &route));
    assert_true(relay_upstream_path(azure, route, "", "", &path));
    assert_str_eq(path, "/openai/deployments/dep%201/audio/transcriptions?api-version=2024-10-21");
    // a URL that is not a chat URL cannot be relayed from
    assert_false(relay_upstream_path("/v1/other", route, "", "", &path));
}

static void test_answer_object_kinds(void**) {
    ProviderObjectKind kind;
    assert_true(relay_answer_object_kind(RelayEndpoint::files_list, &kind));
    assert_int_equal((int)kind, (int)ProviderObjectKind::file);
    assert_true(relay_answer_object_kind(RelayEndpoint::batch_cancel, &kind));
    assert_int_equal((int)kind, (int)ProviderObjectKind::batch);
    assert_true(relay_answer_object_kind(RelayEndpoint::responses, &kind));
    assert_int_equal((int)kind, (int)ProviderObjectKind::response);
    assert_false(relay_answer_object_kind(RelayEndpoint::file_content, &kind));  // bytes, no ids
    assert_false(relay_answer_object_kind(RelayEndpoint::completions, &kind));
    assert_false(relay_answer_object_kind(RelayEndpoint::audio_speech, &kind));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_methods_and_shapes_refused),
        cmocka_unit_test(test_upstream_paths),
        cmocka_unit_test(test_answer_object_kinds),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
