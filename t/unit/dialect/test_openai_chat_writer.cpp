// dialect/openai_chat_writer: canonical events -> OpenAI chat.completion.chunk SSE / chat.completion.
// Exact bytes: every wire's translator writes through this class, so its output is the contract.
#include "dialect/openai_chat_writer.hpp"

#include "test_util.hpp"

using namespace routeshift;
using canonical::FinishReason;

namespace {

OpenAIChatWriterOptions options(bool stream, bool include_usage = false) {
    OpenAIChatWriterOptions o;
    o.stream = stream;
    o.include_usage = include_usage;
    o.model = "gpt-test";
    o.id = "chatcmpl-1";
    o.created = 1700000000;
    return o;
}

const char* kPrefix = R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-test",)";

std::string chunk(std::string_view delta, std::string_view finish = "null", bool usage_null = false) {
    return std::string(kPrefix) + R"("choices":[{"index":0,"delta":)" + std::string(delta) +
           R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]" + (usage_null ? ",\"usage\":null" : "") +
           "}\n\n";
}

void stream_text_then_finish(void**) {
    OpenAIChatWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.message_start({"msg_1", "upstream-model"});
    w.text_delta("Hel");
    w.text_delta("lo \"x\"");
    w.usage({.input_tokens = 5, .output_tokens = 2});
    w.finish(FinishReason::stop);
    std::string expected = chunk(R"({"role":"assistant","content":""})") + chunk(R"({"content":"Hel"})") +
                           chunk(R"({"content":"lo \"x\""})") + chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
    assert_str_eq(out, expected);
    assert_true(w.complete());
    assert_false(w.saw_error());
    assert_int_equal(w.usage().prompt_tokens, 5);
    assert_int_equal(w.usage().completion_tokens, 2);
    assert_int_equal(w.usage().total_tokens, 7);
}

void stream_include_usage_adds_usage_chunk(void**) {
    OpenAIChatWriter w(options(true, true));
    std::string out;
    w.bind(&out);
    w.message_start({});
    w.reasoning_delta("think");
    w.usage({.input_tokens = 10, .cache_read_tokens = 4, .cache_write_tokens = 1});
    w.usage({.output_tokens = 3, .reasoning_tokens = 2});  // cumulative: input stays known
    w.finish(FinishReason::length);
    std::string expected = chunk(R"({"role":"assistant","content":""})", "null", true) +
                           chunk(R"({"reasoning_content":"think"})", "null", true) + chunk("{}", "\"length\"", true) +
                           kPrefix +
                           R"("choices":[],"usage":{"prompt_tokens":15,"completion_tokens":3,"total_tokens":18,)"
                           R"("prompt_tokens_details":{"cached_tokens":4,"cache_write_tokens":1},)"
                           R"("completion_tokens_details":{"reasoning_tokens":2}}})" "\n\n"
                           "data: [DONE]\n\n";
    assert_str_eq(out, expected);
}

void stream_tool_calls(void**) {
    OpenAIChatWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.tool_call_start(0, "call_a", "get_weather", "");
    w.tool_call_arguments_delta(0, "{\"city\":");
    w.tool_call_arguments_delta(0, "\"Paris\"}");
    w.tool_call_start(1, "call_b", "noop", "{}");
    w.finish(FinishReason::stop);  // stop with tool calls is reported as tool_calls
    std::string expected =
        chunk(R"({"role":"assistant","content":""})") +
        chunk(R"({"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]})") +
        chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})") +
        chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})") +
        chunk(R"({"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"noop","arguments":"{}"}}]})") +
        chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
    assert_str_eq(out, expected);
}

// A request with the legacy `functions`: OpenAI answers with message.function_call (one call) and
// finish_reason "function_call"; so does every translated provider.
void legacy_functions_answer(void**) {
    OpenAIChatWriterOptions streamed = options(true);
    streamed.legacy_functions = true;
    OpenAIChatWriter w(streamed);
    std::string out;
    w.bind(&out);
    w.tool_call_start(0, "call_a", "get_weather", "");
    w.tool_call_arguments_delta(0, "{\"city\":\"Paris\"}");
    w.tool_call_start(1, "call_b", "noop", "{}");  // the legacy form holds one call
    w.tool_call_arguments_delta(1, "x");
    w.finish(FinishReason::tool_calls);
    assert_str_eq(out, chunk(R"({"role":"assistant","content":""})") +
                           chunk(R"({"function_call":{"name":"get_weather","arguments":""}})") +
                           chunk(R"({"function_call":{"arguments":"{\"city\":\"Paris\"}"}})") +
                           chunk("{}", "\"function_call\"") + "data: [DONE]\n\n");

    OpenAIChatWriterOptions plain = options(false);
    plain.legacy_functions = true;
    OpenAIChatWriter j(plain);
    std::string body;
    j.bind(&body);
    j.tool_call_start(0, "call_a", "get_weather", "{\"city\":");
    j.tool_call_arguments_delta(0, "\"Oslo\"}");
    j.tool_call_start(1, "call_b", "noop", "{}");
    j.finish(FinishReason::stop);
    assert_true(test::contains(body, R"("message":{"role":"assistant","content":null,"refusal":null,)"
                                     R"("function_call":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}})"));
    assert_false(test::contains(body, "tool_calls"));
    assert_false(test::contains(body, "noop"));
    assert_true(test::contains(body, R"("finish_reason":"function_call")"));
}

void stream_truncated_gets_error_and_no_done(void**) {
    OpenAIChatWriter w(options(true, true));
    std::string out;
    w.bind(&out);
    w.message_start({});
    w.text_delta("partial");
    w.error({.message = "upstream stream ended early", .param = "", .code = "stream_truncated"});
    w.text_delta("ignored");  // terminal: nothing after the error
    w.finish(FinishReason::stop);
    assert_true(test::contains(
        out, "data: {\"error\":{\"message\":\"upstream stream ended early\",\"type\":\"server_error\",\"param\":null,"
             "\"code\":\"stream_truncated\"}}\n\n"));
    assert_false(test::contains(out, "[DONE]"));
    assert_false(test::contains(out, "ignored"));
    assert_false(test::contains(out, "finish_reason\":\"stop"));
    assert_int_equal(test::count(out, "\"error\""), 1);
    assert_true(w.saw_error());
    assert_false(w.complete());
}

void stream_reasoning_state_refusal_and_keep_alive(void**) {
    OpenAIChatWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.keep_alive();  // before anything: an SSE comment, no role chunk
    w.reasoning_state(R"([{"type":"redacted_thinking","data":"abc"}])");
    w.refusal_delta("no");
    w.finish(FinishReason::content_filter);
    std::string expected = ": ping\n\n" + chunk(R"({"role":"assistant","content":""})") +
                           chunk(R"({"thinking_blocks":[{"type":"redacted_thinking","data":"abc"}]})") +
                           chunk(R"({"refusal":"no"})") + chunk("{}", "\"content_filter\"") + "data: [DONE]\n\n";
    assert_str_eq(out, expected);
}

void provider_id_and_model_when_not_fixed(void**) {
    OpenAIChatWriterOptions o = options(true);
    o.id.clear();
    o.model.clear();
    OpenAIChatWriter w(o);
    std::string out;
    w.bind(&out);
    w.message_start({"msg_9", "claude-x"});
    assert_true(test::contains(out, R"({"id":"msg_9","object":"chat.completion.chunk","created":1700000000,"model":"claude-x",)"));

    OpenAIChatWriterOptions o2 = options(true);
    o2.id.clear();
    o2.fallback_id = "chatcmpl-fallback";
    OpenAIChatWriter w2(o2);
    std::string out2;
    w2.bind(&out2);
    w2.text_delta("x");  // no message_start at all
    assert_true(test::contains(out2, R"("id":"chatcmpl-fallback")"));
}

void json_mode_one_completion(void**) {
    OpenAIChatWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.message_start({"msg_1", "m"});
    w.reasoning_delta("because");
    w.reasoning_state(R"([{"type":"thinking","thinking":"because","signature":"s1"}])");
    w.reasoning_state(R"([{"type":"redacted_thinking","data":"d"}])");
    w.text_delta("Hi");
    w.text_delta("!");
    w.tool_call_start(0, "call_1", "f", "");
    w.tool_call_arguments_delta(0, "{\"a\":");
    w.tool_call_arguments_delta(0, "1}");
    w.usage({.input_tokens = 3, .cache_read_tokens = 2, .output_tokens = 4});
    assert_true(out.empty());  // nothing before the end
    w.finish(FinishReason::tool_calls);
    std::string expected =
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test",)"
        R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi!","refusal":null,)"
        R"("reasoning_content":"because","thinking_blocks":[{"type":"thinking","thinking":"because","signature":"s1"},)"
        R"({"type":"redacted_thinking","data":"d"}],)"
        R"("tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},)"
        R"("logprobs":null,"finish_reason":"tool_calls"}],)"
        R"("usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9,"prompt_tokens_details":{"cached_tokens":2}}})";
    assert_str_eq(out, expected);
    assert_true(w.complete());
}

void json_mode_empty_and_refusal_content(void**) {
    {
        OpenAIChatWriter w(options(false));
        std::string out;
        w.bind(&out);
        w.finish(FinishReason::stop);
        assert_contains(out, R"("message":{"role":"assistant","content":"","refusal":null},)");
        assert_contains(out, R"("usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0}})");
        assert_int_equal(w.usage().prompt_tokens, -1);  // unknown stays unknown for the glue
    }
    {
        OpenAIChatWriter w(options(false));
        std::string out;
        w.bind(&out);
        w.refusal_delta("cannot");
        w.finish(FinishReason::content_filter);
        assert_contains(out, R"("content":null,"refusal":"cannot"})");
        assert_contains(out, R"("finish_reason":"content_filter")");
    }
}

void json_mode_error_body(void**) {
    OpenAIChatWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.text_delta("dropped");
    w.error({.status = 429, .type = "rate_limit_error", .message = "slow down", .param = "", .code = "rate_limited"});
    w.finish(FinishReason::stop);
    assert_str_eq(out, R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limited"}})");
    assert_true(w.saw_error());
    assert_false(w.complete());
}

std::string chunk_of(size_t index, std::string_view delta, std::string_view finish = "null", std::string_view logprobs = "null") {
    return std::string(kPrefix) + R"("choices":[{"index":)" + std::to_string(index) + R"(,"delta":)" + std::string(delta) +
           R"(,"logprobs":)" + std::string(logprobs) + R"(,"finish_reason":)" + std::string(finish) + "}]}\n\n";
}

// Several choices: each begins with its role chunk (choice 0 first), finishes on its own; the
// answer ends once every begun choice finished.
void stream_several_choices(void**) {
    OpenAIChatWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.message_start({});
    w.choice(1);
    w.text_delta("B");
    w.tool_call_start(0, "call_b", "f", "{}");
    w.choice(0);
    w.text_delta("A");
    w.finish(FinishReason::length);
    assert_false(w.complete());  // choice 1 is still open
    assert_false(test::contains(out, "[DONE]"));
    w.choice(1);
    w.finish(FinishReason::stop);
    assert_true(w.complete());
    std::string expected = chunk_of(0, R"({"role":"assistant","content":""})") +
                           chunk_of(1, R"({"role":"assistant","content":""})") + chunk_of(1, R"({"content":"B"})") +
                           chunk_of(1, R"({"tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"f","arguments":"{}"}}]})") +
                           chunk_of(0, R"({"content":"A"})") + chunk_of(0, "{}", "\"length\"") +
                           chunk_of(1, "{}", "\"tool_calls\"") + "data: [DONE]\n\n";
    assert_str_eq(out, expected);
    std::string more;
    w.bind(&more);
    w.choice(2);
    w.text_delta("late");
    assert_str_eq(more, "");
}

void json_several_choices(void**) {
    OpenAIChatWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.choice(2);  // choice 0 exists anyway; choice 1 never began and is not listed
    w.text_delta("C");
    w.choice(0);
    w.text_delta("A");
    w.finish(FinishReason::stop);
    assert_true(out.empty());
    w.choice(2);
    w.finish(FinishReason::content_filter);
    std::string expected =
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[)"
        R"({"index":0,"message":{"role":"assistant","content":"A","refusal":null},"logprobs":null,"finish_reason":"stop"},)"
        R"({"index":2,"message":{"role":"assistant","content":"C","refusal":null},"logprobs":null,"finish_reason":"content_filter"}],)"
        R"("usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0}}})";
    assert_str_eq(out, expected);
    assert_true(w.complete());
}

const canonical::TokenLogprob kTop[] = {{"Hi", "-0.1"}, {"Hé", "-2.5"}};
const canonical::TokenLogprobs kTokens[] = {{{"Hi", "-0.1"}, kTop}, {{"!", "0"}, {}}};
const char* kEntries =
    R"({"token":"Hi","logprob":-0.1,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.1,"bytes":[72,105]},)"
    R"({"token":"Hé","logprob":-2.5,"bytes":[72,195,169]}]},{"token":"!","logprob":0,"bytes":[33],"top_logprobs":[]})";

void stream_logprobs_and_images(void**) {
    OpenAIChatWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.text_delta_with_logprobs("Hi!", kTokens);
    w.text_delta_with_logprobs("", kTokens);  // logprobs without text
    w.text_delta_with_logprobs("", {});       // nothing to say in a stream
    w.image("image/png", "AAAA");
    w.image("image/jpeg", "BB\"");
    w.finish(FinishReason::stop);
    std::string logprobs = std::string(R"({"content":[)") + kEntries + R"(],"refusal":null})";
    std::string expected = chunk(R"({"role":"assistant","content":""})") + chunk_of(0, R"({"content":"Hi!"})", "null", logprobs) +
                           chunk_of(0, "{}", "null", logprobs) +
                           chunk(R"({"images":[{"index":0,"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]})") +
                           chunk(R"({"images":[{"index":1,"type":"image_url","image_url":{"url":"data:image/jpeg;base64,BB\""}}]})") +
                           chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
    assert_str_eq(out, expected);
}

void json_logprobs_and_images(void**) {
    OpenAIChatWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.text_delta_with_logprobs("Hi!", kTokens);
    w.text_delta(" more");
    w.text_delta_with_logprobs("", std::span<const canonical::TokenLogprobs>(kTokens).subspan(1));
    w.image("image/png", "AAAA");
    w.image("image/png", "BBBB");
    w.finish(FinishReason::stop);
    assert_contains(out, std::string(R"("message":{"role":"assistant","content":"Hi! more","refusal":null,)") +
                             R"("images":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},)" +
                             R"({"type":"image_url","image_url":{"url":"data:image/png;base64,BBBB"}}]},)" +
                             R"("logprobs":{"content":[)" + kEntries + R"(,{"token":"!","logprob":0,"bytes":[33],"top_logprobs":[]}],"refusal":null},)");
    // an answer that had logprobs but no tokens shows an empty list
    OpenAIChatWriter empty(options(false));
    std::string out2;
    empty.bind(&out2);
    empty.text_delta_with_logprobs("x", {});
    empty.finish(FinishReason::stop);
    assert_contains(out2, R"("content":"x","refusal":null},"logprobs":{"content":[],"refusal":null},)");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_text_then_finish),
        cmocka_unit_test(stream_include_usage_adds_usage_chunk),
        cmocka_unit_test(stream_tool_calls),
        cmocka_unit_test(legacy_functions_answer),
        cmocka_unit_test(stream_truncated_gets_error_and_no_done),
        cmocka_unit_test(stream_reasoning_state_refusal_and_keep_alive),
        cmocka_unit_test(provider_id_and_model_when_not_fixed),
        cmocka_unit_test(json_mode_one_completion),
        cmocka_unit_test(json_mode_empty_and_refusal_content),
        cmocka_unit_test(json_mode_error_body),
        cmocka_unit_test(stream_several_choices),
        cmocka_unit_test(json_several_choices),
        cmocka_unit_test(stream_logprobs_and_images),
        cmocka_unit_test(json_logprobs_and_images),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
