// delivered_stream: what a streamed answer's client has received, read from the chunks sent to it.
#include "continuation/delivered_stream.hpp"

#include "test_util.hpp"

using namespace routeshift;

static const char* kRole =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-x\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";

static std::string text_chunk(const char* text) {
    return std::string("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                       "\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
           text + "\"},\"finish_reason\":null}]}\n\n";
}

static void test_text_and_identity(void**) {
    DeliveredStream d;
    std::string out = std::string(kRole) + ": keep-alive\n\n" + text_chunk("Hello") + text_chunk(", \\\"w\\u00f6rld\\\"\\n");
    assert_int_equal(d.observe(out), out.size());
    assert_string_equal(d.text().c_str(), "Hello, \"w\xc3\xb6rld\"\n");
    assert_string_equal(d.id().c_str(), "chatcmpl-1");
    assert_string_equal(d.model().c_str(), "gpt-x");
    assert_int_equal(d.created(), 1700000000);
    assert_true(d.role_sent());
    assert_false(d.finished());
    assert_false(d.tool_call_started());
    assert_false(d.several_choices());
}

static void test_error_event_offset(void**) {
    DeliveredStream d;
    std::string content = text_chunk("partial");
    std::string error = "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":\"stream_interrupted\"}}\n\n";
    std::string out = content + error + text_chunk("never");
    assert_int_equal(d.observe(out), content.size());
    assert_string_equal(d.text().c_str(), "partial");  // nothing after the error is recorded
}

static void test_tool_calls_choices_finish(void**) {
    DeliveredStream tools;
    tools.observe("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                  "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\"}}]},\"finish_reason\":null}]}\n\n");
    assert_true(tools.tool_call_started());
    DeliveredStream choices;
    choices.observe("data: {\"id\":\"c\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n");
    assert_true(choices.several_choices());
    assert_string_equal(choices.text().c_str(), "");
    DeliveredStream finished;
    finished.observe(text_chunk("done") +
                     "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    assert_true(finished.finished());
    assert_string_equal(finished.text().c_str(), "done");
}

// An answer longer than kMaxText is not kept: the text is dropped and the stream marked too long.
static void test_text_over_the_bound_is_dropped(void**) {
    DeliveredStream d;
    std::string piece(64 * 1024, 'a');
    size_t fits = DeliveredStream::kMaxText / piece.size();
    for (size_t i = 0; i < fits; i++) d.observe(text_chunk(piece.c_str()));
    assert_false(d.too_long());
    assert_int_equal(d.text().size(), fits * piece.size());
    d.observe(text_chunk("b"));
    assert_true(d.too_long());
    assert_int_equal(d.text().size(), 0);
    d.observe(text_chunk("c"));
    assert_int_equal(d.text().size(), 0);
}

static std::string anthropic_event(const char* name, const std::string& data) {
    return std::string("event: ") + name + "\ndata: " + data + "\n\n";
}

static const std::string kMessageStart = anthropic_event(
    "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
                     "\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}");

static std::string anthropic_text(int index, const char* text) {
    return anthropic_event("content_block_delta", std::string("{\"type\":\"content_block_delta\",\"index\":") +
                                                      std::to_string(index) + ",\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
                                                      text + "\"}}");
}

static std::string block_start(int index, const char* block) {
    return anthropic_event("content_block_start", std::string("{\"type\":\"content_block_start\",\"index\":") +
                                                      std::to_string(index) + ",\"content_block\":" + block + "}");
}

static std::string block_stop(int index) {
    return anthropic_event("content_block_stop",
                           "{\"type\":\"content_block_stop\",\"index\":" + std::to_string(index) + "}");
}

// Anthropic events, also split anywhere (a relayed Anthropic-wire provider's bytes).
static void test_anthropic_events(void**) {
    std::string out = kMessageStart + block_start(0, "{\"type\":\"text\",\"text\":\"\"}") +
                      anthropic_event("ping", "{\"type\":\"ping\"}") + anthropic_text(0, "Hello") +
                      anthropic_text(0, ", w\\u00f6rld");
    for (size_t split = 0; split <= out.size(); split += 7) {
        DeliveredStream d(Dialect::anthropic);
        assert_int_equal(d.observe(std::string_view(out).substr(0, split)), split);
        assert_int_equal(d.observe(std::string_view(out).substr(split)), out.size() - split);
        assert_string_equal(d.text().c_str(), "Hello, w\xc3\xb6rld");
        assert_string_equal(d.id().c_str(), "msg_1");
        assert_string_equal(d.model().c_str(), "claude-x");
        assert_int_equal(d.blocks_started(), 1);
        assert_true(d.text_block_open());
        assert_false(d.finished());
        assert_false(d.tool_call_started());
        assert_false(d.several_choices());
    }
    DeliveredStream closed(Dialect::anthropic);
    closed.observe(out + block_stop(0));
    assert_false(closed.text_block_open());
    assert_int_equal(closed.blocks_started(), 1);
    DeliveredStream finished(Dialect::anthropic);
    finished.observe(out + block_stop(0) +
                     anthropic_event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                                                      "\"usage\":{\"output_tokens\":2}}"));
    assert_true(finished.finished());
}

// A tool_use block, or a thinking block open at the cut, cannot be resumed; a thinking block that
// ended before the text can.
static void test_anthropic_blocks_that_cannot_be_resumed(void**) {
    DeliveredStream tool(Dialect::anthropic);
    tool.observe(kMessageStart + block_start(0, "{\"type\":\"text\",\"text\":\"\"}") + anthropic_text(0, "Let me look") +
                 block_stop(0) + block_start(1, "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}}"));
    assert_true(tool.tool_call_started());
    DeliveredStream thinking(Dialect::anthropic);
    thinking.observe(kMessageStart + block_start(0, "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}"));
    assert_true(thinking.several_choices());
    thinking.observe(block_stop(0) + block_start(1, "{\"type\":\"text\",\"text\":\"\"}") + anthropic_text(1, "Answer"));
    assert_false(thinking.several_choices());
    assert_string_equal(thinking.text().c_str(), "Answer");
    assert_int_equal(thinking.blocks_started(), 2);
}

// Anthropic's error event is found where it starts; the next call reads afresh.
static void test_anthropic_error_event(void**) {
    DeliveredStream d(Dialect::anthropic);
    std::string before = kMessageStart + block_start(0, "{\"type\":\"text\",\"text\":\"\"}") + anthropic_text(0, "partial");
    std::string error = anthropic_event("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}");
    assert_int_equal(d.observe(before + error + anthropic_text(0, "never")), before.size());
    assert_string_equal(d.text().c_str(), "partial");
    std::string more = anthropic_text(0, " more");
    assert_int_equal(d.observe(more), more.size());
    assert_string_equal(d.text().c_str(), "partial more");
}

static std::string gemini_chunk(const std::string& candidate) {
    return "data: {\"candidates\":[" + candidate + "],\"modelVersion\":\"gemini-x\",\"responseId\":\"resp-1\"}\r\n\r\n";
}

// Gemini chunks (CRLF framing): candidate 0's text parts, not its thoughts; a functionCall; a
// second candidate; the finishReason.
static void test_gemini_chunks(void**) {
    DeliveredStream d(Dialect::google);
    std::string out = gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"plan\",\"thought\":true}],\"role\":\"model\"},\"index\":0}") +
                      gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"},\"index\":0}") +
                      gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"lo\"}],\"role\":\"model\"}}");
    assert_int_equal(d.observe(out), out.size());
    assert_string_equal(d.text().c_str(), "Hello");
    assert_string_equal(d.id().c_str(), "resp-1");
    assert_string_equal(d.model().c_str(), "gemini-x");
    assert_false(d.finished());
    assert_false(d.several_choices());
    d.observe(gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}"));
    assert_true(d.finished());
    DeliveredStream call(Dialect::google);
    call.observe(gemini_chunk("{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{}}}],\"role\":\"model\"},\"index\":0}"));
    assert_true(call.tool_call_started());
    DeliveredStream two(Dialect::google);
    two.observe(gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"b\"}],\"role\":\"model\"},\"index\":1}"));
    assert_true(two.several_choices());
    DeliveredStream error(Dialect::google);
    std::string first = gemini_chunk("{\"content\":{\"parts\":[{\"text\":\"a\"}],\"role\":\"model\"},\"index\":0}");
    assert_int_equal(error.observe(first + "data: {\"error\":{\"code\":503,\"message\":\"x\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n"),
                     first.size());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_identity),
        cmocka_unit_test(test_error_event_offset),
        cmocka_unit_test(test_tool_calls_choices_finish),
        cmocka_unit_test(test_text_over_the_bound_is_dropped),
        cmocka_unit_test(test_anthropic_events),
        cmocka_unit_test(test_anthropic_blocks_that_cannot_be_resumed),
        cmocka_unit_test(test_anthropic_error_event),
        cmocka_unit_test(test_gemini_chunks),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
