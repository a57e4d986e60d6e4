// stream_relay on json_scan: usage_from_completion and the relay's event handling give exactly
// what the former jansson-DOM implementation gave (kept here as the reference), on a corpus of
// answers and chunks with escaped keys, duplicates, wrong types, reals, overflow, whitespace.
#include "util/json_scan.hpp"
#include "util/json_util.hpp"
#include "util/sse_parser.hpp"
#include "egress/openai/stream_relay.hpp"

#include <random>

#include "test_util.hpp"

using namespace routeshift;

namespace ref {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

bool has_usage_object(std::string_view d) {
    constexpr std::string_view needle = "\"usage\"";
    size_t pos = 0;
    while ((pos = d.find(needle, pos)) != std::string_view::npos) {
        size_t i = pos + needle.size();
        while (i < d.size() && is_ws(d[i])) ++i;
        if (i < d.size() && d[i] == ':') {
            ++i;
            while (i < d.size() && is_ws(d[i])) ++i;
            if (i < d.size() && d[i] == '{') return true;
        }
        pos += needle.size();
    }
    return false;
}

void read_usage(const json_t* u, Usage* out) {
    Usage x;
    long long v;
    if (json_get_int(u, "prompt_tokens", &v)) x.prompt_tokens = v;
    if (json_get_int(u, "completion_tokens", &v)) x.completion_tokens = v;
    if (json_get_int(u, "total_tokens", &v)) x.total_tokens = v;
    else if (x.prompt_tokens >= 0 && x.completion_tokens >= 0) x.total_tokens = x.prompt_tokens + x.completion_tokens;
    if (json_get_int(json_object_get(u, "prompt_tokens_details"), "cached_tokens", &v)) x.cached_tokens = v;
    *out = x;
}

Usage usage_from_completion(std::string_view body) {
    Usage u;
    JsonPtr root = json_parse(body, nullptr);
    if (root && json_is_object(root.get())) {
        const json_t* usage = json_object_get(root.get(), "usage");
        if (json_is_object(usage)) read_usage(usage, &u);
    }
    return u;
}

// The former OpenAIStreamRelay::on_event, on one event's data: returns whether it is relayed.
struct EventState {
    bool want_usage = false;
    bool error = false;
    Usage usage;
};
bool on_data(std::string_view raw_data, EventState& st) {
    std::string_view data = trim(raw_data);
    if (!data.empty() && data != "[DONE]") {
        // an event that is not a JSON object is skipped (the client's SDK would throw on it)
        JsonPtr any = json_parse(data, nullptr);
        if (!any || !json_is_object(any.get())) return false;
    }
    if (!data.empty() && data.front() == '{' &&
        (has_usage_object(data) || data.find("\"error\"") != std::string_view::npos)) {
        JsonPtr root = json_parse(data, nullptr);
        if (root && json_is_object(root.get())) {
            const json_t* r = root.get();
            const json_t* err = json_object_get(r, "error");
            const bool is_error = (err && !json_is_null(err)) || json_string_view(r, "object") == "error";
            if (is_error) st.error = true;
            const json_t* usage = json_object_get(r, "usage");
            const bool top_usage = json_is_object(usage);
            if (!top_usage) usage = json_object_get(json_object_get(r, "x_groq"), "usage");
            if (json_is_object(usage)) read_usage(usage, &st.usage);
            if (!st.want_usage && top_usage && !is_error) {
                const json_t* choices = json_object_get(r, "choices");
                if (json_is_array(choices) && json_array_size(choices) == 0) return false;
            }
        }
    }
    return true;
}

}  // namespace ref

static void same_usage(const Usage& a, const Usage& b, std::string_view what) {
    if (a.prompt_tokens != b.prompt_tokens || a.completion_tokens != b.completion_tokens ||
        a.total_tokens != b.total_tokens || a.cached_tokens != b.cached_tokens)
        fail_msg("usage differs (%lld/%lld/%lld/%lld vs %lld/%lld/%lld/%lld) for: %s", (long long)a.prompt_tokens,
                 (long long)a.completion_tokens, (long long)a.total_tokens, (long long)a.cached_tokens,
                 (long long)b.prompt_tokens, (long long)b.completion_tokens, (long long)b.total_tokens,
                 (long long)b.cached_tokens, std::string(what).c_str());
}

static const char* const kUsages[] = {
    R"({"prompt_tokens":5,"completion_tokens":7,"total_tokens":12})",
    R"({"prompt_tokens":5,"completion_tokens":7})",
    R"({ "prompt_tokens" : 5 , "completion_tokens" : 7 , "prompt_tokens_details" : { "cached_tokens" : 3 } })",
    R"({"prompt_tokens":5,"prompt_tokens":6,"completion_tokens":1})",
    R"({"prompt\u005ftokens":5,"completion_tokens":7,"total_tokens":null})",
    R"({"prompt_tokens":5.0,"completion_tokens":7,"total_tokens":"12"})",
    R"({"prompt_tokens":-1,"completion_tokens":7})",
    R"({"prompt_tokens":9223372036854775807,"completion_tokens":0,"total_tokens":-9223372036854775808})",
    R"({"prompt_tokens":99999999999999999999,"completion_tokens":7})",
    R"({"prompt_tokens":1e400})",
    R"({"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2},"prompt_tokens_details":{"audio_tokens":0}})",
    R"({"prompt_tokens_details":[],"completion_tokens_details":{"reasoning_tokens":5}})",
    R"({"prompt_tokens_details":null,"prompt_tokens":0,"completion_tokens":0})",
    R"({"queue_time":0.01,"prompt_tokens":11,"completion_tokens":7,"total_tokens":18})",
    "{}", "null", "[]", "5", R"("usage")",
};

static std::string completion(std::mt19937_64& g, bool chunk) {
    auto r = [&](size_t n) { return static_cast<size_t>(g() % n); };
    std::vector<std::string> m;
    m.push_back(R"("id":"chatcmpl-1")");
    m.push_back(chunk ? R"("object":"chat.completion.chunk")" : R"("object":"chat.completion")");
    static const char* kChoices[] = {R"("choices":[])", R"("choices":[ ])", R"("choices" : [ ] )",
                                     R"("choices":[{"index":0,"delta":{"content":"usage \"usage\":{"}}])",
                                     R"("choices":null)", R"("choices":{})"};
    if (r(5)) m.push_back(kChoices[r(6)]);
    std::string usage_key = r(8) ? "\"usage\"" : (r(2) ? "\"us\\u0061ge\"" : "\"usage\" ");
    if (r(5)) m.push_back(usage_key + ":" + kUsages[r(sizeof kUsages / sizeof *kUsages)]);
    if (!r(6)) m.push_back(std::string("\"usage\":") + (r(2) ? "null" : kUsages[r(4)]));  // duplicate
    if (!r(6)) m.push_back(std::string(R"("x_groq":{"id":"q","usage":)") + kUsages[r(sizeof kUsages / sizeof *kUsages)] + "}");
    static const char* kErrors[] = {R"("error":null)", R"("error":{"message":"boom","type":"server_error"})",
                                    R"("error":"x")", R"("object":"error")", R"("object":"err\u006fr")",
                                    R"("error":false)"};
    if (!r(5)) m.push_back(kErrors[r(6)]);
    std::shuffle(m.begin(), m.end(), g);
    std::string out = "{";
    for (size_t i = 0; i < m.size(); ++i) out += (i ? (r(4) ? "," : " ,\n ") : "") + m[i];
    out += "}";
    if (!r(12)) out.insert(r(out.size()), 1, "x,{\"\\"[r(5)]);  // broken JSON now and then
    return out;
}

static void test_usage_from_completion_matches_dom(void**) {
    std::mt19937_64 g(99);
    for (int i = 0; i < 6000; ++i) {
        std::string body = completion(g, false);
        same_usage(usage_from_completion(body), ref::usage_from_completion(body), body);
    }
    // whole-document validity still matters: a broken tail means no usage, as with the DOM
    std::string ok = R"({"usage":{"prompt_tokens":1,"completion_tokens":2}})";
    assert_int_equal(usage_from_completion(ok).total_tokens, 3);
    assert_int_equal(usage_from_completion(ok + ",").total_tokens, -1);
    assert_int_equal(usage_from_completion(R"({"usage":{"prompt_tokens":1},"x":1e999})").prompt_tokens, -1);
    assert_int_equal(usage_from_completion(R"({"us\u0061ge":{"prompt_tokens":4}})").prompt_tokens, 4);
    assert_int_equal(usage_from_completion(R"({"usage":{"prompt_tokens":4},"usage":null})").prompt_tokens, -1);
}

static void test_relay_events_match_dom(void**) {
    std::mt19937_64 g(123);
    for (int i = 0; i < 3000; ++i) {
        bool want = g() % 2;
        std::string stream;
        for (int k = 0, n = 1 + static_cast<int>(g() % 4); k < n; ++k) {
            std::string ev = "data: " + completion(g, true) + "\n\n";
            stream += ev;
        }
        stream += "data: [DONE]\n\n";

        ref::EventState st;
        st.want_usage = want;
        std::string expect;
        SseParser parser;  // the same framing as the relay (a raw newline ends a data line)
        auto on_event = [&](const SseEvent& ev) {
            if (ref::on_data(ev.data, st)) expect.append(ev.raw.data(), ev.raw.size());
        };
        assert_true(parser.feed(stream, on_event));
        parser.flush(on_event);

        OpenAIStreamRelay relay(want);
        std::string out;
        assert_true(relay.feed(stream, &out));
        assert_true(relay.finish(&out));
        if (out != expect) fail_msg("relayed bytes differ for:\n%s\n--- relayed:\n%s\n--- expected:\n%s", stream.c_str(), out.c_str(), expect.c_str());
        assert_int_equal(relay.saw_error(), st.error);
        same_usage(relay.usage(), st.usage, stream);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_from_completion_matches_dom),
        cmocka_unit_test(test_relay_events_match_dom),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
