// anthropic_messages_ingress: Anthropic Messages body -> validated OpenAI chat body.
#include "ingress/anthropic_messages_ingress.hpp"
#include "ingress/chat_request.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

static JsonPtr convert_ok(std::string_view body, AnthropicBodyKind kind = AnthropicBodyKind::messages) {
    std::string out;
    ApiError err;
    if (!anthropic_messages_to_openai(body, kind, &out, &err)) fail_msg("refused: %s", err.message.c_str());
    ApiError parse_err;
    // what the handler does next: the OpenAI ingress must accept the conversion
    if (!parse_chat_request(out, &parse_err)) fail_msg("OpenAI ingress refused %s: %s", out.c_str(), parse_err.message.c_str());
    JsonPtr root = json_parse(out, nullptr);
    assert_non_null(root.get());
    return root;
}

static ApiError convert_bad(std::string_view body, AnthropicBodyKind kind = AnthropicBodyKind::messages) {
    std::string out;
    ApiError err;
    if (anthropic_messages_to_openai(body, kind, &out, &err)) fail_msg("accepted %s", std::string(body).c_str());
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    return err;
}

static void test_plain_conversation(void**) {
    JsonPtr root = convert_ok(
        R"({"model":"claude-x","max_tokens":64,"system":"Be terse.","stream":true,"temperature":0.5,)"
        R"("stop_sequences":["END"],"metadata":{"user_id":"u1","session_id":"s-1"},)"
        R"("messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]},)"
        R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]})");
    std::string text = json_dump_compact(root.get());
    assert_str_eq(text,
                  R"({"model":"claude-x","max_tokens":64,"messages":[{"role":"system","content":"Be terse."},)"
                  R"({"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},)"
                  R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],)"
                  R"("stream":true,"temperature":0.5,"stop":["END"],"user":"u1","metadata":{"session_id":"s-1"}})");
}

static void test_tools_round_trip(void**) {
    JsonPtr root = convert_ok(
        R"({"model":"m","max_tokens":10,"tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object"}}],)"
        R"("tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},)"
        R"("messages":[{"role":"user","content":"Weather?"},)"
        R"({"role":"assistant","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}}]},)"
        R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"3C"}]},{"type":"text","text":"thanks"}]}]})");
    std::string text = json_dump_compact(root.get());
    assert_str_eq(text,
                  R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Weather?"},)"
                  R"({"role":"assistant","content":"Let me look.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},)"
                  R"({"role":"tool","tool_call_id":"toolu_1","content":"3C"},{"role":"user","content":[{"type":"text","text":"thanks"}]}],)"
                  R"("tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,)"
                  R"("tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object"}}}]})");
    for (const char* choice : {"auto", "any", "none"}) {
        std::string body = std::string(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":")") +
                           choice + "\"}}";
        JsonPtr r = convert_ok(body);
        std::string_view expected = std::string_view(choice) == "any" ? "required" : choice;
        assert_str_eq(json_string_view(r.get(), "tool_choice"), expected);
    }
}

static void test_count_tokens_body(void**) {
    JsonPtr root = convert_ok(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})", AnthropicBodyKind::count_tokens);
    assert_null(json_object_get(root.get(), "max_tokens"));
    // the same body is refused by /v1/messages: max_tokens is required there
    ApiError err = convert_bad(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})");
    assert_str_eq(err.param, "max_tokens");
}

static void test_invalid_bodies(void**) {
    struct Case {
        const char* body;
        const char* param;
    } cases[] = {
        {R"({"max_tokens":1,"messages":[{"role":"user","content":"x"}]})", "model"},
        {R"({"model":"","max_tokens":1,"messages":[{"role":"user","content":"x"}]})", "model"},
        {R"({"model":"m","max_tokens":"1","messages":[{"role":"user","content":"x"}]})", "max_tokens"},
        {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]})", "max_tokens"},
        {R"({"model":"m","max_tokens":1})", "messages"},
        {R"({"model":"m","max_tokens":1,"messages":[]})", "messages"},
        {R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]})", "messages.0.role"},
        {R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]})", "messages.0.content"},
        {R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"video"}]}]})", "messages.0.content.0.type"},
        {R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text"}]}]})", "messages.0.content.0.text"},
        {R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f"}]}]})", "messages.0.content.0.id"},
        {R"({"model":"m","max_tokens":1,"stream":"yes","messages":[{"role":"user","content":"x"}]})", "stream"},
        {R"({"model":"m","max_tokens":1,"system":7,"messages":[{"role":"user","content":"x"}]})", "system"},
        {R"({"model":"m","max_tokens":1,"tools":[{"name":"f"}],"messages":[{"role":"user","content":"x"}]})", "tools.0.input_schema"},
        {R"({"model":"m","max_tokens":1,"tool_choice":{"type":"maybe"},"messages":[{"role":"user","content":"x"}]})", "tool_choice.type"},
        {R"({"model":"m","max_tokens":1,"temperature":"hot","messages":[{"role":"user","content":"x"}]})", "temperature"},
    };
    for (const Case& c : cases) {
        ApiError err = convert_bad(c.body);
        if (err.param != c.param) fail_msg("%s: param %s, expected %s", c.body, err.param.c_str(), c.param);
        if (!test::contains(err.message, c.param)) fail_msg("%s: message '%s' does not name the field", c.body, err.message.c_str());
    }
    ApiError not_json = convert_bad("{\"model\":");
    assert_true(test::contains(not_json.message, "not valid JSON"));
    convert_bad("[1]");
}

static void test_top_k_carried_for_the_wires_that_have_it(void**) {
    JsonPtr root = convert_ok(R"({"model":"m","max_tokens":8,"top_k":40,"messages":[{"role":"user","content":"Hi"}]})");
    assert_int_equal(json_integer_value(json_object_get(root.get(), "top_k")), 40);
    ApiError err = convert_bad(R"({"model":"m","max_tokens":8,"top_k":-1,"messages":[{"role":"user","content":"Hi"}]})");
    assert_str_eq(err.param, "top_k");
    err = convert_bad(R"({"model":"m","max_tokens":8,"top_k":"x","messages":[{"role":"user","content":"Hi"}]})");
    assert_str_eq(err.param, "top_k");
}

static void test_body_with_model(void**) {
    std::string body = R"({"max_tokens":5, "model" : "alias-x","messages":[{"role":"user","content":"model"}],"stream":true})";
    assert_str_eq(anthropic_body_with_model(body, "claude-real"),
                  R"({"max_tokens":5, "model" : "claude-real","messages":[{"role":"user","content":"model"}],"stream":true})");
    // the last of duplicate keys is the one jansson (and the conversion) read
    assert_str_eq(anthropic_body_with_model(R"({"model":"a","model":"b"})", "c\"d"), R"({"model":"a","model":"c\"d"})");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_conversation),
        cmocka_unit_test(test_tools_round_trip),
        cmocka_unit_test(test_count_tokens_body),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_top_k_carried_for_the_wires_that_have_it),
        cmocka_unit_test(test_body_with_model),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
