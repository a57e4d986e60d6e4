// gemini_adapter: response translation (GenerateContentResponse JSON and ?alt=sse streams ->
// chat.completion / chat.completion.chunk), driven by the recorded responses in data/gemini/ and
// their outcome in the official SDK (data/gemini/expected.json), plus targeted cases.
#include "util/json_util.hpp"
#include "egress/provider_adapter.hpp"
#include "egress/openai/stream_relay.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <dirent.h>
#include <map>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "translator_run.hpp"

using namespace routeshift;

namespace {

TranslatorOptions opts(bool stream, bool include_usage = true) {
    return test::translator_options(stream, include_usage, "gemini-test");
}

using Run = test::TranslatorRun;

Run run(const std::string& in, const TranslatorOptions& o, const std::vector<size_t>& cuts = {}) {
    auto t = gemini_translator(o);
    return test::run_translator(*t, in, cuts);
}

// ---- an OpenAI stream checker --------------------------------------------------------------------

struct ToolCall {
    std::string id, name, args;
};

struct Parsed {
    bool done = false;
    bool error = false;
    JsonPtr error_obj;
    std::map<long, std::string> content, reasoning;
    std::map<long, std::map<long, ToolCall>> tools;
    std::map<long, std::string> finish;
    std::map<long, int> images;
    JsonPtr usage;  // the usage chunk's usage
    int chunks = 0;
};

// Splits an SSE body into data payloads and checks the OpenAI chunk contract (same id/created/
// model, role first, one finish per choice, usage chunk placement, [DONE] last, error last).
Parsed parse_stream(const std::string& out, const TranslatorOptions& o) {
    Parsed p;
    size_t pos = 0;
    bool finished_any = false;
    bool saw_usage_chunk = false;
    while (pos < out.size()) {
        size_t end = out.find("\n\n", pos);
        if (end == std::string::npos) fail_msg("output does not end with a blank line: %s", out.substr(pos).c_str());
        std::string ev = out.substr(pos, end - pos);
        pos = end + 2;
        if (ev.compare(0, 6, "data: ") != 0) fail_msg("event without data: %s", ev.c_str());
        std::string data = ev.substr(6);
        if (p.done || p.error) fail_msg("event after [DONE]/error: %s", data.c_str());
        if (data == "[DONE]") {
            p.done = true;
            continue;
        }
        JsonPtr j = json_parse(data, nullptr);
        if (!j) fail_msg("event is not JSON: %s", data.c_str());
        if (json_object_get(j.get(), "error")) {
            p.error = true;
            p.error_obj.reset(json_incref(json_object_get(j.get(), "error")));
            for (const char* k : {"message", "type", "param", "code"})
                if (!json_object_get(p.error_obj.get(), k)) fail_msg("error event without %s", k);
            continue;
        }
        ++p.chunks;
        assert_str_eq(json_string_value(json_object_get(j.get(), "id")), o.id);
        assert_str_eq(json_string_value(json_object_get(j.get(), "object")), "chat.completion.chunk");
        assert_int_equal(json_integer_value(json_object_get(j.get(), "created")), o.created);
        assert_str_eq(json_string_value(json_object_get(j.get(), "model")), o.model);
        json_t* usage = json_object_get(j.get(), "usage");
        json_t* choices = json_object_get(j.get(), "choices");
        assert_true(json_is_array(choices));
        if (!o.include_usage && usage) fail_msg("usage key without include_usage: %s", data.c_str());
        if (json_array_size(choices) == 0) {
            if (!o.include_usage || !json_is_object(usage)) fail_msg("chunk without choices: %s", data.c_str());
            if (saw_usage_chunk) fail_msg("two usage chunks");
            if (!finished_any) fail_msg("usage chunk before the finish chunk");
            saw_usage_chunk = true;
            p.usage.reset(json_incref(usage));
            continue;
        }
        if (saw_usage_chunk) fail_msg("chunk after the usage chunk: %s", data.c_str());
        if (o.include_usage && !json_is_null(usage)) fail_msg("usage must be null on content chunks: %s", data.c_str());
        size_t i;
        json_t* c;
        json_array_foreach(choices, i, c) {
            long idx = static_cast<long>(json_integer_value(json_object_get(c, "index")));
            json_t* delta = json_object_get(c, "delta");
            assert_true(json_is_object(delta));
            if (p.chunks == 1 && idx == 0) {
                assert_str_eq(json_string_value(json_object_get(delta, "role")), "assistant");
            }
            if (p.finish.count(idx)) fail_msg("delta after the finish chunk of choice %ld: %s", idx, data.c_str());
            if (json_t* t = json_object_get(delta, "content"); json_is_string(t)) p.content[idx] += json_string_value(t);
            if (json_t* t = json_object_get(delta, "reasoning_content"); json_is_string(t)) p.reasoning[idx] += json_string_value(t);
            if (json_t* imgs = json_object_get(delta, "images"); json_is_array(imgs)) p.images[idx] += static_cast<int>(json_array_size(imgs));
            if (json_t* tcs = json_object_get(delta, "tool_calls"); json_is_array(tcs)) {
                size_t k;
                json_t* tc;
                json_array_foreach(tcs, k, tc) {
                    long ti = static_cast<long>(json_integer_value(json_object_get(tc, "index")));
                    auto& calls = p.tools[idx];
                    json_t* fn = json_object_get(tc, "function");
                    if (!calls.count(ti)) {
                        if (ti != static_cast<long>(calls.size())) fail_msg("tool call index %ld is not the next ordinal", ti);
                        assert_str_eq(json_string_value(json_object_get(tc, "type")), "function");
                        assert_true(json_is_string(json_object_get(tc, "id")));
                        calls[ti].id = json_string_value(json_object_get(tc, "id"));
                        calls[ti].name = json_string_value(json_object_get(fn, "name"));
                    }
                    if (json_t* a = json_object_get(fn, "arguments"); json_is_string(a)) calls[ti].args += json_string_value(a);
                }
            }
            json_t* fr = json_object_get(c, "finish_reason");
            if (json_is_string(fr)) {
                p.finish[idx] = json_string_value(fr);
                finished_any = true;
            }
        }
    }
    if (p.done) {
        if (p.finish.empty()) fail_msg("[DONE] without a finish chunk");
        if (o.include_usage && !saw_usage_chunk) fail_msg("include_usage but no usage chunk");
    }
    if (p.done == p.error) fail_msg("a stream must end with exactly one of [DONE] / an error event:\n%s", out.c_str());
    return p;
}

// Every way of cutting the input gives the same output as one feed.
void check_split_invariance(const std::string& name, const std::string& in, const TranslatorOptions& o) {
    Run whole = run(in, o);
    auto same = [&](const Run& r, const char* how, size_t at) {
        if (r.out != whole.out || r.finish_ok != whole.finish_ok || r.complete != whole.complete || r.saw_error != whole.saw_error ||
            r.usage.prompt_tokens != whole.usage.prompt_tokens || r.usage.completion_tokens != whole.usage.completion_tokens)
            fail_msg("%s: output differs when split (%s at %zu)\n--- whole:\n%s\n--- split:\n%s", name.c_str(), how, at,
                     whole.out.c_str(), r.out.c_str());
    };
    // every boundary of the first 2 KB (all of a short file) and of the last 256 bytes
    size_t limit = std::min<size_t>(in.size(), 2048);
    for (size_t i = 0; i <= limit; ++i) same(run(in, o, {i}), "two pieces", i);
    for (size_t i = in.size() > 256 ? std::max(limit + 1, in.size() - 256) : in.size() + 1; i <= in.size(); ++i)
        same(run(in, o, {i}), "two pieces (tail)", i);
    std::vector<size_t> bytes;
    for (size_t i = 1; i < in.size(); ++i) bytes.push_back(i);
    same(run(in, o, bytes), "every byte", 0);
    uint64_t seed = 0x9E3779B97F4A7C15ULL ^ in.size();
    for (int k = 0; k < 200; ++k) {
        std::vector<size_t> cuts;
        size_t at = 0;
        while (true) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            at += 1 + (seed >> 33) % 700;
            if (at >= in.size()) break;
            cuts.push_back(at);
        }
        same(run(in, o, cuts), "random pieces", static_cast<size_t>(k));
    }
}

JsonPtr load_expected() {
    JsonPtr j = json_parse(test::read_data_file("gemini/expected.json"), nullptr);
    if (!j) fail_msg("cannot parse gemini/expected.json");
    return j;
}

std::vector<std::string> data_files(const char* ext) {
    std::vector<std::string> names;
    std::string dir = std::string(TEST_DATA_DIR) + "/gemini";
    DIR* d = opendir(dir.c_str());
    if (!d) fail_msg("cannot open %s", dir.c_str());
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > strlen(ext) && n.compare(n.size() - strlen(ext), strlen(ext), ext) == 0) names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

// OpenAI finish_reason the gateway must produce for a recorded outcome.
std::string expected_finish(const json_t* exp, bool has_tools) {
    if (has_tools) return "tool_calls";
    if (json_is_string(json_object_get(exp, "prompt_blocked"))) return "content_filter";
    std::string f = json_is_string(json_object_get(exp, "finish_reason")) ? json_string_value(json_object_get(exp, "finish_reason")) : "";
    if (f == "STOP") return "stop";
    if (f == "MAX_TOKENS") return "length";
    if (f == "SAFETY" || f == "RECITATION") return "content_filter";
    if (f.empty()) return "";
    fail_msg("unmapped finish reason %s in expected.json", f.c_str());
    return "";
}

void check_tool_calls(const json_t* exp_calls, const std::map<long, ToolCall>& got) {
    assert_int_equal(json_array_size(exp_calls), got.size());
    size_t i;
    json_t* c;
    json_array_foreach(exp_calls, i, c) {
        const ToolCall& tc = got.at(static_cast<long>(i));
        assert_str_eq(tc.name, json_string_value(json_object_get(c, "name")));
        JsonPtr args = json_parse(tc.args, nullptr);
        if (!args || !json_equal(args.get(), json_object_get(c, "args")))
            fail_msg("tool call %zu arguments %s differ from %s", i, tc.args.c_str(),
                     json_dump_compact(json_object_get(c, "args")).c_str());
        assert_true(tc.id.compare(0, 5, "call_") == 0);
    }
}

void check_usage(const json_t* exp_usage, const Usage& u, const json_t* usage_obj) {
    if (json_is_null(exp_usage) || !exp_usage) {
        assert_int_equal(u.prompt_tokens, -1);  // Gemini sent none: unknown to the accounting
        return;
    }
    long long in = json_integer_value(json_object_get(exp_usage, "input"));
    long long outp = json_integer_value(json_object_get(exp_usage, "output"));
    long long th = json_integer_value(json_object_get(exp_usage, "thoughts"));  // 0 when absent
    assert_int_equal(u.prompt_tokens, in);
    assert_int_equal(u.completion_tokens, outp + th);  // thoughts are completion tokens (wire-formats.md, Usage normalisation)
    assert_int_equal(u.total_tokens, in + outp + th);
    if (usage_obj) {
        assert_int_equal(json_integer_value(json_object_get(usage_obj, "prompt_tokens")), in);
        assert_int_equal(json_integer_value(json_object_get(usage_obj, "completion_tokens")), outp + th);
        assert_int_equal(json_integer_value(json_object_get(usage_obj, "total_tokens")), in + outp + th);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(usage_obj, "completion_tokens_details"), "reasoning_tokens")), th);
    }
}

std::string str_or_empty(const json_t* o, const char* k) {
    const json_t* v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

}  // namespace

// ---- every recorded stream -----------------------------------------------------------------------

static void test_recorded_streams(void**) {
    JsonPtr expected = load_expected();
    std::vector<std::string> files = data_files(".sse");
    assert_true(files.size() >= 15);
    for (const auto& name : files) {
        std::string in = test::read_data_file("gemini/" + name);
        const json_t* exp = json_object_get(expected.get(), ("gemini/" + name).c_str());
        if (!exp) fail_msg("%s has no entry in expected.json", name.c_str());

        for (bool with_usage : {true, false}) {
            TranslatorOptions o = opts(true, with_usage);
            if (with_usage) check_split_invariance(name, in, o);
            Run r = run(in, o);
            Parsed p = parse_stream(r.out, o);
            std::string text = str_or_empty(exp, "text");
            std::string outcome = str_or_empty(exp, "outcome");
            bool truncated = outcome == "ok" && json_is_null(json_object_get(exp, "finish_reason")) &&
                             !json_is_string(json_object_get(exp, "prompt_blocked"));
            if (outcome == "ok") {  // the text relayed is exactly what the SDK collected
                assert_str_eq(p.content[0], text);
                assert_str_eq(p.reasoning[0], str_or_empty(exp, "thought"));
            }
            if (outcome == "error" || truncated) {
                // an error from Gemini, or a stream that ended without finishReason: error event, no [DONE]
                if (!p.error) fail_msg("%s: expected an error event", name.c_str());
                assert_false(r.finish_ok);
                assert_false(r.complete);
                assert_true(r.saw_error);
                if (truncated) assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "code")), "stream_truncated");
                continue;
            }
            if (!p.done) fail_msg("%s: expected a complete stream:\n%s", name.c_str(), r.out.c_str());
            assert_true(r.finish_ok);
            assert_true(r.complete);
            assert_false(r.saw_error);
            const json_t* calls = json_object_get(exp, "tool_calls");
            check_tool_calls(calls, p.tools[0]);
            assert_str_eq(p.finish[0], expected_finish(exp, json_array_size(calls) > 0));
            check_usage(json_object_get(exp, "usage"), r.usage, with_usage ? p.usage.get() : nullptr);
            if (!with_usage) assert_null(p.usage.get());
        }
    }
}

// ---- every recorded JSON answer ------------------------------------------------------------------

static void test_recorded_json(void**) {
    JsonPtr expected = load_expected();
    std::vector<std::string> files = data_files(".json");
    int checked = 0;
    for (const auto& name : files) {
        if (name == "expected.json") continue;
        std::string in = test::read_data_file("gemini/" + name);
        const json_t* exp = json_object_get(expected.get(), ("gemini/" + name).c_str());
        if (!exp) fail_msg("%s has no entry in expected.json", name.c_str());
        ++checked;
        TranslatorOptions o = opts(false);
        Run r = run(in, o);
        for (size_t cut : {size_t(1), in.size() / 3, in.size() / 2, in.size() - 1}) {
            Run s = run(in, o, {cut, cut + 7});
            assert_str_eq(s.out, r.out);
        }
        JsonPtr j = json_parse(r.out, nullptr);
        if (!j) fail_msg("%s: output is not JSON: %s", name.c_str(), r.out.c_str());
        if (str_or_empty(exp, "outcome") == "error") {
            // an error body in a 2xx: an OpenAI error body, never a completion
            assert_true(r.saw_error);
            assert_false(r.finish_ok);
            assert_non_null(json_object_get(j.get(), "error"));
            continue;
        }
        assert_true(r.finish_ok);
        assert_true(r.complete);
        assert_str_eq(str_or_empty(j.get(), "object"), "chat.completion");
        assert_str_eq(str_or_empty(j.get(), "id"), "chatcmpl-test");
        assert_str_eq(str_or_empty(j.get(), "model"), "gemini-test");
        const json_t* choice = json_array_get(json_object_get(j.get(), "choices"), 0);
        const json_t* msg = json_object_get(choice, "message");
        assert_str_eq(str_or_empty(msg, "role"), "assistant");
        assert_str_eq(str_or_empty(msg, "content"), str_or_empty(exp, "text"));
        assert_str_eq(str_or_empty(msg, "reasoning_content"), str_or_empty(exp, "thought"));
        std::map<long, ToolCall> calls;
        size_t i;
        json_t* tc;
        json_array_foreach(json_object_get(msg, "tool_calls"), i, tc) {
            calls[static_cast<long>(i)] = ToolCall{str_or_empty(tc, "id"), str_or_empty(json_object_get(tc, "function"), "name"),
                                                   str_or_empty(json_object_get(tc, "function"), "arguments")};
            assert_str_eq(str_or_empty(tc, "type"), "function");
        }
        const json_t* exp_calls = json_object_get(exp, "tool_calls");
        check_tool_calls(exp_calls, calls);
        if (json_array_size(exp_calls) > 0) assert_true(json_is_null(json_object_get(msg, "content")));
        bool blocked = json_is_null(json_object_get(exp, "finish_reason"));  // only-prompt-feedback
        std::string want = blocked ? "content_filter" : expected_finish(exp, json_array_size(exp_calls) > 0);
        assert_str_eq(str_or_empty(choice, "finish_reason"), want);
        check_usage(json_object_get(exp, "usage"), r.usage, json_object_get(j.get(), "usage"));
    }
    assert_true(checked >= 9);
}

// ---- targeted stream cases -----------------------------------------------------------------------

static std::string ev(const std::string& json) { return "data: " + json + "\r\n\r\n"; }

static void test_error_mid_stream_recorded(void**) {
    // two events (both STOP!) then a raw google.rpc.Status outside the SSE framing
    std::string in = test::read_data_file("gemini/firebase-vertexai_streaming-failure-error-mid-stream.sse");
    TranslatorOptions o = opts(true);
    Run r = run(in, o);
    Parsed p = parse_stream(r.out, o);
    assert_true(p.error);
    assert_false(p.done);
    assert_true(p.finish.empty());  // no finish chunk: the answer is not complete
    assert_str_eq(p.content[0], "First Second ");
    assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "message")), "The operation was cancelled.");
    assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "code")), "cancelled");
    assert_false(r.complete);
    // the same error object without a trailing newline (a partial last line) still fails the stream
    std::string cut = in.substr(0, in.find("{\n  \"error\"")) + "{\"error\":{\"code\":499,\"message\":\"x\",\"status\":\"CANCELLED\"}}";
    r = run(cut, o);
    p = parse_stream(r.out, o);
    assert_true(p.error);
    assert_false(r.finish_ok);
}

// complete() means "the finish tail was produced": a stream interrupted after its last
// finishReason (finish() never called) is not complete, so the glue appends its error event
static void test_complete_only_after_finish(void**) {
    std::string in = test::read_data_file("gemini/firebase-googleai_streaming-success-basic-reply-short.sse");
    for (bool stream : {true, false}) {
        auto t = gemini_translator(opts(stream));
        std::string out;
        assert_true(t->feed(stream ? in : test::read_data_file("gemini/firebase-googleai_unary-success-basic-reply-short.json"), &out));
        assert_false(t->complete());
        assert_not_contains(out, "finish_reason\":\"stop");
        assert_not_contains(out, "[DONE]");
        assert_true(t->finish(&out));
        assert_true(t->complete());
        std::string again;
        assert_true(t->finish(&again));  // idempotent
        assert_str_eq(again, "");
        assert_false(t->feed("data: {}\r\n\r\n", &again));
        assert_str_eq(again, "");
    }
}

static void test_data_error_events(void**) {
    TranslatorOptions o = opts(true);
    std::string head = ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"}}]}");
    // data: {"error":...} with a 429 status
    Run r = run(head + ev("{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}"), o);
    Parsed p = parse_stream(r.out, o);
    assert_true(p.error);
    assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "type")), "rate_limit_error");
    assert_str_eq(p.content[0], "Hel");
    // list-wrapped
    r = run(head + ev("[{\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}]"), o);
    p = parse_stream(r.out, o);
    assert_true(p.error);
    assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "code")), "overloaded");
    // not JSON
    r = run(head + ev("{\"candidates\":[{\"content\":"), o);
    p = parse_stream(r.out, o);
    assert_true(p.error);
    assert_str_eq(json_string_value(json_object_get(p.error_obj.get(), "code")), "invalid_upstream_response");
    // garbage outside the framing
    r = run(head + "<html>502 Bad Gateway</html>\r\n\r\n", o);
    assert_true(parse_stream(r.out, o).error);
    // after the error nothing else is relayed and finish adds nothing
    auto t = gemini_translator(o);
    std::string out;
    assert_false(t->feed(head + ev("{\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}"), &out));
    std::string more;
    assert_false(t->feed(ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"late\"}]},\"finishReason\":\"STOP\"}]}"), &more));
    assert_false(t->finish(&more));
    assert_str_eq(more, "");
    assert_true(t->saw_error());
    assert_false(t->complete());
}

static void test_truncation(void**) {
    TranslatorOptions o = opts(true);
    std::string in = test::read_data_file("gemini/firebase-googleai_streaming-success-basic-reply-short.sse");
    // cut anywhere before the last event is complete: an error event, never [DONE]
    size_t last = in.rfind("data: ");
    for (size_t cut = 0; cut < in.size(); cut += (cut < last ? 37 : 1)) {
        std::string part = in.substr(0, cut);
        // a cut right after the final event's line terminator still holds a complete answer
        // (SSE: a lone CR ends a line too)
        bool has_final = part.find("\"finishReason\": \"STOP\"") != std::string::npos &&
                         (part.back() == '\n' || part.back() == '\r');
        Run r = run(part, o);
        Parsed p = parse_stream(r.out, o);
        if (has_final) {
            assert_true(p.done);
        } else {
            if (!p.error) fail_msg("cut at %zu/%zu did not fail:\n%s", cut, in.size(), r.out.c_str());
            assert_false(r.finish_ok);
        }
    }
    // an empty body
    Run r = run("", o);
    assert_true(parse_stream(r.out, o).error);
    assert_false(r.finish_ok);
    // keep-alive comments alone are not an answer
    r = run(": ping\r\n\r\n", o);
    assert_true(parse_stream(r.out, o).error);
    // a stream ending on whitespace after a complete answer is fine
    r = run(in + "\r\n\r\n", o);
    assert_true(parse_stream(r.out, o).done);
}

static void test_oversized_event(void**) {
    TranslatorOptions o = opts(true);
    auto t = gemini_translator(o);
    std::string out;
    assert_true(t->feed(ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}"), &out));
    std::string huge = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + std::string(5u << 20, 'x');
    out.clear();
    assert_false(t->feed(huge, &out));
    assert_str_eq(out, OpenAIStreamRelay::error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
    out.clear();
    assert_false(t->finish(&out));
    assert_str_eq(out, "");
    assert_true(t->saw_error());
}

static void test_parallel_calls_thinking_usage(void**) {
    TranslatorOptions o = opts(true);
    std::string in =
        ": keep-alive\r\n\r\n" +
        ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Plan: \",\"thought\":true},{\"text\":\"call both\",\"thought\":true}],"
           "\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":40,\"thoughtsTokenCount\":10},\"responseId\":\"r1\"}") +
        ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sure.\"},"
           "{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},\"thoughtSignature\":\"SIG1\"},"
           "{\"functionCall\":{\"id\":\"fc_7\",\"name\":\"get_time\",\"args\":{\"tz\":\"CET\",\"n\":[1,2.5,true,null]}}}],"
           "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
           "\"usageMetadata\":{\"promptTokenCount\":40,\"cachedContentTokenCount\":32,\"toolUsePromptTokenCount\":5,"
           "\"candidatesTokenCount\":12,\"thoughtsTokenCount\":180,\"totalTokenCount\":237},\"responseId\":\"r1\"}");
    check_split_invariance("parallel", in, o);
    Run r = run(in, o);
    Parsed p = parse_stream(r.out, o);
    assert_true(p.done);
    assert_str_eq(p.reasoning[0], "Plan: call both");
    assert_str_eq(p.content[0], "Sure.");
    assert_int_equal(p.tools[0].size(), 2);
    assert_str_eq(p.tools[0][0].name, "get_weather");
    assert_str_eq(p.tools[0][0].args, "{\"city\":\"Oslo\"}");
    assert_true(p.tools[0][0].id.size() == 5 + 24 + 11 + 4);
    assert_str_eq(p.tools[0][0].id.substr(29), "__thought__SIG1");
    assert_str_eq(p.tools[0][1].id, "fc_7");  // Gemini's own id is kept
    assert_str_eq(p.tools[0][1].args, "{\"tz\":\"CET\",\"n\":[1,2.5,true,null]}");
    assert_str_eq(p.finish[0], "tool_calls");  // STOP with function calls
    // the last usageMetadata only; prompt includes tool-use prompt tokens, completion includes thoughts
    assert_str_eq(json_dump_compact(p.usage.get()),
                  "{\"prompt_tokens\":45,\"completion_tokens\":192,\"total_tokens\":237,\"prompt_tokens_details\":"
                  "{\"cached_tokens\":32},\"completion_tokens_details\":{\"reasoning_tokens\":180}}");
    assert_int_equal(r.usage.prompt_tokens, 45);
    assert_int_equal(r.usage.completion_tokens, 192);
    assert_int_equal(r.usage.total_tokens, 237);
    assert_int_equal(r.usage.cached_tokens, 32);
    // ids are deterministic per response id, and differ between responses
    TranslatorOptions o2 = o;
    o2.id = "chatcmpl-other";
    Run r2 = run(in, o2);
    assert_string_not_equal(r2.out.substr(r2.out.find("call_"), 29).c_str(), r.out.substr(r.out.find("call_"), 29).c_str());
}

static void test_finish_reason_map(void**) {
    struct {
        const char* gemini;
        const char* openai;
    } cases[] = {{"STOP", "stop"},           {"MAX_TOKENS", "length"},        {"SAFETY", "content_filter"},
                 {"BLOCKLIST", "content_filter"}, {"PROHIBITED_CONTENT", "content_filter"}, {"SPII", "content_filter"},
                 {"IMAGE_SAFETY", "content_filter"}, {"LANGUAGE", "content_filter"}, {"RECITATION", "content_filter"},
                 {"OTHER", "stop"},          {"MALFORMED_FUNCTION_CALL", "stop"}, {"FINISH_REASON_UNSPECIFIED", "stop"},
                 {"SOMETHING_NEW", "stop"}};
    for (const auto& c : cases) {
        TranslatorOptions o = opts(true, false);
        Run r = run(ev(std::string("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"") + c.gemini + "\"}]}"), o);
        Parsed p = parse_stream(r.out, o);
        assert_true(p.done);
        assert_str_eq(p.finish[0], c.openai);
        // same answer as JSON
        Run j = run(std::string("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"") + c.gemini + "\"}]}",
                    opts(false));
        assert_contains(j.out, std::string("\"finish_reason\":\"") + c.openai + "\"");
    }
}

static void test_prompt_blocked(void**) {
    TranslatorOptions o = opts(true);
    Run r = run(test::read_data_file("gemini/firebase-googleai_streaming-failure-prompt-blocked-safety.sse"), o);
    Parsed p = parse_stream(r.out, o);
    assert_true(p.done);
    assert_str_eq(p.finish[0], "content_filter");
    assert_str_eq(p.content[0], "");
    assert_true(r.complete);
    // JSON: a completion with empty content and content_filter (not an error: Gemini answered 200)
    Run j = run("{\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"},\"usageMetadata\":{\"promptTokenCount\":9,\"totalTokenCount\":9}}",
                opts(false));
    assert_true(j.finish_ok);
    assert_contains(j.out, "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}");
    assert_contains(j.out, "\"finish_reason\":\"content_filter\"");
    assert_int_equal(j.usage.prompt_tokens, 9);
}

static void test_multiple_candidates(void**) {
    TranslatorOptions o = opts(true);
    std::string in = ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A1\"}]}},{\"content\":{\"parts\":[{\"text\":\"B1\"}]},\"index\":1}]}") +
                     ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A2\"}]},\"finishReason\":\"STOP\"},"
                        "{\"content\":{\"parts\":[{\"text\":\"B2\"}]},\"index\":1,\"finishReason\":\"MAX_TOKENS\"}]}");
    Run r = run(in, o);
    Parsed p = parse_stream(r.out, o);
    assert_true(p.done);
    assert_str_eq(p.content[0], "A1A2");
    assert_str_eq(p.content[1], "B1B2");
    assert_str_eq(p.finish[0], "stop");
    assert_str_eq(p.finish[1], "length");
    // one candidate without finishReason: not complete
    std::string cut = ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A\"}]},\"finishReason\":\"STOP\"},"
                         "{\"content\":{\"parts\":[{\"text\":\"B\"}]},\"index\":1}]}");
    r = run(cut, o);
    assert_true(parse_stream(r.out, o).error);
    // an absurd index is refused
    r = run(ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A\"}]},\"index\":99,\"finishReason\":\"STOP\"}]}"), o);
    assert_true(parse_stream(r.out, o).error);
    // JSON with two candidates
    Run j = run("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A\"}]},\"finishReason\":\"STOP\"},"
                "{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{}}}]},\"finishReason\":\"STOP\",\"index\":1}]}",
                opts(false));
    JsonPtr d = json_parse(j.out, nullptr);
    assert_int_equal(json_array_size(json_object_get(d.get(), "choices")), 2);
    // key order of the one OpenAI writer: content, refusal, ..., tool_calls, images
    assert_contains(j.out, "{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":null,\"tool_calls\":[{\"id\":\"call_");
    assert_contains(j.out, "\"finish_reason\":\"tool_calls\"");
}

static void test_logprobs_and_images(void**) {
    TranslatorOptions o = opts(true);
    std::string lr = "\"logprobsResult\":{\"topCandidates\":[{\"candidates\":[{\"token\":\"Hi\",\"logProbability\":-0.1},"
                     "{\"token\":\"Hey\",\"logProbability\":-2.5}]}],\"chosenCandidates\":[{\"token\":\"Hi\",\"logProbability\":-0.1}]}";
    Run r = run(ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}," + lr + ",\"finishReason\":\"STOP\"}]}"), o);
    assert_contains(r.out, "\"delta\":{\"content\":\"Hi\"},\"logprobs\":{\"content\":[{\"token\":\"Hi\",\"logprob\":-0.1,\"bytes\":[72,105],"
                           "\"top_logprobs\":[{\"token\":\"Hi\",\"logprob\":-0.1,\"bytes\":[72,105]},{\"token\":\"Hey\",\"logprob\":-2.5,"
                           "\"bytes\":[72,101,121]}]}],\"refusal\":null}");
    Run j = run("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}," + lr + ",\"finishReason\":\"STOP\"}]}", opts(false));
    assert_contains(j.out, "\"logprobs\":{\"content\":[{\"token\":\"Hi\",\"logprob\":-0.1,");

    // generated images (recorded): OpenRouter-style images, text intact
    std::string in = test::read_data_file("gemini/firebase-googleai_streaming-success-empty-parts.sse");
    r = run(in, o);
    Parsed p = parse_stream(r.out, o);
    assert_int_equal(p.images[0], 1);
    assert_contains(r.out, "\"images\":[{\"index\":0,\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo");
    j = run("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Here\"},{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AAAA\"}}]},"
            "\"finishReason\":\"STOP\"}]}",
            opts(false));
    assert_contains(j.out, "\"content\":\"Here\",\"refusal\":null,\"images\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}");
}

static void test_ids_and_model_defaults(void**) {
    TranslatorOptions o;
    o.stream = true;  // no id/model/created given: responseId / modelVersion / now
    Run r = run(ev("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"STOP\"}],"
                   "\"modelVersion\":\"gemini-2.5-flash-001\",\"responseId\":\"abc\"}"),
                o);
    assert_contains(r.out, "\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":");
    assert_contains(r.out, "\"model\":\"gemini-2.5-flash-001\"");
    assert_not_contains(r.out, "\"created\":0,");
}

// ---- targeted JSON cases -------------------------------------------------------------------------

static void test_json_errors(void**) {
    TranslatorOptions o = opts(false);
    Run r = run("", o);
    assert_false(r.finish_ok);
    assert_true(r.saw_error);
    assert_contains(r.out, "\"type\":\"server_error\"");
    r = run("{\"candidates\":[{\"content\":", o);
    assert_false(r.finish_ok);
    assert_contains(r.out, "not valid JSON");
    r = run("{\"usageMetadata\":{\"promptTokenCount\":3}}", o);  // neither candidates nor promptFeedback
    assert_false(r.finish_ok);
    assert_contains(r.out, "without candidates");
    r = run("[{\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}]", o);
    assert_false(r.finish_ok);
    assert_str_eq(r.out, "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":\"overloaded\"}}");
    // a body larger than the limit is refused while feeding
    auto t = gemini_translator(o);
    std::string out;
    std::string big(1u << 20, ' ');
    bool ok = true;
    for (int i = 0; i < 80 && ok; ++i) ok = t->feed(big, &out);
    assert_false(ok);
    assert_contains(out, "upstream_response_too_large");
    assert_false(t->finish(&out));
    // unary answers are complete by construction: a candidate without finishReason is "stop"
    r = run("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}", o);
    assert_true(r.finish_ok);
    assert_contains(r.out, "\"finish_reason\":\"stop\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_streams),
        cmocka_unit_test(test_recorded_json),
        cmocka_unit_test(test_error_mid_stream_recorded),
        cmocka_unit_test(test_complete_only_after_finish),
        cmocka_unit_test(test_data_error_events),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_oversized_event),
        cmocka_unit_test(test_parallel_calls_thinking_usage),
        cmocka_unit_test(test_finish_reason_map),
        cmocka_unit_test(test_prompt_blocked),
        cmocka_unit_test(test_multiple_candidates),
        cmocka_unit_test(test_logprobs_and_images),
        cmocka_unit_test(test_ids_and_model_defaults),
        cmocka_unit_test(test_json_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
