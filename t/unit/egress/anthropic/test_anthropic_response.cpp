// anthropic_adapter: Messages API answers (JSON and SSE) -> OpenAI chat.completion / chunks, and
// error classification. Driven by recorded provider responses (t/unit/data/anthropic, see
// data/README.md) and their outcome in the official SDK (data/anthropic/expected.json).
#include "egress/provider_adapter.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "test_util.hpp"

using namespace routeshift;

namespace {

const char* kFixtureDir = "anthropic/";

TranslatorOptions opts(bool stream, bool include_usage = false) {
    TranslatorOptions o;
    o.stream = stream;
    o.include_usage = include_usage;
    o.model = "claude-test";
    o.id = "chatcmpl-test123";
    o.created = 1763700000;
    return o;
}

struct Run {
    std::string out;
    bool feed_ok = true;
    bool finish_ok = false;
    bool complete = false;
    bool saw_error = false;
    Usage usage;
};

// Feeds `in` cut at the given offsets (ascending), then finish().
Run translate(const TranslatorOptions& o, std::string_view in, const std::vector<size_t>& cuts = {}) {
    auto t = anthropic_translator(o);
    Run r;
    size_t pos = 0;
    for (size_t c : cuts) {
        if (c < pos || c > in.size()) continue;
        if (!t->feed(in.substr(pos, c - pos), &r.out)) r.feed_ok = false;
        pos = c;
    }
    if (!t->feed(in.substr(pos), &r.out)) r.feed_ok = false;
    r.finish_ok = t->finish(&r.out);
    r.complete = t->complete();
    r.saw_error = t->saw_error();
    r.usage = t->usage();
    return r;
}

// What a client reconstructs from an OpenAI SSE body.
struct Parsed {
    std::vector<JsonPtr> events;  // JSON data payloads
    bool done = false;
    bool data_after_done = false;
    size_t comments = 0;
    std::string content, reasoning, refusal;
    struct Call {
        std::string id, name, args;
        size_t starts = 0;
    };
    std::map<int64_t, Call> calls;
    std::vector<std::string> finish_reasons;
    size_t usage_chunks = 0;
    const json_t* usage = nullptr;
    const json_t* error = nullptr;
    bool role_first = false;
    std::vector<std::string> signatures;
};

Parsed parse_sse(const std::string& body) {
    Parsed p;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) fail_msg("output has an unterminated event: %s", body.substr(pos).c_str());
        std::string ev = body.substr(pos, end - pos);
        pos = end + 2;
        if (ev.rfind(":", 0) == 0) {
            ++p.comments;
            continue;
        }
        if (ev.rfind("data: ", 0) != 0) fail_msg("unexpected output event: %s", ev.c_str());
        std::string data = ev.substr(6);
        if (p.done) p.data_after_done = true;
        if (data == "[DONE]") {
            p.done = true;
            continue;
        }
        std::string e;
        JsonPtr j = json_parse(data, &e);
        if (!j) fail_msg("output event is not JSON (%s): %s", e.c_str(), data.c_str());
        p.events.push_back(std::move(j));
    }
    for (size_t i = 0; i < p.events.size(); ++i) {
        const json_t* ev = p.events[i].get();
        if (json_object_get(ev, "error")) {
            p.error = json_object_get(ev, "error");
            continue;
        }
        const json_t* choices = json_object_get(ev, "choices");
        if (json_array_size(choices) == 0) {
            ++p.usage_chunks;
            p.usage = json_object_get(ev, "usage");
            continue;
        }
        const json_t* ch = json_array_get(choices, 0);
        const json_t* delta = json_object_get(ch, "delta");
        if (i == 0) p.role_first = json_string_view(delta, "role") == "assistant";
        p.content += json_string_view(delta, "content");
        p.reasoning += json_string_view(delta, "reasoning_content");
        p.refusal += json_string_view(delta, "refusal");
        const json_t* tb = json_object_get(delta, "thinking_blocks");
        for (size_t k = 0; k < json_array_size(tb); ++k)
            if (!json_string_view(json_array_get(tb, k), "signature").empty())
                p.signatures.emplace_back(json_string_view(json_array_get(tb, k), "signature"));
        const json_t* tcs = json_object_get(delta, "tool_calls");
        for (size_t k = 0; k < json_array_size(tcs); ++k) {
            const json_t* tc = json_array_get(tcs, k);
            int64_t idx = json_integer_value(json_object_get(tc, "index"));
            auto& c = p.calls[idx];
            if (json_object_get(tc, "id")) {
                ++c.starts;
                c.id = json_string_view(tc, "id");
                c.name = json_string_view(json_object_get(tc, "function"), "name");
                assert_str_eq(json_string_view(tc, "type"), "function");
            }
            c.args += json_string_view(json_object_get(tc, "function"), "arguments");
        }
        const json_t* fr = json_object_get(ch, "finish_reason");
        if (json_is_string(fr)) p.finish_reasons.emplace_back(json_string_value(fr));
    }
    return p;
}

// Shape rules every successful OpenAI stream must follow.
void check_stream_shape(const Parsed& p, bool include_usage) {
    assert_true(p.done);
    assert_false(p.data_after_done);
    assert_null(p.error);
    assert_true(p.role_first);
    assert_int_equal(p.finish_reasons.size(), 1);
    assert_int_equal(p.usage_chunks, include_usage ? 1 : 0);
    // the finish chunk is followed only by the usage chunk
    size_t n = p.events.size();
    size_t fin = include_usage ? n - 2 : n - 1;
    const json_t* fch = json_array_get(json_object_get(p.events[fin].get(), "choices"), 0);
    assert_true(json_is_string(json_object_get(fch, "finish_reason")));
    for (const auto& e : p.events) {
        assert_str_eq(json_string_view(e.get(), "id"), "chatcmpl-test123");
        assert_str_eq(json_string_view(e.get(), "model"), "claude-test");
        assert_str_eq(json_string_view(e.get(), "object"), "chat.completion.chunk");
        assert_int_equal(json_integer_value(json_object_get(e.get(), "created")), 1763700000);
        const json_t* u = json_object_get(e.get(), "usage");
        if (json_array_size(json_object_get(e.get(), "choices")) > 0) {
            if (include_usage) assert_true(json_is_null(u));
            else assert_null(u);
        }
    }
    // tool-call indexes are ordinals 0..n-1, each started exactly once
    int64_t expect = 0;
    for (const auto& [idx, c] : p.calls) {
        assert_int_equal(idx, expect++);
        assert_int_equal(c.starts, 1);
    }
}

// Error stream: an error event, no [DONE], nothing after the error.
void check_error_stream(const Run& r, const char* type, const char* code) {
    Parsed p = parse_sse(r.out);
    assert_false(p.done);
    assert_non_null(p.error);
    assert_true(json_is_object(p.events.back().get()) && json_object_get(p.events.back().get(), "error"));
    assert_str_eq(json_string_view(p.error, "type"), type);
    if (code) assert_str_eq(json_string_view(p.error, "code"), code);
    assert_false(json_string_view(p.error, "message").empty());
    assert_true(r.saw_error);
    assert_false(r.complete);
    assert_false(r.finish_ok);
    assert_int_equal(test::count(r.out, "\"error\""), 1);
}

JsonPtr expected_for(const std::string& fixture) {
    static JsonPtr all;
    if (!all) {
        all = json_parse(test::read_data_file(std::string(kFixtureDir) + "expected.json"), nullptr);
        if (!all) fail_msg("expected.json unreadable");
    }
    const json_t* e = json_object_get(all.get(), ("anthropic/" + fixture).c_str());
    if (!e) fail_msg("no expected.json entry for %s", fixture.c_str());
    return JsonPtr(json_incref(const_cast<json_t*>(e)));
}

std::string_view finish_for(std::string_view stop_reason, bool has_tools) {
    if (stop_reason == "tool_use") return "tool_calls";
    if (stop_reason == "max_tokens") return "length";
    if (stop_reason == "refusal") return "content_filter";
    return has_tools ? "tool_calls" : "stop";
}

// Compares tool-call arguments with the SDK's parsed input. A call cut off by max_tokens has
// truncated arguments: then the SDK's (partially parsed) values must appear in them.
void check_args(const std::string& args, const json_t* input, bool truncated) {
    JsonPtr got = json_parse(args, nullptr);
    if (!truncated) {
        if (!got || !json_equal(got.get(), const_cast<json_t*>(input)))
            fail_msg("tool arguments %s != expected input %s", args.c_str(), json_dump_compact(input).c_str());
        return;
    }
    assert_null(got.get());  // really truncated
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(input), k, v) {
        assert_contains(args, std::string("\"") + k + "\"");
        if (json_is_string(v)) assert_contains(args, json_string_value(v));
    }
}

const char* kStreams[] = {
    "anthropic-sdk-typescript_basic_response.sse",
    "anthropic-sdk-typescript_incomplete_partial_json_response.sse",
    "anthropic-sdk-typescript_tool_use_response.sse",
    "vercel-ai_anthropic-clear-thinking.1.sse",
    "vercel-ai_anthropic-json-tool.1.sse",
    "vercel-ai_anthropic-message-delta-input-tokens.sse",
    "vercel-ai_anthropic-refusal.sse",
    "vercel-ai_anthropic-text.sse",
    "vercel-ai_anthropic-tool-no-args.sse",
};

const char* kJsons[] = {
    "vercel-ai_anthropic-clear-thinking.1.json",
    "vercel-ai_anthropic-json-tool.1.json",
    "vercel-ai_anthropic-refusal.json",
    "vercel-ai_anthropic-text.json",
    "vercel-ai_anthropic-tool-no-args.json",
};

}  // namespace

static void test_recorded_streams_match_sdk(void**) {
    for (const char* f : kStreams) {
        std::string in = test::read_data_file(std::string(kFixtureDir) + f);
        JsonPtr exp = expected_for(f);
        for (bool usage : {false, true}) {
            Run r = translate(opts(true, usage), in);
            if (!r.feed_ok || !r.finish_ok || !r.complete || r.saw_error) fail_msg("%s: not complete:\n%s", f, r.out.c_str());
            Parsed p = parse_sse(r.out);
            check_stream_shape(p, usage);
            assert_str_eq(p.content, json_string_view(exp.get(), "text"));
            assert_str_eq(p.reasoning, json_string_view(exp.get(), "thinking"));
            const json_t* calls = json_object_get(exp.get(), "tool_calls");
            assert_int_equal(p.calls.size(), json_array_size(calls));
            std::string_view stop = json_string_view(exp.get(), "stop_reason");
            for (size_t i = 0; i < json_array_size(calls); ++i) {
                const json_t* c = json_array_get(calls, i);
                assert_str_eq(p.calls[i].name, json_string_view(c, "name"));
                assert_true(p.calls[i].id.rfind("toolu_", 0) == 0);
                check_args(p.calls[i].args, json_object_get(c, "input"), stop == "max_tokens");
            }
            assert_str_eq(p.finish_reasons[0], finish_for(stop, p.calls.size() > 0));
            const json_t* eu = json_object_get(exp.get(), "usage");
            int64_t in_t = json_integer_value(json_object_get(eu, "input"));
            int64_t out_t = json_integer_value(json_object_get(eu, "output"));
            assert_int_equal(r.usage.prompt_tokens, in_t);  // no cache tokens in these recordings
            assert_int_equal(r.usage.completion_tokens, out_t);
            assert_int_equal(r.usage.total_tokens, in_t + out_t);
            assert_int_equal(r.usage.cached_tokens, 0);
            if (usage) {
                assert_int_equal(json_integer_value(json_object_get(p.usage, "prompt_tokens")), in_t);
                assert_int_equal(json_integer_value(json_object_get(p.usage, "completion_tokens")), out_t);
                assert_int_equal(json_integer_value(json_object_get(p.usage, "total_tokens")), in_t + out_t);
            }
        }
    }
}

static void test_recorded_streams_every_split(void**) {
    std::mt19937 rng(12345);
    for (const char* f : kStreams) {
        std::string in = test::read_data_file(std::string(kFixtureDir) + f);
        for (bool usage : {false, true}) {
            std::string whole = translate(opts(true, usage), in).out;
            // every two-piece split
            for (size_t i = 0; i <= in.size(); ++i) {
                Run r = translate(opts(true, usage), in, {i});
                if (r.out != whole) fail_msg("%s: split at %zu differs", f, i);
                assert_true(r.complete);
            }
            // byte by byte
            std::vector<size_t> all(in.size());
            for (size_t i = 0; i < in.size(); ++i) all[i] = i;
            assert_true(translate(opts(true, usage), in, all).out == whole);
            // random multi-splits
            for (int k = 0; k < 200; ++k) {
                std::vector<size_t> cuts;
                size_t n = 1 + rng() % 12;
                for (size_t j = 0; j < n; ++j) cuts.push_back(rng() % (in.size() + 1));
                std::sort(cuts.begin(), cuts.end());
                if (translate(opts(true, usage), in, cuts).out != whole) fail_msg("%s: random split %d differs", f, k);
            }
        }
    }
}

static void test_recorded_json_match_sdk(void**) {
    for (const char* f : kJsons) {
        std::string in = test::read_data_file(std::string(kFixtureDir) + f);
        JsonPtr exp = expected_for(f);
        Run r = translate(opts(false), in);
        assert_true(r.feed_ok && r.finish_ok && r.complete);
        assert_false(r.saw_error);
        std::string e;
        JsonPtr out = json_parse(r.out, &e);
        if (!out) fail_msg("%s: output not JSON: %s\n%s", f, e.c_str(), r.out.c_str());
        assert_str_eq(json_string_view(out.get(), "object"), "chat.completion");
        assert_str_eq(json_string_view(out.get(), "id"), "chatcmpl-test123");
        assert_str_eq(json_string_view(out.get(), "model"), "claude-test");
        assert_int_equal(json_integer_value(json_object_get(out.get(), "created")), 1763700000);
        const json_t* ch = json_array_get(json_object_get(out.get(), "choices"), 0);
        const json_t* msg = json_object_get(ch, "message");
        assert_str_eq(json_string_view(msg, "role"), "assistant");
        assert_str_eq(json_string_view(msg, "content"), json_string_view(exp.get(), "text"));
        assert_str_eq(json_string_view(msg, "reasoning_content"), json_string_view(exp.get(), "thinking"));
        const json_t* calls = json_object_get(exp.get(), "tool_calls");
        const json_t* got = json_object_get(msg, "tool_calls");
        assert_int_equal(json_array_size(got), json_array_size(calls));
        for (size_t i = 0; i < json_array_size(calls); ++i) {
            const json_t* g = json_array_get(got, i);
            assert_str_eq(json_string_view(json_object_get(g, "function"), "name"),
                          json_string_view(json_array_get(calls, i), "name"));
            assert_str_eq(json_string_view(g, "type"), "function");
            check_args(std::string(json_string_view(json_object_get(g, "function"), "arguments")),
                       json_object_get(json_array_get(calls, i), "input"), false);
        }
        if (json_array_size(calls) > 0 && json_string_view(exp.get(), "text").empty())
            assert_true(json_is_null(json_object_get(msg, "content")));
        std::string_view stop = json_string_view(exp.get(), "stop_reason");
        assert_str_eq(json_string_view(ch, "finish_reason"), finish_for(stop, json_array_size(calls) > 0));
        const json_t* eu = json_object_get(exp.get(), "usage");
        const json_t* u = json_object_get(out.get(), "usage");
        int64_t in_t = json_integer_value(json_object_get(eu, "input"));
        int64_t out_t = json_integer_value(json_object_get(eu, "output"));
        assert_int_equal(json_integer_value(json_object_get(u, "prompt_tokens")), in_t);
        assert_int_equal(json_integer_value(json_object_get(u, "completion_tokens")), out_t);
        assert_int_equal(json_integer_value(json_object_get(u, "total_tokens")), in_t + out_t);
        assert_int_equal(r.usage.prompt_tokens, in_t);
        // any split gives the same
        for (size_t i = 0; i <= in.size(); i += 7) assert_true(translate(opts(false), in, {i}).out == r.out);
        // a JSON answer to a streaming request becomes a complete stream
        Run s = translate(opts(true, true), in);
        assert_true(s.complete);
        Parsed p = parse_sse(s.out);
        check_stream_shape(p, true);
        assert_str_eq(p.content, json_string_view(exp.get(), "text"));
        assert_int_equal(p.calls.size(), json_array_size(calls));
    }
}

static void test_refusal(void**) {
    Run r = translate(opts(false), test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-refusal.json"));
    JsonPtr out = json_parse(r.out, nullptr);
    const json_t* msg = json_object_get(json_array_get(json_object_get(out.get(), "choices"), 0), "message");
    assert_contains(json_string_view(msg, "refusal"), "Usage Policy");
    assert_true(json_is_null(json_object_get(msg, "content")));
    Parsed p = parse_sse(translate(opts(true), test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-refusal.sse")).out);
    assert_contains(p.refusal, "Usage Policy");
    assert_str_eq(p.finish_reasons[0], "content_filter");
}

static void test_thinking_signature_and_blocks(void**) {
    std::string in = test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-clear-thinking.1.sse");
    Parsed p = parse_sse(translate(opts(true), in).out);
    assert_int_equal(p.signatures.size(), 1);
    assert_true(p.signatures[0].rfind("EvQBCkYICxgC", 0) == 0);
    Run r = translate(opts(false), test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-clear-thinking.1.json"));
    JsonPtr out = json_parse(r.out, nullptr);
    const json_t* msg = json_object_get(json_array_get(json_object_get(out.get(), "choices"), 0), "message");
    const json_t* tb = json_object_get(msg, "thinking_blocks");
    assert_int_equal(json_array_size(tb), 1);
    assert_str_eq(json_string_view(json_array_get(tb, 0), "thinking"), "925 divided by 5 = 185");
    assert_true(json_string_view(json_array_get(tb, 0), "signature").rfind("Er4BCkYICxgC", 0) == 0);
}

static void test_tool_no_args_gets_empty_object(void**) {
    Parsed p = parse_sse(translate(opts(true), test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-tool-no-args.sse")).out);
    assert_int_equal(p.calls.size(), 1);
    assert_str_eq(p.calls[0].args, "{}");
}

static void test_pings_forwarded_as_comments(void**) {
    std::string in = test::read_data_file(std::string(kFixtureDir) + "vercel-ai_anthropic-tool-no-args.sse");
    Parsed p = parse_sse(translate(opts(true), in).out);
    assert_int_equal(p.comments, test::count(in, "event: ping"));
}

// ---- synthetic streams ----------------------------------------------------------------------

namespace {

std::string ev(const char* name, const std::string& data) { return std::string("event: ") + name + "\ndata: " + data + "\n\n"; }

std::string start(const char* usage = R"({"input_tokens":10,"output_tokens":1})") {
    return ev("message_start", std::string(R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":)") +
                                   usage + "}}");
}
std::string text_block(int idx, const char* text) {
    std::string i = std::to_string(idx);
    return ev("content_block_start", R"({"type":"content_block_start","index":)" + i + R"(,"content_block":{"type":"text","text":""}})") +
           ev("content_block_delta", R"({"type":"content_block_delta","index":)" + i + R"(,"delta":{"type":"text_delta","text":")" + text + "\"}}") +
           ev("content_block_stop", R"({"type":"content_block_stop","index":)" + i + "}");
}
std::string tool_block(int idx, const char* id, const char* name, const std::vector<std::string>& parts) {
    std::string i = std::to_string(idx);
    std::string s = ev("content_block_start", R"({"type":"content_block_start","index":)" + i +
                                                  R"(,"content_block":{"type":"tool_use","id":")" + id + R"(","name":")" + name + R"(","input":{}}})");
    for (const auto& p : parts)
        s += ev("content_block_delta", R"({"type":"content_block_delta","index":)" + i +
                                           R"(,"delta":{"type":"input_json_delta","partial_json":)" + p + "}}");
    return s + ev("content_block_stop", R"({"type":"content_block_stop","index":)" + i + "}");
}
std::string end(const char* stop = "end_turn", const char* usage = R"({"output_tokens":5})") {
    return ev("message_delta", std::string(R"({"type":"message_delta","delta":{"stop_reason":")") + stop +
                                   R"(","stop_sequence":null},"usage":)" + usage + "}") +
           ev("message_stop", R"({"type":"message_stop"})");
}

}  // namespace

static void test_interleaved_tool_calls_indexes(void**) {
    std::string in = start() + text_block(0, "Let me check.") +
                     tool_block(1, "toolu_a", "get_weather", {R"("{\"city\":")", R"("\"Oslo\"}")"}) +
                     text_block(2, " And the time.") + tool_block(3, "toolu_b", "now", {}) + end("tool_use");
    Run r = translate(opts(true, true), in);
    Parsed p = parse_sse(r.out);
    check_stream_shape(p, true);
    assert_int_equal(p.calls.size(), 2);
    assert_str_eq(p.calls[0].id, "toolu_a");
    assert_str_eq(p.calls[0].name, "get_weather");
    assert_str_eq(p.calls[0].args, R"({"city":"Oslo"})");
    assert_str_eq(p.calls[1].id, "toolu_b");
    assert_str_eq(p.calls[1].args, "{}");
    assert_str_eq(p.content, "Let me check. And the time.");
    assert_str_eq(p.finish_reasons[0], "tool_calls");
    // the arguments delta carries only index + function.arguments
    assert_contains(r.out, R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})");
    assert_contains(r.out, R"("delta":{"tool_calls":[{"index":1,"id":"toolu_b","type":"function","function":{"name":"now","arguments":""}}]})");
}

static void test_tool_calls_force_finish_reason(void**) {
    // end_turn with a tool call -> tool_calls; max_tokens stays length (truncated arguments)
    std::string calls = tool_block(0, "toolu_a", "f", {R"("{}")"});
    assert_str_eq(parse_sse(translate(opts(true), start() + calls + end("end_turn")).out).finish_reasons[0], "tool_calls");
    assert_str_eq(parse_sse(translate(opts(true), start() + calls + end("max_tokens")).out).finish_reasons[0], "length");
    assert_str_eq(parse_sse(translate(opts(true), start() + text_block(0, "x") + end("stop_sequence")).out).finish_reasons[0], "stop");
    assert_str_eq(parse_sse(translate(opts(true), start() + text_block(0, "x") + end("pause_turn")).out).finish_reasons[0], "stop");
    assert_str_eq(parse_sse(translate(opts(true), start() + text_block(0, "x") + end("model_context_window_exceeded")).out).finish_reasons[0],
                  "length");
    assert_str_eq(parse_sse(translate(opts(true), start() + text_block(0, "x") + end("something_new")).out).finish_reasons[0], "stop");
}

static void test_usage_with_cache_and_reasoning(void**) {
    std::string in = start(R"({"input_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":1})") +
                     text_block(0, "hi") +
                     end("end_turn", R"({"output_tokens":7,"input_tokens":null,"output_tokens_details":{"thinking_tokens":3}})");
    Run r = translate(opts(true, true), in);
    assert_int_equal(r.usage.prompt_tokens, 125);
    assert_int_equal(r.usage.completion_tokens, 7);
    assert_int_equal(r.usage.total_tokens, 132);
    assert_int_equal(r.usage.cached_tokens, 100);
    Parsed p = parse_sse(r.out);
    JsonPtr want = json_parse(R"({"prompt_tokens":125,"completion_tokens":7,"total_tokens":132,
        "prompt_tokens_details":{"cached_tokens":100,"cache_write_tokens":20},
        "completion_tokens_details":{"reasoning_tokens":3}})", nullptr);
    if (!json_equal(const_cast<json_t*>(p.usage), want.get())) fail_msg("usage chunk: %s", json_dump_compact(p.usage).c_str());
}

static void test_mid_stream_error_event(void**) {
    std::string in = start() + ev("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
                     ev("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})") +
                     ev("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})") +
                     ev("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})") +
                     end();
    Run r = translate(opts(true, true), in);
    assert_false(r.feed_ok);
    check_error_stream(r, "server_error", "overloaded");
    Parsed p = parse_sse(r.out);
    assert_str_eq(p.content, "Hel");  // nothing after the error
    assert_int_equal(p.finish_reasons.size(), 0);
    // every split: same output
    for (size_t i = 0; i <= in.size(); ++i)
        if (translate(opts(true, true), in, {i}).out != r.out) fail_msg("split %zu differs", i);
    // rate limit inside a stream
    r = translate(opts(true), start() + ev("error", R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})"));
    check_error_stream(r, "rate_limit_error", "rate_limit_exceeded");
    // error event whose data has no type member: the event name decides
    r = translate(opts(true), start() + ev("error", R"({"error":{"type":"api_error","message":"boom"}})"));
    check_error_stream(r, "server_error", nullptr);
}

static void test_stream_without_message_stop(void**) {
    std::string full = start() + text_block(0, "Hello") + end();
    // cut before message_stop, before message_delta, mid-event, and after message_start only
    for (std::string cut : {full.substr(0, full.find("event: message_stop")), full.substr(0, full.find("event: message_delta")),
                            full.substr(0, full.find("event: message_stop") + 20), start(), std::string()}) {
        Run r = translate(opts(true, true), cut);
        assert_true(r.feed_ok);
        check_error_stream(r, "server_error", "stream_truncated");
        assert_int_equal(parse_sse(r.out).finish_reasons.size(), 0);
    }
}

static void test_invalid_event_json(void**) {
    Run r = translate(opts(true), start() + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n" + end());
    assert_false(r.feed_ok);
    check_error_stream(r, "server_error", "upstream_protocol_error");
}

static void test_oversized_event(void**) {
    std::string big = start() + "event: content_block_delta\ndata: {\"x\":\"" + std::string(5u << 20, 'a') + "\"}\n\n" + end();
    Run r = translate(opts(true), big);
    assert_false(r.feed_ok);
    check_error_stream(r, "server_error", "stream_event_too_large");
}

static void test_events_without_event_lines_and_crlf(void**) {
    // some compatible endpoints omit `event:` lines; CRLF framing
    std::string in = start() + text_block(0, "Hi") + end();
    std::string stripped, crlf;
    size_t pos = 0;
    while (pos < in.size()) {
        size_t nl = in.find('\n', pos);
        std::string line = in.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("event: ", 0) != 0) stripped += line + "\n";
        crlf += line + "\r\n";
    }
    std::string want = translate(opts(true), in).out;
    assert_true(translate(opts(true), stripped).out == want);
    assert_true(translate(opts(true), crlf).out == want);
    assert_true(translate(opts(true), "\n\n" + in).out == want);  // leading blank lines
}

static void test_options_defaults(void**) {
    // no id/model given: the upstream message's id and model are used, created is set
    TranslatorOptions o;
    o.stream = true;
    Run r = translate(o, start() + text_block(0, "Hi") + end());
    Parsed p = parse_sse(r.out);
    for (const auto& e : p.events) {
        assert_str_eq(json_string_view(e.get(), "id"), "msg_1");
        assert_str_eq(json_string_view(e.get(), "model"), "claude-x");
        assert_true(json_integer_value(json_object_get(e.get(), "created")) > 1700000000);
    }
}

static void test_json_errors(void**) {
    // an Anthropic error object in a 2xx body
    Run r = translate(opts(false), R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    assert_false(r.finish_ok);
    assert_true(r.saw_error);
    assert_false(r.complete);
    JsonPtr out = json_parse(r.out, nullptr);
    assert_str_eq(json_string_view(json_object_get(out.get(), "error"), "code"), "overloaded");
    // truncated / not JSON / not a message
    for (const char* body : {R"({"id":"msg_1","type":"message","content":[{"type":"text","text":"Hel)", "", "<html>502</html>",
                             R"({"hello":"world"})"}) {
        r = translate(opts(false), body);
        assert_false(r.finish_ok);
        assert_true(r.saw_error);
        out = json_parse(r.out, nullptr);
        assert_non_null(out.get());
        assert_str_eq(json_string_view(json_object_get(out.get(), "error"), "type"), "server_error");
    }
    // finish() twice, feed() after finish(): nothing more is appended
    for (bool stream : {false, true}) {
        for (const char* body : {R"({"type":"error","error":{"type":"api_error","message":"x"}})", "{\"trunc",
                                 R"({"id":"m","type":"message","content":[],"stop_reason":"end_turn"})"}) {
            auto t = anthropic_translator(opts(stream));
            std::string out1, out2;
            t->feed(body, &out1);
            bool ok = t->finish(&out1);
            t->feed("more", &out2);
            assert_true(t->finish(&out2) == ok);
            assert_str_eq(out2, "");
        }
    }
    // the same answers to a streaming request: an error event, no [DONE]
    r = translate(opts(true), R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})");
    check_error_stream(r, "rate_limit_error", "rate_limit_exceeded");
}

// ---- error classification -------------------------------------------------------------------

static void test_classify_retryable(void**) {
    ErrorVerdict v = anthropic_classify_error(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"})");
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.park_ms, -1);
    assert_int_equal(v.error.status, 503);
    assert_str_eq(v.error.type, "server_error");
    assert_str_eq(v.error.code, "overloaded");
    assert_str_eq(v.error.message, "Overloaded");

    v = anthropic_classify_error(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})");
    assert_true(v.retry && v.park_key);
    assert_int_equal(v.park_ms, -1);  // Retry-After decides
    assert_int_equal(v.error.status, 429);
    assert_str_eq(v.error.type, "rate_limit_error");
    assert_str_eq(v.error.code, "rate_limit_exceeded");

    for (int st : {500, 502, 503}) {
        v = anthropic_classify_error(st, R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})");
        assert_true(v.retry && v.park_key);
        assert_int_equal(v.error.status, st);
        assert_str_eq(v.error.type, "server_error");
    }
    v = anthropic_classify_error(504, R"({"type":"error","error":{"type":"timeout_error","message":"Request timed out"}})");
    assert_true(v.retry);
    assert_str_eq(v.error.type, "timeout_error");
    // non-JSON from an intermediary
    v = anthropic_classify_error(502, "<html><body>Bad gateway\x01</body></html>");
    assert_true(v.retry);
    assert_int_equal(v.error.status, 502);
    assert_contains(v.error.message, "Bad gateway");
    assert_not_contains(v.error.message, "\x01");
    // an overloaded error in the first event of a 200 stream
    v = anthropic_classify_error(200, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    assert_true(v.retry);
    assert_str_eq(v.error.code, "overloaded");
}

static void test_classify_spend_limits(void**) {
    ErrorVerdict v = anthropic_classify_error(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits.","details":{"error_code":"enforced_spend_limit_reached"}}})");
    assert_false(v.retry);
    assert_true(v.park_key);
    assert_true(v.park_ms >= 10 * 60 * 1000);
    assert_int_equal(v.error.status, 429);
    assert_str_eq(v.error.code, "insufficient_quota");
    v = anthropic_classify_error(402, R"({"type":"error","error":{"type":"billing_error","message":"Billing issue"}})");
    assert_false(v.retry);
    assert_true(v.park_key && v.park_ms > 0);
    v = anthropic_classify_error(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}})");
    assert_false(v.retry);
    assert_true(v.park_key);
    assert_str_eq(v.error.code, "insufficient_quota");
    // compatible providers: Z.ai 1113 (arrears) on a 429, MiniMax 1008 in base_resp, Kimi quota type
    v = anthropic_classify_error(429, R"({"error":{"code":"1113","message":"Insufficient balance or no resource package."}})");
    assert_false(v.retry);
    v = anthropic_classify_error(200, R"({"base_resp":{"status_code":1008,"status_msg":"insufficient balance"}})");
    assert_false(v.retry);
    assert_true(v.park_key);
    v = anthropic_classify_error(429, R"({"error":{"type":"exceeded_current_quota_error","message":"Your account is suspended"}})");
    assert_false(v.retry);
    // but a Z.ai concurrency 429 is a plain rate limit
    v = anthropic_classify_error(429, R"({"error":{"code":"1302","message":"High concurrency"}})");
    assert_true(v.retry);
}

static void test_classify_not_retryable(void**) {
    ErrorVerdict v = anthropic_classify_error(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})");
    assert_false(v.retry);
    assert_false(v.park_key);
    assert_int_equal(v.error.status, 400);
    assert_str_eq(v.error.type, "invalid_request_error");
    assert_str_eq(v.error.code, "context_length_exceeded");
    v = anthropic_classify_error(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"messages.1: tool_use ids must be unique"}})");
    assert_false(v.retry || v.park_key);
    assert_true(v.error.code.empty());
    for (int st : {401, 403}) {
        v = anthropic_classify_error(st, st == 401 ? R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"
                                                   : R"({"type":"error","error":{"type":"permission_error","message":"no access"}})");
        assert_true(v.retry);  // another key may work; this one is parked for long
        assert_true(v.park_key);
        assert_true(v.park_ms >= 10 * 60 * 1000);
        assert_int_equal(v.error.status, st);
        assert_str_eq(v.error.type, st == 401 ? "authentication_error" : "permission_error");
    }
    v = anthropic_classify_error(404, R"({"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}})");
    assert_false(v.retry || v.park_key);
    assert_str_eq(v.error.code, "model_not_found");
    v = anthropic_classify_error(413, R"({"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}})");
    assert_false(v.retry);
    assert_int_equal(v.error.status, 413);
    assert_str_eq(v.error.code, "request_too_large");
    v = anthropic_classify_error(400, R"({"error":{"code":"1301","message":"unsafe content"}})");
    assert_false(v.retry);
    assert_str_eq(v.error.code, "content_filter");
    // empty body
    v = anthropic_classify_error(400, "");
    assert_false(v.retry);
    assert_contains(v.error.message, "400");
}

static void test_classify_never_leaks_secrets(void**) {
    const char* body = R"({"type":"error","error":{"type":"authentication_error","message":"invalid key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx provided; other tp-1234567890abcdefghij"}})";
    ErrorVerdict v = anthropic_classify_error(401, body);
    assert_not_contains(v.error.message, "AbCdEfGhIjKlMnOp");
    assert_not_contains(v.error.message, "1234567890abcdefghij");
    assert_contains(v.error.message, "[redacted]");
    std::string_view secrets[] = {"my-very-own-secret-value-42"};
    v = anthropic_classify_error(401, R"({"type":"error","error":{"type":"authentication_error","message":"bad key my-very-own-secret-value-42!"}})",
                                 secrets);
    assert_not_contains(v.error.message, "my-very-own");
    assert_contains(openai_error_body(v.error), "[redacted]");
    // mid-stream error messages are scrubbed too
    Run r = translate(opts(true), start() + ev("error", R"({"type":"error","error":{"type":"api_error","message":"key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"}})"));
    assert_not_contains(r.out, "AbCdEfGhIjKlMnOp");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_streams_match_sdk),
        cmocka_unit_test(test_recorded_streams_every_split),
        cmocka_unit_test(test_recorded_json_match_sdk),
        cmocka_unit_test(test_refusal),
        cmocka_unit_test(test_thinking_signature_and_blocks),
        cmocka_unit_test(test_tool_no_args_gets_empty_object),
        cmocka_unit_test(test_pings_forwarded_as_comments),
        cmocka_unit_test(test_interleaved_tool_calls_indexes),
        cmocka_unit_test(test_tool_calls_force_finish_reason),
        cmocka_unit_test(test_usage_with_cache_and_reasoning),
        cmocka_unit_test(test_mid_stream_error_event),
        cmocka_unit_test(test_stream_without_message_stop),
        cmocka_unit_test(test_invalid_event_json),
        cmocka_unit_test(test_oversized_event),
        cmocka_unit_test(test_events_without_event_lines_and_crlf),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_classify_retryable),
        cmocka_unit_test(test_classify_spend_limits),
        cmocka_unit_test(test_classify_not_retryable),
        cmocka_unit_test(test_classify_never_leaks_secrets),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
