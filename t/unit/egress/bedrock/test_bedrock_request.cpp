// Bedrock Converse request building and the signed HTTP request (docs/wire-formats.md, Bedrock Converse).
#include "bedrock_test_util.hpp"
#include "egress/bedrock/sigv4.hpp"

using namespace routeshift;
using namespace bedrock_test;

namespace {

const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string kPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

ProviderKey sigv4_key(const std::string& extra = "") {
    return key(R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE")" + extra + "}", kSecret);
}

std::string build_ok(const std::string& body) {
    ChatRequest r = request(body);
    std::string out;
    ApiError err;
    if (!bedrock_build_body(r, "anthropic.claude-3-haiku-20240307-v1:0", sigv4_key(), &out, &err))
        fail_msg("build failed: %s (param %s) for %s", err.message.c_str(), err.param.c_str(), body.c_str());
    return out;
}

ApiError build_err(const std::string& body) {
    ChatRequest r = request(body);
    std::string out;
    ApiError err;
    if (bedrock_build_body(r, "m", sigv4_key(), &out, &err)) fail_msg("accepted: %s -> %s", body.c_str(), out.c_str());
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_false(err.message.empty());
    return err;
}

void expect_body(const std::string& req, const std::string& want) {
    std::string got = build_ok(req);
    std::string e1, e2;
    JsonPtr g = json_parse(got, &e1), w = json_parse(want, &e2);
    assert_non_null(g.get());
    if (!w) fail_msg("bad expectation JSON: %s", e2.c_str());
    if (!json_equal(g.get(), w.get())) fail_msg("body\n  got:  %s\n  want: %s", got.c_str(), json_dump_compact(w.get()).c_str());
}

void test_system_and_defaults(void**) {
    // system + developer anywhere -> top-level system[]; no model, stream or maxTokens in the body
    expect_body(R"({"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[
        {"role":"system","content":"You are terse."},
        {"role":"developer","content":[{"type":"text","text":"Answer in English."}]},
        {"role":"user","content":"Hello"},
        {"role":"system","content":"  "}]})",
                R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}],
                    "system":[{"text":"You are terse."},{"text":"Answer in English."}]})");
    // max_tokens / max_completion_tokens (the latter wins), temperature/top_p clamped to 0..1,
    // stop string or array, top_k as a model-native field
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"max_tokens":100,
                    "temperature":0.5,"top_p":0.9,"stop":"END","top_k":40,"seed":7,"user":"u","n":1})",
                R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],
                    "inferenceConfig":{"maxTokens":100,"temperature":0.5,"topP":0.9,"stopSequences":["END"]},
                    "additionalModelRequestFields":{"top_k":40}})");
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"max_tokens":100,
                    "max_completion_tokens":300,"temperature":1.7,"stop":["a","","b"]})",
                R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],
                    "inferenceConfig":{"maxTokens":300,"temperature":1.0,"stopSequences":["a","b"]}})");
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"temperature":-1,"top_p":null,"stop":null})",
                R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"temperature":0.0}})");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"max_tokens":0})").param, "max_tokens");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":"5"})").param,
                  "max_completion_tokens");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"stop":[1]})").param, "stop");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"temperature":"hot"})").param,
                  "temperature");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"n":2})").param, "n");
    build_ok(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"text"}})");
    // the model id is never in the body
    assert_not_contains(build_ok(R"({"model":"x","messages":[{"role":"user","content":"Hi"}]})"), "claude");
}

void test_roles_and_merging(void**) {
    // consecutive same-role messages merge; empty assistant turns are dropped
    expect_body(R"({"model":"x","messages":[
        {"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]},
        {"role":"assistant","content":""},
        {"role":"user","content":"c"},
        {"role":"assistant","content":"d"},{"role":"assistant","content":[{"type":"text","text":"e"},{"type":"refusal","refusal":"f"}]},
        {"role":"user","content":"g"}]})",
                R"({"messages":[
        {"role":"user","content":[{"text":"a"},{"text":"b"},{"text":"c"}]},
        {"role":"assistant","content":[{"text":"d"},{"text":"e"},{"text":"f"}]},
        {"role":"user","content":[{"text":"g"}]}]})");
    // the conversation must start with the user
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"assistant","content":"hi"},{"role":"user","content":"x"}]})").param,
                  "messages");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"system","content":"only system"}]})").param, "messages");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":"  "}]})").param, "messages[0].content");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]})").param,
                  "messages[0].content[0]");
    assert_str_eq(build_err(R"({"model":"x","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"user","content":"x"}]})").param,
                  "messages[0].content[0].type");
    // a trailing assistant message (prefill) is kept
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"{"}]})",
                R"({"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"text":"{"}]}]})");
}

void test_images_and_documents(void**) {
    expect_body(R"({"model":"x","messages":[{"role":"user","content":[
        {"type":"text","text":"What is this?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,)" + kPng + R"(","detail":"high"}},
        {"type":"image_url","image_url":{"url":"data:image/JPEG;base64,/9j/4AAQ"}}]}]})",
                R"({"messages":[{"role":"user","content":[
        {"text":"What is this?"},
        {"image":{"format":"png","source":{"bytes":")" + kPng + R"("}}},
        {"image":{"format":"jpeg","source":{"bytes":"/9j/4AAQ"}}}]}]})");
    ApiError e = build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]})");
    assert_str_eq(e.param, "messages[0].content[0].image_url.url");
    assert_contains(e.message, "data:");
    assert_contains(e.message, "URL");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]})");
    assert_contains(e.message, "bmp");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,!!!"}}]}]})");
    assert_contains(e.message, "base64");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]})");
    assert_str_eq(e.param, "messages[0].content[0].image_url.url");
    // documents
    expect_body(R"({"model":"x","messages":[{"role":"user","content":[
        {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"Q3 report (final).pdf"}},
        {"type":"file","file":{"file_data":"data:text/plain;base64,aGk=","filename":"notes.txt"}},
        {"type":"text","text":"Summarise"}]}]})",
                R"J({"messages":[{"role":"user","content":[
        {"document":{"format":"pdf","name":"Q3 report (final)","source":{"bytes":"JVBERi0x"}}},
        {"document":{"format":"txt","name":"notes-2","source":{"bytes":"aGk="}}},
        {"text":"Summarise"}]}]})J");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-123"}}]}]})");
    assert_str_eq(e.param, "messages[0].content[0].file.file_id");
}

const char* kTools = R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
                                 {"type":"function","function":{"name":"noargs"}}])";
const char* kToolSpecs = R"("tools":[{"toolSpec":{"name":"get_weather","description":"Weather","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}},
                                     {"toolSpec":{"name":"noargs","inputSchema":{"json":{"type":"object","properties":{}}}}}])";

void test_tools_and_choice(void**) {
    const std::string msgs = R"("messages":[{"role":"user","content":"Weather in Oslo?"}])";
    const std::string m = R"("messages":[{"role":"user","content":[{"text":"Weather in Oslo?"}]}])";
    auto req = [&](const std::string& extra) { return "{\"model\":\"x\"," + msgs + "," + kTools + extra + "}"; };
    expect_body(req(""), "{" + m + R"(,"toolConfig":{)" + kToolSpecs + "}}");
    expect_body(req(R"(,"tool_choice":"auto")"), "{" + m + R"(,"toolConfig":{)" + kToolSpecs + R"(,"toolChoice":{"auto":{}}}})");
    expect_body(req(R"(,"tool_choice":"required")"), "{" + m + R"(,"toolConfig":{)" + kToolSpecs + R"(,"toolChoice":{"any":{}}}})");
    expect_body(req(R"(,"tool_choice":{"type":"function","function":{"name":"get_weather"}})"),
                "{" + m + R"(,"toolConfig":{)" + kToolSpecs + R"(,"toolChoice":{"tool":{"name":"get_weather"}}}})");
    // none without tool history: no toolConfig at all
    expect_body(req(R"(,"tool_choice":"none","parallel_tool_calls":false)"), "{" + m + "}");
    assert_str_eq(build_err(req(R"(,"tool_choice":"sometimes")")).param, "tool_choice");
    assert_str_eq(build_err(R"({"model":"x",)" + msgs + R"(,"tools":[{"type":"retrieval"}]})").param, "tools[0].type");
    assert_str_eq(build_err(R"({"model":"x",)" + msgs + R"(,"tools":[{"type":"function","function":{}}]})").param,
                  "tools[0].function.name");
}

void test_tool_history(void**) {
    const std::string history = R"("messages":[
        {"role":"system","content":"sys"},
        {"role":"user","content":"Weather and time in Oslo?"},
        {"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
            {"id":"toolu.01:x","type":"function","function":{"name":"get_time","arguments":""}}]},
        {"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":3}"},
        {"role":"tool","tool_call_id":"toolu.01:x","content":[{"type":"text","text":"12:00"}]},
        {"role":"user","content":"Thanks. And tomorrow?"}])";
    const std::string rid = "rs_" + sha256_hex("toolu.01:x").substr(0, 40);
    const std::string converted = R"("messages":[
        {"role":"user","content":[{"text":"Weather and time in Oslo?"}]},
        {"role":"assistant","content":[
            {"toolUse":{"toolUseId":"call_1","name":"get_weather","input":{"city":"Oslo"}}},
            {"toolUse":{"toolUseId":")" + rid + R"(","name":"get_time","input":{}}}]},
        {"role":"user","content":[
            {"toolResult":{"toolUseId":"call_1","content":[{"text":"{\"temp_c\":3}"}],"status":"success"}},
            {"toolResult":{"toolUseId":")" + rid + R"(","content":[{"text":"12:00"}],"status":"success"}},
            {"text":"Thanks. And tomorrow?"}]}],"system":[{"text":"sys"}])";
    // with tools
    expect_body("{\"model\":\"x\"," + history + "," + kTools + "}", "{" + converted + R"(,"toolConfig":{)" + kToolSpecs + "}}");
    // tool_choice none with history: toolConfig must stay (Bedrock requires it), without toolChoice
    expect_body("{\"model\":\"x\"," + history + "," + kTools + ",\"tool_choice\":\"none\"}",
                "{" + converted + R"(,"toolConfig":{)" + kToolSpecs + "}}");
    // no tools in the request: the placeholder tool keeps the history valid (wire-formats.md, Tool-call ids)
    std::string out = build_ok("{\"model\":\"x\"," + history + "}");
    JsonPtr j = json_parse(out, nullptr);
    const json_t* tools = json_object_get(json_object_get(j.get(), "toolConfig"), "tools");
    assert_int_equal(json_array_size(tools), 1);
    assert_str_eq(json_string_view(json_object_get(json_array_get(tools, 0), "toolSpec"), "name"), "dummy_tool");
    assert_null(json_object_get(json_object_get(j.get(), "toolConfig"), "toolChoice"));
    // invalid arguments JSON
    ApiError e = build_err(R"({"model":"x","messages":[{"role":"user","content":"q"},
        {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}]}]})");
    assert_str_eq(e.param, "messages[1].tool_calls[0].function.arguments");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":"q"},
        {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]})");
    assert_str_eq(e.param, "messages[2].content[0].type");
    e = build_err(R"({"model":"x","messages":[{"role":"user","content":"q"},{"role":"tool","content":"r"}]})");
    assert_str_eq(e.param, "messages[1].tool_call_id");
    // empty tool output still answers the call
    out = build_ok(R"({"model":"x","messages":[{"role":"user","content":"q"},
        {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c","content":""}]})");
    const std::string empty_result = R"J({"toolResult":{"toolUseId":"c","content":[{"text":"(empty)"}],"status":"success"}})J";
    assert_contains(out, empty_result);
    // legacy function_call / function role
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"q"},
        {"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{\"a\":1}"}},
        {"role":"function","name":"f","content":"42"}],
        "functions":[{"name":"f"}]})",
                R"({"messages":[{"role":"user","content":[{"text":"q"}]},
        {"role":"assistant","content":[{"toolUse":{"toolUseId":"function_call_f","name":"f","input":{"a":1}}}]},
        {"role":"user","content":[{"toolResult":{"toolUseId":"function_call_f","content":[{"text":"42"}],"status":"success"}}]}],
        "toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}]}})");
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"q"}],
        "functions":[{"name":"f","description":"d","parameters":{"type":"object"}}],"function_call":{"name":"f"}})",
                R"({"messages":[{"role":"user","content":[{"text":"q"}]}],
        "toolConfig":{"tools":[{"toolSpec":{"name":"f","description":"d","inputSchema":{"json":{"type":"object"}}}}],
                      "toolChoice":{"tool":{"name":"f"}}}})");
    expect_body(R"({"model":"x","messages":[{"role":"user","content":"q"}],"functions":[{"name":"f"}],"function_call":"none"})",
                R"({"messages":[{"role":"user","content":[{"text":"q"}]}]})");
    // ids that are already valid pass unchanged; the rewrite is deterministic and within 64 chars
    std::string long_id(80, 'a');
    out = build_ok(R"({"model":"x","messages":[{"role":"user","content":"q"},
        {"role":"assistant","tool_calls":[{"id":")" + long_id + R"(","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":")" + long_id + R"(","content":"ok"}],)" + kTools + "}");
    const std::string lid = "rs_" + sha256_hex(long_id).substr(0, 40);
    assert_int_equal(test::count(out, lid), 2);
    assert_not_contains(out, long_id);
}

// ---- transport ----

struct Parsed {
    std::string request_line;
    std::vector<SigV4Header> headers;
    std::string body;
    std::string header(const std::string& lname) const {
        for (const auto& h : headers) {
            std::string n = h.name;
            for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (n == lname) return h.value;
        }
        return "";
    }
};

Parsed parse_request(const std::string& raw) {
    Parsed p;
    size_t end = raw.find("\r\n\r\n");
    assert_true(end != std::string::npos);
    p.body = raw.substr(end + 4);
    std::string head = raw.substr(0, end);
    size_t pos = 0;
    bool first = true;
    while (pos <= head.size()) {
        size_t nl = head.find("\r\n", pos);
        if (nl == std::string::npos) nl = head.size();
        std::string line = head.substr(pos, nl - pos);
        pos = nl + 2;
        assert_true(line.find('\n') == std::string::npos && line.find('\r') == std::string::npos);
        if (first) {
            p.request_line = line;
            first = false;
            continue;
        }
        size_t c = line.find(": ");
        assert_true(c != std::string::npos);
        p.headers.push_back({line.substr(0, c), line.substr(c + 2)});
    }
    return p;
}

// Verifies the Authorization header of a request the way AWS does: take the SignedHeaders it
// names, rebuild the canonical request from the bytes on the wire, recompute the signature.
void verify_signature(const Parsed& p, const std::string& region, const std::string& token) {
    std::string authz = p.header("authorization");
    assert_true(authz.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0) == 0);
    size_t sh = authz.find("SignedHeaders=");
    size_t comma = authz.find(',', sh);
    std::string signed_list = authz.substr(sh + 14, comma - sh - 14);
    std::string sig = authz.substr(authz.find("Signature=") + 10);
    SigV4Request r;
    std::string target = p.request_line.substr(5, p.request_line.rfind(" HTTP/1.1") - 5);
    size_t q = target.find('?');
    std::string path = target.substr(0, q), query = q == std::string::npos ? "" : target.substr(q + 1);
    r.method = "POST";
    r.path = path;
    r.query = query;
    size_t s = 0;
    while (s <= signed_list.size()) {
        size_t e = signed_list.find(';', s);
        if (e == std::string::npos) e = signed_list.size();
        std::string n = signed_list.substr(s, e - s);
        if (n != "x-amz-date" && n != "x-amz-security-token") r.headers.push_back({n, p.header(n)});
        s = e + 1;
    }
    r.payload = p.body;
    r.region = region;
    r.service = "bedrock";
    r.access_key_id = "AKIDEXAMPLE";
    r.secret_key = kSecret;
    std::string date = p.header("x-amz-date");
    r.amz_date = date;
    r.session_token = token;
    assert_str_eq(p.header("x-amz-security-token"), token);
    SigV4Result res;
    std::string err;
    assert_true(sigv4_sign(r, &res, &err));
    assert_str_eq(res.signed_headers, signed_list);
    assert_str_eq(res.signature, sig);
}

void test_path(void**) {
    assert_str_eq(bedrock_path("anthropic.claude-3-haiku-20240307-v1:0", false),
                  "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    assert_str_eq(bedrock_path("us.anthropic.claude-3-5-haiku-20241022-v1:0", true),
                  "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream");
    assert_str_eq(bedrock_path("arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0", false),
                  "/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse");
    assert_str_eq(bedrock_default_host(sigv4_key()), "bedrock-runtime.us-east-1.amazonaws.com");
    assert_str_eq(bedrock_default_host(key(R"({})", "s")), "");
}

void test_http_request(void**) {
    const std::string body = R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":256}})";
    const std::string path = bedrock_path("anthropic.claude-3-haiku-20240307-v1:0", false);
    ProviderKey k = sigv4_key();
    std::string raw = bedrock_http_request("bedrock-runtime.us-east-1.amazonaws.com", "", path, k, false, body, 1735689600);
    assert_false(raw.empty());
    assert_not_contains(raw, kSecret);
    Parsed p = parse_request(raw);
    assert_str_eq(p.request_line, "POST /model/anthropic.claude-3-haiku-20240307-v1%3A0/converse HTTP/1.1");
    assert_str_eq(p.header("host"), "bedrock-runtime.us-east-1.amazonaws.com");
    assert_str_eq(p.header("content-type"), "application/json");
    assert_str_eq(p.header("content-length"), std::to_string(body.size()));
    assert_str_eq(p.header("accept"), "application/json");
    assert_false(p.header("user-agent").empty());
    assert_str_eq(p.header("x-amz-date"), "20250101T000000Z");
    assert_str_eq(p.header("x-amz-security-token"), "");
    assert_str_eq(p.body, body);
    assert_contains(p.header("authorization"), "Credential=AKIDEXAMPLE/20250101/us-east-1/bedrock/aws4_request");
    assert_contains(p.header("authorization"), "SignedHeaders=accept;content-type;host;x-amz-date,");
    verify_signature(p, "us-east-1", "");
    // same time -> same bytes; every attempt re-signs with its own time
    assert_true(bedrock_http_request("bedrock-runtime.us-east-1.amazonaws.com", "", path, k, false, body, 1735689600) == raw);
    std::string later = bedrock_http_request("bedrock-runtime.us-east-1.amazonaws.com", "", path, k, false, body, 1735689601);
    assert_str_eq(parse_request(later).header("x-amz-date"), "20250101T000001Z");
    assert_true(parse_request(later).header("authorization") != p.header("authorization"));

    // streaming, session token, region eu-west-1, Host from a base_url override with a port
    ProviderKey kt = key(R"({"region":"eu-west-1","access_key_id":"AKIDEXAMPLE","session_token":"FwoGZXIvYXdzEXAMPLE/+="})", kSecret);
    std::string sp = bedrock_path("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", true);
    raw = bedrock_http_request("127.0.0.1", "127.0.0.1:8443", sp, kt, true, body, 1440938160);
    p = parse_request(raw);
    assert_str_eq(p.header("host"), "127.0.0.1:8443");
    assert_str_eq(p.header("accept"), "application/vnd.amazon.eventstream");
    assert_str_eq(p.header("x-amz-date"), "20150830T123600Z");
    assert_contains(p.header("authorization"), "/20150830/eu-west-1/bedrock/aws4_request");
    assert_contains(p.header("authorization"), "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token,");
    verify_signature(p, "eu-west-1", "FwoGZXIvYXdzEXAMPLE/+=");
    // default host from the region when the glue passes none
    raw = bedrock_http_request("", "", path, k, false, body, 1735689600);
    assert_str_eq(parse_request(raw).header("host"), "bedrock-runtime.us-east-1.amazonaws.com");
    // the body is signed: tampering breaks verification
    p = parse_request(bedrock_http_request("h", "", path, k, false, body, 1735689600));
    std::string good_sig = p.header("authorization");
    p.body[5] = 'X';
    {
        SigV4Request r;
        r.method = "POST";
        r.path = path;
        r.headers = {{"accept", "application/json"}, {"content-type", "application/json"}, {"host", "h"}};
        r.payload = p.body;
        r.region = "us-east-1";
        r.service = "bedrock";
        r.access_key_id = "AKIDEXAMPLE";
        r.secret_key = kSecret;
        r.amz_date = "20250101T000000Z";
        SigV4Result res;
        std::string err;
        assert_true(sigv4_sign(r, &res, &err));
        assert_true(good_sig != res.authorization);
    }

    // Bedrock API key: Bearer, no signing
    ProviderKey ak = key(R"({"region":"us-west-2","auth":"api_key"})", "ABSKQmVkcm9ja0FQSUtleS1example");
    raw = bedrock_http_request("", "", path, ak, false, body, 1735689600);
    p = parse_request(raw);
    assert_str_eq(p.header("authorization"), "Bearer ABSKQmVkcm9ja0FQSUtleS1example");
    assert_str_eq(p.header("host"), "bedrock-runtime.us-west-2.amazonaws.com");
    assert_str_eq(p.header("x-amz-date"), "");
}

void test_key_validation(void**) {
    struct Case {
        const char* metadata;
        const char* secret;
        const char* needle;  // in the error
    } bad[] = {
        {R"({})", kSecret, "region"},
        {R"({"region":""})", kSecret, "region"},
        {R"({"region":"us east 1","access_key_id":"AKIDEXAMPLE"})", kSecret, "region"},
        {R"({"region":"us-east-1"})", kSecret, "access_key_id"},
        {R"({"region":"us-east-1","access_key_id":"AKID\r\nX: y"})", kSecret, "access_key_id"},
        {R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE","session_token":"a\r\nInjected: 1"})", kSecret, "session_token"},
        {R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE"})", "", "secret"},
        {R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE"})", "sec\nret", "secret"},
    };
    // a non-string session token and an unknown auth mode are refused when the snapshot is pushed
    for (auto [md, needle] : {std::pair{R"({"region":"us-east-1","access_key_id":"AKIDEXAMPLE","session_token":5})", "session_token"},
                              std::pair{R"({"region":"us-east-1","auth":"oauth"})", "auth"}}) {
        JsonPtr j = json_parse(md, nullptr);
        KeyMetadata typed;
        std::string perr;
        assert_false(parse_key_metadata(j.get(), ProviderKind::bedrock, &typed, &perr));
        assert_contains(perr, needle);
    }
    for (const Case& c : bad) {
        ProviderKey k = key(c.metadata, c.secret);
        std::string err;
        assert_false(bedrock_validate_key(k, &err));
        assert_contains(err, c.needle);
        assert_not_contains(err, kSecret);
        std::string out;
        assert_false(bedrock_http_request("h", "", "/model/m/converse", k, false, "{}", 0, &out, &err));
        assert_true(out.empty());
        assert_true(bedrock_http_request("h", "", "/model/m/converse", k, false, "{}", 0).empty());
    }
    std::string err;
    assert_true(bedrock_validate_key(sigv4_key(), &err));
    assert_true(bedrock_validate_key(sigv4_key(R"(,"session_token":"tok","auth":"sigv4")"), &err));
    // unsafe Host / path never reach the wire
    std::string out;
    assert_false(bedrock_http_request("h", "evil\r\nX: 1", "/model/m/converse", sigv4_key(), false, "{}", 0, &out, &err));
    assert_false(bedrock_http_request("h", "", "/model/m/converse HTTP/1.0\r\n", sigv4_key(), false, "{}", 0, &out, &err));
    assert_false(bedrock_http_request("h", "", "model", sigv4_key(), false, "{}", 0, &out, &err));
}

}  // namespace

// issue 13: a model id "." / ".." never climbs out of /model/{id}/
static void test_path_never_has_dot_segments(void**) {
    assert_str_eq(bedrock_path("..", false), "/model/%2E%2E/converse");
    assert_str_eq(bedrock_path(".", true), "/model/%2E/converse-stream");
    assert_str_eq(bedrock_path("a..b", false), "/model/a..b/converse");
}

// The conversation is written as text: each message string is the client's token copied as sent
// (an escape stays the escape it was), the rest of the body as jansson writes it. Exact bytes.
static void test_body_bytes_text_tokens_verbatim(void**) {
    std::string got = build_ok(R"({"model":"x","messages":[{"role":"system","content":"Be brief."},)"
                               R"({"role":"user","content":[{"type":"text","text":"caf\u00e9 \"q\"\n\/"},"  bare \u0042 "]},)"
                               R"({"role":"assistant","content":" ","tool_calls":[{"id":"call_1","type":"function",)"
                               R"("function":{"name":"search","arguments":"{\"q\": \"x\"}"}}]},)"
                               R"({"role":"tool","tool_call_id":"call_1","content":"{\"hits\": 3}"}],"temperature":0.5})");
    assert_str_eq(got, R"({"messages":[{"role":"user","content":[{"text":"caf\u00e9 \"q\"\n\/"},{"text":"  bare \u0042 "}]},)"
                       R"({"role":"assistant","content":[{"toolUse":{"toolUseId":"call_1","name":"search","input":{"q":"x"}}}]},)"
                       R"({"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"{\"hits\": 3}"}],)"
                       R"("status":"success"}}]}],"system":[{"text":"Be brief."}],"inferenceConfig":{"temperature":0.5},)"
                       R"("toolConfig":{"tools":[{"toolSpec":{"name":"dummy_tool","description":"Placeholder required for )"
                       R"(conversations with earlier tool calls. Never call it.","inputSchema":{"json":{"type":"object",)"
                       R"("properties":{}}}}}]}})");
}

// The body for `model` (the URL's model id: the Claude rules read it).
std::string build_for(const std::string& model, const std::string& body) {
    ChatRequest r = request(body);
    std::string out;
    ApiError err;
    if (!bedrock_build_body(r, model, sigv4_key(), &out, &err))
        fail_msg("build failed: %s (param %s) for %s", err.message.c_str(), err.param.c_str(), body.c_str());
    return out;
}

void expect_for(const std::string& model, const std::string& req, const std::string& want) {
    std::string got = build_for(model, req);
    std::string e1, e2;
    JsonPtr g = json_parse(got, &e1), w = json_parse(want, &e2);
    assert_non_null(g.get());
    if (!w) fail_msg("bad expectation JSON: %s", e2.c_str());
    if (!json_equal(g.get(), w.get())) fail_msg("body\n  got:  %s\n  want: %s", got.c_str(), json_dump_compact(w.get()).c_str());
}

ApiError error_for(const std::string& model, const std::string& body) {
    ChatRequest r = request(body);
    std::string out;
    ApiError err;
    if (bedrock_build_body(r, model, sigv4_key(), &out, &err)) fail_msg("accepted: %s -> %s", body.c_str(), out.c_str());
    assert_int_equal(err.status, 400);
    return err;
}

const char* kSonnet45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const char* kOpus46 = "global.anthropic.claude-opus-4-6-v1";
const char* kHaiku3 = "anthropic.claude-3-haiku-20240307-v1:0";
const char* kLlama = "meta.llama3-3-70b-instruct-v1:0";

void test_response_format(void**) {
    const std::string schema = R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false})";
    const std::string rf = R"("response_format":{"type":"json_schema","json_schema":{"name":"place","description":"A place","strict":true,"schema":)" + schema + "}}";
    // json_schema -> Converse structured output; the schema travels as a JSON string
    std::string want_format = R"("outputConfig":{"textFormat":{"type":"json_schema","structure":{"jsonSchema":{"schema":)";
    json_quoted_append(want_format, json_dump_compact(json_parse(schema, nullptr).get()));
    want_format += R"(,"name":"place","description":"A place"}}}})";
    for (const char* model : {kSonnet45, kLlama}) {
        expect_for(model, R"({"model":"x","messages":[{"role":"user","content":"Where?"}],)" + rf + "}",
                   R"({"messages":[{"role":"user","content":[{"text":"Where?"}]}],)" + want_format + "}");
    }
    // Claude before 4.1 has no structured output: the Anthropic adapter's instruction, schema included
    std::string old = build_for(kHaiku3, R"({"model":"x","messages":[{"role":"user","content":"Where?"}],)" + rf + "}");
    assert_not_contains(old, "outputConfig");
    assert_contains(old, "conforms to this JSON Schema");
    assert_contains(old, "additionalProperties");
    // json_object: Converse has no schema-less JSON mode -> the instruction, after the client's system text
    expect_for(kSonnet45, R"({"model":"x","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"}],
                              "response_format":{"type":"json_object"}})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"system":[{"text":"Be terse."},
                   {"text":"Respond with a single valid JSON object only: no prose, no Markdown code fences."}]})");
    assert_str_eq(error_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],
                                         "response_format":{"type":"json_schema","json_schema":{"name":"n"}}})").param,
                  "response_format.json_schema.schema");
    assert_str_eq(error_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],
                                         "response_format":{"type":"xml"}})").param,
                  "response_format.type");
}

void test_reasoning_effort(void**) {
    // Claude: the Anthropic adapter's budgets; maxTokens above the budget; no temperature / top_k
    expect_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"medium",
                              "temperature":0.3,"top_k":5,"top_p":0.5})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":8192},
                   "additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":4096}}})");
    // a client cap below the budget lowers the budget; below 1024 it cannot be expressed
    expect_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"high","max_tokens":3000})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":3000},
                   "additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":2999}}})");
    assert_str_eq(error_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"low","max_tokens":500})").param,
                  "max_completion_tokens");
    assert_str_eq(error_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"huge"})").param,
                  "reasoning_effort");
    // Claude 4.6+: adaptive thinking, the effort level steers it
    expect_for(kOpus46, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"high"})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],
                   "additionalModelRequestFields":{"thinking":{"type":"adaptive"},"output_config":{"effort":"high"}}})");
    expect_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"none","top_k":5})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],
                   "additionalModelRequestFields":{"top_k":5,"thinking":{"type":"disabled"}}})");
    // a tool loop's turn: no thinking blocks are replayed to Converse, so no thinking
    std::string loop = build_for(kSonnet45, R"({"model":"x","reasoning_effort":"high","tools":[{"type":"function","function":{"name":"f"}}],"messages":[
        {"role":"user","content":"Hi"},
        {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"ok"}]})");
    assert_not_contains(loop, "thinking");
    // other models: no common switch, the model decides
    expect_for(kLlama, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"high"})",
               R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}]})");
}

void test_logprobs_refused(void**) {
    ApiError e = error_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":2})");
    assert_str_eq(e.param, "logprobs");
    assert_str_eq(e.message, "'logprobs' is not supported by this provider.");  // the Anthropic adapter's words
    build_for(kSonnet45, R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"logprobs":false})");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_and_defaults), cmocka_unit_test(test_roles_and_merging),
        cmocka_unit_test(test_images_and_documents), cmocka_unit_test(test_tools_and_choice),
        cmocka_unit_test(test_tool_history),         cmocka_unit_test(test_path),
        cmocka_unit_test(test_http_request),         cmocka_unit_test(test_key_validation),
        cmocka_unit_test(test_path_never_has_dot_segments), cmocka_unit_test(test_body_bytes_text_tokens_verbatim),
        cmocka_unit_test(test_response_format),      cmocka_unit_test(test_reasoning_effort),
        cmocka_unit_test(test_logprobs_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
