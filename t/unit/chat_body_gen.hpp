// Random OpenAI chat-completions bodies for differential tests: valid and invalid variants of every
// field the gateway checks or rewrites, random member order and whitespace, escaped keys,
// duplicate members, nested look-alikes ("model"/"metadata"/"role" keys inside values).
// Include before test_util.hpp (cmocka.h must come last).
#pragma once
#include <algorithm>
#include <iterator>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace test {

class ChatBodyGen {
public:
    explicit ChatBodyGen(uint64_t seed) : g_(seed) {}

    size_t r(size_t n) { return static_cast<size_t>(g_() % n); }
    bool pct(unsigned p) { return g_() % 100 < p; }

    // One body; `valid_pct` is the chance of each checked field taking a valid variant.
    std::string body(unsigned valid_pct = 90) {
        std::vector<std::string> members;
        auto add = [&](const std::string& key_json, const std::string& value) {
            members.push_back(key_json + ws() + ":" + ws() + value);
        };
        bool ok;
        // model
        ok = pct(valid_pct);
        if (ok || pct(50)) add(key("model", "mod\\u0065l"), ok ? pick(kModelOk) : pick(kModelBad));
        // messages
        ok = pct(valid_pct);
        if (ok || pct(50)) add(key("messages", "m\\u0065ssages"), ok ? messages(valid_pct) : pick(kMessagesBad));
        // stream / stream_options
        bool stream = pct(50);
        if (pct(80)) add(key("stream", "stre\\u0061m"), pct(valid_pct) ? (stream ? "true" : pick(kStreamOff)) : pick(kStreamBad));
        if (pct(50)) {
            ok = pct(valid_pct);
            add(key("stream_options", "stream_opti\\u006fns"), ok ? pick(kStreamOptionsOk) : pick(kStreamOptionsBad));
        }
        // metadata
        if (pct(60)) {
            ok = pct(valid_pct);
            add(key("metadata", "metad\\u0061ta"), ok ? pick(kMetadataOk) : pick(kMetadataBad));
        }
        // passthrough members
        std::vector<const char*> extras(std::begin(kExtras), std::end(kExtras));
        std::shuffle(extras.begin(), extras.end(), g_);
        for (size_t n = r(6); n > 0; --n) members.push_back(extras[n]);
        // a duplicate of a random member now and then (jansson: the last one wins)
        if (!members.empty() && pct(8)) members.push_back(members[r(members.size())]);
        std::shuffle(members.begin(), members.end(), g_);

        std::string out = ws() + "{" + ws();
        for (size_t i = 0; i < members.size(); ++i) {
            if (i) out += ws() + "," + ws();
            out += members[i];
        }
        out += ws() + "}" + ws();
        return out;
    }

    std::string messages(unsigned valid_pct) {
        std::string out = "[";
        size_t n = 1 + r(4);
        for (size_t i = 0; i < n; ++i) {
            if (i) out += "," + ws();
            out += pct(valid_pct) ? message_ok() : pick(kMessageBad);
        }
        return out + "]";
    }

private:
    template <size_t N>
    std::string pick(const char* const (&a)[N]) {
        return a[r(N)];
    }

    std::string ws() {
        if (!pct(20)) return "";
        static const char* kWs[] = {" ", "\n", "  ", "\r\n", "\t", "\n    "};
        return pick(kWs);
    }

    std::string key(const char* plain, const char* escaped) {
        return std::string("\"") + (pct(10) ? escaped : plain) + "\"";
    }

    std::string message_ok() {
        std::vector<std::string> m;
        m.push_back(std::string(pct(10) ? "\"r\\u006fle\"" : "\"role\"") + ":" + pick(kRoles));
        static const char* kContent[] = {
            R"("content":"hi")",
            R"("content":"developer")",
            R"("content":null)",
            R"("content": [ {"type":"text","text":"hi \"there\"\n"}, {"type":"image_url","image_url":{"url":"data:x"}} ])",
            R"("content":"\u00e9\ud83d\ude00 \/ é 😀")",
            R"("content":"{\"role\":\"developer\",\"model\":\"x\"}")",
            R"("content":{"role":"developer","model":"nested","metadata":{"a":1}})",
            R"("name":"d","content":"x")",
            R"("tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}])",
            R"("tool_call_id":"c1","content":"{}")",
            R"("content":"x","role":"developer")",
            R"("content":"x","role":"user")",
        };
        if (pct(90)) m.push_back(pick(kContent));
        std::shuffle(m.begin(), m.end(), g_);
        std::string out = "{" + ws();
        for (size_t i = 0; i < m.size(); ++i) out += (i ? "," : "") + m[i];
        return out + ws() + "}";
    }

    static constexpr const char* kRoles[] = {
        R"("user")", R"("system")", R"("developer")", R"("assistant")", R"("tool")", R"("function")",
        R"("us\u0065r")", R"("develop\u0065r")", R"("\u0064eveloper")",
    };
    static constexpr const char* kModelOk[] = {
        R"("gpt-4o")", R"("smart")", R"("openai/gpt-4o")", R"("gpt\u002d4o")", "\"mod\xc3\xa9le\"",
        R"("a\"b\\c")", R"("m")",
    };
    static constexpr const char* kModelBad[] = {R"("")", "5", "null", "true", "[]", "{}", R"(["gpt"])"};
    static constexpr const char* kMessagesBad[] = {
        "[]", "{}", R"("x")", "null", "7", R"(["hi"])", R"([{"role":"user"},1])", R"([{"content":"x"}])",
        R"([{"role":7}])", R"([{"role":"User"}])", R"([{"role":null}])", R"([{"role":"user"},{"role":"wizard"}])",
        R"([{"role":"user","role":5}])", R"([null])",
    };
    static constexpr const char* kMessageBad[] = {
        R"("hi")", "1", "null", "[]", R"({"content":"x"})", R"({"role":7})", R"({"role":"User"})",
        R"({"role":"developer ","content":"x"})", R"({"role":"user","role":[]})",
    };
    static constexpr const char* kStreamOff[] = {"false", "null"};
    static constexpr const char* kStreamBad[] = {R"("true")", "1", "0", "{}", "[]"};
    static constexpr const char* kStreamOptionsOk[] = {
        "null", "{}", R"({"include_usage":true})", R"({"include_usage":false})", R"({"include_usage":null})",
        R"({ "continuous_usage_stats" : true , "include_usage" : false , "x" : [1,{"include_usage":false}] })",
        R"({"include\u005fusage":false})", R"({"nested":{"include_usage":false}})",
        R"({"include_usage":false,"include_usage":true})", R"({"include_usage":true,"include_usage":false})",
    };
    static constexpr const char* kStreamOptionsBad[] = {
        "[]", R"("x")", "1", R"({"include_usage":"yes"})", R"({"include_usage":1})",
    };
    static constexpr const char* kMetadataOk[] = {
        "null", "{}", R"({"route_hint":"groq/llama-3.3-70b"})", R"({"session_id":"s-1","route_hint":"smart"})",
        R"({"route_hint":null,"session_id":null})", R"({"other":{"metadata":1},"route_hint":"a\u00e9"})",
        R"({"route_hint":"x","route_hint":"y"})", R"({"session_id":"\ud83d\ude00"})",
    };
    static constexpr const char* kMetadataBad[] = {
        R"("x")", "[]", "1", R"({"route_hint":1})", R"({"session_id":{}})", R"({"route_hint":["a"]})",
    };
    static constexpr const char* kExtras[] = {
        R"("temperature":0.7)", R"("top_p":1)", R"("n":1)", R"("user":null)", R"("max_tokens":100)",
        R"("stop":["\n","###"])", R"("logit_bias":{"123":-100,"456":1.5e1})", R"("seed":-9223372036854775808)",
        R"("response_format":{"type":"json_schema","json_schema":{"name":"m","schema":{"type":"object","properties":{"model":{"type":"string"},"metadata":{"type":"object"}}}}})",
        R"("tools":[{"type":"function","function":{"name":"f","description":"d \u00e9","parameters":{"type":"object","properties":{"stream":{"type":"boolean"}}}}}])",
        R"("frequency_penalty":-0.0)", R"("presence_penalty":1E+0)", R"("big":1e300)", R"("tiny":1e-300)",
        R"("x":"\u0000")", "\"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\":\"\xe5\x80\xbc\"", R"("":"empty key")",
        R"("\u006dodels":["a"])", R"("store":false)", R"("parallel_tool_calls":true)",
        R"("modalities":["text"],"audio":null)",
    };

    std::mt19937_64 g_;
};

}  // namespace test
