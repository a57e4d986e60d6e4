// continuation_translator: a continuation's stream (OpenAI and Anthropic wires) resumes the client's
// answer: same id/created/model, no role chunk, overlap removed, usage summed over the attempts.
#include "continuation/continuation_translator.hpp"
#include "egress/wire_adapter.hpp"

#include "test_util.hpp"

using namespace routeshift;

static ContinuationOptions options(std::string tail, size_t min_overlap, size_t max_overlap) {
    ContinuationOptions o;
    o.writer.stream = true;
    o.writer.include_usage = true;
    o.writer.id = "chatcmpl-first";
    o.writer.model = "gpt-first";
    o.writer.created = 1700000000;
    o.writer.resume = true;
    o.delivered_tail = std::move(tail);
    o.min_overlap = min_overlap;
    o.max_overlap = max_overlap;
    o.earlier.prompt_tokens = 10;
    o.earlier.completion_tokens = 4;
    o.earlier.cached_tokens = 0;
    return o;
}

static std::string openai_chunk(const char* content) {
    return std::string("data: {\"id\":\"chatcmpl-second\",\"object\":\"chat.completion.chunk\",\"created\":1800000000,"
                       "\"model\":\"other\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
           content + "\"},\"finish_reason\":null}]}\n\n";
}

static void test_openai_wire_instruction(void**) {
    ContinuationTranslator t(wire_response_decoder(WireFormat::openai, true, "chatcmpl-first"),
                             options("one two three", 4, 256));
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
        ContinuationTranslator each(wire_response_decoder(WireFormat::openai, true, "chatcmpl-first"),
                                    options("one two three", 4, 256));
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
    ContinuationTranslator t(wire_response_decoder(WireFormat::anthropic, true, "chatcmpl-first"), options("Hello ", 1, 1));
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
    ContinuationTranslator t(wire_response_decoder(WireFormat::openai, true, "chatcmpl-first"), options("x", 0, 0));
    std::string out;
    assert_true(t.feed(openai_chunk("more"), &out));
    assert_true(t.content_started());
    assert_false(t.finish(&out));  // broke off: an error event, never [DONE]
    assert_true(t.saw_error());
    assert_true(out.find("[DONE]") == std::string::npos);
    assert_true(out.find("\"content\":\"more\"") != std::string::npos);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_wire_instruction),
        cmocka_unit_test(test_anthropic_wire_prefill),
        cmocka_unit_test(test_cut_continuation),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
