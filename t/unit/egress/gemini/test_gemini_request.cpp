// gemini_adapter: request body building (OpenAI chat -> GenerateContentRequest), request path and
// headers, error classification (docs/wire-formats.md: Gemini generateContent, Cross-provider rules).
#include "ingress/chat_request.hpp"
#include "util/json_util.hpp"
#include "egress/provider_adapter.hpp"

#include <cstdlib>
#include <string>

#include "test_util.hpp"

using namespace routeshift;

namespace {

ProviderKey make_key(const char* metadata = "{}", const char* secret = "AIzaSyTESTKEY0000000000000000000000000") {
    ProviderKey k;
    k.provider = 0;
    k.secret = secret;
    k.metadata = json_parse(metadata, nullptr);
    if (!k.metadata) fail_msg("bad metadata json in test");
    return k;
}

// Builds the Gemini body for an OpenAI request body; returns its DOM (null on a 400, `err` filled).
JsonPtr build(const std::string& body, const char* model = "gemini-2.5-flash", const char* metadata = "{}",
              ApiError* err_out = nullptr) {
    ApiError perr;
    auto req = parse_chat_request(body, &perr);
    if (!req) fail_msg("test request rejected by parse_chat_request: %s", perr.message.c_str());
    ProviderKey key = make_key(metadata);
    std::string out = "stale";
    ApiError err;
    bool ok = gemini_build_body(*req, model, key, &out, &err);
    if (err_out) *err_out = err;
    if (!ok) return nullptr;
    JsonPtr j = json_parse(out, nullptr);
    if (!j) fail_msg("gemini_build_body produced invalid JSON: %s", out.c_str());
    return j;
}

// Expects a 400 invalid_request_error naming `param`.
void expect_invalid(const std::string& body, const char* param, const char* model = "gemini-2.5-flash") {
    ApiError err;
    JsonPtr j = build(body, model, "{}", &err);
    if (j) fail_msg("expected a 400 for %s, got %s", body.c_str(), json_dump_compact(j.get()).c_str());
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_str_eq(err.param, param);
    assert_true(!err.message.empty());
}

// Value at a dotted path ("contents.0.parts.1.text"); null when absent.
const json_t* at(const json_t* v, const std::string& path) {
    size_t p = 0;
    while (v && p <= path.size()) {
        size_t dot = path.find('.', p);
        std::string tok = path.substr(p, dot == std::string::npos ? std::string::npos : dot - p);
        if (json_is_array(v)) v = json_array_get(v, std::strtoul(tok.c_str(), nullptr, 10));
        else v = json_object_get(v, tok.c_str());
        if (dot == std::string::npos) break;
        p = dot + 1;
    }
    return v;
}

std::string dump(const json_t* v) { return v ? json_dump_compact(v) : std::string("<absent>"); }

#define assert_json(root, path, expected) assert_str_eq(dump(at((root).get(), path)), expected)
#define assert_absent(root, path)                                                                    \
    do {                                                                                            \
        if (at((root).get(), path)) fail_msg("%s unexpectedly present: %s", path, dump(at((root).get(), path)).c_str()); \
    } while (0)

std::string user(const char* content) {
    return std::string("{\"role\":\"user\",\"content\":\"") + content + "\"}";
}
std::string req(const std::string& messages, const std::string& extra = "") {
    return "{\"model\":\"g\",\"messages\":[" + messages + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace

// ---- messages ----------------------------------------------------------------------------------

static void test_system_prompt_placement(void**) {
    JsonPtr j = build(req("{\"role\":\"system\",\"content\":\"You are terse.\"}," + user("Hi") +
                          ",{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"Answer in French.\"}]}"));
    assert_non_null(j.get());
    assert_json(j, "systemInstruction", "{\"parts\":[{\"text\":\"You are terse.\"},{\"text\":\"Answer in French.\"}]}");
    assert_json(j, "contents", "[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]}]");
    // no OpenAI-only or gateway fields leak into the Gemini body
    for (const char* k : {"model", "messages", "stream", "stream_options", "metadata", "user"}) assert_absent(j, k);
}

static void test_system_only_becomes_user_turn(void**) {
    JsonPtr j = build(req("{\"role\":\"system\",\"content\":\"Tell a joke.\"}"));
    assert_non_null(j.get());
    assert_absent(j, "systemInstruction");
    assert_json(j, "contents", "[{\"role\":\"user\",\"parts\":[{\"text\":\"Tell a joke.\"}]}]");
}

static void test_roles_and_merging(void**) {
    JsonPtr j = build(req(user("a") + "," + user("b") + ",{\"role\":\"assistant\",\"content\":\"c\"}," +
                          "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"d\"}]}," + user("") + "," + user("e")));
    assert_non_null(j.get());
    assert_json(j, "contents",
                "[{\"role\":\"user\",\"parts\":[{\"text\":\"a\"},{\"text\":\"b\"}]},"
                "{\"role\":\"model\",\"parts\":[{\"text\":\"c\"},{\"text\":\"d\"}]},"
                "{\"role\":\"user\",\"parts\":[{\"text\":\"e\"}]}]");
    // stream flag and metadata are not part of the body (the path carries streaming)
    j = build("{\"model\":\"g\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"metadata\":{\"route_hint\":\"x\"},"
              "\"messages\":[" + user("hi") + "]}");
    assert_non_null(j.get());
    assert_absent(j, "stream");
    assert_absent(j, "metadata");
    assert_absent(j, "generationConfig");
}

static void test_message_errors(void**) {
    expect_invalid(req("{\"role\":\"user\",\"content\":null}"), "messages[0].content");
    expect_invalid(req("{\"role\":\"user\",\"content\":42}"), "messages[0].content");
    expect_invalid(req("{\"role\":\"user\",\"content\":[{\"type\":\"video\",\"x\":1}]}"), "messages[0].content[0].type");
    expect_invalid(req("{\"role\":\"system\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/a.png\"}}]}," + user("x")),
                   "messages[0].content[0].type");
    expect_invalid(req("{\"role\":\"assistant\",\"content\":\"\"}"), "messages");  // nothing to send
}

// ---- images and other media --------------------------------------------------------------------

static void test_images(void**) {
    JsonPtr j = build(req(
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\",\"detail\":\"high\"}},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.WEBP?size=2#x\"}},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/render\"}},"
        "{\"type\":\"image_url\",\"image_url\":\"gs://bucket/dog.jpg\"},"
        "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"UklGRg==\",\"format\":\"wav\"}},"
        "{\"type\":\"file\",\"file\":{\"file_data\":\"data:application/pdf;base64,JVBERi0=\",\"filename\":\"a.pdf\"}},"
        "{\"type\":\"file\",\"file\":{\"file_data\":\"JVBERi0=\",\"filename\":\"b.PDF\"}},"
        "{\"type\":\"file\",\"file\":{\"file_id\":\"files/abc-123\"}}]}"));
    assert_non_null(j.get());
    assert_json(j, "contents.0.parts.0", "{\"text\":\"What is this?\"}");
    assert_json(j, "contents.0.parts.1", "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}");
    assert_json(j, "contents.0.parts.2", "{\"fileData\":{\"mimeType\":\"image/webp\",\"fileUri\":\"https://example.com/cat.WEBP?size=2#x\"}}");
    assert_json(j, "contents.0.parts.3", "{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":\"https://example.com/render\"}}");
    assert_json(j, "contents.0.parts.4", "{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":\"gs://bucket/dog.jpg\"}}");
    assert_json(j, "contents.0.parts.5", "{\"inlineData\":{\"mimeType\":\"audio/wav\",\"data\":\"UklGRg==\"}}");
    assert_json(j, "contents.0.parts.6", "{\"inlineData\":{\"mimeType\":\"application/pdf\",\"data\":\"JVBERi0=\"}}");
    assert_json(j, "contents.0.parts.7", "{\"inlineData\":{\"mimeType\":\"application/pdf\",\"data\":\"JVBERi0=\"}}");
    assert_json(j, "contents.0.parts.8", "{\"fileData\":{\"fileUri\":\"files/abc-123\"}}");

    auto img = [](const char* url) {
        return req(std::string("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"") + url + "\"}}]}");
    };
    expect_invalid(img("ftp://example.com/a.png"), "messages[0].content[0].image_url.url");
    expect_invalid(img("data:image/png,rawbytes"), "messages[0].content[0].image_url.url");
    expect_invalid(img(""), "messages[0].content[0].image_url.url");
    expect_invalid(req("{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"file_id\":\"file-abc\"}}]}"),
                   "messages[0].content[0].file.file_id");
}

// ---- generation config -------------------------------------------------------------------------

static void test_max_tokens_and_sampling(void**) {
    // no cap given: Gemini's default applies (no maxOutputTokens is invented)
    JsonPtr j = build(req(user("x"), "\"temperature\":0.7"));
    assert_json(j, "generationConfig", "{\"temperature\":0.7}");

    j = build(req(user("x"), "\"max_tokens\":100"));
    assert_json(j, "generationConfig.maxOutputTokens", "100");
    j = build(req(user("x"), "\"max_tokens\":100,\"max_completion_tokens\":250"));
    assert_json(j, "generationConfig.maxOutputTokens", "250");
    j = build(req(user("x"), "\"max_completion_tokens\":250,\"max_tokens\":null"));
    assert_json(j, "generationConfig.maxOutputTokens", "250");

    j = build(req(user("x"), "\"temperature\":1.25,\"top_p\":0.95,\"top_k\":40,\"n\":2,\"seed\":7,"
                             "\"presence_penalty\":-0.5,\"frequency_penalty\":0.25,\"logprobs\":true,\"top_logprobs\":3,"
                             "\"user\":\"u1\",\"parallel_tool_calls\":false"));
    assert_json(j, "generationConfig",
                "{\"temperature\":1.25,\"topP\":0.95,\"topK\":40,\"candidateCount\":2,\"seed\":7,"
                "\"presencePenalty\":-0.5,\"frequencyPenalty\":0.25,\"responseLogprobs\":true,\"logprobs\":3}");
    j = build(req(user("x"), "\"n\":1"));
    assert_absent(j, "generationConfig");  // n=1 is the default: not sent

    expect_invalid(req(user("x"), "\"max_tokens\":0"), "max_tokens");
    expect_invalid(req(user("x"), "\"max_completion_tokens\":\"many\""), "max_completion_tokens");
    expect_invalid(req(user("x"), "\"temperature\":\"hot\""), "temperature");
    expect_invalid(req(user("x"), "\"n\":0"), "n");
}

static void test_stop_sequences(void**) {
    JsonPtr j = build(req(user("x"), "\"stop\":\"END\""));
    assert_json(j, "generationConfig.stopSequences", "[\"END\"]");
    j = build(req(user("x"), "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"));
    assert_json(j, "generationConfig.stopSequences", "[\"a\",\"b\",\"c\",\"d\",\"e\"]");
    j = build(req(user("x"), "\"stop\":[]"));
    assert_absent(j, "generationConfig");
    j = build(req(user("x"), "\"stop\":null"));
    assert_absent(j, "generationConfig");
    expect_invalid(req(user("x"), "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]"), "stop");
    expect_invalid(req(user("x"), "\"stop\":[\"a\",1]"), "stop[1]");
    expect_invalid(req(user("x"), "\"stop\":5"), "stop");
}

static void test_response_format(void**) {
    JsonPtr j = build(req(user("x"), "\"response_format\":{\"type\":\"json_object\"}"));
    assert_json(j, "generationConfig", "{\"responseMimeType\":\"application/json\"}");
    j = build(req(user("x"), "\"response_format\":{\"type\":\"text\"}"));
    assert_absent(j, "generationConfig");
    const char* schema_rf =
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"strict\":true,\"schema\":"
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\",\"additionalProperties\":false,"
        "\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}}}";
    j = build(req(user("x"), schema_rf));
    assert_json(j, "generationConfig",
                "{\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"object\",\"properties\":"
                "{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}}");
    // key metadata json_schema: the full JSON Schema goes as responseJsonSchema, untouched
    j = build(req(user("x"), schema_rf), "gemini-2.5-flash", "{\"json_schema\":true}");
    assert_json(j, "generationConfig.responseJsonSchema.additionalProperties", "false");
    assert_absent(j, "generationConfig.responseSchema");
    expect_invalid(req(user("x"), "\"response_format\":{\"type\":\"yaml\"}"), "response_format.type");
}

static void test_reasoning_effort(void**) {
    JsonPtr j = build(req(user("x"), "\"reasoning_effort\":\"high\""), "gemini-3-pro-preview");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingLevel\":\"HIGH\",\"includeThoughts\":true}");
    j = build(req(user("x"), "\"reasoning_effort\":\"minimal\""), "models/gemini-3.5-flash");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingLevel\":\"MINIMAL\",\"includeThoughts\":true}");
    j = build(req(user("x"), "\"reasoning_effort\":\"none\""), "gemini-3-flash");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingLevel\":\"MINIMAL\"}");
    // 2.5 series and unversioned ids: a token budget
    j = build(req(user("x"), "\"reasoning_effort\":\"low\""), "gemini-2.5-flash");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingBudget\":1024,\"includeThoughts\":true}");
    j = build(req(user("x"), "\"reasoning_effort\":\"medium\""), "gemini-flash-latest");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingBudget\":8192,\"includeThoughts\":true}");
    j = build(req(user("x"), "\"reasoning_effort\":\"none\""), "gemini-2.5-flash");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingBudget\":0}");
    j = build(req(user("x"), "\"reasoning_effort\":\"none\""), "gemini-2.5-pro");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingBudget\":128}");  // Pro cannot turn it off
    // no effort: no thinkingConfig unless the key asks for thought summaries
    j = build(req(user("x")), "gemini-3-pro-preview");
    assert_absent(j, "generationConfig");
    j = build(req(user("x")), "gemini-3-pro-preview", "{\"include_thoughts\":true}");
    assert_json(j, "generationConfig.thinkingConfig", "{\"includeThoughts\":true}");
    j = build(req(user("x"), "\"reasoning_effort\":\"none\""), "gemini-2.5-flash", "{\"include_thoughts\":true}");
    assert_json(j, "generationConfig.thinkingConfig", "{\"thinkingBudget\":0}");
    expect_invalid(req(user("x"), "\"reasoning_effort\":\"extreme\""), "reasoning_effort");
}

static void test_key_metadata_safety_settings(void**) {
    JsonPtr j = build(req(user("x")), "gemini-2.5-flash",
                      "{\"safety_settings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_ONLY_HIGH\"}]}");
    assert_json(j, "safetySettings", "[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_ONLY_HIGH\"}]");
}

// ---- tools -------------------------------------------------------------------------------------

static const char* kWeatherTool =
    "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather now\",\"strict\":true,"
    "\"parameters\":{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
    "\"additionalProperties\":false,\"properties\":{\"city\":{\"type\":\"string\",\"minLength\":1},"
    "\"unit\":{\"type\":[\"string\",\"null\"],\"enum\":[\"c\",\"f\",null]},"
    "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},\"mail\":{\"type\":\"string\",\"format\":\"email\"},"
    "\"days\":{\"type\":\"integer\",\"enum\":[1,3,7],\"exclusiveMinimum\":0},"
    "\"place\":{\"$ref\":\"#/$defs/place\",\"description\":\"where\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},\"uniqueItems\":true},"
    "\"mode\":{\"const\":\"fast\"},\"opt\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}},"
    "\"required\":[\"city\",\"ghost\"],\"$defs\":{\"place\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"properties\":{\"lat\":{\"type\":\"number\"},\"lon\":{\"type\":\"number\"}},\"required\":[\"lat\",\"lon\"]}}}}}";

static void test_tools_schema_conversion(void**) {
    JsonPtr j = build(req(user("x"), std::string("\"tools\":[") + kWeatherTool +
                                         ",{\"type\":\"function\",\"function\":{\"name\":\"now\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}},"
                                         "{\"type\":\"function\",\"function\":{\"name\":\"ping\"}}]"));
    assert_non_null(j.get());
    assert_json(j, "tools.0.functionDeclarations.0",
                "{\"name\":\"get_weather\",\"description\":\"Weather now\",\"parameters\":{\"type\":\"object\",\"properties\":{"
                "\"city\":{\"type\":\"string\",\"minLength\":1},"
                "\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"],\"nullable\":true},"
                "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},"
                "\"mail\":{\"type\":\"string\"},"
                "\"days\":{\"type\":\"integer\",\"description\":\"Allowed values: [1,3,7].\"},"
                "\"place\":{\"description\":\"where\",\"type\":\"object\",\"properties\":{\"lat\":{\"type\":\"number\"},"
                "\"lon\":{\"type\":\"number\"}},\"required\":[\"lat\",\"lon\"]},"
                "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"nullable\":true}},"
                "\"mode\":{\"enum\":[\"fast\"],\"type\":\"string\"},"
                "\"opt\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}},"
                "\"required\":[\"city\"]}}");
    // a parameterless function declares no parameters
    assert_json(j, "tools.0.functionDeclarations.1", "{\"name\":\"now\"}");
    assert_json(j, "tools.0.functionDeclarations.2", "{\"name\":\"ping\"}");
    assert_absent(j, "tools.1");
    assert_absent(j, "toolConfig");  // no tool_choice: Gemini's default (AUTO)

    // metadata json_schema: verbatim JSON Schema
    j = build(req(user("x"), std::string("\"tools\":[") + kWeatherTool + "]"), "gemini-2.5-flash", "{\"json_schema\":true}");
    assert_json(j, "tools.0.functionDeclarations.0.parametersJsonSchema.additionalProperties", "false");
    assert_json(j, "tools.0.functionDeclarations.0.parametersJsonSchema.$defs.place.required", "[\"lat\",\"lon\"]");
    assert_absent(j, "tools.0.functionDeclarations.0.parameters");

    // recursive $ref and bad refs are refused, not looped on
    expect_invalid(req(user("x"), "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"t\",\"parameters\":{\"type\":\"object\","
                                  "\"properties\":{\"n\":{\"$ref\":\"#/$defs/node\"}},\"$defs\":{\"node\":{\"type\":\"object\","
                                  "\"properties\":{\"next\":{\"$ref\":\"#/$defs/node\"}}}}}}}]"),
                   "tools[0].function.parameters");
    expect_invalid(req(user("x"), "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"t\",\"parameters\":{\"type\":\"object\","
                                  "\"properties\":{\"n\":{\"$ref\":\"https://x/schema.json\"}}}}}]"),
                   "tools[0].function.parameters");
    expect_invalid(req(user("x"), "\"tools\":[{\"type\":\"custom\",\"custom\":{\"name\":\"t\"}}]"), "tools[0].type");
    expect_invalid(req(user("x"), "\"tools\":[{\"type\":\"function\",\"function\":{\"description\":\"no name\"}}]"),
                   "tools[0].function.name");
}

static void test_tool_choice(void**) {
    std::string tools = std::string("\"tools\":[") + kWeatherTool +
                        ",{\"type\":\"function\",\"function\":{\"name\":\"now\"}}]";
    struct {
        const char* choice;
        const char* expect;
    } cases[] = {
        {"\"auto\"", "{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}"},
        {"\"none\"", "{\"functionCallingConfig\":{\"mode\":\"NONE\"}}"},
        {"\"required\"", "{\"functionCallingConfig\":{\"mode\":\"ANY\"}}"},
        {"{\"type\":\"function\",\"function\":{\"name\":\"now\"}}",
         "{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"now\"]}}"},
        {"{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"required\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}]}}",
         "{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"get_weather\"]}}"},
    };
    for (const auto& c : cases) {
        JsonPtr j = build(req(user("x"), tools + ",\"tool_choice\":" + c.choice));
        assert_non_null(j.get());
        assert_json(j, "toolConfig", c.expect);
        assert_non_null(at(j.get(), "tools.0.functionDeclarations.1"));
    }
    // allowed_tools in auto mode: the other declarations are withheld (Gemini takes names only with ANY)
    JsonPtr j = build(req(user("x"), tools + ",\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"auto\","
                                             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"now\"}}]}}"));
    assert_json(j, "toolConfig", "{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}");
    assert_json(j, "tools", "[{\"functionDeclarations\":[{\"name\":\"now\"}]}]");
    // tool_choice without tools: nothing to configure
    j = build(req(user("x"), "\"tool_choice\":\"none\""));
    assert_absent(j, "toolConfig");
    assert_absent(j, "tools");
    // legacy functions / function_call
    j = build(req(user("x"), "\"functions\":[{\"name\":\"now\",\"parameters\":{\"type\":\"object\",\"properties\":"
                             "{\"tz\":{\"type\":\"string\"}}}}],\"function_call\":{\"name\":\"now\"}"));
    assert_json(j, "tools", "[{\"functionDeclarations\":[{\"name\":\"now\",\"parameters\":{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}}]}]");
    assert_json(j, "toolConfig", "{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"now\"]}}");

    expect_invalid(req(user("x"), tools + ",\"tool_choice\":\"sometimes\""), "tool_choice");
    expect_invalid(req(user("x"), tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{}}"), "tool_choice.function.name");
}

// assistant tool_calls -> functionCall parts; tool results -> functionResponse parts named by
// looking back for the tool_call_id, merged into one user turn (wire-formats.md, Gemini → Request mapping from OpenAI)
static void test_tool_history(void**) {
    std::string msgs =
        user("Weather in Oslo and Paris?") +
        ",{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":["
        "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}},"
        "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":\"12:00\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"{\\\"temp_c\\\":3}\"}," +
        user("Thanks") +
        ",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_3\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_3\",\"content\":[{\"type\":\"text\",\"text\":\"sunny, \"},{\"type\":\"text\",\"text\":\"20C\"}]}";
    JsonPtr j = build(req(msgs), "gemini-2.5-flash");
    assert_non_null(j.get());
    assert_json(j, "contents",
                "[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Oslo and Paris?\"}]},"
                "{\"role\":\"model\",\"parts\":[{\"text\":\"Checking.\"},"
                "{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}}},"
                "{\"functionCall\":{\"name\":\"get_time\",\"args\":{}}}]},"
                "{\"role\":\"user\",\"parts\":["
                "{\"functionResponse\":{\"name\":\"get_time\",\"response\":{\"result\":\"12:00\"}}},"
                "{\"functionResponse\":{\"name\":\"get_weather\",\"response\":{\"result\":{\"temp_c\":3}}}},"
                "{\"text\":\"Thanks\"}]},"
                "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}]},"
                "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get_weather\",\"response\":{\"result\":\"sunny, 20C\"}}}]}]");

    // legacy role "function" and assistant function_call
    j = build(req(user("t?") + ",{\"role\":\"assistant\",\"content\":null,\"function_call\":{\"name\":\"now\",\"arguments\":\"{}\"}},"
                               "{\"role\":\"function\",\"name\":\"now\",\"content\":\"noon\"}"));
    assert_json(j, "contents.1.parts.0", "{\"functionCall\":{\"name\":\"now\",\"args\":{}}}");
    assert_json(j, "contents.2.parts.0", "{\"functionResponse\":{\"name\":\"now\",\"response\":{\"result\":\"noon\"}}}");

    // a tool result for a call nobody made, and malformed arguments, are refused
    expect_invalid(req(user("x") + ",{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":\"1\"}"), "messages[1].tool_call_id");
    expect_invalid(req(user("x") + ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                                   "\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]}"),
                   "messages[1].tool_calls[0].function.arguments");
    expect_invalid(req(user("x") + ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                                   "\"function\":{\"name\":\"f\",\"arguments\":\"[1,2]\"}}]}"),
                   "messages[1].tool_calls[0].function.arguments");
    expect_invalid(req(user("x") + ",{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
                                   "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}"),
                   "messages[1].tool_calls[0].id");
}

// thought signatures ride in the tool-call id and go back on the functionCall part (wire-formats.md, Tool-call ids)
static void test_thought_signature_round_trip(void**) {
    std::string msgs =
        user("x") +
        ",{\"role\":\"assistant\",\"tool_calls\":["
        "{\"id\":\"call_ab__thought__CiQBVKhc7+/=\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
        "{\"id\":\"call_cd\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_ab__thought__CiQBVKhc7+/=\",\"content\":\"1\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_cd\",\"content\":\"2\"}";
    for (const char* model : {"gemini-2.5-flash", "gemini-3-pro-preview"}) {
        JsonPtr j = build(req(msgs), model);
        assert_non_null(j.get());
        assert_json(j, "contents.1.parts.0",
                    "{\"functionCall\":{\"name\":\"f\",\"args\":{}},\"thoughtSignature\":\"CiQBVKhc7+/=\"}");
        assert_json(j, "contents.1.parts.1", "{\"functionCall\":{\"name\":\"g\",\"args\":{}}}");  // parallel: first only
        assert_json(j, "contents.2.parts.0.functionResponse.name", "\"f\"");
        assert_json(j, "contents.2.parts.1.functionResponse.name", "\"g\"");
    }
    // history without signatures (another provider's turns): Gemini 3 gets the documented
    // placeholder on the first call of each step, older models get nothing
    std::string foreign = user("x") +
                          ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
                          "{\"id\":\"toolu_2\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                          "{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":\"1\"},{\"role\":\"tool\",\"tool_call_id\":\"toolu_2\",\"content\":\"2\"}";
    JsonPtr j = build(req(foreign), "gemini-3-flash-preview");
    assert_json(j, "contents.1.parts.0.thoughtSignature", "\"skip_thought_signature_validator\"");
    assert_absent(j, "contents.1.parts.1.thoughtSignature");
    j = build(req(foreign), "gemini-2.5-flash");
    assert_absent(j, "contents.1.parts.0.thoughtSignature");
}

// the id a translator emits for a recorded Gemini 3 function call, sent back in the next request,
// restores the exact signature Gemini returned
static void test_translator_ids_round_trip(void**) {
    std::string sse = test::read_data_file("gemini/vercel-ai_google-tool-call.sse");
    TranslatorOptions o;
    o.stream = true;
    o.id = "chatcmpl-rt";
    o.model = "gemini-3-pro-preview";
    auto t = gemini_translator(o);
    std::string out;
    assert_true(t->feed(sse, &out));
    assert_true(t->finish(&out));
    size_t p = out.find("\"id\":\"call_");
    assert_true(p != std::string::npos);
    size_t e = out.find('"', p + 6);
    std::string id = out.substr(p + 6, e - p - 6);
    assert_contains(id, "__thought__");
    std::string sig = id.substr(id.find("__thought__") + 11);
    // the signature in the recording
    size_t sp = sse.find("\"thoughtSignature\":\"");
    assert_true(sp != std::string::npos);
    std::string rec = sse.substr(sp + 20, sse.find('"', sp + 20) - sp - 20);
    assert_str_eq(sig, rec);

    std::string msgs = user("Weather?") + ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"" + id +
                       "\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"location\\\":\\\"San Francisco\\\"}\"}}]},"
                       "{\"role\":\"tool\",\"tool_call_id\":\"" + id + "\",\"content\":\"{\\\"temp\\\":20}\"}";
    JsonPtr j = build(req(msgs), "gemini-3-pro-preview");
    assert_non_null(j.get());
    assert_json(j, "contents.1.parts.0.thoughtSignature", "\"" + rec + "\"");
    assert_json(j, "contents.2.parts.0", "{\"functionResponse\":{\"name\":\"weather\",\"response\":{\"result\":{\"temp\":20}}}}");
}

// ---- path and headers --------------------------------------------------------------------------

static void test_request_path_and_headers(void**) {
    assert_str_eq(gemini_request_path("/v1beta", "gemini-2.5-flash", false), "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_str_eq(gemini_request_path("/v1beta", "gemini-2.5-flash", true),
                  "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    assert_str_eq(gemini_request_path("/v1beta/", "models/gemini-3-pro-preview", true),
                  "/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse");
    assert_str_eq(gemini_request_path("", "tunedModels/my-model-1", false), "/tunedModels/my-model-1:generateContent");
    assert_str_eq(gemini_request_path("/gw/v1beta", "odd name/x:y?z", false),
                  "/gw/v1beta/models/odd%20name%2Fx%3Ay%3Fz:generateContent");
    assert_str_eq(std::string(kGeminiDefaultBaseUrl), "https://generativelanguage.googleapis.com/v1beta");

    ProviderKey k = make_key("{}", "AIzaSyABC");
    assert_str_eq(gemini_request_headers(k), "x-goog-api-key: AIzaSyABC\r\n");
    k.secret = "AIza\r\nX-Evil: 1";
    assert_str_eq(gemini_request_headers(k), "x-goog-api-key: AIzaX-Evil: 1\r\n");
}

// ---- error classification ----------------------------------------------------------------------

static void test_classify_recorded(void**) {
    // recorded: an invalid key comes back as 400 INVALID_ARGUMENT + ErrorInfo API_KEY_INVALID
    // (gateway policy for a broken/revoked credential: park it for long, serve the request elsewhere)
    ErrorVerdict v = gemini_classify_error(400, test::read_data_file("gemini/firebase-googleai_unary-failure-api-key.json"));
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.park_ms, 3600000);
    assert_int_equal(v.error.status, 401);
    assert_str_eq(v.error.type, "authentication_error");
    assert_str_eq(v.error.code, "invalid_api_key");
    assert_str_eq(v.error.message, "API key not valid. Please pass a valid API key.");
    assert_not_contains(openai_error_body(v.error), "key1234");  // the DebugInfo detail stays out

    v = gemini_classify_error(404, test::read_data_file("gemini/firebase-googleai_unary-failure-unknown-model.json"));
    assert_false(v.retry);
    assert_false(v.park_key);
    assert_int_equal(v.error.status, 404);
    assert_str_eq(v.error.type, "not_found_error");
    assert_str_eq(v.error.code, "model_not_found");
    assert_contains(v.error.message, "models/gemini-5.0-flash is not found");
}

static void test_classify_rate_limits(void**) {
    const char* per_minute =
        "{\"error\":{\"code\":429,\"message\":\"You exceeded your current quota. Please retry in 37.9s.\",\"status\":\"RESOURCE_EXHAUSTED\","
        "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaMetric\":"
        "\"generativelanguage.googleapis.com/generate_content_free_tier_requests\",\"quotaId\":"
        "\"GenerateRequestsPerMinutePerProjectPerModel-FreeTier\",\"quotaValue\":\"10\"}]},"
        "{\"@type\":\"type.googleapis.com/google.rpc.Help\",\"links\":[{\"url\":\"https://ai.google.dev/gemini-api/docs/rate-limits\"}]},"
        "{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"38s\"}]}}";
    ErrorVerdict v = gemini_classify_error(429, per_minute);
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.park_ms, 38000);
    assert_int_equal(v.error.status, 429);
    assert_str_eq(v.error.type, "rate_limit_error");
    assert_str_eq(v.error.code, "rate_limit_exceeded");

    // no RetryInfo: the "retry in" hint of the message
    v = gemini_classify_error(429, "{\"error\":{\"code\":429,\"message\":\"Resource exhausted. Please retry in 2.5s.\",\"status\":\"RESOURCE_EXHAUSTED\"}}");
    assert_true(v.retry);
    assert_int_equal(v.park_ms, 2500);
    v = gemini_classify_error(429, "{\"error\":{\"code\":429,\"message\":\"Resource exhausted\",\"status\":\"RESOURCE_EXHAUSTED\","
                                   "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"0.250s\"}]}}");
    assert_int_equal(v.park_ms, 250);
    v = gemini_classify_error(429, "{\"error\":{\"code\":429,\"message\":\"Resource exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}");
    assert_true(v.retry);
    assert_int_equal(v.park_ms, -1);

    // a per-day quota: not a "slow down" - no retry, the key rests
    std::string per_day(per_minute);
    per_day.replace(per_day.find("PerMinute"), 9, "PerDay");
    v = gemini_classify_error(429, per_day);
    assert_false(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.park_ms, 38000);
    assert_int_equal(v.error.status, 429);
    assert_str_eq(v.error.code, "insufficient_quota");
    per_day.erase(per_day.find(",{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\""));
    per_day += "]}}";
    v = gemini_classify_error(429, per_day);
    assert_false(v.retry);
    assert_int_equal(v.park_ms, 37900);  // no RetryInfo: the message's "retry in 37.9s"
    per_day.replace(per_day.find(" Please retry in 37.9s."), 23, "");
    v = gemini_classify_error(429, per_day);
    assert_false(v.retry);
    assert_int_equal(v.park_ms, 3600000);  // no hint at all: a daily quota rests the key for long
    // a tier with a zero quota for the model
    v = gemini_classify_error(429, "{\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":"
                                   "[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaId\":\"X\",\"quotaValue\":\"0\"}]}]}}");
    assert_false(v.retry);
    assert_str_eq(v.error.code, "insufficient_quota");
}

static void test_classify_server_errors(void**) {
    // list-wrapped form
    ErrorVerdict v = gemini_classify_error(503, "[{\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\","
                                                "\"status\":\"UNAVAILABLE\"}}]");
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.error.status, 503);
    assert_str_eq(v.error.type, "server_error");
    assert_str_eq(v.error.code, "overloaded");
    assert_str_eq(v.error.message, "The model is overloaded. Please try again later.");

    v = gemini_classify_error(500, "{\"error\":{\"code\":500,\"message\":\"An internal error has occurred.\",\"status\":\"INTERNAL\"}}");
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.error.status, 500);
    assert_str_eq(v.error.code, "internal");

    v = gemini_classify_error(504, "{\"error\":{\"code\":504,\"message\":\"Deadline expired\",\"status\":\"DEADLINE_EXCEEDED\"}}");
    assert_true(v.retry);
    assert_int_equal(v.error.status, 504);

    // not JSON (a proxy in front of Google)
    v = gemini_classify_error(502, "<html><body>Bad Gateway</body></html>");
    assert_true(v.retry);
    assert_int_equal(v.error.status, 502);
    assert_str_eq(v.error.type, "server_error");
    assert_contains(v.error.message, "502");
    v = gemini_classify_error(503, "");
    assert_true(v.retry);
    assert_str_eq(v.error.code, "overloaded");

    // an error carried by an SSE event (error before anything was relayed)
    v = gemini_classify_error(200, "data: {\"error\":{\"code\":503,\"message\":\"busy\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n");
    assert_true(v.retry);
    assert_int_equal(v.error.status, 503);
}

static void test_classify_client_errors(void**) {
    // a request without any key: Gemini's own 403
    ErrorVerdict v = gemini_classify_error(403, "{\"error\":{\"code\":403,\"message\":\"Method doesn't allow unregistered callers (callers without "
                                                "established identity). Please use API Key or other form of API consumer identity to call this API.\","
                                                "\"status\":\"PERMISSION_DENIED\"}}");
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_int_equal(v.park_ms, 3600000);
    assert_int_equal(v.error.status, 403);
    assert_str_eq(v.error.type, "authentication_error");

    v = gemini_classify_error(403, "{\"error\":{\"code\":403,\"message\":\"Permission denied on resource project x.\",\"status\":\"PERMISSION_DENIED\"}}");
    assert_true(v.retry);
    assert_true(v.park_key);
    assert_str_eq(v.error.type, "permission_error");
    assert_str_eq(v.error.code, "permission_denied");

    v = gemini_classify_error(400, "{\"error\":{\"code\":400,\"message\":\"The input token count (1200000) exceeds the maximum number of tokens "
                                   "allowed (1048576).\",\"status\":\"INVALID_ARGUMENT\"}}");
    assert_false(v.retry);
    assert_false(v.park_key);
    assert_int_equal(v.park_ms, -1);
    assert_int_equal(v.error.status, 400);
    assert_str_eq(v.error.type, "invalid_request_error");
    assert_str_eq(v.error.code, "context_length_exceeded");

    v = gemini_classify_error(400, "{\"error\":{\"code\":400,\"message\":\"* GenerateContentRequest.contents: contents is not specified\","
                                   "\"status\":\"INVALID_ARGUMENT\"}}");
    assert_false(v.retry);
    assert_false(v.park_key);
    assert_str_eq(v.error.code, "invalid_argument");

    v = gemini_classify_error(400, "{\"error\":{\"code\":400,\"message\":\"User location is not supported for the API use.\","
                                   "\"status\":\"FAILED_PRECONDITION\"}}");
    assert_false(v.retry);
    assert_true(v.park_key);
    assert_str_eq(v.error.code, "failed_precondition");
    v = gemini_classify_error(400, "{\"error\":{\"code\":400,\"message\":\"Precondition check failed.\",\"status\":\"FAILED_PRECONDITION\"}}");
    assert_false(v.retry);
    assert_false(v.park_key);

    // a key in a message never reaches the client
    v = gemini_classify_error(400, "{\"error\":{\"code\":400,\"message\":\"API key not valid: AIzaSyD-abcdefghijklmnopqrstuvwxyz0123456\","
                                   "\"status\":\"INVALID_ARGUMENT\"}}");
    assert_not_contains(v.error.message, "AIzaSyD");
    assert_contains(v.error.message, "[redacted]");
    assert_str_eq(v.error.type, "authentication_error");
}

// issue 13: a plain-text error is redacted BEFORE it is cut to 512 bytes (a key across the cut
// must not leave its first characters), and the cut never splits a character
static void test_plain_text_error_redacted_before_cut(void**) {
    const std::string secret = "AIzaSyPLAINTEXTKEY000000000000000000000";
    const std::string_view secrets[] = {secret};
    std::string body(505, 'x');
    body += secret;  // starts 7 bytes before the cut
    ErrorVerdict v = gemini_classify_error(500, body, secrets);
    assert_not_contains(v.error.message, "AIza");
    assert_true(v.error.message.size() <= 512);
    assert_true(v.error.message.starts_with(std::string(505, 'x') + "[redac"));
    // a key that does not look like Google's is only caught by the secret itself
    const std::string other = "proxy-secret-0123456789abcdef";
    const std::string_view others[] = {other};
    std::string body2(508, 'y');
    body2 += other;
    v = gemini_classify_error(502, body2, others);
    assert_not_contains(v.error.message, "prox");
    std::string utf(511, 'z');
    utf += "\xE2\x82\xAC more";
    v = gemini_classify_error(503, utf, {});
    assert_non_null(json_parse(openai_error_body(v.error), nullptr).get());
    assert_not_contains(openai_error_body(v.error), "\xEF\xBF\xBD");
}

// The conversation is written as text: each message string is the client's token copied as sent
// (an escape stays the escape it was), the rest of the body as jansson writes it. Exact bytes.
void test_body_bytes_text_tokens_verbatim(void**) {
    std::string body = R"({"model":"g","messages":[{"role":"system","content":"Be brief."},)"
                       R"({"role":"user","content":[{"type":"text","text":"caf\u00e9 \"q\"\n\/"}]},)"
                       R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
                       R"("function":{"name":"search","arguments":"{\"q\": \"x\"}"}}]},)"
                       R"({"role":"tool","tool_call_id":"call_1","content":"{\"hits\": 3}"},)"
                       R"({"role":"tool","tool_call_id":"call_1","content":"plain \u0041"}],"temperature":0.5})";
    ApiError perr;
    auto req = parse_chat_request(body, &perr);
    assert_true(req.has_value());
    ProviderKey key = make_key();
    std::string out;
    ApiError err;
    assert_true(gemini_build_body(*req, "gemini-2.5-flash", key, &out, &err));
    assert_str_eq(out, R"({"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[)"
                       R"({"role":"user","parts":[{"text":"caf\u00e9 \"q\"\n\/"}]},)"
                       R"({"role":"model","parts":[{"functionCall":{"name":"search","args":{"q":"x"}}}]},)"
                       R"({"role":"user","parts":[{"functionResponse":{"name":"search","response":{"result":{"hits":3}}}},)"
                       R"({"functionResponse":{"name":"search","response":{"result":"plain \u0041"}}}]}],)"
                       R"("generationConfig":{"temperature":0.5}})");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_prompt_placement),
        cmocka_unit_test(test_system_only_becomes_user_turn),
        cmocka_unit_test(test_roles_and_merging),
        cmocka_unit_test(test_message_errors),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_max_tokens_and_sampling),
        cmocka_unit_test(test_stop_sequences),
        cmocka_unit_test(test_response_format),
        cmocka_unit_test(test_reasoning_effort),
        cmocka_unit_test(test_key_metadata_safety_settings),
        cmocka_unit_test(test_tools_schema_conversion),
        cmocka_unit_test(test_tool_choice),
        cmocka_unit_test(test_tool_history),
        cmocka_unit_test(test_thought_signature_round_trip),
        cmocka_unit_test(test_translator_ids_round_trip),
        cmocka_unit_test(test_request_path_and_headers),
        cmocka_unit_test(test_classify_recorded),
        cmocka_unit_test(test_classify_rate_limits),
        cmocka_unit_test(test_classify_server_errors),
        cmocka_unit_test(test_classify_client_errors),
        cmocka_unit_test(test_plain_text_error_redacted_before_cut),
        cmocka_unit_test(test_body_bytes_text_tokens_verbatim),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
