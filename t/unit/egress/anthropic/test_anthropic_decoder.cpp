// anthropic_response_decoder: recorded Messages API answers (t/unit/data/anthropic) -> canonical
// events. The bytes the client gets are test_anthropic_response's job; this checks what the
// decoder says: stop-reason mapping, tool-call indexing, usage, truncation and bounds.
#include "egress/response_decoder.hpp"

#include <chrono>

#include "event_recorder.hpp"
#include "test_util.hpp"

using namespace routeshift;

namespace {

test::EventRecorder decode(bool stream, std::string_view body, size_t step = 0) {
    auto decoder = anthropic_response_decoder(stream);
    test::EventRecorder rec;
    if (step == 0) step = body.size() + 1;
    for (size_t p = 0; p < body.size(); p += step) decoder->feed(body.substr(p, step), rec);
    decoder->finish(rec);
    return rec;
}

void stream_tool_use_events(void**) {
    std::string body = test::read_data_file("anthropic/anthropic-sdk-typescript_tool_use_response.sse");
    test::EventRecorder rec = decode(true, body);
    std::string all = rec.joined();
    assert_str_eq(rec.events.front(), "start msg_019Q1hrJbZG26Fb9BQhrkHEr claude-opus-4-8");
    assert_contains(all, "usage 377 0 0 1 -1\n");
    assert_contains(all, "text I\ntext 'll check the current weather in Paris for you.\n");
    assert_contains(all, "keep_alive\n");
    assert_contains(all, "tool 0 toolu_01NRLabsLyVHZPKxbKvkfSMn get_weather \n");
    assert_contains(all, "args 0 {\"locati\n");
    assert_str_eq(rec.events.back(), "finish tool_calls");
    // The same events whatever the byte split.
    assert_str_eq(decode(true, body, 1).joined(), all);
    assert_str_eq(decode(true, body, 13).joined(), all);
}

void stream_cut_short_is_an_error(void**) {
    std::string body = test::read_data_file("anthropic/anthropic-sdk-typescript_basic_response.sse");
    size_t stop = body.find("event: message_stop");
    assert_true(stop != std::string::npos);
    test::EventRecorder rec = decode(true, body.substr(0, stop));
    assert_str_eq(rec.events.back(), "error 502 stream_truncated upstream stream ended before message_stop");
    assert_int_equal(test::count(rec.joined(), "finish"), 0);
}

void json_refusal(void**) {
    std::string body = test::read_data_file("anthropic/vercel-ai_anthropic-refusal.json");
    test::EventRecorder rec = decode(false, body);
    std::string all = rec.joined();
    assert_contains(all, "start msg_01RefusalExampleAbcdefghijk claude-fable-5\n");
    assert_contains(all, "refusal This request triggered restrictions");
    assert_str_eq(rec.events.back(), "finish content_filter");
}

void json_tool_call_comes_whole(void**) {
    std::string body = test::read_data_file("anthropic/vercel-ai_anthropic-tool-no-args.json");
    test::EventRecorder rec = decode(false, body);
    std::string all = rec.joined();
    assert_contains(all, "tool 0 ");
    assert_int_equal(test::count(all, "args "), 0);  // the arguments ride on the start event
    assert_str_eq(rec.events.back(), "finish tool_calls");
}

void max_tokens_maps_to_length(void**) {
    std::string body =
        R"({"id":"m1","model":"c","type":"message","content":[{"type":"text","text":"cut"}],"stop_reason":"max_tokens",)"
        R"("usage":{"input_tokens":1,"output_tokens":2}})";
    assert_str_eq(decode(false, body).events.back(), "finish length");
}

// 150k content blocks: the open-block lookup must not be linear (this would take minutes if it were).
void many_content_blocks(void**) {
    std::string body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n";
    const int n = 150000;
    for (int i = 0; i < n; ++i) {
        std::string idx = std::to_string(i);
        body += "data: {\"type\":\"content_block_start\",\"index\":" + idx + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    }
    for (int i = 0; i < n; ++i)
        body += "data: {\"type\":\"content_block_stop\",\"index\":" + std::to_string(i) + "}\n\n";
    body += "data: {\"type\":\"message_stop\"}\n\n";
    auto begin = std::chrono::steady_clock::now();
    test::EventRecorder rec = decode(true, body);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    assert_str_eq(rec.events.back(), "finish stop");
    assert_true(seconds < 20.0);  // linear: well under a second without sanitizers
}

// Leading whitespace before the first event is not kept beyond the current line.
void leading_whitespace_is_bounded(void**) {
    auto decoder = anthropic_response_decoder(true);
    test::EventRecorder rec;
    std::string blank_lines(1 << 20, '\n');
    for (int i = 0; i < 16; ++i) assert_true(decoder->feed(blank_lines, rec));
    assert_true(decoder->feed("data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n"
                              "data: {\"type\":\"message_stop\"}\n\n",
                              rec));
    decoder->finish(rec);
    assert_str_eq(rec.joined(), "start m c\nusage -1 -1 -1 -1 -1\nfinish stop\n");
}

// A JSON answer is read from the scanned text: escapes are decoded and, as in jansson, the last of
// duplicate keys counts (at every level).
void json_answer_escapes_and_duplicate_keys(void**) {
    std::string body =
        R"({"id":"old","id":"m\u0031","model":"c","type":"message","content":[{"type":"text","text":"a\"b\n"},)"
        R"({"type":"image","text":"skipped"},{"type":"text","type":"text","text":"x","text":"y"}],)"
        R"("stop_reason":"max_tokens","stop_reason":"end_turn",)"
        R"("usage":{"input_tokens":1,"input_tokens":5,"output_tokens":7,"output_tokens":"x"}})";
    test::EventRecorder rec = decode(false, body);
    assert_str_eq(rec.joined(), "start m1 c\ntext a\"b\ny\nusage 5 -1 -1 -1 -1\nfinish stop\n");
    // not JSON, and JSON that is not a message: the protocol error, as before
    assert_str_eq(decode(false, R"({"id":"m","content":[)").events.back(),
                  "error 502 upstream_protocol_error upstream answer is incomplete or not valid JSON");
    assert_str_eq(decode(false, R"({"id":"m","content":{}})").events.back(),
                  "error 502 upstream_protocol_error upstream answer is not a Messages API message");
}


// Stream events are read from the scanned text: escapes decoded, the last of duplicate keys counts
// (at every level), a type from the event: line when the data has none, an escaped key found; and
// the events are the same whatever the split of the bytes (every single split point, and one byte
// at a time).
void stream_escapes_duplicates_and_any_split(void**) {
    std::string body =
        "event: message_start\n"
        R"(data: {"type":"message_start","message":{"id":"m\u0031","model":"c","usage":{"input_tokens":3,"input_tokens":4,"output_tokens":1}}})" "\n\n"
        R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":"pre\"fix\n"}})" "\n\n"
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"caf\u00e9 \ud83d\ude00 \\ \/"}})" "\r\n\r\n"
        R"(data: {"type":"content_block_stop","index":0})" "\n\n"
        R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t\u0031","name":"get","input":{"a" : [1, 2.50, {"b":null}], "a":"last"}}})" "\n\n"
        R"(data: {"type":"content_block_stop","index":1})" "\n\n"
        R"(data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t2","name":"put","input":{}}})" "\n\n"
        R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"x\":"}})" "\n\n"
        R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"1}"}})" "\n\n"
        R"(data: {"type":"content_block_stop","index":2})" "\n\n"
        R"(data: {"type":"content_block_start","index":3,"content_block":{"type":"thinking","thinking":"hm\tm"}})" "\n\n"
        R"(data: {"type":"content_block_delta","index":3,"delta":{"type":"signature_delta","signature":"s\/g"}})" "\n\n"
        R"(data: {"type":"content_block_start","index":4,"content_block":{"type":"redacted_thinking","data":"r\u0000d"}})" "\n\n"
        "event: ping\ndata: \n\n"
        "event: message_delta\n"
        R"(data: {"delta":{"stop_reason":"tool_use","stop_reason":"end_turn"},"usage":{"output_tokens":9}})" "\n\n"
        R"(data: {"t\u0079pe":"message_stop"})" "\n\n";
    std::string expected =
        "start m1 c\nusage 4 -1 -1 1 -1\ntext pre\"fix\n\ntext caf\xC3\xA9 \xF0\x9F\x98\x80 \\ /\n"
        "tool 0 t1 get \nargs 0 {\"a\":\"last\"}\ntool 1 t2 put \nargs 1 {\"x\":\nargs 1 1}\n"
        "reasoning hm\tm\nstate [{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"s/g\"}]\n"
        "state [{\"type\":\"redacted_thinking\",\"data\":\"r\\u0000d\"}]\nkeep_alive\n"
        "usage -1 -1 -1 9 -1\nfinish stop\n";
    assert_str_eq(decode(true, body).joined(), expected);
    assert_str_eq(decode(true, body, 1).joined(), expected);
    for (size_t cut = 1; cut < body.size(); ++cut) {
        auto decoder = anthropic_response_decoder(true);
        test::EventRecorder rec;
        decoder->feed(std::string_view(body).substr(0, cut), rec);
        decoder->feed(std::string_view(body).substr(cut), rec);
        decoder->finish(rec);
        if (rec.joined() != expected) fail_msg("split at %zu: %s", cut, rec.joined().c_str());
    }
    // an event that is not a JSON object, or not JSON, breaks the stream as before
    std::string start = "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n";
    for (std::string_view bad : {"data: [1]\n\n", "data: {\"type\":\"message_stop\"\n\n", "data: {\"a\":1}x\n\n"}) {
        test::EventRecorder rec = decode(true, start + std::string(bad));
        assert_str_eq(rec.events.back(), "error 502 upstream_protocol_error upstream sent an invalid stream event");
    }
}
}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_tool_use_events),
        cmocka_unit_test(stream_cut_short_is_an_error),
        cmocka_unit_test(json_refusal),
        cmocka_unit_test(json_tool_call_comes_whole),
        cmocka_unit_test(max_tokens_maps_to_length),
        cmocka_unit_test(many_content_blocks),
        cmocka_unit_test(leading_whitespace_is_bounded),
        cmocka_unit_test(json_answer_escapes_and_duplicate_keys),
        cmocka_unit_test(stream_escapes_duplicates_and_any_split),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
