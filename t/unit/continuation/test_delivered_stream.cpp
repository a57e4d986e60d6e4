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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_identity),
        cmocka_unit_test(test_error_event_offset),
        cmocka_unit_test(test_tool_calls_choices_finish),
        cmocka_unit_test(test_text_over_the_bound_is_dropped),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
