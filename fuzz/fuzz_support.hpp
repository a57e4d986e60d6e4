// What every fuzz target shares: cutting one input into pieces (the first bytes choose the cuts,
// so libFuzzer explores the splits too), checks that output is valid UTF-8 JSON, and a snapshot
// with one key of every wire format. A failed check aborts, which libFuzzer reports as a crash.
#pragma once
#include "config/config_snapshot.hpp"
#include "util/json_util.hpp"
#include "util/utf8_text.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// Aborts with a message: the fuzzer saves the input that got here.
[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz check failed: %s\n%.*s\n", what, static_cast<int>(std::min<size_t>(detail.size(), 2000)),
                 detail.data());
    std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
    if (!ok) fail(what, detail);
}

// Input = [1 byte: number of cuts n (mod 8)] [n x 2 bytes: cut offsets] [payload]. The cut
// offsets are taken modulo the payload size and sorted.
struct SplitInput {
    std::string_view payload;
    std::vector<size_t> cuts;  // ascending, within [0, payload.size()]

    // The payload as pieces (cut at `cuts`); concatenated they are the payload.
    std::vector<std::string_view> pieces() const {
        std::vector<std::string_view> out;
        size_t prev = 0;
        for (size_t c : cuts) {
            out.push_back(payload.substr(prev, c - prev));
            prev = c;
        }
        out.push_back(payload.substr(prev));
        return out;
    }
};

inline SplitInput split_input(const uint8_t* data, size_t size) {
    SplitInput in;
    std::string_view all(reinterpret_cast<const char*>(data), size);
    if (all.empty()) return in;
    size_t n = static_cast<uint8_t>(all[0]) % 8;
    all.remove_prefix(1);
    std::vector<size_t> raw;
    for (size_t i = 0; i < n && all.size() >= 2; ++i) {
        raw.push_back(static_cast<uint8_t>(all[0]) * 256u + static_cast<uint8_t>(all[1]));
        all.remove_prefix(2);
    }
    in.payload = all;
    for (size_t r : raw) in.cuts.push_back(all.empty() ? 0 : r % (all.size() + 1));
    std::sort(in.cuts.begin(), in.cuts.end());
    return in;
}

// Whether `text` is one JSON document jansson accepts and is valid UTF-8 throughout.
inline bool valid_json_document(std::string_view text) {
    return routeshift::valid_utf8(text) && routeshift::json_parse(text, nullptr) != nullptr;
}

// The data of every event of an SSE text, as a client's SSE reader sees it: lines end at CR, LF or
// CRLF; an event's data lines are joined with "\n" (one space after "data:" dropped); a blank line
// ends the event. A last event without its blank line is included (stricter than a client).
inline std::vector<std::string> sse_data(std::string_view sse) {
    std::vector<std::string> out;
    std::string data;
    bool has_data = false;
    size_t p = 0;
    while (p < sse.size()) {
        size_t e = sse.find_first_of("\r\n", p);
        if (e == std::string_view::npos) e = sse.size();
        std::string_view line = sse.substr(p, e - p);
        if (line.empty()) {
            if (has_data) out.push_back(std::move(data));
            data.clear();
            has_data = false;
        } else if (line.starts_with("data:")) {
            line.remove_prefix(5);
            if (line.starts_with(" ")) line.remove_prefix(1);
            if (has_data) data.push_back('\n');
            data.append(line);
            has_data = true;
        }
        p = e + (sse.compare(e, 2, "\r\n") == 0 ? 2 : 1);
    }
    if (has_data) out.push_back(std::move(data));
    return out;
}

// A stream sent to a client: every data event is valid JSON except a [DONE], which comes only
// last and only when `complete`.
inline void check_client_stream(std::string_view sse, bool complete) {
    check(routeshift::valid_utf8(sse), "stream output is not valid UTF-8", sse);
    auto events = sse_data(sse);
    for (size_t i = 0; i < events.size(); ++i) {
        if (events[i] == "[DONE]") {
            check(i + 1 == events.size(), "[DONE] is not the last event", sse);
            check(complete, "[DONE] sent for an answer that did not succeed", sse);
            continue;
        }
        check(valid_json_document(events[i]), "a stream event is not valid JSON", events[i]);
    }
    if (complete) check(!events.empty() && events.back() == "[DONE]", "a complete stream lacks [DONE]", sse);
}

inline constexpr std::string_view kSecret = "sk-FUZZSECRET-0123456789abcdef/xyz";

// One provider (model "*") per wire format and a few OpenAI-compatible quirks.
inline const routeshift::Config& config() {
    static std::shared_ptr<const routeshift::Config> cfg = [] {
        std::string j = R"({"version":1,"generation":1,"settings":{},
 "providers":[
  {"id":1,"name":"openai","kind":"openai"},
  {"id":2,"name":"azure","kind":"azure"},
  {"id":3,"name":"anthropic","kind":"anthropic"},
  {"id":4,"name":"gemini","kind":"gemini"},
  {"id":5,"name":"bedrock","kind":"bedrock"},
  {"id":6,"name":"zai","kind":"zai"}],
 "provider_keys":[
  {"id":1,"provider_id":1,"secret":"@S@","metadata":{"organization":"org-1"}},
  {"id":2,"provider_id":2,"secret":"@S@","metadata":{"resource_name":"res","api_version":"2024-10-21"}},
  {"id":3,"provider_id":3,"secret":"@S@"},
  {"id":4,"provider_id":4,"secret":"@S@"},
  {"id":5,"provider_id":5,"secret":"@S@","metadata":{"region":"us-east-1","access_key_id":"AKIDEXAMPLE"}},
  {"id":6,"provider_id":6,"secret":"@S@"}],
 "models":[{"provider_id":1,"model":"*"},{"provider_id":2,"model":"*"},{"provider_id":3,"model":"*"},
  {"provider_id":4,"model":"*"},{"provider_id":5,"model":"*"},{"provider_id":6,"model":"*"}],
 "teams":[],"virtual_keys":[],"model_aliases":[],"routing_rules":[],"model_prices":[]})";
        for (size_t p; (p = j.find("@S@")) != std::string::npos;) j.replace(p, 3, kSecret);
        std::string err;
        auto c = routeshift::parse_snapshot(j, &err);
        if (!c) fail("fuzz snapshot rejected", err);
        return c;
    }();
    return *cfg;
}

}  // namespace fuzz
