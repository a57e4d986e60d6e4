// Helpers shared by the Bedrock unit tests: an event-stream frame encoder (ConverseStream events
// and exceptions), an OpenAI SSE output parser, and request/key builders.
#pragma once
#include "egress/bedrock/aws_eventstream.hpp"
#include "ingress/chat_request.hpp"
#include "config/config_snapshot.hpp"
#include "util/json_util.hpp"
#include "egress/provider_adapter.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"
#include "translator_run.hpp"

namespace bedrock_test {

using namespace routeshift;

inline std::string es_header(std::string_view name, std::string_view value) {
    std::string h;
    h += static_cast<char>(name.size());
    h += name;
    h += '\x07';
    h += static_cast<char>(value.size() >> 8);
    h += static_cast<char>(value.size() & 0xFF);
    h += value;
    return h;
}

inline std::string es_frame(std::string_view headers, std::string_view payload) {
    auto put32 = [](std::string& s, uint32_t v) {
        for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    std::string f;
    put32(f, static_cast<uint32_t>(16 + headers.size() + payload.size()));
    put32(f, static_cast<uint32_t>(headers.size()));
    put32(f, crc32_ieee(std::string_view(f.data(), 8)));
    f += headers;
    f += payload;
    put32(f, crc32_ieee(f));
    return f;
}

// A ConverseStream event frame as Bedrock sends it (with the "p" padding field).
inline std::string event(std::string_view type, std::string_view json_payload) {
    std::string p(json_payload);
    if (p.size() >= 2 && p.back() == '}') {
        p.pop_back();
        p += (p.size() > 1 ? ",\"p\":\"abcdefgh\"}" : "\"p\":\"abcdefgh\"}");
    }
    return es_frame(es_header(":event-type", type) + es_header(":content-type", "application/json") +
                        es_header(":message-type", "event"),
                    p);
}

inline std::string exception(std::string_view type, std::string_view message) {
    std::string payload = "{\"message\":\"";
    json_escape_append(payload, message);
    payload += "\"}";
    return es_frame(es_header(":exception-type", type) + es_header(":content-type", "application/json") +
                        es_header(":message-type", "exception"),
                    payload);
}

struct Sse {
    std::vector<std::string> data;  // every data: payload in order
    bool done = false;              // last event is [DONE]
    size_t done_count = 0;
};

inline Sse parse_sse(const std::string& out) {
    Sse s;
    size_t pos = 0;
    while (pos < out.size()) {
        size_t end = out.find("\n\n", pos);
        if (end == std::string::npos) fail_msg("SSE output has an unterminated event: %s", out.substr(pos).c_str());
        std::string ev = out.substr(pos, end - pos);
        pos = end + 2;
        if (ev.rfind("data: ", 0) != 0) {
            if (ev.rfind(":", 0) == 0) continue;  // comment
            fail_msg("unexpected SSE line: %s", ev.c_str());
        }
        std::string d = ev.substr(6);
        if (d == "[DONE]") ++s.done_count;
        s.data.push_back(d);
    }
    s.done = !s.data.empty() && s.data.back() == "[DONE]";
    return s;
}

// What an OpenAI client assembles from a chunk stream.
struct Assembled {
    std::string id, model;
    long long created = -1;
    std::string content, reasoning;
    struct Call {
        std::string id, name, args;
    };
    std::vector<Call> calls;
    std::vector<std::string> finish;  // every non-null finish_reason
    JsonPtr usage;                    // the usage chunk's usage
    size_t usage_chunks = 0;
    size_t chunks = 0;
    bool first_has_role = false;
    JsonPtr error;  // the error object of an error event
    bool done = false;
    bool chunk_after_finish = false;  // a content chunk after the finish chunk
};

inline Assembled assemble(const std::string& out) {
    Assembled a;
    Sse s = parse_sse(out);
    assert_true(s.done_count <= 1);
    for (size_t i = 0; i < s.data.size(); ++i) {
        const std::string& d = s.data[i];
        if (d == "[DONE]") {
            assert_int_equal(i, s.data.size() - 1);  // [DONE] is last
            a.done = true;
            continue;
        }
        std::string err;
        JsonPtr j = json_parse(d, &err);
        if (!j) fail_msg("invalid JSON in SSE data (%s): %s", err.c_str(), d.c_str());
        if (json_object_get(j.get(), "error")) {
            assert_null(a.error.get());
            a.error.reset(json_incref(json_object_get(j.get(), "error")));
            continue;
        }
        assert_null(a.error.get());  // nothing after an error event
        ++a.chunks;
        assert_str_eq(json_string_view(j.get(), "object"), "chat.completion.chunk");
        std::string id(json_string_view(j.get(), "id")), model(json_string_view(j.get(), "model"));
        long long created = json_integer_value(json_object_get(j.get(), "created"));
        if (a.chunks == 1) {
            a.id = id;
            a.model = model;
            a.created = created;
        } else {
            assert_str_eq(id, a.id);
            assert_str_eq(model, a.model);
            assert_int_equal(created, a.created);
        }
        const json_t* choices = json_object_get(j.get(), "choices");
        assert_true(json_is_array(choices));
        const json_t* usage = json_object_get(j.get(), "usage");
        if (json_array_size(choices) == 0) {
            assert_true(json_is_object(usage));
            ++a.usage_chunks;
            a.usage.reset(json_incref(const_cast<json_t*>(usage)));
            continue;
        }
        assert_true(usage == nullptr || json_is_null(usage));
        assert_int_equal(a.usage_chunks, 0);  // usage chunk is after every choice chunk
        const json_t* c = json_array_get(choices, 0);
        const json_t* delta = json_object_get(c, "delta");
        if (a.chunks == 1) a.first_has_role = json_string_view(delta, "role") == "assistant";
        const json_t* fr = json_object_get(c, "finish_reason");
        if (!a.finish.empty() && json_object_size(delta) > 0) a.chunk_after_finish = true;
        if (json_is_string(fr)) a.finish.emplace_back(json_string_value(fr));
        a.content += json_string_view(delta, "content");
        a.reasoning += json_string_view(delta, "reasoning_content");
        const json_t* tcs = json_object_get(delta, "tool_calls");
        size_t k;
        const json_t* tc;
        json_array_foreach(tcs, k, tc) {
            long long idx = json_integer_value(json_object_get(tc, "index"));
            assert_true(idx >= 0 && idx <= static_cast<long long>(a.calls.size()));
            if (idx == static_cast<long long>(a.calls.size())) {
                // the first fragment of a call carries id, type and name
                assert_false(json_string_view(tc, "id").empty());
                assert_str_eq(json_string_view(tc, "type"), "function");
                a.calls.push_back({std::string(json_string_view(tc, "id")),
                                   std::string(json_string_view(json_object_get(tc, "function"), "name")), ""});
            } else {
                assert_null(json_object_get(tc, "id"));
            }
            a.calls[static_cast<size_t>(idx)].args += json_string_view(json_object_get(tc, "function"), "arguments");
        }
    }
    return a;
}

inline ChatRequest request(const std::string& body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("request rejected by parse_chat_request: %s (%s)", err.message.c_str(), body.c_str());
    return std::move(*r);
}

inline ProviderKey key(const std::string& metadata_json, const std::string& secret) {
    ProviderKey k;
    k.id = 1;
    k.provider = 0;
    k.label = "test";
    k.secret = secret;
    std::string err;
    k.metadata = json_parse(metadata_json, &err);
    assert_non_null(k.metadata.get());
    // The typed fields parse_snapshot fills, copied unvalidated: the per-attempt defences are
    // what these tests exercise (push-time validation: t/unit/config).
    const json_t* md = k.metadata.get();
    k.meta.region = json_string_view(md, "region");
    k.meta.access_key_id = json_string_view(md, "access_key_id");
    k.meta.session_token = json_string_view(md, "session_token");
    std::string_view auth = json_string_view(md, "auth");
    k.meta.bedrock_api_key = auth == "api_key" || auth == "bearer";
    k.wire = WireFormat::bedrock;
    return k;
}

// The translator's whole output for `body` cut at `cuts`; `ok`: every feed() and finish() succeeded.
inline std::string translate(const std::string& body, const TranslatorOptions& opt, const std::vector<size_t>& cuts = {},
                             bool* ok = nullptr) {
    auto t = bedrock_translator(opt);
    test::TranslatorRun r = test::run_translator(*t, body, cuts);
    if (ok) *ok = r.feed_ok && r.finish_ok;
    return r.out;
}

}  // namespace bedrock_test
