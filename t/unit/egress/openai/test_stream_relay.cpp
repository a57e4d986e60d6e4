// stream_relay: pass-through relay, usage capture, usage-chunk drop, errors and truncation.
#include "egress/openai/stream_relay.hpp"

#include "test_util.hpp"

using namespace routeshift;

static const char* kUsageChunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":50,"
    "\"completion_tokens\":20,\"total_tokens\":70,\"prompt_tokens_details\":{\"cached_tokens\":32}}}\n\n";

static std::string chunk(const char* content) {
    return std::string("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
           content + "\"},\"finish_reason\":null}],\"usage\":null}\n\n";
}

static std::string stream_with_usage() {
    return chunk("Hel") + chunk("lo") +
           "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
           kUsageChunk + "data: [DONE]\n\n";
}

static void test_passthrough_identity(void**) {
    std::string in = stream_with_usage();
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(in, &out));
    assert_str_eq(out, in);
    assert_true(r.saw_done());
    assert_false(r.saw_error());
    assert_true(r.saw_first_event());
    assert_int_equal(r.usage().prompt_tokens, 50);
    assert_int_equal(r.usage().completion_tokens, 20);
    assert_int_equal(r.usage().total_tokens, 70);
    assert_int_equal(r.usage().cached_tokens, 32);
    std::string tail;
    assert_true(r.finish(&tail));
    assert_str_eq(tail, "");
}

static void test_drops_forced_usage_chunk(void**) {
    std::string in = stream_with_usage();
    std::string expect = in;
    expect.erase(expect.find(kUsageChunk), std::string(kUsageChunk).size());
    // every two-way split gives the same output
    for (size_t i = 0; i <= in.size(); ++i) {
        OpenAIStreamRelay r(false);
        std::string out;
        assert_true(r.feed(std::string_view(in).substr(0, i), &out));
        assert_true(r.feed(std::string_view(in).substr(i), &out));
        assert_true(r.finish(&out));
        if (out != expect) fail_msg("split at %zu: output differs", i);
        assert_int_equal(r.usage().prompt_tokens, 50);  // still accounted
        assert_int_equal(r.usage().completion_tokens, 20);
    }
}

static void test_usage_null_chunks_ignored(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    std::string in = chunk("the \\\"usage\\\" word") + chunk("usage") + chunk("error");
    assert_true(r.feed(in, &out));
    assert_str_eq(out, in);
    assert_int_equal(r.usage().prompt_tokens, -1);
    assert_int_equal(r.usage().total_tokens, -1);
    assert_false(r.saw_error());
}

static void test_groq_x_groq_usage(void**) {
    std::string last =
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
        "\"x_groq\":{\"id\":\"req_1\",\"usage\":{\"queue_time\":0.01,\"prompt_tokens\":11,\"completion_tokens\":7,"
        "\"total_tokens\":18}}}\n\n";
    OpenAIStreamRelay r(false);
    std::string out;
    assert_true(r.feed(chunk("hi") + last + "data: [DONE]\n\n", &out));
    assert_contains(out, "x_groq");  // not dropped: it carries the finish chunk
    assert_int_equal(r.usage().prompt_tokens, 11);
    assert_int_equal(r.usage().completion_tokens, 7);
    assert_int_equal(r.usage().total_tokens, 18);
    assert_int_equal(r.usage().cached_tokens, -1);
}

static void test_usage_with_choices_not_dropped(void**) {
    // Together-style: usage on the last content chunk
    std::string ev =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":\"eos\"}],"
        "\"usage\" : {\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
    OpenAIStreamRelay r(false);
    std::string out;
    assert_true(r.feed(ev, &out));
    assert_str_eq(out, ev);
    assert_int_equal(r.usage().prompt_tokens, 3);
    assert_int_equal(r.usage().total_tokens, 7);  // computed when absent
}

static void test_error_event(void**) {
    std::string err = "data: {\"error\":{\"message\":\"Internal error\",\"type\":\"server_error\"}}\n\n";
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(chunk("a") + err, &out));
    assert_true(r.saw_error());
    assert_contains(out, err);
    std::string tail;
    assert_false(r.finish(&tail));  // not complete, but the error already reached the client
    assert_str_eq(tail, "");

    OpenAIStreamRelay v(false);
    out.clear();
    assert_true(v.feed("data: {\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\",\"code\":400}\n\n", &out));
    assert_true(v.saw_error());
}

static void test_truncated_stream(void**) {
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(chunk("a") + chunk("b") + "data: {\"partial", &out));
    assert_false(r.saw_done());
    std::string before = out;
    assert_false(r.finish(&out));
    assert_str_eq(out.substr(0, before.size()), before);
    assert_str_eq(out.substr(before.size()),
                  "data: {\"error\":{\"message\":\"upstream stream ended before completion\",\"type\":\"server_error\","
                  "\"param\":null,\"code\":\"stream_truncated\"}}\n\n");

    OpenAIStreamRelay empty(true);
    out.clear();
    assert_false(empty.saw_first_event());
    assert_false(empty.finish(&out));
    assert_contains(out, "stream_truncated");
}

// A whole chunk the stream's end cut off before its blank line (found by fuzz_translate_openai):
// it is relayed as an event of its own, and the gateway's error event after it stays a separate
// event — not a second data line of the chunk, which the client's SDK could not parse. Every way
// a last line may end: LF, CRLF, CR; a last line without its line break is not relayed at all.
static void test_chunk_cut_before_its_blank_line(void**) {
    const std::string error_event =
        "data: {\"error\":{\"message\":\"upstream stream ended before completion\",\"type\":\"server_error\","
        "\"param\":null,\"code\":\"stream_truncated\"}}\n\n";
    const std::string last = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"z\"}}]}";
    struct Case {
        const char* ending;
        const char* completed;  // what the relay adds to end the event
    } cases[] = {{"\n", "\n"}, {"\r\n", "\n"}, {"\r", "\n\n"}};
    for (const Case& c : cases) {
        OpenAIStreamRelay r(true);
        std::string out;
        assert_true(r.feed(chunk("a") + last + c.ending, &out));
        assert_false(r.finish(&out));
        assert_str_eq(out, chunk("a") + last + c.ending + c.completed + error_event);
    }
    OpenAIStreamRelay partial(true);
    std::string out;
    assert_true(partial.feed(chunk("a") + last, &out));
    assert_false(partial.finish(&out));
    assert_str_eq(out, chunk("a") + error_event);
}

static void test_done_without_blank_line(void**) {
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(chunk("a") + "data: [DONE]\n", &out));
    assert_false(r.saw_done());
    assert_true(r.finish(&out));
    assert_true(r.saw_done());
    // the sentinel goes out as a whole event (the blank line the provider left out added)
    assert_str_eq(out, chunk("a") + "data: [DONE]\n\n");
}

static void test_comments_forwarded(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    assert_true(r.feed(": OPENROUTER PROCESSING\n\n", &out));
    assert_str_eq(out, ": OPENROUTER PROCESSING\n\n");
    assert_true(r.saw_first_event());
}

static void test_error_event_format(void**) {
    assert_str_eq(OpenAIStreamRelay::error_event("upstream timed out", "upstream_timeout"),
                  "data: {\"error\":{\"message\":\"upstream timed out\",\"type\":\"server_error\",\"param\":null,"
                  "\"code\":\"upstream_timeout\"}}\n\n");
    assert_str_eq(OpenAIStreamRelay::error_event("a \"q\"\n", ""),
                  "data: {\"error\":{\"message\":\"a \\\"q\\\"\\n\",\"type\":\"server_error\",\"param\":null,"
                  "\"code\":null}}\n\n");
}

static void test_oversized_event(void**) {
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(chunk("a"), &out));
    std::string huge = "data: \"" + std::string(5u << 20, 'x');
    out.clear();
    assert_false(r.feed(huge, &out));
    assert_true(r.saw_error());
    assert_str_eq(out, OpenAIStreamRelay::error_event("upstream sent an event larger than the gateway accepts",
                                                      "stream_event_too_large"));
    // the rest of the broken stream is not relayed, and finish adds nothing
    out.clear();
    assert_false(r.feed("\"}\n\ndata: [DONE]\n\n", &out));
    assert_str_eq(out, "");
    assert_false(r.finish(&out));
    assert_str_eq(out, "");
    assert_false(r.saw_done());
}

static void test_recorded_streams(void**) {
    for (const char* name : {"openai-node_stream-works-1.sse", "vercel-ai_openai-text.sse"}) {
        std::string in = test::read_data_file(name);
        OpenAIStreamRelay keep(true);
        std::string out;
        for (size_t p = 0; p < in.size(); p += 97) assert_true(keep.feed(std::string_view(in).substr(p, 97), &out));
        assert_true(keep.finish(&out));
        assert_str_eq(out, in);

        OpenAIStreamRelay drop(false);
        std::string out2;
        assert_true(drop.feed(in, &out2));
        assert_true(drop.finish(&out2));
        assert_int_equal(test::count(out2, "data: "), test::count(in, "data: ") - 1);
        assert_not_contains(out2, "\"choices\":[],\"usage\":{");
        assert_contains(out2, "data: [DONE]\n\n");
        assert_int_equal(drop.usage().prompt_tokens, keep.usage().prompt_tokens);
    }
    // numbers from /work/shared/conformance/recorded/expected.json
    std::string a = test::read_data_file("openai-node_stream-works-1.sse");
    OpenAIStreamRelay r(false);
    std::string out;
    r.feed(a, &out);
    assert_int_equal(r.usage().prompt_tokens, 17);
    assert_int_equal(r.usage().completion_tokens, 10);
    assert_int_equal(r.usage().total_tokens, 27);
    std::string b = test::read_data_file("vercel-ai_openai-text.sse");
    OpenAIStreamRelay r2(true);
    r2.feed(b, &out);
    assert_int_equal(r2.usage().prompt_tokens, 16);
    assert_int_equal(r2.usage().completion_tokens, 300);
    assert_int_equal(r2.usage().cached_tokens, 0);
}

static void test_usage_from_completion(void**) {
    Usage u = usage_from_completion(test::read_data_file("vercel-ai_openai-text.json"));
    assert_int_equal(u.prompt_tokens, 16);
    assert_int_equal(u.completion_tokens, 363);
    assert_int_equal(u.total_tokens, 379);
    assert_int_equal(u.cached_tokens, 0);
    Usage none = usage_from_completion(R"({"choices":[]})");
    assert_int_equal(none.prompt_tokens, -1);
    assert_int_equal(none.completion_tokens, -1);
    assert_int_equal(none.total_tokens, -1);
    assert_int_equal(none.cached_tokens, -1);
    Usage junk = usage_from_completion("not json");
    assert_int_equal(junk.total_tokens, -1);
    Usage partial = usage_from_completion(R"({"usage":{"prompt_tokens":5}})");
    assert_int_equal(partial.prompt_tokens, 5);
    assert_int_equal(partial.completion_tokens, -1);
    assert_int_equal(partial.total_tokens, -1);
}

static const char* kFinishChunk =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";

// issue 11: a stream that said it finished (and sent the usage the client asked for) is complete
// without [DONE]; the relay adds it
// Found by fuzz_stream_relay (t/fuzz/fuzz_stream_relay/): events after [DONE] were relayed.
static void test_nothing_after_done(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    std::string answer = chunk("a") + kFinishChunk + "data: [DONE]\n\n";
    assert_true(r.feed(answer + chunk("late") + "data: not json\n\n", &out));
    assert_true(r.finish(&out));
    assert_str_eq(out, answer);
}

// Found by fuzz_translate_openai: a line that is neither data nor a comment (here with invalid
// UTF-8) was relayed verbatim; now only the event's data is.
static void test_only_data_and_comments_relayed(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    std::string a = chunk("a");
    assert_true(r.feed(": keep-alive\n\n" + a + "bogus\xeb: x\n" + a + "event: x\n\n", &out));
    assert_str_eq(out, ": keep-alive\n\n" + a + a);
}

static void test_finished_without_done(void**) {
    for (bool want_usage : {false, true}) {
        OpenAIStreamRelay r(want_usage);
        std::string out;
        std::string in = chunk("a") + kFinishChunk + (want_usage ? kUsageChunk : "");
        assert_true(r.feed(in, &out));
        assert_true(r.finish(&out));
        assert_true(r.saw_done());
        assert_str_eq(out, in + "data: [DONE]\n\n");
    }
    // the client asked for usage and it never came: not complete
    OpenAIStreamRelay r(true);
    std::string out;
    assert_true(r.feed(chunk("a") + kFinishChunk, &out));
    assert_false(r.finish(&out));
    assert_contains(out, "stream_truncated");
    assert_true(out.find("[DONE]") == std::string::npos);
    // a finish_reason of null is no finish
    OpenAIStreamRelay n(false);
    out.clear();
    assert_true(n.feed(chunk("a") + chunk("b"), &out));
    assert_false(n.finish(&out));
    assert_contains(out, "stream_truncated");
}

// issue 11: a malformed event is skipped (counted for the log), the stream goes on
static void test_malformed_event_skipped(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    std::string bad = "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"x\n\n";
    assert_true(r.feed(chunk("a") + bad + "data: 42\n\n" + chunk("b") + kFinishChunk + "data: [DONE]\n\n", &out));
    assert_int_equal(r.malformed_events(), 2);
    assert_str_eq(out, chunk("a") + chunk("b") + kFinishChunk + "data: [DONE]\n\n");
    assert_true(r.finish(&out));
    assert_false(r.saw_error());
}

// A data field with nothing in it ("data: ", "data:", blanks) is dropped like any malformed event
// (the SDK would JSON.parse("")); an event of comments alone still passes (found by fuzzing).
static void test_empty_data_event_skipped(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    assert_true(r.feed(chunk("a") + "data: \n\n" + "data:\r\r" + "data:   \ndata:\n\n" + ": ping\n\n" + chunk("b") +
                           kFinishChunk + "data: [DONE]\n\n",
                       &out));
    assert_int_equal(r.malformed_events(), 3);
    assert_str_eq(out, chunk("a") + ": ping\n\n" + chunk("b") + kFinishChunk + "data: [DONE]\n\n");
    assert_true(r.finish(&out));
}

// A bare "data" line (no colon) is a data field with an empty value too, also next to lines the
// relay does not pass on (then the event is rebuilt from its data: it must not become "data: ")
static void test_bare_data_line_skipped(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    assert_true(r.feed(chunk("a") + "data\n\n" + "data\nx: y\ndata\n\n" + "data\r\n\r\n" + chunk("b") + kFinishChunk +
                           "data: [DONE]\n\n",
                       &out));
    assert_int_equal(r.malformed_events(), 3);
    assert_str_eq(out, chunk("a") + chunk("b") + kFinishChunk + "data: [DONE]\n\n");
    assert_true(r.finish(&out));
}

// the glue holds a stream's headers until its first content
static void test_content_started(void**) {
    OpenAIStreamRelay r(false);
    std::string out;
    std::string role = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                       "\"finish_reason\":null}]}\n\n";
    assert_true(r.feed(": keep-alive\n\n" + role, &out));
    assert_false(r.content_started());
    assert_true(r.feed(chunk("x"), &out));
    assert_true(r.content_started());

    OpenAIStreamRelay tools(false);
    assert_true(tools.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}\n\n", &out));
    assert_true(tools.content_started());
    OpenAIStreamRelay fin(false);
    assert_true(fin.feed(kFinishChunk, &out));
    assert_true(fin.content_started());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passthrough_identity),
        cmocka_unit_test(test_drops_forced_usage_chunk),
        cmocka_unit_test(test_usage_null_chunks_ignored),
        cmocka_unit_test(test_groq_x_groq_usage),
        cmocka_unit_test(test_usage_with_choices_not_dropped),
        cmocka_unit_test(test_error_event),
        cmocka_unit_test(test_truncated_stream),
        cmocka_unit_test(test_chunk_cut_before_its_blank_line),
        cmocka_unit_test(test_done_without_blank_line),
        cmocka_unit_test(test_comments_forwarded),
        cmocka_unit_test(test_error_event_format),
        cmocka_unit_test(test_oversized_event),
        cmocka_unit_test(test_recorded_streams),
        cmocka_unit_test(test_usage_from_completion),
        cmocka_unit_test(test_finished_without_done),
        cmocka_unit_test(test_nothing_after_done),
        cmocka_unit_test(test_only_data_and_comments_relayed),
        cmocka_unit_test(test_malformed_event_skipped),
        cmocka_unit_test(test_empty_data_event_skipped),
        cmocka_unit_test(test_bare_data_line_skipped),
        cmocka_unit_test(test_content_started),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
