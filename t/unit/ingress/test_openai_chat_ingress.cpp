// openai_chat_ingress: OpenAI chat body -> canonical request, checked field by field and against
// the jansson DOM of random bodies (every span must hold exactly the value the DOM has).
#include "ingress/openai_chat_ingress.hpp"

#include "chat_body_gen.hpp"
#include "test_util.hpp"

using namespace routeshift;

namespace {

ChatRequest parse(const std::string& body) {
    ApiError err;
    auto r = parse_chat_request(body, &err);
    if (!r) fail_msg("rejected: %s", err.message.c_str());
    return std::move(*r);
}

// The span holds the same JSON value as the DOM node (absent spans match absent nodes).
void same_value(JsonValue v, const json_t* node, const char* what) {
    if (!v) {
        if (node) fail_msg("%s: span absent, DOM has %s", what, json_dump_compact(node).c_str());
        return;
    }
    JsonPtr parsed = json_parse(v.text, nullptr);
    if (!parsed) fail_msg("%s: span is not JSON: %.*s", what, static_cast<int>(v.text.size()), v.text.data());
    if (!node || !json_equal(parsed.get(), const_cast<json_t*>(node)))
        fail_msg("%s: span %.*s, DOM %s", what, static_cast<int>(v.text.size()), v.text.data(),
                 node ? json_dump_compact(node).c_str() : "(absent)");
}

}  // namespace

static void test_fields_and_parts(void**) {
    ChatRequest req = parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
        "temperature":0.5,"max_tokens":9,"tools":[{"type":"function","function":{"name":"f"}}],
        "response_format":{"type":"json_object"},"metadata":{"route_hint":"x"},"user":"u",
        "messages":[
          {"role":"system","content":"S \"q\" \u00e9"},
          {"role":"user","content":[{"type":"text","text":"T","cache_control":{"type":"ephemeral"}},
                                    {"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}},
                                    {"type":"image_url","image_url":"data:image/png;base64,AAAA"},
                                    {"type":"input_audio","input_audio":{"data":"AA","format":"wav"}},
                                    {"type":"file","file":{"file_data":"data:application/pdf;base64,AA","filename":"a.pdf"}},
                                    {"type":"video"}, 7]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
          {"role":"tool","tool_call_id":"c1","content":"42"},
          {"role":"assistant","content":[{"type":"refusal","refusal":"no"}]}]})");
    CanonicalRequest c = canonical_from_openai_chat(req);
    assert_true(c.stream);
    assert_true(c.include_usage);
    assert_str_eq(std::string(c.model.text), "\"m\"");
    assert_str_eq(std::string(c.temperature.text), "0.5");
    assert_str_eq(std::string(c.max_tokens.text), "9");
    assert_true(c.tools.is(JsonType::array));
    assert_true(c.response_format.is(JsonType::object));
    assert_true(c.metadata.is(JsonType::object));
    assert_str_eq(std::string(c.user.text), "\"u\"");
    assert_int_equal(c.messages.size(), 5);
    assert_true(c.messages[0].role == MessageRole::system);
    // text stays escaped, quotes included: copied verbatim by builders
    assert_str_eq(std::string(c.messages[0].content.text), R"("S \"q\" \u00e9")");

    const CanonicalMessage& u = c.messages[1];
    assert_true(u.role == MessageRole::user);
    assert_int_equal(u.part_count, 7);
    const ContentPart* p = c.parts_of(u);
    assert_true(p[0].kind == PartKind::text);
    assert_str_eq(std::string(p[0].text.text), "\"T\"");
    assert_str_eq(std::string(p[0].cache_control.text), R"({"type":"ephemeral"})");
    assert_true(p[1].kind == PartKind::image_url);
    assert_str_eq(std::string(p[1].url.text), "\"https://x/y.png\"");
    assert_str_eq(std::string(p[1].detail.text), "\"low\"");
    assert_true(p[2].kind == PartKind::image_url);
    assert_str_eq(std::string(p[2].url.text), "\"data:image/png;base64,AAAA\"");
    assert_true(p[3].kind == PartKind::input_audio);
    assert_true(p[3].input_audio.is(JsonType::object));
    assert_true(p[4].kind == PartKind::file);
    assert_str_eq(std::string(p[4].filename.text), "\"a.pdf\"");
    assert_true(p[4].file_data.is(JsonType::string));
    assert_true(p[4].file_id.text.empty());
    assert_true(p[5].kind == PartKind::other);
    assert_str_eq(std::string(p[5].type.text), "\"video\"");
    assert_true(p[6].kind == PartKind::malformed);

    const CanonicalMessage& a = c.messages[2];
    assert_true(a.role == MessageRole::assistant);
    assert_true(a.content.is(JsonType::null));
    assert_int_equal(a.call_count, 1);
    const ToolCall& call = c.calls_of(a)[0];
    assert_str_eq(std::string(call.id.text), "\"c1\"");
    assert_str_eq(std::string(call.name.text), "\"f\"");
    assert_str_eq(std::string(call.arguments.text), R"("{\"a\":1}")");

    assert_true(c.messages[3].role == MessageRole::tool);
    assert_str_eq(std::string(c.messages[3].tool_call_id.text), "\"c1\"");
    const ContentPart& refusal = c.parts_of(c.messages[4])[0];
    assert_true(refusal.kind == PartKind::refusal);
    assert_str_eq(std::string(refusal.text.text), "\"no\"");
}

static void test_escaped_and_duplicate_keys(void**) {
    ChatRequest req = parse(R"({"model":"m","stream":false,"str\u0065am":true,
        "messages":[{"role":"user","r\u006fle":"assistant","content":"a","content":[{"type":"t\u0065xt","t\u0065xt":"b","text":"c"}]}]})");
    CanonicalRequest c = canonical_from_openai_chat(req);
    assert_true(c.stream);  // the last "stream" wins, escaped or not
    assert_true(c.messages[0].role == MessageRole::assistant);
    assert_int_equal(c.messages[0].part_count, 1);  // the parts of the last "content"
    assert_true(c.parts[0].kind == PartKind::text);
    assert_str_eq(std::string(c.parts[0].text.text), "\"c\"");
    assert_false(c.include_usage);
}

static void test_absent_fields(void**) {
    ChatRequest req = parse(R"({"model":"m","messages":[{"role":"user"}]})");
    CanonicalRequest c = canonical_from_openai_chat(req);
    assert_false(c.stream);
    assert_true(c.tools.text.empty());
    assert_true(c.messages[0].content.text.empty());
    assert_int_equal(c.messages[0].part_count, 0);
    assert_int_equal(c.parts.size(), 0);
    assert_int_equal(c.tool_calls.size(), 0);
}

// Random bodies (escaped keys, duplicates, nested look-alikes): every span equals the DOM's value.
static void test_differential_vs_dom(void**) {
    test::ChatBodyGen gen(20261202);
    size_t checked = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string body = gen.body(95);
        ApiError err;
        auto req = parse_chat_request(body, &err);
        if (!req) continue;
        ++checked;
        CanonicalRequest c = canonical_from_openai_chat(*req);
        const json_t* root = req->dom();
        same_value(c.model, json_object_get(root, "model"), "model");
        same_value(c.temperature, json_object_get(root, "temperature"), "temperature");
        same_value(c.tools, json_object_get(root, "tools"), "tools");
        same_value(c.response_format, json_object_get(root, "response_format"), "response_format");
        same_value(c.stop, json_object_get(root, "stop"), "stop");
        same_value(c.metadata, json_object_get(root, "metadata"), "metadata");
        assert_int_equal(c.stream, json_is_true(json_object_get(root, "stream")));
        const json_t* msgs = json_object_get(root, "messages");
        assert_int_equal(c.messages.size(), json_array_size(msgs));
        for (size_t m = 0; m < c.messages.size(); ++m) {
            const json_t* dm = json_array_get(msgs, m);
            const CanonicalMessage& cm = c.messages[m];
            static const char* const kRoleNames[] = {"system", "developer", "user", "assistant",
                                                     "tool", "function", "?"};
            assert_str_eq(std::string(json_string_value(json_object_get(dm, "role"))),
                          kRoleNames[static_cast<size_t>(cm.role)]);
            same_value(cm.content, json_object_get(dm, "content"), "content");
            same_value(cm.name, json_object_get(dm, "name"), "name");
            same_value(cm.tool_call_id, json_object_get(dm, "tool_call_id"), "tool_call_id");
            same_value(cm.tool_calls, json_object_get(dm, "tool_calls"), "tool_calls");
            const json_t* content = json_object_get(dm, "content");
            assert_int_equal(cm.part_count, json_is_array(content) ? json_array_size(content) : 0);
            for (size_t k = 0; k < cm.part_count; ++k) {
                const json_t* dp = json_array_get(content, k);
                const ContentPart& cp = c.parts_of(cm)[k];
                same_value(cp.raw, dp, "part");
                same_value(cp.type, json_object_get(dp, "type"), "part.type");
                if (cp.kind == PartKind::text) same_value(cp.text, json_object_get(dp, "text"), "part.text");
            }
            const json_t* calls = json_object_get(dm, "tool_calls");
            assert_int_equal(cm.call_count, json_is_array(calls) ? json_array_size(calls) : 0);
            for (size_t k = 0; k < cm.call_count; ++k) {
                const json_t* fn = json_object_get(json_array_get(calls, k), "function");
                same_value(c.calls_of(cm)[k].name, json_object_get(fn, "name"), "call.name");
                same_value(c.calls_of(cm)[k].arguments, json_object_get(fn, "arguments"), "call.arguments");
            }
        }
    }
    assert_true(checked > 1000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_parts),
        cmocka_unit_test(test_escaped_and_duplicate_keys),
        cmocka_unit_test(test_absent_fields),
        cmocka_unit_test(test_differential_vs_dom),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
