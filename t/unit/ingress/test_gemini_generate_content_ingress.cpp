// gemini_generate_content_ingress: GenerateContentRequest -> validated OpenAI chat body; the Gemini
// native paths.
#include "ingress/chat_request.hpp"
#include "ingress/endpoint_route.hpp"
#include "ingress/gemini_generate_content_ingress.hpp"
#include "ingress/gemini_native_path.hpp"
#include "ingress/virtual_key_auth.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string convert_ok(std::string_view body, GeminiBodyKind kind = GeminiBodyKind::generate) {
    std::string out;
    ApiError err;
    if (!gemini_generate_content_to_openai(body, "gem-model", kind, &out, &err)) fail_msg("refused: %s", err.message.c_str());
    ApiError parse_err;
    // what the handler does next: the OpenAI ingress must accept the conversion
    if (!parse_chat_request(out, &parse_err)) fail_msg("OpenAI ingress refused %s: %s", out.c_str(), parse_err.message.c_str());
    return out;
}

static ApiError convert_bad(std::string_view body, GeminiBodyKind kind = GeminiBodyKind::generate) {
    std::string out;
    ApiError err;
    if (gemini_generate_content_to_openai(body, "gem-model", kind, &out, &err)) fail_msg("accepted %s", std::string(body).c_str());
    assert_int_equal(err.status, 400);
    return err;
}

static void test_plain_conversation(void**) {
    std::string out = convert_ok(
        R"({"systemInstruction":{"parts":[{"text":"Be terse."},{"text":"Really."}]},)"
        R"("contents":[{"role":"user","parts":[{"text":"Hi"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},)"
        R"({"role":"model","parts":[{"text":"thinking","thought":true},{"text":"Hel"},{"text":"lo"}]},)"
        R"({"parts":[{"text":"again"}]}],)"
        R"("generationConfig":{"temperature":0.5,"topP":0.9,"topK":3,"maxOutputTokens":64,"stopSequences":["END"],)"
        R"("candidateCount":2,"seed":7},"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})");
    assert_str_eq(out,
                  R"({"model":"gem-model","messages":[{"role":"system","content":"Be terse.\nReally."},)"
                  R"({"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},)"
                  R"({"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"again"}]}],)"
                  R"("temperature":0.5,"top_p":0.9,"top_k":3,"max_tokens":64,"n":2,"seed":7,"stop":["END"]})");
    std::string stream = convert_ok(R"({"contents":[{"parts":[{"text":"x"}]}]})", GeminiBodyKind::stream_generate);
    assert_str_eq(stream, R"({"model":"gem-model","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stream":true})");
}

static void test_function_calling(void**) {
    std::string out = convert_ok(
        R"({"contents":[{"role":"user","parts":[{"text":"Weather?"}]},)"
        R"({"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}},"thoughtSignature":"c2ln"},)"
        R"({"functionCall":{"name":"get_time","args":{}}}]},)"
        R"({"role":"user","parts":[{"functionResponse":{"name":"get_time","response":{"t":"noon"}}},)"
        R"({"functionResponse":{"name":"get_weather","response":{"temp":3}}}]}],)"
        R"("tools":[{"functionDeclarations":[{"name":"get_weather","description":"d",)"
        R"("parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"},"days":{"type":"ARRAY","items":{"type":"INTEGER"}}}}},)"
        R"({"name":"get_time","parametersJsonSchema":{"type":"object"}}]}],)"
        R"("toolConfig":{"functionCallingConfig":{"mode":"ANY"}}})");
    assert_str_eq(out,
                  R"({"model":"gem-model","messages":[{"role":"user","content":[{"type":"text","text":"Weather?"}]},)"
                  R"({"role":"assistant","content":null,"tool_calls":[)"
                  R"({"id":"call_0_get_weather","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},)"
                  R"({"id":"call_1_get_time","type":"function","function":{"name":"get_time","arguments":"{}"}}]},)"
                  R"({"role":"tool","tool_call_id":"call_1_get_time","content":"{\"t\":\"noon\"}"},)"
                  R"({"role":"tool","tool_call_id":"call_0_get_weather","content":"{\"temp\":3}"}],)"
                  R"("tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":)"
                  R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"array","items":{"type":"integer"}}}}}},)"
                  R"({"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}],"tool_choice":"required"})");
    // ids the client gives name the calls; one allowed function is a named tool choice
    out = convert_ok(
        R"({"contents":[{"role":"model","parts":[{"functionCall":{"id":"c9","name":"f","args":{"a":1}}}]},)"
        R"({"role":"user","parts":[{"functionResponse":{"id":"c9","name":"f","response":{"ok":true}}}]}],)"
        R"("toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}})");
    assert_true(out.find(R"("tool_call_id":"c9")") != std::string::npos);
    assert_true(out.find(R"("tool_choice":{"type":"function","function":{"name":"f"}})") != std::string::npos);
    for (auto [mode, choice] : {std::pair{"AUTO", "\"auto\""}, std::pair{"NONE", "\"none\""}}) {
        std::string body = std::string(R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":")") +
                           mode + "\"}}}";
        assert_true(convert_ok(body).find(std::string("\"tool_choice\":") + choice) != std::string::npos);
    }
}

static void test_response_format(void**) {
    std::string out = convert_ok(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}})");
    assert_true(out.find(R"("response_format":{"type":"json_object"})") != std::string::npos);
    out = convert_ok(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",)"
                     R"("responseSchema":{"type":"OBJECT","properties":{"a":{"type":"NUMBER"}}}}})");
    assert_true(out.find(R"("response_format":{"type":"json_schema","json_schema":{"name":"response","schema":)"
                         R"({"type":"object","properties":{"a":{"type":"number"}}}}})") != std::string::npos);
    out = convert_ok(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseLogprobs":true,"logprobs":3}})");
    assert_true(out.find(R"("logprobs":true,"top_logprobs":3)") != std::string::npos);
}

static void test_count_tokens_body(void**) {
    std::string out = convert_ok(R"({"generateContentRequest":{"model":"models/x","contents":[{"parts":[{"text":"a b"}]}],)"
                                 R"("generationConfig":{"temperature":1}}})",
                                 GeminiBodyKind::count_tokens);
    assert_str_eq(out, R"({"model":"gem-model","messages":[{"role":"user","content":[{"type":"text","text":"a b"}]}]})");
    out = convert_ok(R"({"contents":[{"parts":[{"text":"a"}]}]})", GeminiBodyKind::count_tokens);
    assert_true(out.find("\"stream\"") == std::string::npos);
}

static void test_invalid_bodies(void**) {
    struct Case {
        const char* body;
        const char* message;
    };
    const Case cases[] = {
        {"{not json", nullptr},
        {"[]", "Invalid JSON payload received. The request body must be a JSON object."},
        {R"({})", "contents: contents is not specified"},
        {R"({"contents":[]})", "contents: contents is not specified"},
        {R"({"contents":[{"parts":[]}]})", "contents[0].parts: must contain at least one part"},
        {R"({"contents":[{"role":"system","parts":[{"text":"x"}]}]})", "contents[0].role: Please use a valid role: user, model."},
        {R"({"contents":[{"parts":[{"text":1}]}]})", "contents[0].parts[0].text: Invalid value (a string is required)"},
        {R"({"contents":[{"parts":[{"fileData":{"fileUri":"gs://x","mimeType":"image/png"}}]}]})",
         "contents[0].parts[0].fileData: file references are not supported by this gateway; send the bytes as inlineData"},
        {R"({"contents":[{"parts":[{"inlineData":{"mimeType":"video/mp4","data":"AA"}}]}]})",
         "contents[0].parts[0].inlineData.mimeType: inline data of type video/mp4 is not supported by this gateway"},
        {R"({"contents":[{"parts":[{"functionResponse":{"name":"f","response":{}}}]}]})",
         "contents[0].parts[0].functionResponse: no earlier functionCall of \"f\" matches this function response"},
        {R"({"contents":[{"parts":[{"functionCall":{"name":"f"}}]}]})",
         "contents[0].parts[0].functionCall: a function call must be in a model turn"},
        {R"({"contents":[{"parts":[{"executableCode":{"code":"1"}}]}]})",
         "contents[0].parts[0]: code execution parts are not supported by this gateway"},
        {R"({"contents":[{"parts":[{"text":"x","bogus":1}]}]})",
         "contents[0].parts[0]: Invalid JSON payload received. Unknown name \"bogus\": Cannot find field."},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"speed":1}})",
         "generationConfig: Invalid JSON payload received. Unknown name \"speed\": Cannot find field."},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}})",
         "generationConfig.temperature: Invalid value (a number is required)"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseSchema":{"type":"OBJECT"}}})",
         "generationConfig.responseMimeType: a response schema requires responseMimeType application/json"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseModalities":["IMAGE"]}})",
         "generationConfig.responseModalities[0]: only TEXT answers are supported by this gateway"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}}]})",
         "tools[0].googleSearch: the tool googleSearch is not supported by this gateway"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"cachedContent":"cachedContents/1"})",
         "cachedContent: cached content is not supported by this gateway"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}})",
         "toolConfig.functionCallingConfig.mode: Invalid value (AUTO, ANY, NONE or VALIDATED)"},
        {R"({"contents":[{"parts":[{"text":"x"}]}],"extra":1})", "Invalid JSON payload received. Unknown name \"extra\": Cannot find field."},
    };
    for (const Case& c : cases) {
        ApiError err = convert_bad(c.body);
        if (c.message) assert_str_eq(err.message, c.message);
    }
}

static void test_native_paths(void**) {
    GeminiNativePath p;
    assert_true(parse_gemini_native_path("/v1beta/models/gemini-2.5-flash:generateContent", &p));
    assert_str_eq(p.model, "gemini-2.5-flash");
    assert_str_eq(p.method, "generateContent");
    assert_true(parse_gemini_native_path("/v1beta/models/openai/gpt-4o:streamGenerateContent", &p));
    assert_str_eq(p.model, "openai/gpt-4o");
    assert_str_eq(p.method, "streamGenerateContent");
    assert_true(parse_gemini_native_path("/v1/models/gemini/gem:countTokens", &p));
    assert_str_eq(p.model, "gem");
    assert_true(parse_gemini_native_path("/v1/models/gemini/gem/generateContent", &p));
    assert_str_eq(p.model, "gem");
    assert_str_eq(p.method, "generateContent");
    assert_false(parse_gemini_native_path("/v1beta/models/gem", &p));
    assert_false(parse_gemini_native_path("/v1beta/models/:generateContent", &p));
    assert_false(parse_gemini_native_path("/v1beta/models/gem:", &p));
    assert_false(parse_gemini_native_path("/v1/chat/completions", &p));

    EndpointRoute route = route_endpoint("POST", "/v1beta/models/gem:generateContent");
    assert_int_equal((int)route.endpoint, (int)Endpoint::gemini_generate_content);
    assert_int_equal((int)route.dialect, (int)Dialect::google);
    route = route_endpoint("POST", "/v1/models/gemini/gem/streamGenerateContent/");
    assert_int_equal((int)route.endpoint, (int)Endpoint::gemini_stream_generate_content);
    route = route_endpoint("GET", "/v1beta/models/gem:countTokens");
    assert_int_equal((int)route.endpoint, (int)Endpoint::gemini_count_tokens);
    assert_false(route.method_allowed);
    assert_str_eq(route.allow, "POST");
    route = route_endpoint("POST", "/v1beta/models/gem:embedContent");  // docs/design.md §22
    assert_int_equal((int)route.endpoint, (int)Endpoint::embeddings);
    assert_int_equal((int)route.dialect, (int)Dialect::google);
    route = route_endpoint("POST", "/v1beta/models/gem:predict");
    assert_int_equal((int)route.endpoint, (int)Endpoint::not_served);
    assert_int_equal((int)route.dialect, (int)Dialect::google);
}

static void test_query_api_key(void**) {
    assert_str_eq(query_api_key("key=sk-proxy-abc"), "sk-proxy-abc");
    assert_str_eq(query_api_key("alt=sse&key=sk%2Dproxy"), "sk%2Dproxy");  // raw: the glue decodes it
    assert_str_eq(query_api_key("alt=sse&apikey=x&key=k&key=second"), "k");
    assert_str_eq(query_api_key("alt=sse&monkey=x"), "");
    assert_str_eq(query_api_key(""), "");
    std::string_view args = "alt=sse&key=abc";
    std::string_view raw = query_api_key(args);
    assert_ptr_equal(raw.data(), args.data() + 12);  // a span of args: the glue masks these bytes
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_conversation),
        cmocka_unit_test(test_function_calling),
        cmocka_unit_test(test_response_format),
        cmocka_unit_test(test_count_tokens_body),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_native_paths),
        cmocka_unit_test(test_query_api_key),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
