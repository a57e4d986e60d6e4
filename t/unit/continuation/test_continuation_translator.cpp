// continuation_translator: a continuation's stream (OpenAI and Anthropic wires) resumes the client's
// answer: same id/created/model, no role chunk, overlap removed, usage summed over the attempts.
#include "continuation/continuation_translator.hpp"
#include "egress/wire_adapter.hpp"

#include "test_util.hpp"

using namespace routeshift;

static ContinuationOptions options(std::string tail, size_t min_overlap, size_t max_overlap) {
    ContinuationOptions o;
    o.delivered_tail = std::move(tail);
    o.min_overlap = min_overlap;
    o.max_overlap = max_overlap;
    o.earlier.prompt_tokens = 10;
    o.earlier.completion_tokens = 4;
    o.earlier.cached_tokens = 0;
    return o;
}

// An OpenAI chat client's continuation: the writer resumes "chatcmpl-first".
static std::unique_ptr<ResponseTranslator> openai_client(WireFormat wire, ContinuationOptions o) {
    OpenAIChatWriterOptions w;
    w.stream = true;
    w.include_usage = true;
    w.id = "chatcmpl-first";
    w.model = "gpt-first";
    w.created = 1700000000;
    return continuation_translator(wire_response_decoder(wire, true, w.id), std::move(o), std::move(w));
}

static std::string openai_chunk(const char* content) {
    return std::string("data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,"
                       "\"model\":\"other\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
           content + "\"},\"finish_reason\":null}]}\n\n";
}

static void test_openai_wire_instruction(void**) {
    std::string out;
    std::string stream =
        "data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,\"model\":\"other\","
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
        openai_chunk("two th") + openai_chunk("ree four") + openai_chunk(" five") +
        "data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,\"model\":\"other\","
        "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,\"model\":\"other\","
        "\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23}}\n\n"
        "data: [DONE]\n\n";
    // every split point gives the same answer
    for (size_t split : {(size_t)1, stream.size() / 3, stream.size() / 2}) {
        auto each_translator = openai_client(WireFormat::openai, options("one two three", 4, 256));
        ResponseTranslator& each = *each_translator;
        std::string piece;
        assert_true(each.feed(std::string_view(stream).substr(0, split), &piece));
        assert_true(each.feed(std::string_view(stream).substr(split), &piece));
        assert_true(each.finish(&piece));
        if (out.empty()) out = piece;
        assert_string_equal(piece.c_str(), out.c_str());
        assert_true(each.complete());
        assert_int_equal(each.usage().prompt_tokens, 20);  // this attempt's own usage (its accounting)
        assert_int_equal(each.usage().completion_tokens, 3);
    }
    assert_true(out.find("\"role\"") == std::string::npos);             // no second role chunk
    assert_true(out.find("chatcmpl-second") == std::string::npos);      // the client's id throughout
    assert_true(out.find("\"id\":\"chatcmpl-first\"") != std::string::npos);
    assert_true(out.find("\"created\":1700000000") != std::string::npos);
    assert_true(out.find("\"model\":\"gpt-first\"") != std::string::npos);
    assert_true(out.find("\"content\":\" four\"") != std::string::npos);  // "two three" was a repeat
    assert_true(out.find("two") == std::string::npos);
    assert_true(out.find("\"finish_reason\":\"stop\"") != std::string::npos);
    // usage: both attempts
    assert_true(out.find("\"prompt_tokens\":30,\"completion_tokens\":7,\"total_tokens\":37") != std::string::npos);
    assert_true(out.size() > 14 && out.compare(out.size() - 14, 14, "data: [DONE]\n\n") == 0);
}

static void test_anthropic_wire_prefill(void**) {
    // the prefill lost its trailing space: a continuation starting with it does not repeat it
    auto translator = openai_client(WireFormat::anthropic, options("Hello ", 1, 1));
    ResponseTranslator& t = *translator;
    std::string out;
    std::string stream =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
        "\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":12,"
        "\"output_tokens\":1}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" world\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    assert_true(t.feed(stream, &out));
    assert_true(t.finish(&out));
    assert_true(out.find("\"content\":\"world\"") != std::string::npos);
    assert_true(out.find("\"role\"") == std::string::npos);
    assert_true(out.find("\"prompt_tokens\":22,\"completion_tokens\":6") != std::string::npos);
    assert_true(out.find("data: [DONE]") != std::string::npos);
}

static void test_cut_continuation(void**) {
    auto translator = openai_client(WireFormat::openai, options("x", 0, 0));
    ResponseTranslator& t = *translator;
    std::string out;
    assert_true(t.feed(openai_chunk("more"), &out));
    assert_true(t.content_started());
    assert_false(t.finish(&out));  // broke off: an error event, never [DONE]
    assert_true(t.saw_error());
    assert_true(out.find("[DONE]") == std::string::npos);
    assert_true(out.find("\"content\":\"more\"") != std::string::npos);
}

// An Anthropic Messages client's continuation: the writer resumes message "msg_first".
static std::unique_ptr<ResponseTranslator> anthropic_client(WireFormat wire, ContinuationOptions o, size_t blocks,
                                                            bool text_open) {
    AnthropicAnswerWriterOptions w;
    w.stream = true;
    w.id = "msg_first";
    w.model = "claude-first";
    w.resume_blocks = blocks;
    w.resume_text_open = text_open;
    return continuation_translator(wire_response_decoder(wire, true, w.id), std::move(o), std::move(w));
}

static const std::string kOpenAIContinuation =
    openai_chunk("two th") + openai_chunk("ree four") +
    "data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,\"model\":\"other\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,\"model\":\"other\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23}}\n\n"
    "data: [DONE]\n\n";

// The text block the client has open goes on: no message_start, no block start, index 0, then the
// block's stop, one message_delta with the stop reason and the usage of both attempts, message_stop.
static void test_anthropic_client_open_text_block(void**) {
    auto translator = anthropic_client(WireFormat::openai, options("one two three", 4, 256), 1, true);
    std::string out;
    assert_true(translator->feed(kOpenAIContinuation, &out));
    assert_true(translator->finish(&out));
    assert_true(translator->complete());
    assert_true(out.find("message_start") == std::string::npos);
    assert_true(out.find("content_block_start") == std::string::npos);
    assert_string_equal(out.c_str(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" four\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
        "\"usage\":{\"input_tokens\":30,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":7}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    assert_int_equal(translator->usage().prompt_tokens, 20);  // its own accounting
}

// A text block closed at the cut: the continuation's text is a new block with the next index.
static void test_anthropic_client_closed_block_gets_the_next_index(void**) {
    auto translator = anthropic_client(WireFormat::openai, options("x", 0, 0), 2, false);
    std::string out;
    assert_true(translator->feed(openai_chunk("more") + "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},"
                                                        "\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", &out));
    assert_true(translator->finish(&out));
    assert_true(out.find("message_start") == std::string::npos);
    assert_true(out.find("{\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"text\"") !=
                std::string::npos);
    assert_true(out.find("\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"more\"}") != std::string::npos);
    assert_true(out.find("\"stop_reason\":\"max_tokens\"") != std::string::npos);
    assert_true(out.find("\"input_tokens\":10,") != std::string::npos);  // only the earlier attempts reported
    assert_true(out.find("\"output_tokens\":4}") != std::string::npos);
}

// A continuation that breaks ends the Anthropic client's stream with an Anthropic error event.
static void test_anthropic_client_cut_continuation(void**) {
    auto translator = anthropic_client(WireFormat::openai, options("x", 0, 0), 1, true);
    std::string out;
    assert_true(translator->feed(openai_chunk("more"), &out));
    assert_false(translator->finish(&out));
    assert_true(translator->saw_error());
    assert_true(out.find("event: error\ndata: {\"type\":\"error\"") != std::string::npos);
    assert_true(out.find("message_stop") == std::string::npos);
}

// A Gemini client keeps its responseId and modelVersion; the final chunk has finishReason and the
// usage of both attempts.
static void test_gemini_client(void**) {
    GeminiAnswerWriterOptions w;
    w.stream = true;
    w.id = "resp-first";
    w.model = "gemini-first";
    auto translator = continuation_translator(wire_response_decoder(WireFormat::openai, true, w.id),
                                              options("one two three", 4, 256), std::move(w));
    std::string out;
    assert_true(translator->feed(kOpenAIContinuation, &out));
    assert_true(translator->finish(&out));
    assert_true(translator->complete());
    assert_true(out.find("chatcmpl-second") == std::string::npos);
    assert_true(out.find("\"text\":\" four\"") != std::string::npos);
    assert_true(out.find("two") == std::string::npos);
    size_t last = out.rfind("data: ");
    std::string final_chunk = out.substr(last);
    assert_true(final_chunk.find("\"finishReason\":\"STOP\"") != std::string::npos);
    assert_true(final_chunk.find("\"promptTokenCount\":30,\"candidatesTokenCount\":7") != std::string::npos);
    assert_true(final_chunk.find("\"modelVersion\":\"gemini-first\",\"responseId\":\"resp-first\"") != std::string::npos);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_wire_instruction),
        cmocka_unit_test(test_anthropic_wire_prefill),
        cmocka_unit_test(test_cut_continuation),
        cmocka_unit_test(test_anthropic_client_open_text_block),
        cmocka_unit_test(test_anthropic_client_closed_block_gets_the_next_index),
        cmocka_unit_test(test_anthropic_client_cut_continuation),
        cmocka_unit_test(test_gemini_client),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
