// continuation_request: the continuation body per wire and style, built from the body the planner made.
#include "continuation/continuation_request.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string build(std::string_view body, WireFormat wire, ContinuationStyle style, std::string_view delivered) {
    std::string out, error;
    assert_true(build_continuation_body(body, wire, style, delivered, &out, &error));
    return out;
}

static void test_openai_styles(void**) {
    const std::string body = R"({"model":"m","messages":[{"role":"user","content":"Count"}],"stream":true})";
    assert_string_equal(
        build(body, WireFormat::openai, ContinuationStyle::prefix, "one \"two\"\n").c_str(),
        R"({"model":"m","messages":[{"role":"user","content":"Count"},{"role":"assistant","content":"one \"two\"\n","prefix":true}],"stream":true})");
    assert_string_equal(
        build(body, WireFormat::openai, ContinuationStyle::continue_final_message, "one two").c_str(),
        R"({"model":"m","messages":[{"role":"user","content":"Count"},{"role":"assistant","content":"one two"}],"stream":true,"continue_final_message":true,"add_generation_prompt":false})");
    std::string instruction = build(body, WireFormat::openai, ContinuationStyle::instruction, "one two");
    std::string expected = R"({"model":"m","messages":[{"role":"user","content":"Count"},{"role":"assistant","content":"one two"},{"role":"user","content":)";
    json_quoted_append(expected, kContinuationInstruction);
    expected += R"(}],"stream":true})";
    assert_string_equal(instruction.c_str(), expected.c_str());
}

static void test_anthropic_prefill(void**) {
    const std::string body = R"({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"Hi"}],"stream":true})";
    // trailing whitespace is not sent: Anthropic rejects a final assistant turn that ends in it
    assert_string_equal(
        build(body, WireFormat::anthropic, ContinuationStyle::prefill, "Hello there, \n").c_str(),
        R"({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello there,"}],"stream":true})");
    assert_string_equal(std::string(continuation_prefill("a b \t\r\n")).c_str(), "a b");
    assert_string_equal(std::string(continuation_prefill("   ")).c_str(), "");
}

static void test_bedrock_and_gemini(void**) {
    const std::string bedrock = R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":5}})";
    assert_string_equal(
        build(bedrock, WireFormat::bedrock, ContinuationStyle::prefill, "Hel ").c_str(),
        R"({"messages":[{"role":"user","content":[{"text":"Hi"}]},{"role":"assistant","content":[{"text":"Hel"}]}],"inferenceConfig":{"maxTokens":5}})");
    const std::string gemini = R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})";
    std::string expected = R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]},{"role":"model","parts":[{"text":"Hel"}]},{"role":"user","parts":[{"text":)";
    json_quoted_append(expected, kContinuationInstruction);
    expected += "}]}]}";
    assert_string_equal(build(gemini, WireFormat::gemini, ContinuationStyle::instruction, "Hel").c_str(), expected.c_str());
}

static void test_edges(void**) {
    // an empty conversation gets no leading comma; whitespace around the body is kept
    assert_string_equal(build(" {\"messages\": [ ] } ", WireFormat::openai, ContinuationStyle::prefix, "x").c_str(),
                        " {\"messages\": [ {\"role\":\"assistant\",\"content\":\"x\",\"prefix\":true}] } ");
    std::string out, error;
    assert_false(build_continuation_body(R"({"model":"m"})", WireFormat::openai, ContinuationStyle::prefix, "x", &out, &error));
    assert_true(error.find("conversation") != std::string::npos);
    assert_false(build_continuation_body("{\"messages\":[", WireFormat::openai, ContinuationStyle::prefix, "x", &out, &error));
    assert_false(build_continuation_body(R"({"messages":[]})", WireFormat::openai, ContinuationStyle::none, "x", &out, &error));
    // Gemini's conversation is "contents": a body with only "messages" is not continued there
    assert_false(build_continuation_body(R"({"messages":[]})", WireFormat::gemini, ContinuationStyle::instruction, "x", &out, &error));
    // nested "messages" members are not the conversation
    assert_false(build_continuation_body(R"({"metadata":{"messages":[]}})", WireFormat::openai, ContinuationStyle::prefix, "x",
                                         &out, &error));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_styles),
        cmocka_unit_test(test_anthropic_prefill),
        cmocka_unit_test(test_bedrock_and_gemini),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
