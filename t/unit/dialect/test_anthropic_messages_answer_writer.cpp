// AnthropicMessagesAnswerWriter and its translator: canonical events -> Anthropic `message` JSON or
// the SSE stream @anthropic-ai/sdk reads; the OpenAI-wire decoder feeding it; the error writers.
#include "dialect/anthropic_error.hpp"
#include "dialect/anthropic_messages_answer_writer.hpp"
#include "dialect/anthropic_messages_translator.hpp"
#include "dialect/dialect_error.hpp"
#include "egress/wire_adapter.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;
namespace c = routeshift::canonical;

static AnthropicAnswerWriterOptions options(bool stream) {
    AnthropicAnswerWriterOptions o;
    o.stream = stream;
    o.model = "claude-test";
    o.id = "msg_test";
    return o;
}

static c::UsageReport usage(int64_t in, int64_t out, int64_t cached = -1) {
    c::UsageReport u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.cache_read_tokens = cached;
    return u;
}

// The event names of an SSE text, in order.
static std::vector<std::string> event_names(std::string_view sse) {
    std::vector<std::string> names;
    for (size_t p = sse.find("event: "); p != std::string_view::npos; p = sse.find("event: ", p + 1)) {
        size_t end = sse.find('\n', p);
        names.emplace_back(sse.substr(p + 7, end - p - 7));
    }
    return names;
}

static void test_json_text(void**) {
    AnthropicMessagesAnswerWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.message_start({"chatcmpl-upstream", "gpt-x"});
    w.text_delta("Hel");
    w.text_delta("lo");
    w.usage(usage(10, 3, 4));
    assert_false(w.complete());
    w.finish(c::FinishReason::stop);
    assert_true(w.complete());
    assert_str_eq(out, R"({"id":"msg_test","type":"message","role":"assistant","model":"claude-test",)"
                       R"("content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,)"
                       R"("usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"output_tokens":3}})");
    // accounting counts the cached tokens as prompt tokens, as for every other dialect
    assert_int_equal(w.usage().prompt_tokens, 14);
    assert_int_equal(w.usage().completion_tokens, 3);
    assert_int_equal(w.usage().cached_tokens, 4);
}

static void test_json_tool_use(void**) {
    AnthropicMessagesAnswerWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.text_delta("Looking.");
    w.tool_call_start(0, "call_1", "get_weather", "");
    w.tool_call_arguments_delta(0, "{\"city\":");
    w.tool_call_arguments_delta(0, "\"Oslo\"}");
    w.tool_call_start(1, "call_2", "broken", "{\"a\":");  // cut-off arguments: input {}
    w.finish(c::FinishReason::stop);  // a call was made: the turn ends with tool_use
    JsonPtr root = json_parse(out, nullptr);
    assert_non_null(root.get());
    assert_str_eq(json_string_view(root.get(), "stop_reason"), "tool_use");
    const json_t* content = json_object_get(root.get(), "content");
    assert_int_equal(json_array_size(content), 3);
    const json_t* tool = json_array_get(content, 1);
    assert_str_eq(json_string_view(tool, "type"), "tool_use");
    assert_str_eq(json_string_view(tool, "id"), "call_1");
    assert_str_eq(json_dump_compact(json_object_get(tool, "input")), R"({"city":"Oslo"})");
    assert_str_eq(json_dump_compact(json_object_get(json_array_get(content, 2), "input")), "{}");
}

static void test_stream_text_and_tools(void**) {
    AnthropicMessagesAnswerWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.message_start({"up", "m"});
    w.keep_alive();
    w.reasoning_delta("think");
    w.text_delta("Hi");
    w.text_delta(" there");
    w.tool_call_start(0, "call_1", "f", "");
    w.tool_call_arguments_delta(0, "{\"x\":1}");
    w.usage(usage(7, 5));
    w.finish(c::FinishReason::tool_calls);
    std::vector<std::string> expected = {"message_start", "ping", "content_block_start", "content_block_delta",
                                         "content_block_stop", "content_block_start", "content_block_delta",
                                         "content_block_delta", "content_block_stop", "content_block_start",
                                         "content_block_delta", "content_block_stop", "message_delta", "message_stop"};
    assert_true(event_names(out) == expected);
    assert_contains(out, R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})");
    assert_contains(out, R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" there"}})");
    assert_contains(out, R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_1","name":"f","input":{}}})");
    assert_contains(out, R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"x\":1}"}})");
    assert_contains(out, R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}})");
    assert_contains(out, R"("message":{"id":"msg_test","type":"message","role":"assistant","model":"claude-test","content":[])");
    // every data line is one JSON object
    for (size_t p = out.find("data: "); p != std::string::npos; p = out.find("data: ", p + 1)) {
        size_t end = out.find('\n', p);
        if (!json_parse(std::string_view(out).substr(p + 6, end - p - 6), nullptr)) fail_msg("bad data at %zu", p);
    }
}

static void test_stream_error_and_other_choices(void**) {
    AnthropicMessagesAnswerWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.choice(1);
    w.text_delta("ignored");  // the Messages API has one choice
    w.choice(0);
    w.text_delta("partial");
    c::ErrorReport e;
    e.status = 529;
    e.message = "Overloaded";
    w.error(e);
    assert_true(w.saw_error());
    assert_false(w.complete());
    assert_false(test::contains(out, "ignored"));
    assert_contains(out, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    w.text_delta("after");  // nothing after the terminal error
    assert_false(test::contains(out, "after"));
}

static std::string run_translator(std::unique_ptr<ResponseTranslator> t, std::string_view body, size_t split, bool* ok) {
    std::string out;
    *ok = true;
    for (size_t i = 0; i < body.size(); i += split) *ok &= t->feed(body.substr(i, split), &out);
    *ok &= t->finish(&out);
    return out;
}

static void test_openai_wire_stream_any_split(void**) {
    const std::string body =
        "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"He\"}}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"y\"}}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_9\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
        "data: [DONE]\n\n";
    std::string reference;
    for (size_t split : {body.size(), (size_t)1, (size_t)7, (size_t)64}) {
        bool ok = false;
        auto t = anthropic_messages_translator(wire_response_decoder(WireFormat::openai, true, "msg_test"), options(true), false);
        std::string out = run_translator(std::move(t), body, split, &ok);
        assert_true(ok);
        if (reference.empty()) reference = out;
        assert_str_eq(out, reference);
    }
    assert_contains(reference, "\"text\":\"He\"");
    assert_contains(reference, "\"partial_json\":\"{}\"");
    assert_contains(reference, "\"stop_reason\":\"tool_use\"");
    assert_contains(reference, "\"input_tokens\":10,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":2,\"output_tokens\":4");
    assert_int_equal(test::count(reference, "event: message_stop"), 1);
}

static void test_openai_wire_json_and_broken_stream(void**) {
    bool ok = false;
    auto t = anthropic_messages_translator(wire_response_decoder(WireFormat::openai, false, "msg_test"), options(false), false);
    std::string out = run_translator(std::move(t),
                                     R"({"id":"c","model":"gpt","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"length"}],)"
                                     R"("usage":{"prompt_tokens":3,"completion_tokens":1}})",
                                     5, &ok);
    assert_true(ok);
    assert_contains(out, R"("content":[{"type":"text","text":"Hi"}],"stop_reason":"max_tokens")");

    // a stream that ends without [DONE] or a finish reason is not complete: event: error
    auto broken = anthropic_messages_translator(wire_response_decoder(WireFormat::openai, true, "msg_test"), options(true), false);
    out = run_translator(std::move(broken), "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n", 9, &ok);
    assert_false(ok);
    assert_contains(out, "event: error\n");
    assert_false(test::contains(out, "message_stop"));
}

static void test_relay_keeps_provider_bytes(void**) {
    const std::string body =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_up\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":6}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    bool ok = false;
    auto t = anthropic_messages_translator(wire_response_decoder(WireFormat::anthropic, true, "x"), options(true), true);
    ResponseTranslator* raw = t.get();
    std::string out = run_translator(std::move(t), body, 11, &ok);
    (void)raw;
    assert_true(ok);
    assert_str_eq(out, body);

    // usage is still read from the relayed stream
    auto counted = anthropic_messages_translator(wire_response_decoder(WireFormat::anthropic, true, "x"), options(true), true);
    std::string sink;
    assert_true(counted->feed(body, &sink));
    assert_true(counted->finish(&sink));
    assert_int_equal(counted->usage().prompt_tokens, 9);
    assert_int_equal(counted->usage().completion_tokens, 6);

    // cut before message_stop: the provider's bytes, then the gateway's error event
    auto cut = anthropic_messages_translator(wire_response_decoder(WireFormat::anthropic, true, "x"), options(true), true);
    std::string head = body.substr(0, body.find("event: message_delta"));
    out = run_translator(std::move(cut), head, 13, &ok);
    assert_false(ok);
    assert_true(out.substr(0, head.size()) == head);
    assert_contains(out.substr(head.size()), "event: error\ndata: {\"type\":\"error\"");
}

static void test_error_envelopes(void**) {
    ApiError e;
    e.status = 401;
    e.message = "Invalid API key.";
    e.type = "authentication_error";
    assert_str_eq(anthropic_error_body(e), R"({"type":"error","error":{"type":"authentication_error","message":"Invalid API key."}})");
    assert_str_eq(dialect_error_body(Dialect::google, {404, "No such endpoint.", "", "", ""}),
                  R"({"error":{"code":404,"message":"No such endpoint.","status":"NOT_FOUND"}})");
    assert_str_eq(dialect_error_body(Dialect::openai, e), openai_error_body(e));
    struct Case {
        int status;
        const char* type;
    } cases[] = {{400, "invalid_request_error"}, {403, "permission_error"}, {404, "not_found_error"},
                 {413, "request_too_large"},     {429, "rate_limit_error"}, {500, "api_error"},
                 {502, "api_error"},             {503, "api_error"},        {504, "timeout_error"},
                 {529, "overloaded_error"}};
    for (const Case& c : cases) assert_str_eq(anthropic_error_type_for_status(c.status), c.type);
    // a provider's error, normalised to OpenAI's envelope, reaches an Anthropic client in its shape
    std::string converted = dialect_error_from_openai_body(
        Dialect::anthropic, 429, R"({"error":{"message":"Slow down","type":"rate_limit_error","param":null,"code":null}})");
    assert_str_eq(converted, R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}})");
    assert_contains(anthropic_error_event(e), "event: error\ndata: ");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_json_tool_use),
        cmocka_unit_test(test_stream_text_and_tools),
        cmocka_unit_test(test_stream_error_and_other_choices),
        cmocka_unit_test(test_openai_wire_stream_any_split),
        cmocka_unit_test(test_openai_wire_json_and_broken_stream),
        cmocka_unit_test(test_relay_keeps_provider_bytes),
        cmocka_unit_test(test_error_envelopes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
