// GeminiGenerateContentWriter and its translator: canonical events -> GenerateContentResponse JSON
// or the SSE chunks @google/genai reads; the OpenAI-wire decoder feeding it; the Gemini-wire relay.
#include "dialect/gemini_generate_content_translator.hpp"
#include "dialect/gemini_generate_content_writer.hpp"
#include "egress/wire_adapter.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;
namespace c = routeshift::canonical;

static GeminiAnswerWriterOptions options(bool stream) {
    GeminiAnswerWriterOptions o;
    o.stream = stream;
    o.model = "gem-test";
    o.id = "resp_test";
    return o;
}

static c::UsageReport usage(int64_t in, int64_t out, int64_t cached = -1, int64_t reasoning = -1) {
    c::UsageReport u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.cache_read_tokens = cached;
    u.reasoning_tokens = reasoning;
    return u;
}

// The JSON documents of an SSE text (`data: ...\r\n\r\n` events), in order.
static std::vector<JsonPtr> chunks(std::string_view sse) {
    std::vector<JsonPtr> out;
    size_t p = 0;
    while ((p = sse.find("data: ", p)) != std::string_view::npos) {
        size_t end = sse.find("\r\n\r\n", p);
        assert_true(end != std::string_view::npos);
        JsonPtr doc = json_parse(sse.substr(p + 6, end - p - 6), nullptr);
        assert_non_null(doc.get());
        out.push_back(std::move(doc));
        p = end;
    }
    return out;
}

static void test_json_text(void**) {
    GeminiGenerateContentWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.message_start({"chatcmpl-up", "gpt-x"});
    w.reasoning_delta("hmm");
    w.text_delta("Hel");
    w.text_delta("lo");
    w.usage(usage(10, 5, 4, 2));
    assert_false(w.complete());
    w.finish(c::FinishReason::length);
    assert_true(w.complete());
    assert_str_eq(out, R"({"candidates":[{"content":{"parts":[{"text":"hmm","thought":true},{"text":"Hello"}],"role":"model"},)"
                       R"("finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":14,"candidatesTokenCount":3,)"
                       R"("cachedContentTokenCount":4,"thoughtsTokenCount":2,"totalTokenCount":19},"modelVersion":"gem-test","responseId":"resp_test"})");
    assert_int_equal(w.usage().prompt_tokens, 14);
    assert_int_equal(w.usage().completion_tokens, 5);
}

static void test_json_function_calls_and_choices(void**) {
    GeminiGenerateContentWriter w(options(false));
    std::string out;
    w.bind(&out);
    w.tool_call_start(0, "call_1", "get_weather", "");
    w.tool_call_arguments_delta(0, "{\"city\":");
    w.tool_call_arguments_delta(0, "\"Oslo\"}");
    w.tool_call_start(1, "", "broken", "{\"a\":");  // cut-off arguments: args {}
    w.choice(1);
    w.text_delta("second");
    w.finish(c::FinishReason::content_filter);
    assert_false(w.complete());  // candidate 0 has not finished
    w.choice(0);
    w.finish(c::FinishReason::tool_calls);
    assert_true(w.complete());
    JsonPtr root = json_parse(out, nullptr);
    assert_non_null(root.get());
    const json_t* candidates = json_object_get(root.get(), "candidates");
    assert_int_equal(json_array_size(candidates), 2);
    const json_t* first = json_array_get(candidates, 0);
    assert_str_eq(json_string_view(first, "finishReason"), "STOP");
    assert_str_eq(json_dump_compact(json_object_get(json_object_get(first, "content"), "parts")),
                  R"([{"functionCall":{"id":"call_1","name":"get_weather","args":{"city":"Oslo"}}},{"functionCall":{"name":"broken","args":{}}}])");
    const json_t* second = json_array_get(candidates, 1);
    assert_str_eq(json_string_view(second, "finishReason"), "SAFETY");
    long long index = -1;
    assert_true(json_get_int(second, "index", &index));
    assert_int_equal(index, 1);
    assert_null(json_object_get(root.get(), "usageMetadata"));  // none was reported
}

static void test_stream_chunks(void**) {
    GeminiGenerateContentWriter w(options(true));
    std::string out;
    w.bind(&out);
    w.text_delta("Hel");
    w.text_delta("lo");
    w.tool_call_start(0, "call_1", "f", "");
    w.tool_call_arguments_delta(0, "{}");
    w.usage(usage(7, 2));
    w.finish(c::FinishReason::tool_calls);
    assert_true(w.complete());
    std::vector<JsonPtr> docs = chunks(out);
    assert_int_equal(docs.size(), 3);
    assert_str_eq(json_dump_compact(docs[0].get()),
                  R"({"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"modelVersion":"gem-test","responseId":"resp_test"})");
    // the call comes whole with the last chunk, with the finish reason and the usage
    assert_str_eq(json_dump_compact(docs[2].get()),
                  R"({"candidates":[{"content":{"parts":[{"functionCall":{"id":"call_1","name":"f","args":{}}}],"role":"model"},)"
                  R"("finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"totalTokenCount":9},)"
                  R"("modelVersion":"gem-test","responseId":"resp_test"})");
    w.text_delta("after");
    assert_false(test::contains(out, "after"));
}

static void test_errors(void**) {
    GeminiGenerateContentWriter w(options(false));
    std::string out;
    w.bind(&out);
    c::ErrorReport e;
    e.status = 429;
    e.message = "slow down";
    w.error(e);
    assert_true(w.saw_error());
    assert_str_eq(out, R"({"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}})");
    GeminiGenerateContentWriter s(options(true));
    std::string sse;
    s.bind(&sse);
    s.text_delta("x");
    e.status = 502;
    e.message = "cut";
    s.error(e);
    assert_contains(sse, "data: {\"error\":{\"code\":502,\"message\":\"cut\",\"status\":\"INTERNAL\"}}\r\n\r\n");
    s.finish(c::FinishReason::stop);
    assert_false(s.complete());
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
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4}}\n\n"
        "data: [DONE]\n\n";
    std::string reference;
    for (size_t split : {body.size(), (size_t)1, (size_t)7, (size_t)64}) {
        bool ok = false;
        auto t = gemini_generate_content_translator(wire_response_decoder(WireFormat::openai, true, "resp_test"), options(true), false);
        std::string out = run_translator(std::move(t), body, split, &ok);
        assert_true(ok);
        if (reference.empty()) reference = out;
        assert_str_eq(out, reference);
    }
    assert_contains(reference, "{\"text\":\"He\"}");
    assert_contains(reference, "{\"functionCall\":{\"id\":\"call_9\",\"name\":\"f\",\"args\":{\"a\":1}}}");
    assert_contains(reference, "\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":4,\"totalTokenCount\":16}");
    assert_int_equal(test::count(reference, "\"finishReason\""), 1);

    // a stream that ends without [DONE] or a finish reason is not complete: an error event
    bool ok = true;
    auto broken = gemini_generate_content_translator(wire_response_decoder(WireFormat::openai, true, "r"), options(true), false);
    std::string out = run_translator(std::move(broken), "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n", 9, &ok);
    assert_false(ok);
    assert_contains(out, "data: {\"error\":");
    assert_false(test::contains(out, "finishReason"));
}

static void test_gemini_wire_relay(void**) {
    const std::string body =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
        "\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":2,\"totalTokenCount\":11},\"responseId\":\"r1\"}\r\n\r\n";
    bool ok = false;
    auto t = gemini_generate_content_translator(wire_response_decoder(WireFormat::gemini, true, "x"), options(true), true);
    ResponseTranslator* raw = t.get();
    std::string out;
    for (size_t i = 0; i < body.size(); i += 13) assert_true(raw->feed(std::string_view(body).substr(i, 13), &out));
    ok = raw->finish(&out);
    assert_true(ok);
    assert_str_eq(out, body);  // the provider's bytes, unchanged
    assert_int_equal(raw->usage().prompt_tokens, 9);
    assert_int_equal(raw->usage().completion_tokens, 2);

    // cut before the finish reason: the provider's bytes, then the gateway's error event
    auto cut = gemini_generate_content_translator(wire_response_decoder(WireFormat::gemini, true, "x"), options(true), true);
    std::string first(body.substr(0, body.find("\r\n\r\n") + 4));
    out = run_translator(std::move(cut), first, 1000, &ok);
    assert_false(ok);
    assert_true(out.starts_with(first));
    assert_contains(out, "data: {\"error\":");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_json_function_calls_and_choices),
        cmocka_unit_test(test_stream_chunks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_openai_wire_stream_any_split),
        cmocka_unit_test(test_gemini_wire_relay),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
