// prompt_size: message count, characters, system characters, token estimate.
#include "canonical/prompt_size.hpp"

#include "test_util.hpp"

using namespace routeshift;

static PromptSize measure(std::string_view body) {
    ApiError error;
    auto request = parse_chat_request(body, &error);
    assert_true(request.has_value());
    return measure_prompt(*request);
}

static void test_plain_strings(void**) {
    PromptSize size = measure(
        R"({"model":"m","messages":[{"role":"system","content":"Be brief."},)"
        R"({"role":"user","content":"What is 2 + 2?"}]})");
    assert_int_equal(size.messages, 2);
    assert_int_equal(size.characters, 9 + 14);
    assert_int_equal(size.system_characters, 9);
    assert_int_equal(size.other_bytes, 0);
    assert_int_equal(size.estimated_tokens, estimate_tokens(23) + 8);
}

static void test_characters_are_code_points(void**) {
    // "é" is 2 UTF-8 bytes, "😀" 4 bytes (or a surrogate-pair escape): one character each.
    PromptSize size = measure(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\xa9\xf0\x9f\x98\x80\"},"
        "{\"role\":\"developer\",\"content\":\"\\u00e9\\ud83d\\ude00\\n\"}]}");
    assert_int_equal(size.characters, 2 + 3);
    assert_int_equal(size.system_characters, 3);
}

static void test_parts_tools_and_calls(void**) {
    std::string image = R"({"type":"image_url","image_url":{"url":"data:x"}})";
    std::string tools = R"([{"type":"function","function":{"name":"f"}}])";
    std::string calls = R"([{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}])";
    std::string body = R"({"model":"m","tools":)" + tools + R"(,"messages":[{"role":"user","content":[)"
                       R"({"type":"text","text":"abc"},)" + image + R"(]},{"role":"assistant","content":null,"tool_calls":)" +
                       calls + "}]}";
    PromptSize size = measure(body);
    assert_int_equal(size.messages, 2);
    assert_int_equal(size.characters, 3);
    assert_int_equal(size.system_characters, 0);
    assert_int_equal(size.other_bytes, image.size() + tools.size() + calls.size());
    assert_int_equal(size.estimated_tokens, estimate_tokens(3) + estimate_tokens(size.other_bytes) + 8);
}

static void test_long_multibyte_text(void**) {
    // Long enough for the bulk counter's per-lane sums to be flushed several times (255 steps of
    // 16 bytes), with an odd tail: every length counted against a bytewise count.
    for (size_t repeats : {0ul, 1ul, 5ul, 7ul, 1361ul, 2040ul, 4097ul}) {
        std::string text;
        for (size_t i = 0; i < repeats; i++) text += (i % 3 == 0) ? "\xf0\x9f\x98\x80" : (i % 3 == 1) ? "\xc3\xa9" "a" : "bc";
        uint64_t expected = 0;
        for (unsigned char c : text) expected += (c & 0xC0) != 0x80;
        PromptSize size = measure(R"({"model":"m","messages":[{"role":"user","content":")" + text + R"("}]})");
        assert_int_equal(size.characters, expected);
    }
}

static void test_measured_once_per_request(void**) {
    ApiError error;
    auto request = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hello"}]})", &error);
    assert_true(request.has_value());
    const PromptSize& first = measure_prompt(*request);
    assert_int_equal(first.characters, 5);
    assert_ptr_equal(&measure_prompt(*request), &first);  // the cached value, not a new pass
    ChatRequest moved = std::move(*request);  // the cache moves with the request
    assert_int_equal(measure_prompt(moved).characters, 5);
}

static void test_estimate_rounds_up(void**) {
    assert_int_equal(estimate_tokens(0), 0);
    assert_int_equal(estimate_tokens(1), 1);
    assert_int_equal(estimate_tokens(4), 1);
    assert_int_equal(estimate_tokens(5), 2);
}

// The bound holds for every shape measure_prompt reads (strings, parts, calls, tools, escapes,
// many tiny messages), and is reached closely enough to be useful on prose.
static void test_bound_is_an_upper_bound(void**) {
    std::string calls = R"([{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}])";
    std::string many = R"({"model":"m","messages":[)";
    for (int i = 0; i < 40; i++) many += std::string(i ? "," : "") + R"({"role":"user","content":""})";
    many += "]}";
    const std::string bodies[] = {
        R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2 + 2?"}]})",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"\\u00e9\\ud83d\\ude00\\n\\t\"}]}",
        R"({"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"functions":[{"name":"g"}],)"
        R"("messages":[{"role":"user","content":[{"type":"text","text":"abc"},{"type":"image_url","image_url":{"url":"d"}}]},)"
        R"({"role":"assistant","content":null,"tool_calls":)" + calls + "}]}",
        many,
        R"({"model":"m","messages":[{"role":"user","content":")" + std::string(5000, 'x') + R"("}]})",
    };
    for (const std::string& body : bodies) {
        ApiError error;
        auto request = parse_chat_request(body, &error);
        assert_true(request.has_value());
        PromptSizeBound bound = prompt_size_bound(*request);
        const PromptSize& size = measure_prompt(*request);
        assert_true(bound.characters >= size.characters + size.other_bytes);
        assert_true(bound.estimated_tokens >= size.estimated_tokens);
    }
    ApiError error;
    auto prose = parse_chat_request(bodies[4], &error);
    assert_true(prose.has_value());
    assert_true(prompt_size_bound(*prose).estimated_tokens <= measure_prompt(*prose).estimated_tokens + 20);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_strings),
        cmocka_unit_test(test_characters_are_code_points),
        cmocka_unit_test(test_parts_tools_and_calls),
        cmocka_unit_test(test_long_multibyte_text),
        cmocka_unit_test(test_measured_once_per_request),
        cmocka_unit_test(test_estimate_rounds_up),
        cmocka_unit_test(test_bound_is_an_upper_bound),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
