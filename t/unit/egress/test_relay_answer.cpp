// relay_answer / relay_request: answers of the relayed endpoints (usage, client ids of provider
// objects, streams) and their requests (spans of the client's body) (docs/design.md §21).
#include "egress/openai/relay_answer.hpp"
#include "egress/openai/relay_request.hpp"
#include "util/json_scan.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string fake_encode(ProviderObjectKind kind, std::string_view id) {
    return std::string(provider_object_kind_name(kind)) + ":" + std::string(id);
}

// Feeds `body` split at every `step` bytes; returns what the client gets.
static std::string run(ResponseTranslator& t, std::string_view body, size_t step, bool* ok) {
    std::string out;
    for (size_t i = 0; i < body.size(); i += step) assert_true(t.feed(body.substr(i, step), &out));
    *ok = t.finish(&out);
    return out;
}

static void test_json_usage_both_namings(void**) {
    for (size_t step : {1, 7, 4096}) {
        RelayAnswerOptions o;
        o.content_type = "application/json; charset=utf-8";
        auto t = relay_answer_translator(o);
        std::string body = R"({"id":"cmpl-1","object":"text_completion","usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})";
        bool ok;
        assert_str_eq(run(*t, body, step, &ok), body);  // relayed unchanged
        assert_true(ok && t->complete());
        assert_int_equal(t->usage().prompt_tokens, 5);
        assert_int_equal(t->usage().completion_tokens, 7);
        assert_int_equal(t->usage().total_tokens, 12);
    }
    RelayAnswerOptions o;
    o.content_type = "application/json";
    auto t = relay_answer_translator(o);
    bool ok;
    run(*t, R"({"object":"response","usage":{"input_tokens":9,"output_tokens":4,"input_tokens_details":{"cached_tokens":2}}})", 3, &ok);
    assert_true(ok);
    assert_int_equal(t->usage().prompt_tokens, 9);
    assert_int_equal(t->usage().completion_tokens, 4);
    assert_int_equal(t->usage().total_tokens, 13);
    assert_int_equal(t->usage().cached_tokens, 2);
    // an answer without the endpoint's array (a chat completion where embeddings were asked) is not complete
    RelayAnswerOptions embeddings;
    embeddings.content_type = "application/json";
    embeddings.required_array = "data";
    auto wrong = relay_answer_translator(embeddings);
    run(*wrong, R"({"object":"chat.completion","choices":[]})", 4, &ok);
    assert_false(ok);
    auto right = relay_answer_translator(embeddings);
    run(*right, R"({"object":"list","data":[{"embedding":[0.5]}],"usage":{"prompt_tokens":2,"total_tokens":2}})", 4, &ok);
    assert_true(ok);
    assert_int_equal(right->usage().prompt_tokens, 2);
    // a truncated JSON answer is not complete (the held answer fails over)
    auto cut = relay_answer_translator(o);
    run(*cut, R"({"object":"response","usa)", 5, &ok);
    assert_false(ok);
}

static void test_object_ids_rewritten(void**) {
    std::string out;
    assert_true(rewrite_answer_object_ids(
        R"({"object":"list","data":[{"id":"file-a","object":"file"},{"id":"file-b","object":"file"}],"first_id":"file-a","last_id":"file-b","has_more":false})",
        ProviderObjectKind::file, fake_encode, nullptr, &out));
    assert_contains(out, R"("id":"file:file-a")");
    assert_contains(out, R"("id":"file:file-b")");
    assert_contains(out, R"("first_id":"file:file-a")");
    assert_contains(out, R"("last_id":"file:file-b")");
    assert_true(rewrite_answer_object_ids(
        R"({"id":"batch_1","object":"batch","input_file_id":"file-in","output_file_id":null,"error_file_id":"file-err"})",
        ProviderObjectKind::batch, fake_encode, nullptr, &out));
    assert_contains(out, R"("id":"batch:batch_1")");
    assert_contains(out, R"("input_file_id":"file:file-in")");
    assert_contains(out, R"("output_file_id":null)");
    assert_contains(out, R"("error_file_id":"file:file-err")");
    assert_true(rewrite_answer_object_ids(R"({"id":"file-x","object":"file","deleted":true})", ProviderObjectKind::file,
                                          fake_encode, nullptr, &out));
    assert_contains(out, R"("id":"file:file-x")");
    assert_true(rewrite_answer_object_ids(R"({"id":"resp_1","object":"response","previous_response_id":"resp_0"})",
                                          ProviderObjectKind::response, fake_encode, nullptr, &out));
    assert_contains(out, R"("id":"response:resp_1")");
    assert_contains(out, R"("previous_response_id":"response:resp_0")");
    assert_false(rewrite_answer_object_ids("[1]", ProviderObjectKind::file, fake_encode, nullptr, &out));

    RelayAnswerOptions o;
    o.content_type = "application/json";
    o.rewrite_ids = true;
    o.kind = ProviderObjectKind::file;
    o.encode = fake_encode;
    auto t = relay_answer_translator(o);
    bool ok;
    std::string client = run(*t, R"({"id":"file-1","object":"file","bytes":3})", 2, &ok);
    assert_true(ok);
    assert_contains(client, R"("id":"file:file-1")");
}

static void test_streams(void**) {
    // a completions stream: passed event by event, usage from its usage chunk, complete at [DONE]
    std::string sse = "data: {\"id\":\"c\",\"choices\":[{\"text\":\"Hi\"}]}\n\n"
                      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n"
                      "data: [DONE]\n\n";
    for (size_t step : {1, 5, 1000}) {
        RelayAnswerOptions o;
        o.content_type = "text/event-stream";
        o.stream = true;
        auto t = relay_answer_translator(o);
        bool ok;
        assert_str_eq(run(*t, sse, step, &ok), sse);
        assert_true(ok && t->content_started());
        assert_int_equal(t->usage().prompt_tokens, 3);
        assert_int_equal(t->usage().total_tokens, 4);
    }
    // a Responses stream: no [DONE]; response.completed ends it; the stored response's id rewritten
    std::string resp = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_9\",\"status\":\"in_progress\"}}\n\n"
                       "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"
                       "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_9\",\"usage\":{\"input_tokens\":6,\"output_tokens\":2}}}\n\n";
    RelayAnswerOptions o;
    o.content_type = "text/event-stream";
    o.stream = true;
    o.rewrite_ids = true;
    o.kind = ProviderObjectKind::response;
    o.encode = fake_encode;
    auto t = relay_answer_translator(o);
    bool ok;
    std::string out = run(*t, resp, 3, &ok);
    assert_true(ok);
    assert_int_equal(test::count(out, "\"response:resp_9\""), 2);
    assert_int_equal(test::count(out, "\"resp_9\""), 0);
    assert_int_equal(t->usage().prompt_tokens, 6);
    assert_int_equal(t->usage().completion_tokens, 2);
    // a stream cut before its end gets an error event and is not complete
    auto cut = relay_answer_translator(o);
    out = run(*cut, resp.substr(0, resp.find("event: response.completed")), 4, &ok);
    assert_false(ok);
    assert_contains(out, "stream_truncated");
    // cut after an event's last line but before its blank line (with and without the id rewrite):
    // the event is ended before the error event, which stays an event of its own
    std::string delta = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n";
    for (bool rewrite : {false, true}) {
        o.rewrite_ids = rewrite;
        auto ended = relay_answer_translator(o);
        std::string first = resp.substr(0, resp.find("event: response.output_text.delta"));
        out = run(*ended, first + delta, 7, &ok);
        assert_false(ok);
        size_t at = out.find("data: {\"error\"");
        assert_true(at != std::string::npos);
        assert_str_eq(out.substr(at - 2, 2), "\n\n");  // a blank line before the error event
        assert_contains(out, delta + "\n");
    }
}

static void test_bytes_pass_through(void**) {
    RelayAnswerOptions o;
    o.content_type = "audio/mpeg";
    auto t = relay_answer_translator(o);
    std::string audio(100000, '\0');
    for (size_t i = 0; i < audio.size(); i++) audio[i] = (char)(i * 7);
    bool ok;
    assert_true(run(*t, audio, 999, &ok) == audio);
    assert_true(ok);
    assert_int_equal(t->usage().prompt_tokens, -1);
}

static void test_splice_spans(void**) {
    std::string body = R"({"model":"alias","input_file_id":"file-rs1-x","n":1})";
    JsonValue root;
    JsonMembers members;
    assert_true(json_scan(body, &root, &members, nullptr));
    std::vector<SpanReplacement> r;
    replace_json_member(body, members, "input_file_id", "\"file-abc\"", &r);
    replace_json_member(body, members, "model", "\"gpt-4o\"", &r);
    SplicedBody spliced;
    splice_spans(body, r, &spliced);
    assert_str_eq(spliced.flatten(body), R"({"model":"gpt-4o","input_file_id":"file-abc","n":1})");
    assert_int_equal(spliced.size, spliced.flatten(body).size());
    // unchanged values: one span, the client's body itself
    std::vector<SpanReplacement> same;
    replace_json_member(body, members, "model", "\"alias\"", &same);
    splice_spans(body, same, &spliced);
    assert_int_equal(spliced.pieces.size(), 1);
    assert_false(spliced.pieces[0].own);
    assert_int_equal(spliced.size, body.size());
    // a body not in memory (nginx's temp file): spans by offset, every replacement ours
    std::vector<SpanReplacement> in_file{{10, 5, "gpt-4o"}, {30, 0, "rs-t1-"}};
    splice_spans(body.size(), in_file, &spliced);
    assert_str_eq(spliced.flatten(body), body.substr(0, 10) + "gpt-4o" + body.substr(15, 15) + "rs-t1-" + body.substr(30));
    assert_int_equal(spliced.size, body.size() + 1 + 6);
    assert_int_equal(spliced.pieces.size(), 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_usage_both_namings),
        cmocka_unit_test(test_object_ids_rewritten),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_bytes_pass_through),
        cmocka_unit_test(test_splice_spans),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
