// Anthropic request builder: OpenAI chat request -> Anthropic Messages body, request headers and
// default base URLs (docs/wire-formats.md: Anthropic Messages, Provider catalog).
#include "egress/provider_adapter.hpp"

#include "test_util.hpp"

#include <cctype>
#include <cstring>

using namespace routeshift;

namespace {

struct Built {
    bool ok = false;
    JsonPtr body;
    std::string text;
    ApiError err;
};

ProviderKey make_key(const char* metadata = "{}", const char* secret = "sk-ant-test-secret-0123456789") {
    ProviderKey k;
    k.provider = 0;
    k.secret = secret;
    k.metadata = json_parse(metadata, nullptr);
    if (!k.metadata) fail_msg("bad metadata json %s", metadata);
    std::string err;  // the typed fields parse_snapshot fills
    if (!parse_key_metadata(k.metadata.get(), ProviderKind::anthropic, &k.meta, &err))
        fail_msg("metadata %s rejected: %s", metadata, err.c_str());
    return k;
}

Built build(const std::string& req_json, std::string_view model = "claude-sonnet-4-5",
            std::string_view kind = "anthropic", const char* metadata = "{}") {
    ApiError perr;
    auto req = parse_chat_request(req_json, &perr);
    if (!req) fail_msg("test request rejected by parse_chat_request: %s", perr.message.c_str());
    ProviderKey key = make_key(metadata);
    Built b;
    b.ok = anthropic_build_body(*req, model, kind, key, &b.text, &b.err);
    if (b.ok) {
        std::string e;
        b.body = json_parse(b.text, &e);
        if (!b.body) fail_msg("adapter produced invalid JSON (%s): %s", e.c_str(), b.text.c_str());
    }
    return b;
}

Built build_ok(const std::string& req_json, std::string_view model = "claude-sonnet-4-5",
               std::string_view kind = "anthropic", const char* metadata = "{}") {
    Built b = build(req_json, model, kind, metadata);
    if (!b.ok) fail_msg("build failed: %s (param %s)", b.err.message.c_str(), b.err.param.c_str());
    return b;
}

void build_fails(const std::string& req_json, const char* param, std::string_view model = "claude-sonnet-4-5",
                 std::string_view kind = "anthropic") {
    Built b = build(req_json, model, kind);
    if (b.ok) fail_msg("expected a 400 for param %s, got body %s", param, b.text.c_str());
    assert_int_equal(b.err.status, 400);
    assert_str_eq(b.err.type, "invalid_request_error");
    assert_str_eq(b.err.param, param);
    assert_false(b.err.message.empty());
}

// JSON path lookup: "messages.0.content.1.type"
const json_t* at(const json_t* v, const std::string& path) {
    size_t s = 0;
    while (v && s <= path.size()) {
        size_t e = path.find('.', s);
        std::string tok = path.substr(s, e == std::string::npos ? std::string::npos : e - s);
        if (json_is_array(v)) v = json_array_get(v, std::stoul(tok));
        else v = json_object_get(v, tok.c_str());
        if (e == std::string::npos) break;
        s = e + 1;
    }
    return v;
}

void expect_json(const json_t* root, const std::string& path, const char* expected) {
    const json_t* v = path.empty() ? root : at(root, path);
    JsonPtr want = json_parse(expected, nullptr);
    if (!want) fail_msg("bad expected json %s", expected);
    if (!v || !json_equal(const_cast<json_t*>(v), want.get()))
        fail_msg("at '%s':\n  got:      %s\n  expected: %s\n  body: %s", path.c_str(),
                 v ? json_dump_compact(v).c_str() : "(absent)", expected, json_dump_compact(root).c_str());
}

void expect_absent(const json_t* root, const std::string& path) {
    const json_t* v = at(root, path);
    if (v) fail_msg("'%s' should be absent, is %s", path.c_str(), json_dump_compact(v).c_str());
}

const char* kUser = R"({"role":"user","content":"Hi"})";

std::string req(const std::string& messages, const std::string& extra = "") {
    return R"({"model":"m","messages":[)" + messages + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace

static void test_minimal_body(void**) {
    Built b = build_ok(req(kUser));
    expect_json(b.body.get(), "",
                R"({"model":"claude-sonnet-4-5","max_tokens":4096,
                    "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
    // key order: model first, then max_tokens (readable logs, stable bytes)
    assert_true(b.text.rfind("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,", 0) == 0);
}

static void test_system_and_developer_to_top_level(void**) {
    Built b = build_ok(req(R"({"role":"system","content":"Be terse."},
                              {"role":"user","content":"Q1"},
                              {"role":"developer","content":[{"type":"text","text":"Use metric."},
                                                             {"type":"text","text":"  "}]},
                              {"role":"assistant","content":"A1"},
                              {"role":"system","content":""},
                              {"role":"user","content":"Q2"})"));
    expect_json(b.body.get(), "system",
                R"([{"type":"text","text":"Be terse."},{"type":"text","text":"Use metric."}])");
    expect_json(b.body.get(), "messages",
                R"([{"role":"user","content":[{"type":"text","text":"Q1"}]},
                    {"role":"assistant","content":[{"type":"text","text":"A1"}]},
                    {"role":"user","content":[{"type":"text","text":"Q2"}]}])");
    // cache_control on a system part is kept
    b = build_ok(req(R"({"role":"system","content":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}]},)" +
                     std::string(kUser)));
    expect_json(b.body.get(), "system", R"([{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}])");
    // no system key without system text; image in a system message -> 400
    b = build_ok(req(kUser));
    expect_absent(b.body.get(), "system");
    build_fails(req(R"({"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},)" +
                    std::string(kUser)),
                "messages[0].content[0]");
}

static void test_consecutive_roles_merged(void**) {
    Built b = build_ok(req(R"({"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]},
                              {"role":"assistant","content":"c"},{"role":"assistant","content":""},
                              {"role":"assistant","content":"d"},{"role":"user","content":"e"})"));
    expect_json(b.body.get(), "messages",
                R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
                    {"role":"assistant","content":[{"type":"text","text":"c"},{"type":"text","text":"d"}]},
                    {"role":"user","content":[{"type":"text","text":"e"}]}])");
    // an empty assistant turn between two user turns disappears and the user turns merge
    b = build_ok(req(R"({"role":"user","content":"a"},{"role":"assistant","content":null},{"role":"user","content":"b"})"));
    expect_json(b.body.get(), "messages",
                R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])");
}

static void test_prefill_trailing_whitespace_trimmed(void**) {
    Built b = build_ok(req(R"({"role":"user","content":"Q"},{"role":"assistant","content":"The answer is \n"})"));
    expect_json(b.body.get(), "messages.1.content", R"([{"type":"text","text":"The answer is"}])");
    // not the last message: untouched
    b = build_ok(req(R"({"role":"user","content":"Q"},{"role":"assistant","content":"x \n"},{"role":"user","content":"R"})"));
    expect_json(b.body.get(), "messages.1.content", R"([{"type":"text","text":"x \n"}])");
}

static void test_max_tokens(void**) {
    expect_json(build_ok(req(kUser)).body.get(), "max_tokens", "4096");
    expect_json(build_ok(req(kUser, R"("max_tokens":100)")).body.get(), "max_tokens", "100");
    expect_json(build_ok(req(kUser, R"("max_completion_tokens":200)")).body.get(), "max_tokens", "200");
    // max_completion_tokens wins when both are sent
    expect_json(build_ok(req(kUser, R"("max_tokens":100,"max_completion_tokens":300)")).body.get(), "max_tokens", "300");
    expect_json(build_ok(req(kUser, R"("max_tokens":null)")).body.get(), "max_tokens", "4096");
    // the body does not depend on the key (built once per provider)
    expect_json(build_ok(req(kUser), "claude-sonnet-4-5", "anthropic", R"({"default_max_tokens":1024})").body.get(),
                "max_tokens", "4096");
    build_fails(req(kUser, R"("max_tokens":0)"), "max_tokens");
    build_fails(req(kUser, R"("max_tokens":1.5)"), "max_tokens");
    build_fails(req(kUser, R"("max_completion_tokens":"10")"), "max_completion_tokens");
}

static void test_stop_sequences(void**) {
    expect_json(build_ok(req(kUser, R"("stop":"END")")).body.get(), "stop_sequences", R"(["END"])");
    expect_json(build_ok(req(kUser, R"("stop":["a","\n\n"," ","b"])")).body.get(), "stop_sequences",
                R"(["a","b"])");  // whitespace-only sequences are refused by Anthropic: dropped
    expect_absent(build_ok(req(kUser, R"("stop":[" "])")).body.get(), "stop_sequences");
    expect_absent(build_ok(req(kUser, R"("stop":null)")).body.get(), "stop_sequences");
    build_fails(req(kUser, R"("stop":[1])"), "stop[0]");
    build_fails(req(kUser, R"("stop":5)"), "stop");
    // MiniMax ignores stop_sequences (wire-formats.md, Provider catalog → MiniMax): not sent
    expect_absent(build_ok(req(kUser, R"("stop":"END")"), "MiniMax-M2", "minimax").body.get(), "stop_sequences");
    expect_json(build_ok(req(kUser, R"("stop":"END")"), "glm-4.6", "zai").body.get(), "stop_sequences", R"(["END"])");
}

static void test_images(void**) {
    Built b = build_ok(req(R"({"role":"user","content":[
        {"type":"text","text":"What is this?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
        {"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ"}},
        {"type":"image_url","image_url":{"url":"https://example.com/cat.webp"}},
        {"type":"image_url","image_url":"http://example.com/dog.gif","cache_control":{"type":"ephemeral"}}]})"));
    expect_json(b.body.get(), "messages.0.content",
                R"([{"type":"text","text":"What is this?"},
                    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                    {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
                    {"type":"image","source":{"type":"url","url":"https://example.com/cat.webp"}},
                    {"type":"image","source":{"type":"url","url":"http://example.com/dog.gif"},
                     "cache_control":{"type":"ephemeral"}}])");
    build_fails(req(R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml;base64,PHN2Zz4="}}]})"),
                "messages[0].content[0].image_url.url");
    build_fails(req(R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]})"),
                "messages[0].content[0].image_url.url");
    build_fails(req(R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]})"),
                "messages[0].content[0].image_url.url");
    build_fails(req(R"({"role":"user","content":[{"type":"image_url","image_url":{}}]})"),
                "messages[0].content[0].image_url.url");
    build_fails(req(R"({"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]})"),
                "messages[0].content[0]");
    build_fails(req(R"({"role":"user","content":[{"type":"video","video":{}}]})"), "messages[0].content[0].type");
}

static void test_pdf_file_part(void**) {
    Built b = build_ok(req(R"({"role":"user","content":[
        {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
        {"type":"file","file":{"file_data":"JVBERi0y"}}]})"));
    expect_json(b.body.get(), "messages.0.content",
                R"([{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"},"title":"a.pdf"},
                    {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0y"}}])");
    build_fails(req(R"({"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]})"),
                "messages[0].content[0].file");
}

static const char* kTools = R"("tools":[
    {"type":"function","function":{"name":"get_weather","description":"Weather for a city",
      "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},
    {"type":"function","function":{"name":"now"}},
    {"type":"function","function":{"name":"loose","parameters":{"properties":{"x":{"type":"number"}}}}}])";

static void test_tools(void**) {
    Built b = build_ok(req(kUser, kTools));
    expect_json(b.body.get(), "tools",
                R"([{"name":"get_weather","description":"Weather for a city",
                     "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},
                     "strict":true},
                    {"name":"now","input_schema":{"type":"object","properties":{}}},
                    {"name":"loose","input_schema":{"properties":{"x":{"type":"number"}},"type":"object"}}])");
    expect_absent(b.body.get(), "tool_choice");
    // strict is an Anthropic feature: not sent to compatible endpoints
    expect_absent(build_ok(req(kUser, kTools), "kimi-k2-0905", "moonshot").body.get(), "tools.0.strict");
    build_fails(req(kUser, R"("tools":[{"type":"custom","custom":{"name":"x"}}])"), "tools[0].type");
    build_fails(req(kUser, R"("tools":[{"type":"function","function":{"description":"no name"}}])"),
                "tools[0].function.name");
    build_fails(req(kUser, R"("tools":[{"type":"function","function":{"name":"f","parameters":"x"}}])"),
                "tools[0].function.parameters");
}

static void test_tool_choice(void**) {
    struct {
        const char* in;
        const char* out;
    } cases[] = {
        {R"("tool_choice":"auto")", R"({"type":"auto"})"},
        {R"("tool_choice":"none")", R"({"type":"none"})"},
        {R"("tool_choice":"required")", R"({"type":"any"})"},
        {R"("tool_choice":{"type":"function","function":{"name":"now"}})", R"({"type":"tool","name":"now"})"},
        {R"("tool_choice":"auto","parallel_tool_calls":false)", R"({"type":"auto","disable_parallel_tool_use":true})"},
        {R"("tool_choice":"required","parallel_tool_calls":false)", R"({"type":"any","disable_parallel_tool_use":true})"},
        {R"("tool_choice":{"type":"function","function":{"name":"now"}},"parallel_tool_calls":false)",
         R"({"type":"tool","name":"now","disable_parallel_tool_use":true})"},
        {R"("tool_choice":"none","parallel_tool_calls":false)", R"({"type":"none"})"},
        {R"("parallel_tool_calls":false)", R"({"type":"auto","disable_parallel_tool_use":true})"},
    };
    for (auto& c : cases) expect_json(build_ok(req(kUser, std::string(kTools) + "," + c.in)).body.get(), "tool_choice", c.out);
    expect_absent(build_ok(req(kUser, std::string(kTools) + R"(,"parallel_tool_calls":true)")).body.get(), "tool_choice");
    // without tools there is nothing to choose
    expect_absent(build_ok(req(kUser, R"("tool_choice":"auto")")).body.get(), "tool_choice");
    build_fails(req(kUser, std::string(kTools) + R"(,"tool_choice":"sometimes")"), "tool_choice");
    build_fails(req(kUser, std::string(kTools) + R"(,"tool_choice":{"type":"function","function":{}})"), "tool_choice");
}

static const char* kToolHistory = R"(
    {"role":"user","content":"Weather in Oslo and time?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
        {"id":"toolu_01","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
        {"id":"toolu_02","type":"function","function":{"name":"now","arguments":""}}]},
    {"role":"tool","tool_call_id":"toolu_01","content":"{\"temp_c\":3}"},
    {"role":"tool","tool_call_id":"toolu_02","content":[{"type":"text","text":"12:00"}]},
    {"role":"user","content":"Thanks. And tomorrow?"})";

static void test_tool_calls_and_results_in_history(void**) {
    Built b = build_ok(req(kToolHistory, kTools));
    expect_json(b.body.get(), "messages",
                R"([{"role":"user","content":[{"type":"text","text":"Weather in Oslo and time?"}]},
                    {"role":"assistant","content":[{"type":"text","text":"Checking."},
                        {"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Oslo"}},
                        {"type":"tool_use","id":"toolu_02","name":"now","input":{}}]},
                    {"role":"user","content":[
                        {"type":"tool_result","tool_use_id":"toolu_01","content":"{\"temp_c\":3}"},
                        {"type":"tool_result","tool_use_id":"toolu_02","content":[{"type":"text","text":"12:00"}]},
                        {"type":"text","text":"Thanks. And tomorrow?"}]}])");
}

static void test_tool_results_placed_before_text(void**) {
    // a user message between the assistant's calls and the tool results: results still lead the turn
    Built b = build_ok(req(R"({"role":"user","content":"go"},
        {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"user","content":"hurry"},
        {"role":"tool","tool_call_id":"c1","content":""})",
                           kTools));
    expect_json(b.body.get(), "messages.2",
                R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"c1"},{"type":"text","text":"hurry"}]})");
    // assistant message with only tool calls and content null
    expect_json(b.body.get(), "messages.1.content",
                R"([{"type":"tool_use","id":"c1","name":"now","input":{}}])");
}

// Ids minted by other providers (Gemini's carry signatures; dots, slashes, '=') are refused by
// Anthropic (^[a-zA-Z0-9_-]+$): the call and its result get the same rewritten id; fitting ids
// (escaped or not) pass unchanged.
static void test_foreign_tool_call_ids_mapped(void**) {
    Built b = build_ok(req(R"({"role":"user","content":"go"},
        {"role":"assistant","tool_calls":[
            {"id":"fc.gemini/AbC+sig==","type":"function","function":{"name":"now","arguments":"{}"}},
            {"id":"call\u005f2","type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"fc.gemini/AbC+sig==","content":"noon"},
        {"role":"tool","tool_call_id":"call_2","content":"one"})",
                           kTools));
    const char* call = json_string_value(at(b.body.get(), "messages.1.content.0.id"));
    const char* result = json_string_value(at(b.body.get(), "messages.2.content.0.tool_use_id"));
    assert_non_null(call);
    assert_non_null(result);
    assert_string_equal(call, result);
    assert_int_equal(strlen(call), 43);
    assert_true(strncmp(call, "rs_", 3) == 0);
    for (const char* c = call; *c; ++c) assert_true(isalnum((unsigned char)*c) || *c == '_' || *c == '-');
    expect_json(b.body.get(), "messages.1.content.1.id", R"("call_2")");
    expect_json(b.body.get(), "messages.2.content.1.tool_use_id", R"("call_2")");
}

static void test_tool_call_arguments_validation(void**) {
    auto with_args = [](const char* args) {
        return req(std::string(R"({"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":)") +
                       args + "}}]}",
                   kTools);
    };
    build_fails(with_args(R"("{\"city\": ")"), "messages[1].tool_calls[0].function.arguments");
    build_fails(with_args(R"("[1,2]")"), "messages[1].tool_calls[0].function.arguments");
    build_fails(with_args("5"), "messages[1].tool_calls[0].function.arguments");
    expect_json(build_ok(with_args(R"("  ")")).body.get(), "messages.1.content.0.input", "{}");
    expect_json(build_ok(with_args(R"({"a":1})")).body.get(), "messages.1.content.0.input", R"({"a":1})");
    build_fails(req(R"({"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"now","arguments":"{}"}}]})"),
                "messages[1].tool_calls[0].id");
    build_fails(req(R"({"role":"user","content":"x"},{"role":"tool","content":"r"})"), "messages[1].tool_call_id");
}

static void test_tool_history_without_tools(void**) {
    // no tool definitions in the request: the tools of the history are declared, calls forbidden
    Built b = build_ok(req(kToolHistory));
    expect_json(b.body.get(), "tools.0.name", R"("get_weather")");
    expect_json(b.body.get(), "tools.1.name", R"("now")");
    expect_json(b.body.get(), "tools.0.input_schema", R"({"type":"object"})");
    assert_int_equal(json_array_size(at(b.body.get(), "tools")), 2);
    expect_json(b.body.get(), "tool_choice", R"({"type":"none"})");
}

static void test_legacy_functions(void**) {
    Built b = build_ok(req(R"({"role":"user","content":"x"},
        {"role":"assistant","content":null,"function_call":{"name":"now","arguments":"{}"}},
        {"role":"function","name":"now","content":"noon"})",
                           R"("functions":[{"name":"now","parameters":{"type":"object"}}],"function_call":{"name":"now"})"));
    expect_json(b.body.get(), "tools", R"([{"name":"now","input_schema":{"type":"object"}}])");
    expect_json(b.body.get(), "tool_choice", R"({"type":"tool","name":"now"})");
    expect_json(b.body.get(), "messages.1.content.0.id", R"("toolu_legacy_1")");
    expect_json(b.body.get(), "messages.2.content",
                R"([{"type":"tool_result","tool_use_id":"toolu_legacy_1","content":"noon"}])");
    build_fails(req(R"({"role":"user","content":"x"},{"role":"function","name":"f","content":"r"})"), "messages[1]");
}

static void test_thinking_blocks_replayed(void**) {
    Built b = build_ok(req(R"({"role":"user","content":"x"},
        {"role":"assistant","content":"ok","reasoning_content":"hmm",
         "thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig1"},
                            {"type":"redacted_thinking","data":"abc"},
                            {"type":"thinking","thinking":"unsigned"}],
         "tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"noon"})",
                           kTools));
    expect_json(b.body.get(), "messages.1.content",
                R"([{"type":"thinking","thinking":"hmm","signature":"sig1"},
                    {"type":"redacted_thinking","data":"abc"},
                    {"type":"text","text":"ok"},
                    {"type":"tool_use","id":"c1","name":"now","input":{}}])");
}

static void test_stream_user_and_misc(void**) {
    Built b = build_ok(req(kUser, R"("stream":true,"stream_options":{"include_usage":true},"user":"u-42",
                                    "seed":1,"presence_penalty":0.5,"frequency_penalty":0.1,"logit_bias":{"1":2},
                                    "metadata":{"route_hint":"x"},"service_tier":"default","n":1)"));
    expect_json(b.body.get(), "stream", "true");
    expect_json(b.body.get(), "metadata", R"({"user_id":"u-42"})");
    expect_json(b.body.get(), "service_tier", R"("standard_only")");
    for (const char* k : {"stream_options", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "n", "user"})
        expect_absent(b.body.get(), k);
    expect_absent(build_ok(req(kUser, R"("stream":false)")).body.get(), "stream");
    expect_json(build_ok(req(kUser, R"("safety_identifier":"h1")")).body.get(), "metadata.user_id", R"("h1")");
    // service_tier is Anthropic's own parameter
    expect_absent(build_ok(req(kUser, R"("service_tier":"auto")"), "MiniMax-M2", "minimax").body.get(), "service_tier");
    build_fails(req(kUser, R"("n":2)"), "n");
    build_fails(req(kUser, R"("logprobs":true)"), "logprobs");
    build_fails(req(kUser, R"("modalities":["text","audio"])"), "modalities");
}

static void test_response_format(void**) {
    const char* schema = R"("response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,
                             "schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}}})";
    Built b = build_ok(req(kUser, schema), "claude-sonnet-4-5");
    expect_json(b.body.get(), "output_config",
                R"({"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}}})");
    expect_absent(b.body.get(), "system");
    // models without structured outputs and compatible endpoints: a system instruction with the schema
    for (auto [model, kind] : {std::pair{"claude-3-5-sonnet-20241022", "anthropic"}, std::pair{"MiniMax-M2", "minimax"}}) {
        b = build_ok(req(R"({"role":"system","content":"S"},)" + std::string(kUser), schema), model, kind);
        expect_absent(b.body.get(), "output_config");
        expect_json(b.body.get(), "system.0.text", R"("S")");
        std::string text = json_string_value(at(b.body.get(), "system.1.text"));
        assert_contains(text, "JSON Schema");
        assert_contains(text, R"({"type":"object","properties":{"a":{"type":"integer"}})");
    }
    b = build_ok(req(kUser, R"("response_format":{"type":"json_object"})"));
    assert_contains(json_string_value(at(b.body.get(), "system.0.text")), "JSON object");
    expect_absent(build_ok(req(kUser, R"("response_format":{"type":"text"})")).body.get(), "system");
    build_fails(req(kUser, R"("response_format":{"type":"json_schema","json_schema":{"name":"x"}})"),
                "response_format.json_schema.schema");
}

static void test_reasoning_effort(void**) {
    // pre-4.6 Claude: extended thinking with a budget; the defaulted cap grows past the budget;
    // sampling params that thinking refuses are dropped
    Built b = build_ok(req(kUser, R"("reasoning_effort":"high","temperature":0.3,"top_k":5,"top_p":0.9)"),
                       "claude-sonnet-4-5");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":16384})");
    expect_json(b.body.get(), "max_tokens", "20480");
    expect_absent(b.body.get(), "temperature");
    expect_absent(b.body.get(), "top_k");
    expect_absent(b.body.get(), "top_p");
    b = build_ok(req(kUser, R"("reasoning_effort":"low","max_completion_tokens":3000,"top_p":0.97)"), "claude-sonnet-4-5");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":1024})");
    expect_json(b.body.get(), "max_tokens", "3000");
    expect_json(b.body.get(), "top_p", "0.97");
    // the client's cap is kept; the budget shrinks below it
    b = build_ok(req(kUser, R"("reasoning_effort":"high","max_tokens":8000)"), "claude-opus-4-5");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":7999})");
    build_fails(req(kUser, R"("reasoning_effort":"medium","max_tokens":1000)"), "max_completion_tokens");
    // 4.6 and later: adaptive thinking + effort
    b = build_ok(req(kUser, R"("reasoning_effort":"medium")"), "claude-opus-4-7");
    expect_json(b.body.get(), "thinking", R"({"type":"adaptive"})");
    expect_json(b.body.get(), "output_config", R"({"effort":"medium"})");
    b = build_ok(req(kUser, R"("reasoning_effort":"minimal")"), "claude-opus-4-6");
    expect_json(b.body.get(), "output_config.effort", R"("low")");
    b = build_ok(req(kUser, R"("reasoning_effort":"none")"), "claude-opus-4-7");
    expect_json(b.body.get(), "thinking", R"({"type":"disabled"})");
    expect_absent(b.body.get(), "output_config");
    // compatible providers: the Anthropic shape with a budget
    b = build_ok(req(kUser, R"("reasoning_effort":"medium")"), "MiniMax-M2", "minimax");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":4096})");
    expect_json(b.body.get(), "max_tokens", "8192");
    // a client `thinking` object is forwarded as is
    b = build_ok(req(kUser, R"("thinking":{"type":"enabled","budget_tokens":2000},"reasoning_effort":"high")"), "glm-4.6", "zai");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":2000})");
    build_fails(req(kUser, R"("reasoning_effort":"extreme")"), "reasoning_effort");
}

// A follow-up turn of a tool loop from a normal OpenAI client (its tool-call message carries no
// thinking block): Anthropic would refuse it with thinking on, so that turn goes without; a
// message that replays its thinking_blocks keeps thinking on.
static void test_reasoning_effort_tool_followup(void**) {
    std::string loop = R"({"role":"user","content":"time?"},
        {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"noon"})";
    Built b = build_ok(req(loop, std::string(kTools) + R"(,"reasoning_effort":"high")"), "claude-sonnet-4-5");
    expect_absent(b.body.get(), "thinking");
    std::string replayed = R"({"role":"user","content":"time?"},
        {"role":"assistant","thinking_blocks":[{"type":"thinking","thinking":"t","signature":"sig"}],
         "tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"noon"})";
    b = build_ok(req(replayed, std::string(kTools) + R"(,"reasoning_effort":"high")"), "claude-sonnet-4-5");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":16384})");
    // an earlier tool loop followed by a plain assistant answer: thinking on
    std::string later = loop + R"(,{"role":"assistant","content":"It is noon."},{"role":"user","content":"thanks"})";
    b = build_ok(req(later, std::string(kTools) + R"(,"reasoning_effort":"high")"), "claude-sonnet-4-5");
    expect_json(b.body.get(), "thinking", R"({"type":"enabled","budget_tokens":16384})");
}

static void test_sampling_rules_anthropic(void**) {
    // post-Opus-4.6 models: temperature only 1.0 (dropped), top_k rejected (dropped), top_p >= 0.99
    for (const char* model : {"claude-opus-4-7", "claude-sonnet-5", "claude-mythos-preview", "claude-opus-4-8-20260101",
                              "us.anthropic.claude-opus-4-7-v1:0"}) {
        Built b = build_ok(req(kUser, R"("temperature":0.2,"top_k":40,"top_p":0.5)"), model);
        expect_absent(b.body.get(), "temperature");
        expect_absent(b.body.get(), "top_k");
        expect_absent(b.body.get(), "top_p");
        b = build_ok(req(kUser, R"("top_p":0.995)"), model);
        expect_json(b.body.get(), "top_p", "0.995");
    }
    // older models: temperature clamped to [0,1]; top_k forwarded; temperature + top_p -> temperature
    Built b = build_ok(req(kUser, R"("temperature":1.7,"top_k":40)"), "claude-sonnet-4-5");
    expect_json(b.body.get(), "temperature", "1.0");
    expect_json(b.body.get(), "top_k", "40");
    b = build_ok(req(kUser, R"("temperature":0.7,"top_p":0.9)"), "claude-opus-4-6");
    expect_json(b.body.get(), "temperature", "0.7");
    expect_absent(b.body.get(), "top_p");
    b = build_ok(req(kUser, R"("top_p":0.9)"), "claude-haiku-4-5");
    expect_json(b.body.get(), "top_p", "0.9");
    b = build_ok(req(kUser, R"("temperature":0.7,"top_p":0.9)"), "claude-3-5-sonnet-20241022");
    expect_json(b.body.get(), "top_p", "0.9");  // 3.x accepts both
    b = build_ok(req(kUser, R"("temperature":0,"top_p":1)"), "claude-sonnet-4-5");
    expect_json(b.body.get(), "temperature", "0");
    expect_absent(b.body.get(), "top_p");  // 1 is the default
    build_fails(req(kUser, R"("temperature":"hot")"), "temperature");
    build_fails(req(kUser, R"("top_k":1.5)"), "top_k");
}

static void test_sampling_rules_compatible(void**) {
    // MiniMax: temperature in (0, 1]; top_k ignored upstream -> not sent
    Built b = build_ok(req(kUser, R"("temperature":0,"top_k":3,"top_p":0.8)"), "MiniMax-M2", "minimax");
    expect_json(b.body.get(), "temperature", "0.01");
    expect_absent(b.body.get(), "top_k");
    expect_json(b.body.get(), "top_p", "0.8");
    expect_json(build_ok(req(kUser, R"("temperature":1.5)"), "MiniMax-M2", "minimax").body.get(), "temperature", "1.0");
    // Kimi: [0, 1]; kimi-k2.5+ have fixed sampling -> temperature/top_p not sent
    b = build_ok(req(kUser, R"("temperature":1.4,"top_p":0.5)"), "kimi-k2-0905-preview", "moonshot");
    expect_json(b.body.get(), "temperature", "1.0");
    expect_json(b.body.get(), "top_p", "0.5");
    for (const char* m : {"kimi-k2.5", "kimi-k2.6-turbo", "kimi-k3"}) {
        b = build_ok(req(kUser, R"("temperature":0.3,"top_p":0.5)"), m, "moonshot");
        expect_absent(b.body.get(), "temperature");
        expect_absent(b.body.get(), "top_p");
    }
    // Z.ai: (0, 1]
    b = build_ok(req(kUser, R"("temperature":0,"top_p":0)"), "glm-4.6", "zai");
    expect_json(b.body.get(), "temperature", "0.01");
    expect_json(b.body.get(), "top_p", "0.01");
    // MiMo: [0, 1]
    expect_json(build_ok(req(kUser, R"("temperature":2)"), "mimo-v2-flash", "mimo").body.get(), "temperature", "1.0");
    expect_json(build_ok(req(kUser, R"("temperature":0.5)"), "mimo-v2-flash", "mimo").body.get(), "temperature", "0.5");
}

static void test_kind_overloads(void**) {
    ApiError perr;
    auto r = parse_chat_request(req(kUser, R"("temperature":0)"), &perr);
    assert_true(r.has_value());
    ProviderKey key = make_key();
    for (auto [kind, name] : {std::pair{ProviderKind::zai, "zai"}, std::pair{ProviderKind::mimo, "mimo"}}) {
        std::string a, b;
        ApiError e;
        assert_true(anthropic_build_body(*r, "m1", kind, key, &a, &e));
        assert_true(anthropic_build_body(*r, "m1", std::string_view(name), key, &b, &e));
        assert_str_eq(a, b);
        assert_str_eq(anthropic_request_headers(kind, key), anthropic_request_headers(std::string_view(name), key));
        assert_str_eq(anthropic_default_base_url(kind, key), anthropic_default_base_url(std::string_view(name), key));
    }
    // zai clamps temperature 0 -> 0.01, mimo keeps 0
    std::string z, m;
    ApiError e;
    anthropic_build_body(*r, "m1", ProviderKind::zai, key, &z, &e);
    anthropic_build_body(*r, "m1", ProviderKind::mimo, key, &m, &e);
    assert_contains(z, "\"temperature\":0.01");
    assert_contains(m, "\"temperature\":0");
    assert_not_contains(m, "0.01");
    // when the catalog learns the new kinds, their enum values behave like their names
    for (const char* name : {"anthropic", "minimax", "moonshot"}) {
        const ProviderInfo* pi = provider_info(name);
        if (!pi) continue;
        std::string a, b;
        assert_true(anthropic_build_body(*r, "m1", pi->kind, key, &a, &e));
        assert_true(anthropic_build_body(*r, "m1", std::string_view(name), key, &b, &e));
        assert_str_eq(a, b);
    }
}

static void test_client_betas_join_the_keys(void**) {
    std::string head = "POST /v1/messages HTTP/1.1\r\nx-api-key: t\r\nanthropic-beta: a-2025\r\n\r\n";
    add_client_anthropic_betas(&head, " c-1, d-2 ");
    assert_str_eq(head, "POST /v1/messages HTTP/1.1\r\nx-api-key: t\r\nanthropic-beta: a-2025,c-1, d-2\r\n\r\n");
    head = "POST /v1/messages HTTP/1.1\r\nx-api-key: t\r\n\r\n";
    add_client_anthropic_betas(&head, "c-1");
    assert_str_eq(head, "POST /v1/messages HTTP/1.1\r\nx-api-key: t\r\nanthropic-beta: c-1\r\n\r\n");
    std::string before = head;
    add_client_anthropic_betas(&head, "");
    add_client_anthropic_betas(&head, "x\r\nInjected: 1");
    assert_str_eq(head, before);  // nothing for an empty or unsafe value
}

static void test_request_headers(void**) {
    ProviderKey k = make_key();
    assert_str_eq(anthropic_request_headers(std::string_view("anthropic"), k),
                  "x-api-key: sk-ant-test-secret-0123456789\r\nanthropic-version: 2023-06-01\r\n");
    for (const char* kind : {"minimax", "moonshot", "zai"})
        assert_str_eq(anthropic_request_headers(std::string_view(kind), k),
                      "x-api-key: sk-ant-test-secret-0123456789\r\nanthropic-version: 2023-06-01\r\n");
    assert_str_eq(anthropic_request_headers(std::string_view("mimo"), k),
                  "api-key: sk-ant-test-secret-0123456789\r\nanthropic-version: 2023-06-01\r\n");
    ProviderKey bearer = make_key(R"({"auth_header":"authorization"})", "tok");
    for (const char* kind : {"anthropic", "minimax", "moonshot", "zai", "mimo"})
        assert_str_eq(anthropic_request_headers(std::string_view(kind), bearer),
                      "Authorization: Bearer tok\r\nanthropic-version: 2023-06-01\r\n");
    assert_str_eq(anthropic_request_headers(std::string_view("mimo"), make_key(R"({"auth_header":"x-api-key"})", "t")),
                  "x-api-key: t\r\nanthropic-version: 2023-06-01\r\n");
    assert_str_eq(anthropic_request_headers(std::string_view("anthropic"), make_key(R"({"auth_header":"none"})", "t")),
                  "anthropic-version: 2023-06-01\r\n");
    assert_str_eq(anthropic_request_headers(std::string_view("anthropic"),
                                            make_key(R"({"anthropic_beta":["a-2025","b-2026"]})", "t")),
                  "x-api-key: t\r\nanthropic-version: 2023-06-01\r\nanthropic-beta: a-2025,b-2026\r\n");
    // parse_snapshot refuses such metadata; the header builder still never emits it
    ProviderKey evil = make_key("{}", "t");
    evil.meta.anthropic_beta = "x\r\nEvil: 1";
    evil.meta.anthropic_version = "2024\r\nEvil: 2";
    assert_str_eq(anthropic_request_headers(std::string_view("anthropic"), evil),
                  "x-api-key: t\r\nanthropic-version: 2023-06-01\r\n");
    // a secret that would split the header block is not sent at all
    assert_str_eq(anthropic_request_headers(std::string_view("anthropic"), make_key("{}", "abc\r\nX-Injected: 1")),
                  "anthropic-version: 2023-06-01\r\n");
}

static void test_default_base_urls(void**) {
    ProviderKey k = make_key();
    ProviderKey cn = make_key(R"({"region":"cn"})");
    assert_str_eq(anthropic_default_base_url(std::string_view("anthropic"), k), "https://api.anthropic.com");
    assert_str_eq(anthropic_default_base_url(std::string_view("anthropic"), cn), "https://api.anthropic.com");
    assert_str_eq(anthropic_default_base_url(std::string_view("minimax"), k), "https://api.minimax.io/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("minimax"), cn), "https://api.minimaxi.com/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("moonshot"), k), "https://api.moonshot.ai/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("moonshot"), cn), "https://api.moonshot.cn/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("zai"), k), "https://api.z.ai/api/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("zai"), cn), "https://open.bigmodel.cn/api/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("mimo"), k), "https://api.xiaomimimo.com/anthropic");
    assert_str_eq(anthropic_default_base_url(std::string_view("mimo"), make_key(R"({"region":"token-plan-sgp"})")),
                  "https://token-plan-sgp.xiaomimimo.com/anthropic");
    assert_str_eq(std::string(kAnthropicMessagesPath), "/v1/messages");
}

static void test_secret_never_in_body(void**) {
    Built b = build_ok(req(kToolHistory, kTools));
    assert_not_contains(b.text, "sk-ant-test-secret");
}

// Message text is copied as the client's escaped token: every escape form arrives with the same
// meaning, and whitespace written as escapes still counts as blank.
static void test_escaped_text_copied(void**) {
    Built b = build_ok(req(R"({"role":"system","content":"\u0020\n\t"},
                              {"role":"user","content":"a\"b\\c\/d \u00e9\ud83d\ude00 \u0000 \n"},
                              {"role":"user","content":[{"type":"text","text":" \u000a "},{"type":"text","text":"x\ty"}]})"));
    expect_absent(b.body.get(), "system");  // escaped whitespace only: dropped like plain whitespace
    expect_json(b.body.get(), "messages",
                "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\\\"b\\\\c/d \\u00e9\\ud83d\\ude00 \\u0000 \\n\"},"
                "{\"type\":\"text\",\"text\":\"x\\ty\"}]}]");
    // the token itself, not a re-escaped copy
    assert_contains(b.text, R"("text":"a\"b\\c\/d \u00e9\ud83d\ude00 \u0000 \n")");
}

static void test_prefill_trim_with_escaped_whitespace(void**) {
    Built b = build_ok(req(std::string(kUser) + R"(,{"role":"assistant","content":"Sure:\u0020\n\t"})"));
    expect_json(b.body.get(), "messages.1.content", R"([{"type":"text","text":"Sure:"}])");
    // a prefill merged from two assistant messages: the last block is trimmed
    b = build_ok(req(std::string(kUser) + R"(,{"role":"assistant","content":"A "},{"role":"assistant","content":"B\n"})"));
    expect_json(b.body.get(), "messages.1.content", R"([{"type":"text","text":"A "},{"type":"text","text":"B"}])");
}

// Arguments are copied as sent unless an object repeats a key: then the last one wins, at any depth.
static void test_tool_call_arguments_copied(void**) {
    auto call = [](const char* args_json) {
        return std::string(kUser) +
               R"(,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":)" +
               args_json + "}}]}" + R"(,{"role":"tool","tool_call_id":"c1","content":"ok"})";
    };
    Built b = build_ok(req(call(R"("{\"path\":\"a\\\/b\",\"text\":\"line\\nnext \u00e9\",\"n\":[1,2.5e3]}")")));
    expect_json(b.body.get(), "messages.1.content.0.input", R"({"path":"a/b","text":"line\nnext é","n":[1,2.5e3]})");
    b = build_ok(req(call(R"("{\"a\":1,\"b\":{\"c\":1,\"c\":2},\"a\":3}")")));
    expect_json(b.body.get(), "messages.1.content.0.input", R"({"a":3,"b":{"c":2}})");
    assert_not_contains(b.text, R"("c":1)");
    b = build_ok(req(call(R"({"x":[{"y":1,"y":2}]})")));  // the object itself
    expect_json(b.body.get(), "messages.1.content.0.input", R"({"x":[{"y":2}]})");
    assert_not_contains(b.text, R"("y":1)");
}

// An image data: URL whose slashes the client escaped (PHP does) arrives decoded and intact.
static void test_data_url_with_escapes(void**) {
    Built b = build_ok(req(R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image\/png;base64,AB\/+CD=="}}]})"));
    expect_json(b.body.get(), "messages.0.content.0",
                R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"AB/+CD=="}})");
}

static void test_non_string_thinking_replayed_empty(void**) {
    Built b = build_ok(req(std::string(kUser) + R"(,{"role":"assistant","content":"A","thinking_blocks":[{"type":"thinking","thinking":5,"signature":"s"}]},)" + kUser));
    expect_json(b.body.get(), "messages.1.content.0", R"({"type":"thinking","thinking":"","signature":"s"})");
}


// The members after "messages" are written from the client's tokens: numbers and strings kept as
// sent (escapes included), a value the rules change written anew, in the body's usual order.
static void test_small_members_copied_as_tokens(void**) {
    auto ends_with = [](const std::string& text, const std::string& tail) {
        if (text.size() < tail.size() || text.compare(text.size() - tail.size(), tail.size(), tail) != 0)
            fail_msg("body %s does not end with %s", text.c_str(), tail.c_str());
    };
    std::string messages = R"("messages":[{"role":"user","content":"hi"}])";
    Built b = build_ok("{\"model\":\"x\"," + messages +
                       R"(,"temperature":0.20,"top_k":5,"stop":["a\/b","  ","\u0041"],"max_tokens":64,)"
                       R"("user":"u\u0031","service_tier":"auto","stream":true,"reasoning_effort":null})");
    ends_with(b.text, R"(,"temperature":0.20,"top_k":5,"stop_sequences":["a\/b","\u0041"],)"
                      R"("metadata":{"user_id":"u1"},"service_tier":"auto","stream":true})");
    assert_true(b.text.rfind(R"({"model":"claude-sonnet-4-5","max_tokens":64,)", 0) == 0);
    // clamped to Anthropic's range: written as a real; top_p 1 is the default and left out
    b = build_ok("{\"model\":\"x\"," + messages + R"(,"temperature":1.5,"top_p":1,"safety_identifier":"s"})");
    ends_with(b.text, R"(,"temperature":1.0,"metadata":{"user_id":"s"}})");
    // reasoning_effort: thinking and output_config as text; adaptive models get the effort level
    b = build_ok("{\"model\":\"x\"," + messages + R"(,"reasoning_effort":"medium","service_tier":"default"})");
    ends_with(b.text, R"(,"thinking":{"type":"enabled","budget_tokens":4096},"service_tier":"standard_only"})");
    b = build_ok("{\"model\":\"x\"," + messages + R"(,"reasoning_effort":"high","response_format":{"type":"json_schema",)"
                 R"("json_schema":{"name":"n","schema":{"type":"object"}}}})", "claude-opus-4-7");
    ends_with(b.text, R"(,"thinking":{"type":"adaptive"},"output_config":{"format":{"type":"json_schema",)"
                      R"("schema":{"type":"object"}},"effort":"high"}})");
    // the checks read the same values: wrong types are still refused with the same param
    build_fails("{\"model\":\"x\"," + messages + R"(,"temperature":"hot"})", "temperature");
    build_fails("{\"model\":\"x\"," + messages + R"(,"top_k":1.5})", "top_k");
    build_fails("{\"model\":\"x\"," + messages + R"(,"stop":["a",1]})", "stop[1]");
    build_fails("{\"model\":\"x\"," + messages + R"(,"max_tokens":0})", "max_tokens");
    build_fails("{\"model\":\"x\"," + messages + R"(,"n":2})", "n");
    build_fails("{\"model\":\"x\"," + messages + R"(,"modalities":["text","au\u0064io"]})", "modalities");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_body),
        cmocka_unit_test(test_system_and_developer_to_top_level),
        cmocka_unit_test(test_consecutive_roles_merged),
        cmocka_unit_test(test_prefill_trailing_whitespace_trimmed),
        cmocka_unit_test(test_max_tokens),
        cmocka_unit_test(test_stop_sequences),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_pdf_file_part),
        cmocka_unit_test(test_tools),
        cmocka_unit_test(test_tool_choice),
        cmocka_unit_test(test_tool_calls_and_results_in_history),
        cmocka_unit_test(test_tool_results_placed_before_text),
        cmocka_unit_test(test_foreign_tool_call_ids_mapped),
        cmocka_unit_test(test_tool_call_arguments_validation),
        cmocka_unit_test(test_tool_history_without_tools),
        cmocka_unit_test(test_legacy_functions),
        cmocka_unit_test(test_thinking_blocks_replayed),
        cmocka_unit_test(test_stream_user_and_misc),
        cmocka_unit_test(test_response_format),
        cmocka_unit_test(test_reasoning_effort),
        cmocka_unit_test(test_reasoning_effort_tool_followup),
        cmocka_unit_test(test_sampling_rules_anthropic),
        cmocka_unit_test(test_sampling_rules_compatible),
        cmocka_unit_test(test_kind_overloads),
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_default_base_urls),
        cmocka_unit_test(test_secret_never_in_body),
        cmocka_unit_test(test_escaped_text_copied),
        cmocka_unit_test(test_prefill_trim_with_escaped_whitespace),
        cmocka_unit_test(test_tool_call_arguments_copied),
        cmocka_unit_test(test_data_url_with_escapes),
        cmocka_unit_test(test_non_string_thinking_replayed_empty),
        cmocka_unit_test(test_small_members_copied_as_tokens),
        cmocka_unit_test(test_client_betas_join_the_keys),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
