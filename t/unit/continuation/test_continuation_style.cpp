// continuation_style: the capability table per wire, provider kind and model, and the metadata override.
#include "continuation/continuation_style.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_table(void**) {
    assert_true(continuation_style(ProviderKind::anthropic, WireFormat::anthropic, "claude-sonnet-4-5", std::nullopt) ==
                ContinuationStyle::prefill);
    assert_true(continuation_style(ProviderKind::zai, WireFormat::anthropic, "glm-4.6", std::nullopt) ==
                ContinuationStyle::prefill);
    assert_true(continuation_style(ProviderKind::bedrock, WireFormat::bedrock,
                                   "us.anthropic.claude-3-5-haiku-20241022-v1:0", std::nullopt) ==
                ContinuationStyle::prefill);
    assert_true(continuation_style(ProviderKind::bedrock, WireFormat::bedrock, "amazon.nova-pro-v1:0", std::nullopt) ==
                ContinuationStyle::instruction);
    assert_true(continuation_style(ProviderKind::gemini, WireFormat::gemini, "gemini-2.5-flash", std::nullopt) ==
                ContinuationStyle::instruction);
    assert_true(continuation_style(ProviderKind::openai_compat, WireFormat::openai, "deepseek-chat", std::nullopt) ==
                ContinuationStyle::prefix);
    assert_true(continuation_style(ProviderKind::openai_compat, WireFormat::openai, "Mistral-Large-2411", std::nullopt) ==
                ContinuationStyle::prefix);
    assert_true(continuation_style(ProviderKind::openai_compat, WireFormat::openai, "codestral-latest", std::nullopt) ==
                ContinuationStyle::prefix);
    assert_true(continuation_style(ProviderKind::openai, WireFormat::openai, "gpt-4o-mini", std::nullopt) ==
                ContinuationStyle::instruction);
    assert_true(continuation_style(ProviderKind::groq, WireFormat::openai, "llama-3.3-70b", std::nullopt) ==
                ContinuationStyle::instruction);
}

static void test_override(void**) {
    assert_true(continuation_style(ProviderKind::openai_compat, WireFormat::openai, "qwen3",
                                   ContinuationStyle::continue_final_message) == ContinuationStyle::continue_final_message);
    assert_true(continuation_style(ProviderKind::anthropic, WireFormat::anthropic, "claude-opus-4",
                                   ContinuationStyle::none) == ContinuationStyle::none);
    assert_true(continuation_style(ProviderKind::openai_compat, WireFormat::openai, "deepseek-chat",
                                   ContinuationStyle::instruction) == ContinuationStyle::instruction);
}

static void test_names(void**) {
    for (auto style : {ContinuationStyle::prefill, ContinuationStyle::prefix, ContinuationStyle::continue_final_message,
                       ContinuationStyle::instruction, ContinuationStyle::none}) {
        auto named = continuation_style_named(continuation_style_name(style));
        assert_true(named.has_value());
        assert_true(*named == style);
    }
    assert_false(continuation_style_named("Prefill").has_value());
    assert_false(continuation_style_named("").has_value());
    assert_false(continuation_style_named("assistant_prefill").has_value());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
