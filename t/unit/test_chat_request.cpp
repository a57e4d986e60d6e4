// chat_request: validation of OpenAI chat-completions bodies.
#include "chat_request.hpp"

#include "test_util.hpp"

using namespace routeshift;

// Expects a 400 with the given param.
static void expect_bad(const char* body, const char* param) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (r) fail_msg("accepted: %s", body);
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_str_eq(err.param, param);
    assert_false(err.message.empty());
}

static void test_minimal(void**) {
    ApiError err;
    auto r = parse_chat_request(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})", &err);
    assert_true(r.has_value());
    assert_str_eq(r->model, "gpt-4o");
    assert_false(r->stream);
    assert_false(r->include_usage);
    assert_int_equal(r->message_count, 1);
    assert_true(r->route_hint.empty());
    assert_true(r->session_id.empty());
    assert_non_null(r->root.get());
    assert_true(json_is_object(r->root.get()));
}

static void test_full(void**) {
    ApiError err;
    auto r = parse_chat_request(R"({
      "model": "smart",
      "messages": [
        {"role": "developer", "content": "terse"},
        {"role": "system", "content": "x"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": null, "tool_calls": []},
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
        {"role": "function", "name": "f", "content": "{}"}
      ],
      "stream": true,
      "stream_options": {"include_usage": true},
      "metadata": {"route_hint": "groq/llama-3.3-70b", "session_id": "s-1", "other": 5}
    })", &err);
    assert_true(r.has_value());
    assert_str_eq(r->model, "smart");
    assert_true(r->stream);
    assert_true(r->include_usage);
    assert_int_equal(r->message_count, 6);
    assert_str_eq(r->route_hint, "groq/llama-3.3-70b");
    assert_str_eq(r->session_id, "s-1");
}

static void test_nulls_are_absent(void**) {
    ApiError err;
    auto r = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":null,"stream_options":null,"metadata":null})",
        &err);
    assert_true(r.has_value());
    assert_false(r->stream);
    auto s = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}})",
        &err);
    assert_true(s.has_value());
    assert_true(s->stream);
    assert_false(s->include_usage);
}

static void test_body_errors(void**) {
    expect_bad("", "");
    expect_bad("{", "");
    expect_bad("[]", "");
    expect_bad("\"str\"", "");
    expect_bad("null", "");
}

static void test_model_errors(void**) {
    expect_bad(R"({"messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":"","messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":5,"messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":null,"messages":[{"role":"user","content":"x"}]})", "model");
}

static void test_messages_errors(void**) {
    expect_bad(R"({"model":"m"})", "messages");
    expect_bad(R"({"model":"m","messages":[]})", "messages");
    expect_bad(R"({"model":"m","messages":{"role":"user"}})", "messages");
    expect_bad(R"({"model":"m","messages":["hi"]})", "messages[0]");
    expect_bad(R"({"model":"m","messages":[{"role":"user","content":"a"},{"content":"b"}]})", "messages[1].role");
    expect_bad(R"({"model":"m","messages":[{"role":"user"},{"role":"user"},{"role":"wizard"}]})", "messages[2].role");
    expect_bad(R"({"model":"m","messages":[{"role":7}]})", "messages[0].role");
    expect_bad(R"({"model":"m","messages":[{"role":"User"}]})", "messages[0].role");
}

static void test_stream_errors(void**) {
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":"true"})", "stream");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":1})", "stream");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream_options":{"include_usage":true}})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":false,"stream_options":{}})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":[]})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":{"include_usage":"yes"}})",
               "stream_options.include_usage");
}

static void test_metadata_errors(void**) {
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":"x"})", "metadata");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":{"route_hint":1}})", "metadata.route_hint");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":{"session_id":{}}})", "metadata.session_id");
}

static void test_null_err_pointer(void**) {
    assert_false(parse_chat_request("{}", nullptr).has_value());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),        cmocka_unit_test(test_full),
        cmocka_unit_test(test_nulls_are_absent), cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_model_errors),   cmocka_unit_test(test_messages_errors),
        cmocka_unit_test(test_stream_errors),  cmocka_unit_test(test_metadata_errors),
        cmocka_unit_test(test_null_err_pointer),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
