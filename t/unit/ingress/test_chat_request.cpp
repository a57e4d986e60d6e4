// chat_request: validation of OpenAI chat-completions bodies.
#include "ingress/chat_request.hpp"
#include "chat_body_gen.hpp"
#include "util/utf8_text.hpp"

#include <cstdlib>
#include <cstring>

#include "test_util.hpp"

using namespace routeshift;

// ---- the former jansson-DOM implementation, kept verbatim as the reference ----------------------

namespace ref {

struct Result {
    bool ok = false;
    ApiError err;
    std::string model, route_hint, session_id;
    bool stream = false, include_usage = false;
    size_t message_count = 0;
};

static bool bad(ApiError* err, std::string message, std::string param) {
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = std::move(message);
    err->param = std::move(param);
    err->code.clear();
    return false;
}

static bool valid_role(std::string_view r) {
    return r == "system" || r == "developer" || r == "user" || r == "assistant" || r == "tool" ||
           r == "function";
}

static const json_t* optional_field(const json_t* obj, const char* key) {
    const json_t* v = json_object_get(obj, key);
    return (v && !json_is_null(v)) ? v : nullptr;
}

static Result parse(std::string_view body) {
    Result res;
    ApiError* err = &res.err;
    std::string perr;
    JsonPtr root = json_parse(body, &perr);
    if (!root) {
        bad(err, "We could not parse the JSON body of your request (" + perr + ").", "");
        return res;
    }
    const json_t* r = root.get();
    if (!json_is_object(r)) {
        bad(err, "The request body must be a JSON object.", "");
        return res;
    }
    const json_t* model = json_object_get(r, "model");
    if (!model || json_is_null(model)) {
        bad(err, "You must provide a model parameter.", "model");
        return res;
    }
    if (!json_is_string(model) || json_string_length(model) == 0) {
        bad(err, "The 'model' parameter must be a non-empty string.", "model");
        return res;
    }
    res.model.assign(json_string_value(model), json_string_length(model));
    const json_t* messages = json_object_get(r, "messages");
    if (!messages || json_is_null(messages)) {
        bad(err, "Missing required parameter: 'messages'.", "messages");
        return res;
    }
    if (!json_is_array(messages)) {
        bad(err, "The 'messages' parameter must be an array.", "messages");
        return res;
    }
    size_t n = json_array_size(messages);
    if (n == 0) {
        bad(err, "The 'messages' array must contain at least one message.", "messages");
        return res;
    }
    for (size_t i = 0; i < n; ++i) {
        const json_t* m = json_array_get(messages, i);
        std::string where = "messages[" + std::to_string(i) + "]";
        if (!json_is_object(m)) {
            bad(err, "Invalid type for '" + where + "': expected an object.", where);
            return res;
        }
        const json_t* role = json_object_get(m, "role");
        if (!role || !json_is_string(role)) {
            bad(err, "Missing or invalid '" + where + ".role': expected a string.", where + ".role");
            return res;
        }
        std::string_view rv(json_string_value(role), json_string_length(role));
        if (!valid_role(rv)) {
            bad(err,
                "Invalid value for '" + where +
                    ".role': supported values are 'system', 'developer', 'user', 'assistant', "
                    "'tool' and 'function'.",
                where + ".role");
            return res;
        }
    }
    res.message_count = n;
    if (const json_t* stream = optional_field(r, "stream")) {
        if (!json_is_boolean(stream)) {
            bad(err, "Invalid type for 'stream': expected a boolean.", "stream");
            return res;
        }
        res.stream = json_is_true(stream);
    }
    if (const json_t* so = optional_field(r, "stream_options")) {
        if (!json_is_object(so)) {
            bad(err, "Invalid type for 'stream_options': expected an object.", "stream_options");
            return res;
        }
        if (!res.stream) {
            bad(err, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
            return res;
        }
        if (const json_t* iu = optional_field(so, "include_usage")) {
            if (!json_is_boolean(iu)) {
                bad(err, "Invalid type for 'stream_options.include_usage': expected a boolean.",
                    "stream_options.include_usage");
                return res;
            }
            res.include_usage = json_is_true(iu);
        }
    }
    if (const json_t* md = optional_field(r, "metadata")) {
        if (!json_is_object(md)) {
            bad(err, "Invalid type for 'metadata': expected an object.", "metadata");
            return res;
        }
        if (const json_t* rh = optional_field(md, "route_hint")) {
            if (!json_is_string(rh)) {
                bad(err, "Invalid type for 'metadata.route_hint': expected a string.", "metadata.route_hint");
                return res;
            }
            res.route_hint.assign(json_string_value(rh), json_string_length(rh));
        }
        if (const json_t* sid = optional_field(md, "session_id")) {
            if (!json_is_string(sid)) {
                bad(err, "Invalid type for 'metadata.session_id': expected a string.", "metadata.session_id");
                return res;
            }
            res.session_id.assign(json_string_value(sid), json_string_length(sid));
        }
    }
    res.ok = true;
    return res;
}

}  // namespace ref

// parse_chat_request and the reference agree on `body`: acceptance, every error field, every
// parsed field. Returns false (without failing) only for the documented raw-NUL-byte difference.
static bool same_as_reference(std::string_view body) {
    ref::Result want = ref::parse(body);
    ApiError err;
    err.code = "untouched";
    auto got = parse_chat_request(body, &err);
    if (!got && body.find('\0') != std::string_view::npos && !json_valid(body) && json_parse(body, nullptr)) {
        assert_contains(err.message, "We could not parse the JSON body of your request (");
        return false;  // jansson skipped a NUL byte after a number or literal; we refuse it
    }
    if (got.has_value() != want.ok)
        fail_msg("acceptance differs (ours %d, reference %d: %s) for: %s", got.has_value(), want.ok,
                 want.err.message.c_str(), std::string(body).c_str());
    if (!got) {
        if (err.message != want.err.message) {
            std::string esc;
            for (unsigned char c : body) {
                char b[8];
                if (c >= 0x20 && c < 0x7f) esc += static_cast<char>(c);
                else { std::snprintf(b, sizeof b, "\\x%02x", c); esc += b; }
            }
            fail_msg("error differs for: %s\n  ours: %s\n  reference: %s", esc.c_str(), err.message.c_str(),
                     want.err.message.c_str());
        }
        assert_int_equal(err.status, want.err.status);
        assert_str_eq(err.type, want.err.type);
        assert_str_eq(err.message, want.err.message);
        assert_str_eq(err.param, want.err.param);
        assert_str_eq(err.code, want.err.code);
        return true;
    }
    assert_true(got->model == want.model);
    assert_true(got->route_hint == want.route_hint);
    assert_true(got->session_id == want.session_id);
    assert_int_equal(got->stream, want.stream);
    assert_int_equal(got->include_usage, want.include_usage);
    assert_int_equal(got->message_count, want.message_count);
    assert_true(got->body == body);
    return true;
}

// Expects a 400 with the given param.
static void expect_bad(const char* body, const char* param) {
    assert_true(same_as_reference(body));
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (r) fail_msg("accepted: %s", body);
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_str_eq(err.param, param);
    assert_false(err.message.empty());
}

static void test_minimal(void**) {
    ApiError err;
    auto r = parse_chat_request(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})", &err);
    assert_true(r.has_value());
    assert_str_eq(r->model, "gpt-4o");
    assert_false(r->stream);
    assert_false(r->include_usage);
    assert_int_equal(r->message_count, 1);
    assert_true(r->route_hint.empty());
    assert_true(r->session_id.empty());
    assert_non_null(r->dom());
    assert_true(json_is_object(r->dom()));
}

static void test_full(void**) {
    ApiError err;
    auto r = parse_chat_request(R"({
      "model": "smart",
      "messages": [
        {"role": "developer", "content": "terse"},
        {"role": "system", "content": "x"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": null, "tool_calls": []},
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
        {"role": "function", "name": "f", "content": "{}"}
      ],
      "stream": true,
      "stream_options": {"include_usage": true},
      "metadata": {"route_hint": "groq/llama-3.3-70b", "session_id": "s-1", "other": 5}
    })", &err);
    assert_true(r.has_value());
    assert_str_eq(r->model, "smart");
    assert_true(r->stream);
    assert_true(r->include_usage);
    assert_int_equal(r->message_count, 6);
    assert_str_eq(r->route_hint, "groq/llama-3.3-70b");
    assert_str_eq(r->session_id, "s-1");
}

static void test_nulls_are_absent(void**) {
    ApiError err;
    auto r = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":null,"stream_options":null,"metadata":null})",
        &err);
    assert_true(r.has_value());
    assert_false(r->stream);
    auto s = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}})",
        &err);
    assert_true(s.has_value());
    assert_true(s->stream);
    assert_false(s->include_usage);
}

static void test_body_errors(void**) {
    expect_bad("", "");
    expect_bad("{", "");
    expect_bad("[]", "");
    expect_bad("\"str\"", "");
    expect_bad("null", "");
}

static void test_model_errors(void**) {
    expect_bad(R"({"messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":"","messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":5,"messages":[{"role":"user","content":"x"}]})", "model");
    expect_bad(R"({"model":null,"messages":[{"role":"user","content":"x"}]})", "model");
}

static void test_messages_errors(void**) {
    expect_bad(R"({"model":"m"})", "messages");
    expect_bad(R"({"model":"m","messages":[]})", "messages");
    expect_bad(R"({"model":"m","messages":{"role":"user"}})", "messages");
    expect_bad(R"({"model":"m","messages":["hi"]})", "messages[0]");
    expect_bad(R"({"model":"m","messages":[{"role":"user","content":"a"},{"content":"b"}]})", "messages[1].role");
    expect_bad(R"({"model":"m","messages":[{"role":"user"},{"role":"user"},{"role":"wizard"}]})", "messages[2].role");
    expect_bad(R"({"model":"m","messages":[{"role":7}]})", "messages[0].role");
    expect_bad(R"({"model":"m","messages":[{"role":"User"}]})", "messages[0].role");
}

static void test_stream_errors(void**) {
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":"true"})", "stream");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":1})", "stream");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream_options":{"include_usage":true}})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":false,"stream_options":{}})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":[]})", "stream_options");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":{"include_usage":"yes"}})",
               "stream_options.include_usage");
}

static void test_metadata_errors(void**) {
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":"x"})", "metadata");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":{"route_hint":1}})", "metadata.route_hint");
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"metadata":{"session_id":{}}})", "metadata.session_id");
}

static void test_parse_error_keeps_jansson_wording(void**) {
    ApiError err;
    assert_false(parse_chat_request("{\"model\":\"m\",}", &err).has_value());
    std::string perr;
    assert_null(json_parse("{\"model\":\"m\",}", &perr).get());
    assert_str_eq(err.message, "We could not parse the JSON body of your request (" + perr + ").");
    assert_contains(err.message, "line 1 column");
    assert_str_eq(err.param, "");
    const char* bodies[] = {"", "{", "[1,]", "{\"a\":1e999}", "{\"a\":99999999999999999999}", "{\"a\":\"\\ud800\"}",
                            "{\"a\":\"\xc3\"}", "{\"\\u0000\":1}", "{} x", "nul"};
    for (const char* b : bodies) assert_true(same_as_reference(b));
}

static void test_escaped_and_duplicate_keys(void**) {
    ApiError err;
    auto r = parse_chat_request(
        R"({"mod\u0065l":"gpt\u002d4o","m\u0065ssages":[{"r\u006fle":"us\u0065r"}],"stre\u0061m":true,)"
        R"("stream_opti\u006fns":{"include\u005fusage":true},"metad\u0061ta":{"route\u005fhint":"a\u00e9"}})",
        &err);
    assert_true(r.has_value());
    assert_str_eq(r->model, "gpt-4o");
    assert_true(r->stream);
    assert_true(r->include_usage);
    assert_str_eq(r->route_hint, "a\xc3\xa9");
    assert_false(r->duplicate_keys);

    // the last duplicate wins, as with jansson
    auto d = parse_chat_request(R"({"model":5,"messages":[{"role":"user"}],"model":"m"})", &err);
    assert_true(d.has_value());
    assert_str_eq(d->model, "m");
    assert_true(d->duplicate_keys);
    expect_bad(R"({"model":"m","messages":[{"role":"user"}],"model":5})", "model");
    expect_bad(R"({"model":"m","messages":[{"role":"user","role":"x"}]})", "messages[0].role");
    auto e = parse_chat_request(R"({"model":"m","messages":[{"role":"x","role":"tool"}],"mod\u0065l":"n"})", &err);
    assert_true(e.has_value());
    assert_str_eq(e->model, "n");
    assert_true(e->duplicate_keys);
}

static void test_nul_escapes_as_before(void**) {
    // json_parse allows "\u0000" in strings (JSON_ALLOW_NUL); keys never
    ApiError err;
    auto r = parse_chat_request(R"({"model":"a\u0000b","messages":[{"role":"user","content":"\u0000"}]})", &err);
    assert_true(r.has_value());
    assert_true(r->model == std::string("a\0b", 3));
    assert_true(same_as_reference(R"({"model":"m","messages":[{"role":"user"}],"\u0000":1})"));
    assert_true(same_as_reference(R"({"model":"m","messages":[{"role":"us\u0000er"}]})"));
    // a raw NUL byte after a number: jansson alone skips it; the scanner and json_parse refuse it
    std::string quirk = R"({"model":"m","messages":[{"role":"user"}],"n":1})";
    quirk.insert(quirk.size() - 1, 1, '\0');
    assert_false(parse_chat_request(quirk, &err).has_value());
    assert_int_equal(err.status, 400);
    assert_true(same_as_reference(quirk));
}

static void test_move_and_lazy_dom(void**) {
    ApiError err;
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hello"}]})", &err);
    assert_true(r.has_value());
    ChatRequest a = std::move(*r);
    r.reset();
    ChatRequest b;
    b = std::move(a);
    assert_int_equal(b.members.size(), 2);
    assert_true(b.members[0].key.data() >= b.body.data() &&
                b.members[0].key.data() < b.body.data() + b.body.size());
    assert_true(json_find(b.members, "messages").is(JsonType::array));
    const json_t* d1 = b.dom();
    assert_non_null(d1);
    assert_ptr_equal(d1, b.dom());  // parsed once
    assert_str_eq(json_string_view(d1, "model"), "m");
    ChatRequest empty;
    assert_null(empty.dom());
}

static void test_differential_vs_dom_reference(void**) {
    uint64_t seed = 7;
    size_t rounds = 4000;
    if (const char* e = std::getenv("RS_FUZZ_SEED")) seed = std::strtoull(e, nullptr, 10);
    if (const char* e = std::getenv("RS_FUZZ_ROUNDS")) rounds = std::strtoull(e, nullptr, 10);
    test::ChatBodyGen gen(seed);
    size_t n = 0, ok = 0, quirk = 0;
    for (size_t i = 0; i < rounds; ++i) {
        std::string body = gen.body(i % 2 ? 97 : 80);
        for (int k = 0; k < 4; ++k) {
            ++n;
            ApiError err;
            if (same_as_reference(body)) {
                if (parse_chat_request(body, &err)) ++ok;
            } else {
                ++quirk;
            }
            // byte-level damage for the next round
            size_t pos = gen.r(body.size() + 1);
            static const char kBytes[] = {'\0', '"', '\\', ',', ':', '{', '}', '[', ']', ' ', '1', 'x', '\x80'};
            switch (gen.r(4)) {
            case 0: body.insert(pos, 1, kBytes[gen.r(sizeof kBytes)]); break;
            case 1: if (pos < body.size()) body.erase(pos, 1); break;
            case 2: if (pos < body.size()) body[pos] = kBytes[gen.r(sizeof kBytes)]; break;
            default: body.resize(pos); break;
            }
        }
    }
    std::printf("chat differential: %zu bodies (seed %llu), %zu accepted, %zu raw-NUL differences\n", n,
                static_cast<unsigned long long>(seed), ok, quirk);
    assert_true(ok > n / 10);
}

static void test_null_err_pointer(void**) {
    assert_false(parse_chat_request("{}", nullptr).has_value());
}

// issue 13: model names are bounded, never dot segments, never break a header line (clear 400s)
static void test_model_name_bounds(void**) {
    auto body = [](const std::string& model) {
        return R"({"model":)" + model + R"(,"messages":[{"role":"user","content":"hi"}]})";
    };
    ApiError err;
    std::string at_limit(kMaxModelNameBytes, 'm');
    assert_true(parse_chat_request(body("\"" + at_limit + "\""), &err).has_value());
    auto r = parse_chat_request(body("\"" + at_limit + "x\""), &err);
    assert_false(r.has_value());
    assert_int_equal(err.status, 400);
    assert_str_eq(err.param, "model");
    assert_contains(err.message, "256 bytes");
    // the limit counts decoded bytes: escapes cannot smuggle a longer name
    std::string escaped;
    for (size_t i = 0; i < kMaxModelNameBytes + 1; ++i) escaped += "\\u0041";
    assert_false(parse_chat_request(body("\"" + escaped + "\""), &err).has_value());
    for (const char* m : {"\".\"", "\"..\"", "\"\\u002e\\u002e\""}) {
        assert_false(parse_chat_request(body(m), &err).has_value());
        assert_str_eq(err.param, "model");
        assert_int_equal(err.status, 400);
    }
    assert_true(parse_chat_request(body("\"...\""), &err).has_value());
    assert_true(parse_chat_request(body("\"a/../b\""), &err).has_value());  // encoded as one segment
    assert_false(parse_chat_request(body("\"gpt\\r\\nX-Evil: 1\""), &err).has_value());
    assert_str_eq(err.param, "model");
    assert_false(parse_chat_request(body("\"gpt\\n\""), &err).has_value());
    // other fields' errors keep their precedence over the name checks
    assert_false(parse_chat_request(R"({"model":"..","messages":[]})", &err).has_value());
    assert_str_eq(err.param, "messages");
}

// issue 13: jansson's "near '...'" text may end inside a character; the error stays valid UTF-8
static void test_parse_error_message_is_valid_utf8(void**) {
    // jansson cuts its quoted token to fit its error text: with 2-byte characters and either
    // parity of the cut, one of these lands inside a character
    for (const char* lead : {"", "a"}) {
        std::string bodytext = std::string("{\"model\":\"") + lead;
        for (int i = 0; i < 200; ++i) bodytext += "\xC3\xA9";
        bodytext += "\x01\"}";
        ApiError err;
        assert_false(parse_chat_request(bodytext, &err).has_value());
        std::string out = openai_error_body(err);
        assert_true(valid_utf8(out));
        assert_non_null(json_parse(out, nullptr).get());
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),        cmocka_unit_test(test_full),
        cmocka_unit_test(test_nulls_are_absent), cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_model_errors),   cmocka_unit_test(test_messages_errors),
        cmocka_unit_test(test_stream_errors),  cmocka_unit_test(test_metadata_errors),
        cmocka_unit_test(test_null_err_pointer),
        cmocka_unit_test(test_parse_error_keeps_jansson_wording),
        cmocka_unit_test(test_escaped_and_duplicate_keys),
        cmocka_unit_test(test_nul_escapes_as_before),
        cmocka_unit_test(test_move_and_lazy_dom),
        cmocka_unit_test(test_differential_vs_dom_reference),
        cmocka_unit_test(test_model_name_bounds),
        cmocka_unit_test(test_parse_error_message_is_valid_utf8),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
