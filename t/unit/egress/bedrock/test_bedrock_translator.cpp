// Bedrock response translation: recorded ConverseStream bodies (binary event-stream) and Converse
// JSON answers (data/bedrock/, from vercel-ai fixtures) against expected.json, split at every byte
// of the first 2 KB plus random splits; synthetic streams for tool-call indexing, usage with cache
// tokens, exceptions mid-stream, truncation and corruption.
#include "bedrock_test_util.hpp"

#include <random>

using namespace routeshift;
using namespace bedrock_test;

namespace {

const char* kFixtures[] = {"vercel-ai_amazon-bedrock-reasoning", "vercel-ai_amazon-bedrock-text",
                           "vercel-ai_amazon-bedrock-tool-call.1", "vercel-ai_amazon-bedrock-tool-no-args"};

TranslatorOptions opts(bool stream, bool include_usage) {
    return test::translator_options(stream, include_usage, "anthropic.claude-3-haiku-20240307-v1:0", "chatcmpl-test123");
}

JsonPtr expected_for(const std::string& key) {
    static JsonPtr all;
    if (!all) {
        std::string err;
        all = json_parse(test::read_data_file("bedrock/expected.json"), &err);
        assert_non_null(all.get());
    }
    const json_t* e = json_object_get(all.get(), ("bedrock/" + key).c_str());
    if (!e) fail_msg("expected.json has no entry bedrock/%s", key.c_str());
    return JsonPtr(json_incref(const_cast<json_t*>(e)));
}

std::string_view openai_finish(std::string_view stop, size_t calls) {
    if (stop == "tool_use" || (calls && stop == "end_turn")) return "tool_calls";
    if (stop == "max_tokens") return "length";
    return "stop";
}

void check_against_expected(const Assembled& a, const json_t* exp) {
    assert_str_eq(a.content, json_string_view(exp, "text"));
    if (json_object_get(exp, "reasoning")) assert_str_eq(a.reasoning, json_string_view(exp, "reasoning"));
    else assert_str_eq(a.reasoning, "");
    const json_t* calls = json_object_get(exp, "tool_calls");
    assert_int_equal(a.calls.size(), json_array_size(calls));
    for (size_t i = 0; i < a.calls.size(); ++i) {
        const json_t* c = json_array_get(calls, i);
        assert_str_eq(a.calls[i].name, json_string_view(c, "name"));
        std::string err;
        JsonPtr args = json_parse(a.calls[i].args, &err);
        if (!args) fail_msg("tool call arguments are not JSON: '%s'", a.calls[i].args.c_str());
        assert_true(json_equal(args.get(), json_object_get(c, "input")));
        assert_str_eq(a.calls[i].id, "tool-use-id");
    }
    assert_int_equal(a.finish.size(), 1);
    assert_str_eq(a.finish[0], openai_finish(json_string_view(exp, "stop_reason"), a.calls.size()));
}

void test_recorded_streams(void**) {
    for (const char* name : kFixtures) {
        const std::string body = test::read_data_file("bedrock/" + std::string(name) + ".eventstream");
        JsonPtr exp = expected_for(std::string(name) + ".eventstream");
        assert_str_eq(json_string_view(exp.get(), "outcome"), "ok");
        for (bool usage : {false, true}) {
            bool ok = false;
            const std::string one = translate(body, opts(true, usage), {}, &ok);
            assert_true(ok);
            Assembled a = assemble(one);
            assert_true(a.done);
            assert_null(a.error.get());
            assert_true(a.first_has_role);
            assert_false(a.chunk_after_finish);
            assert_str_eq(a.id, "chatcmpl-test123");
            assert_str_eq(a.model, "anthropic.claude-3-haiku-20240307-v1:0");
            assert_int_equal(a.created, 1763700000);
            check_against_expected(a, exp.get());
            const json_t* eu = json_object_get(exp.get(), "usage");
            if (usage) {
                assert_int_equal(a.usage_chunks, 1);
                assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "prompt_tokens")),
                                 json_integer_value(json_object_get(eu, "input")));
                assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "completion_tokens")),
                                 json_integer_value(json_object_get(eu, "output")));
                assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "total_tokens")),
                                 json_integer_value(json_object_get(eu, "input")) +
                                     json_integer_value(json_object_get(eu, "output")));
            } else {
                assert_int_equal(a.usage_chunks, 0);
                assert_not_contains(one, "\"usage\"");
            }
            // the translator's own accounting
            auto t = bedrock_translator(opts(true, usage));
            std::string out;
            assert_true(t->feed(body, &out));
            assert_true(t->finish(&out));
            assert_true(t->complete());
            assert_false(t->saw_error());
            assert_int_equal(t->usage().prompt_tokens, json_integer_value(json_object_get(eu, "input")));
            assert_int_equal(t->usage().completion_tokens, json_integer_value(json_object_get(eu, "output")));
            assert_int_equal(t->usage().cached_tokens, 0);

            // every split of the first 2 KB, then random multi-splits: identical output
            for (size_t cut = 0; cut <= std::min<size_t>(body.size(), 2048); ++cut)
                assert_true(translate(body, opts(true, usage), {cut}) == one);
            std::mt19937 rng(42);
            for (int r = 0; r < 300; ++r) {
                std::vector<size_t> cuts;
                for (int i = 0, n = 1 + static_cast<int>(rng() % 80); i < n; ++i) cuts.push_back(rng() % (body.size() + 1));
                std::sort(cuts.begin(), cuts.end());
                assert_true(translate(body, opts(true, usage), cuts) == one);
            }
            // byte by byte
            std::vector<size_t> all;
            for (size_t i = 1; i < body.size(); ++i) all.push_back(i);
            assert_true(translate(body, opts(true, usage), all) == one);
        }
    }
}

void test_recorded_json(void**) {
    for (const char* name : kFixtures) {
        const std::string body = test::read_data_file("bedrock/" + std::string(name) + ".json");
        JsonPtr exp = expected_for(std::string(name) + ".json");
        bool ok = false;
        const std::string one = translate(body, opts(false, false), {}, &ok);
        assert_true(ok);
        for (size_t cut = 0; cut <= body.size(); ++cut) assert_true(translate(body, opts(false, false), {cut}) == one);
        std::string err;
        JsonPtr j = json_parse(one, &err);
        if (!j) fail_msg("not JSON: %s", one.c_str());
        assert_str_eq(json_string_view(j.get(), "object"), "chat.completion");
        assert_str_eq(json_string_view(j.get(), "id"), "chatcmpl-test123");
        assert_str_eq(json_string_view(j.get(), "model"), "anthropic.claude-3-haiku-20240307-v1:0");
        assert_int_equal(json_integer_value(json_object_get(j.get(), "created")), 1763700000);
        const json_t* ch = json_array_get(json_object_get(j.get(), "choices"), 0);
        const json_t* msg = json_object_get(ch, "message");
        assert_str_eq(json_string_view(msg, "role"), "assistant");
        Assembled a;
        a.content = json_string_view(msg, "content");
        a.reasoning = json_string_view(msg, "reasoning_content");
        const json_t* calls = json_object_get(msg, "tool_calls");
        size_t i;
        const json_t* c;
        json_array_foreach(calls, i, c) {
            assert_str_eq(json_string_view(c, "type"), "function");
            const json_t* fn = json_object_get(c, "function");
            a.calls.push_back({std::string(json_string_view(c, "id")), std::string(json_string_view(fn, "name")),
                               std::string(json_string_view(fn, "arguments"))});
        }
        if (a.calls.empty()) assert_null(calls);
        if (a.content.empty() && !a.calls.empty()) assert_true(json_is_null(json_object_get(msg, "content")));
        a.finish.emplace_back(json_string_view(ch, "finish_reason"));
        check_against_expected(a, exp.get());
        const json_t* u = json_object_get(j.get(), "usage");
        const json_t* eu = json_object_get(exp.get(), "usage");
        assert_int_equal(json_integer_value(json_object_get(u, "prompt_tokens")), json_integer_value(json_object_get(eu, "input")));
        assert_int_equal(json_integer_value(json_object_get(u, "completion_tokens")), json_integer_value(json_object_get(eu, "output")));
        assert_int_equal(json_integer_value(json_object_get(u, "total_tokens")),
                         json_integer_value(json_object_get(eu, "input")) + json_integer_value(json_object_get(eu, "output")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "prompt_tokens_details"), "cached_tokens")), 0);
    }
    // broken JSON answers
    for (const char* bad : {"", "{\"output\":{}}", "{\"output\":{\"message\":", "<html>"}) {
        auto t = bedrock_translator(opts(false, false));
        std::string out;
        t->feed(bad, &out);
        assert_false(t->finish(&out));
        assert_false(t->complete());
        assert_true(t->saw_error());
        std::string err;
        JsonPtr j = json_parse(out, &err);
        assert_non_null(j.get());
        assert_non_null(json_object_get(j.get(), "error"));
    }
}

// Text, then two tool calls (Bedrock block indexes 1 and 3), with a text block between them.
std::string two_tools_stream(std::string_view stop = "tool_use") {
    std::string s;
    s += event("messageStart", R"({"role":"assistant"})");
    s += event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Checking "}})");
    s += event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"both."}})");
    s += event("contentBlockStop", R"({"contentBlockIndex":0})");
    s += event("contentBlockStart", R"({"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_A","name":"get_weather"}}})");
    s += event("contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}})");
    s += event("contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Oslo\"}"}}})");
    s += event("contentBlockStop", R"({"contentBlockIndex":1})");
    s += event("contentBlockDelta", R"({"contentBlockIndex":2,"delta":{"text":" and"}})");
    s += event("contentBlockStop", R"({"contentBlockIndex":2})");
    s += event("contentBlockStart", R"({"contentBlockIndex":3,"start":{"toolUse":{"toolUseId":"tooluse_B","name":"get_time"}}})");
    s += event("contentBlockStop", R"({"contentBlockIndex":3})");
    s += event("messageStop", "{\"stopReason\":\"" + std::string(stop) + "\"}");
    s += event("metadata",
               R"({"usage":{"inputTokens":30,"outputTokens":55,"totalTokens":1285,"cacheReadInputTokens":1200,"cacheWriteInputTokens":0},"metrics":{"latencyMs":812}})");
    return s;
}

void test_tool_call_indexing_and_cache_usage(void**) {
    const std::string s = two_tools_stream();
    bool ok = false;
    const std::string out = translate(s, opts(true, true), {}, &ok);
    assert_true(ok);
    Assembled a = assemble(out);
    assert_str_eq(a.content, "Checking both. and");
    assert_int_equal(a.calls.size(), 2);
    assert_str_eq(a.calls[0].id, "tooluse_A");
    assert_str_eq(a.calls[0].name, "get_weather");
    assert_str_eq(a.calls[0].args, "{\"city\":\"Oslo\"}");
    assert_str_eq(a.calls[1].id, "tooluse_B");
    assert_str_eq(a.calls[1].name, "get_time");
    assert_str_eq(a.calls[1].args, "{}");  // no input deltas -> valid empty object
    assert_int_equal(a.finish.size(), 1);
    assert_str_eq(a.finish[0], "tool_calls");
    assert_true(a.done);
    // wire-formats.md, Usage normalisation: prompt = input + cacheRead + cacheWrite; cached = cacheRead
    assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "prompt_tokens")), 1230);
    assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "completion_tokens")), 55);
    assert_int_equal(json_integer_value(json_object_get(a.usage.get(), "total_tokens")), 1285);
    const json_t* det = json_object_get(a.usage.get(), "prompt_tokens_details");
    assert_int_equal(json_integer_value(json_object_get(det, "cached_tokens")), 1200);
    assert_int_equal(json_integer_value(json_object_get(det, "cache_write_tokens")), 0);
    assert_not_contains(out, "abcdefgh");  // the "p" padding never leaks
    // the ordinal, not the Bedrock block index
    assert_not_contains(out, "\"index\":3");

    auto t = bedrock_translator(opts(true, false));
    std::string o2;
    assert_true(t->feed(s, &o2));
    assert_true(t->finish(&o2));
    assert_int_equal(t->usage().prompt_tokens, 1230);
    assert_int_equal(t->usage().cached_tokens, 1200);
    assert_int_equal(t->usage().total_tokens, 1285);

    // end_turn with tool calls still reports tool_calls; max_tokens keeps length
    a = assemble(translate(two_tools_stream("end_turn"), opts(true, false)));
    assert_str_eq(a.finish[0], "tool_calls");
    a = assemble(translate(two_tools_stream("max_tokens"), opts(true, false)));
    assert_str_eq(a.finish[0], "length");
}

std::string text_stream(std::string_view stop) {
    return event("messageStart", R"({"role":"assistant"})") +
           event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})") +
           event("contentBlockStop", R"({"contentBlockIndex":0})") +
           event("messageStop", "{\"stopReason\":\"" + std::string(stop) + "\"}") +
           event("metadata", R"({"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}})");
}

void test_finish_reason_map(void**) {
    const std::pair<const char*, const char*> map[] = {
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"max_tokens", "length"},
        {"model_context_window_exceeded", "length"},
        {"guardrail_intervened", "content_filter"},
        {"content_filtered", "content_filter"},
        {"malformed_model_output", "stop"},
        {"malformed_tool_use", "stop"},
        {"something_new", "stop"},
    };
    for (auto [in, want] : map) {
        Assembled a = assemble(translate(text_stream(in), opts(true, false)));
        assert_int_equal(a.finish.size(), 1);
        assert_str_eq(a.finish[0], want);
        assert_str_eq(a.content, "Hi");
        // non-stream JSON
        std::string body = std::string(R"({"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":")") +
                           in + R"(","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}})";
        JsonPtr j = json_parse(translate(body, opts(false, false)), nullptr);
        assert_str_eq(json_string_view(json_array_get(json_object_get(j.get(), "choices"), 0), "finish_reason"), want);
    }
}

void test_exceptions_and_truncation(void**) {
    const std::string head = event("messageStart", R"({"role":"assistant"})") +
                             event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hel"}})");
    struct Case {
        const char* exception;
        const char* type;
    } cases[] = {{"throttlingException", "rate_limit_error"},
                 {"modelStreamErrorException", "server_error"},
                 {"validationException", "invalid_request_error"},
                 {"internalServerException", "server_error"},
                 {"serviceUnavailableException", "server_error"}};
    for (const Case& c : cases) {
        const std::string s = head + exception(c.exception, "Something went wrong mid-stream") +
                              event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"lo"}})");
        for (size_t cut = 0; cut <= s.size(); cut += 7) {
            auto t = bedrock_translator(opts(true, true));
            std::string out;
            t->feed(std::string_view(s).substr(0, cut), &out);
            t->feed(std::string_view(s).substr(cut), &out);
            assert_false(t->finish(&out));
            assert_true(t->saw_error());
            assert_false(t->complete());
            Assembled a = assemble(out);
            assert_false(a.done);
            assert_int_equal(a.finish.size(), 0);
            assert_str_eq(a.content, "Hel");  // nothing after the exception
            assert_non_null(a.error.get());
            assert_str_eq(json_string_view(a.error.get(), "type"), c.type);
            assert_contains(json_string_view(a.error.get(), "message"), "Something went wrong mid-stream");
            assert_int_equal(test::count(out, "\"error\""), 1);
        }
    }
    // :message-type error frame
    {
        std::string s = head + es_frame(es_header(":error-code", "InternalFailure") +
                                            es_header(":error-message", "boom") + es_header(":message-type", "error"),
                                        "");
        Assembled a = assemble(translate(s, opts(true, false)));
        assert_false(a.done);
        assert_non_null(a.error.get());
        assert_contains(json_string_view(a.error.get(), "message"), "boom");
        // raw header bytes that are not UTF-8 still give a valid JSON error event
        s = head + es_frame(es_header(":error-code", "InternalFailure") +
                                es_header(":error-message", std::string("bad \xff\xfe\xc3 \x01 end", 13)) +
                                es_header(":message-type", "error"),
                            "");
        a = assemble(translate(s, opts(true, false)));
        assert_non_null(a.error.get());
        assert_contains(json_string_view(a.error.get(), "message"), "end");
    }
    // ends without messageStop / without metadata / in the middle of a frame
    const std::string full = text_stream("end_turn");
    const std::string no_meta = full.substr(0, full.size() - event("metadata", R"({"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}})").size());
    const std::string no_stop = event("messageStart", R"({"role":"assistant"})") +
                                event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})");
    for (const std::string& s : {no_meta, no_stop, full.substr(0, full.size() - 5), std::string()}) {
        bool ok = true;
        std::string out = translate(s, opts(true, true), {}, &ok);
        assert_false(ok);
        Assembled a = assemble(out);
        assert_false(a.done);
        assert_int_equal(a.finish.size(), 0);  // no finish chunk before the stream is known complete
        assert_int_equal(a.usage_chunks, 0);
        assert_non_null(a.error.get());
        assert_str_eq(json_string_view(a.error.get(), "code"), "stream_truncated");
    }
    // metadata before messageStop (as in the tool-call.1 recording) is complete
    {
        std::string s = event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"x"}})") +
                        event("metadata", R"({"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}})") +
                        event("messageStop", R"({"stopReason":"end_turn"})");
        bool ok = false;
        Assembled a = assemble(translate(s, opts(true, true), {}, &ok));
        assert_true(ok);
        assert_true(a.done);
        assert_true(a.first_has_role);
        assert_int_equal(a.usage_chunks, 1);
    }
    // corrupt frame: feed() fails at once with the error event; finish adds nothing
    {
        std::string s = full;
        s[40] = static_cast<char>(s[40] ^ 0x20);
        auto t = bedrock_translator(opts(true, false));
        std::string out;
        assert_false(t->feed(s, &out));
        assert_true(t->saw_error());
        size_t n = out.size();
        assert_false(t->finish(&out));
        assert_int_equal(out.size(), n);
        Assembled a = assemble(out);
        assert_str_eq(json_string_view(a.error.get(), "code"), "upstream_protocol_error");
        assert_false(a.done);
    }
    // a frame announcing more than the gateway accepts is refused from its prelude
    {
        std::string p;
        for (uint32_t v : {64u << 20, 10u})
            for (int i = 3; i >= 0; --i) p += static_cast<char>((v >> (8 * i)) & 0xFF);
        uint32_t crc = crc32_ieee(p);
        for (int i = 3; i >= 0; --i) p += static_cast<char>((crc >> (8 * i)) & 0xFF);
        auto t = bedrock_translator(opts(true, false));
        std::string out;
        assert_false(t->feed(event("messageStart", R"({"role":"assistant"})") + p, &out));
        Assembled a = assemble(out);
        assert_str_eq(json_string_view(a.error.get(), "code"), "stream_event_too_large");
    }
    // tool input for a block never started
    {
        std::string s = event("contentBlockDelta", R"({"contentBlockIndex":4,"delta":{"toolUse":{"input":"{}"}}})");
        Assembled a = assemble(translate(s, opts(true, false)));
        assert_non_null(a.error.get());
        assert_false(a.done);
    }
    // a non-JSON event payload
    {
        std::string s = es_frame(es_header(":event-type", "contentBlockDelta") + es_header(":message-type", "event"), "{oops");
        Assembled a = assemble(translate(s, opts(true, false)));
        assert_non_null(a.error.get());
    }
    // bytes after a complete answer are ignored; nothing follows [DONE]
    {
        std::string s = full + exception("throttlingException", "late");
        bool ok = false;
        std::string out = translate(s, opts(true, false), {}, &ok);
        assert_true(ok);
        Assembled a = assemble(out);
        assert_true(a.done);
        assert_null(a.error.get());
    }
}

void test_reasoning_and_unknown_events(void**) {
    std::string s = event("messageStart", R"({"role":"assistant"})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"think "}}})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hard"}}})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"SIG"}}})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"UkVE"}}})") +
                    event("contentBlockStop", R"({"contentBlockIndex":0})") +
                    event("somethingNew", R"({"x":1})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"citation":{"title":"t"}}})") +
                    event("contentBlockDelta", R"({"contentBlockIndex":1,"delta":{"text":"\u00e9\u2713 \"q\"\n"}})") +
                    event("messageStop", R"({"stopReason":"end_turn","additionalModelResponseFields":{"x":1}})") +
                    event("metadata", R"({"usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14},"trace":{}})");
    bool ok = false;
    std::string out = translate(s, opts(true, false), {}, &ok);
    assert_true(ok);
    Assembled a = assemble(out);
    assert_str_eq(a.reasoning, "think hard");
    assert_str_eq(a.content, "\xc3\xa9\xe2\x9c\x93 \"q\"\n");
    assert_not_contains(out, "SIG");
    assert_str_eq(a.finish[0], "stop");
    // the non-streaming form keeps reasoning apart from content
    std::string body =
        R"({"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"r1","signature":"S"}}},{"text":"A"},{"text":"B"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":[1,2.5,"x"]}}}]}},"stopReason":"tool_use","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3,"cacheReadInputTokens":4,"cacheWriteInputTokens":5}})";
    JsonPtr j = json_parse(translate(body, opts(false, false)), nullptr);
    const json_t* msg = json_object_get(json_array_get(json_object_get(j.get(), "choices"), 0), "message");
    assert_str_eq(json_string_view(msg, "content"), "AB");
    assert_str_eq(json_string_view(msg, "reasoning_content"), "r1");
    const json_t* tc = json_array_get(json_object_get(msg, "tool_calls"), 0);
    assert_str_eq(json_string_view(json_object_get(tc, "function"), "arguments"), "{\"a\":[1,2.5,\"x\"]}");
    const json_t* u = json_object_get(j.get(), "usage");
    assert_int_equal(json_integer_value(json_object_get(u, "prompt_tokens")), 10);
    assert_int_equal(json_integer_value(json_object_get(u, "total_tokens")), 12);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "prompt_tokens_details"), "cached_tokens")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "prompt_tokens_details"), "cache_write_tokens")), 5);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_streams),
        cmocka_unit_test(test_recorded_json),
        cmocka_unit_test(test_tool_call_indexing_and_cache_usage),
        cmocka_unit_test(test_finish_reason_map),
        cmocka_unit_test(test_exceptions_and_truncation),
        cmocka_unit_test(test_reasoning_and_unknown_events),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
