// bedrock_response_decoder: recorded ConverseStream / Converse answers (t/unit/data/bedrock) and
// synthetic frames -> canonical events: stop-reason mapping, tool-call indexing, usage with cache
// tokens, exceptions and truncation.
#include "egress/response_decoder.hpp"

#include "bedrock_test_util.hpp"
#include "translator_run.hpp"

using namespace routeshift;

namespace {

test::EventRecorder decode(bool stream, std::string_view body, size_t step = 0) {
    auto decoder = bedrock_response_decoder(stream);
    return test::decode_events(*decoder, body, step);
}

void recorded_tool_call_stream(void**) {
    std::string body = test::read_data_file("bedrock/vercel-ai_amazon-bedrock-tool-call.1.eventstream");
    test::EventRecorder rec = decode(true, body);
    std::string all = rec.joined();
    assert_contains(all, "tool 0 tool-use-id test-tool \n");
    assert_contains(all, "args 0 ");
    assert_str_eq(rec.events.back(), "finish tool_calls");
    assert_str_eq(decode(true, body, 5).joined(), all);
}

void recorded_reasoning_json(void**) {
    std::string body = test::read_data_file("bedrock/vercel-ai_amazon-bedrock-reasoning.json");
    test::EventRecorder rec = decode(false, body);
    std::string all = rec.joined();
    assert_contains(all, "reasoning Let me count the r's");
    assert_contains(all, "text There are **3** r's");
    assert_contains(all, "usage 51 0 0 78 -1\n");
    assert_str_eq(rec.events.back(), "finish stop");
}

// The answer is complete only with both messageStop and metadata, in either order.
void finish_needs_stop_and_metadata(void**) {
    using bedrock_test::event;
    std::string start = event("messageStart", R"({"role":"assistant"})");
    std::string text = event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"hi"}})");
    std::string stop = event("messageStop", R"({"stopReason":"max_tokens"})");
    std::string meta = event("metadata",
                             R"({"usage":{"inputTokens":30,"outputTokens":5,"cacheReadInputTokens":1200,"cacheWriteInputTokens":7}})");
    test::EventRecorder a = decode(true, start + text + meta + stop);
    assert_str_eq(a.joined(), "start  \ntext hi\nusage 30 1200 7 5 -1\nfinish length\n");
    test::EventRecorder b = decode(true, start + text + stop);
    assert_str_eq(b.events.back(), "error 502 stream_truncated upstream stream ended before its metadata event");
}

void guardrail_is_content_filter(void**) {
    using bedrock_test::event;
    std::string body = event("messageStart", "{}") + event("messageStop", R"({"stopReason":"guardrail_intervened"})") +
                       event("metadata", R"({"usage":{"inputTokens":1,"outputTokens":1}})");
    assert_str_eq(decode(true, body).events.back(), "finish content_filter");
}

void exception_mid_stream(void**) {
    std::string body = bedrock_test::event("messageStart", "{}") +
                       bedrock_test::exception("throttlingException", "Too many requests, please wait");
    test::EventRecorder rec = decode(true, body);
    assert_int_equal(rec.events.size(), 2);
    assert_contains(rec.events[1], "error 429 ");
}

void tool_input_for_a_text_block_is_an_error(void**) {
    using bedrock_test::event;
    std::string body = event("messageStart", "{}") +
                       event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}})");
    assert_contains(decode(true, body).events.back(), "error 502 upstream_protocol_error");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recorded_tool_call_stream),
        cmocka_unit_test(recorded_reasoning_json),
        cmocka_unit_test(finish_needs_stop_and_metadata),
        cmocka_unit_test(guardrail_is_content_filter),
        cmocka_unit_test(exception_mid_stream),
        cmocka_unit_test(tool_input_for_a_text_block_is_an_error),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
