// Error classes (docs/design.md §20): every wire's error answers, in the shapes the providers
// document (providers.md §1.5, §3.5, §4.6, §5.7, §6.4, §9.4), end in the same class: context
// length, content policy, invalid request, or a retryable / credential / quota failure.
#include "egress/error_class.hpp"
#include "egress/openai/openai_compat_errors.hpp"
#include "egress/wire_adapter.hpp"

#include "test_util.hpp"

#include <string>

using namespace routeshift;

namespace {

UpstreamErrorClass openai_class(int status, std::string_view body) {
    return upstream_error_class(openai_classify_error(status, body));
}
UpstreamErrorClass anthropic_class(int status, std::string_view body) {
    return upstream_error_class(anthropic_classify_error(status, body));
}
UpstreamErrorClass gemini_class(int status, std::string_view body) {
    return upstream_error_class(gemini_classify_error(status, body));
}
UpstreamErrorClass bedrock_class(int status, std::string_view body, std::string_view type) {
    return upstream_error_class(bedrock_classify_error(status, body, type));
}

}  // namespace

static void test_context_length_on_every_wire(void**) {
    // OpenAI and Azure
    assert_int_equal(openai_class(400, R"({"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})"),
                     UpstreamErrorClass::context_length);
    // Groq
    assert_int_equal(openai_class(400, R"({"error":{"message":"Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})"),
                     UpstreamErrorClass::context_length);
    // DeepSeek: the generic code, the wording says it
    assert_int_equal(openai_class(400, R"({"error":{"message":"This model's maximum context length is 65536 tokens. However, you requested 70012 tokens (70012 in the messages, 0 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":null,"code":"invalid_request_error"}})"),
                     UpstreamErrorClass::context_length);
    // vLLM (flat, integer code)
    assert_int_equal(openai_class(400, R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400})"),
                     UpstreamErrorClass::context_length);
    // Mistral
    assert_int_equal(openai_class(400, R"({"object":"error","message":"Prompt contains 40012 tokens and 0 draft tokens, too large for model with 32768 maximum context length","type":"invalid_request_error","param":null,"code":null})"),
                     UpstreamErrorClass::context_length);
    // Together / TGI
    assert_int_equal(openai_class(422, R"({"error":{"message":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8193. Given: 9000 `inputs` tokens and 512 `max_new_tokens`","type":"invalid_request_error","param":null,"code":null}})"),
                     UpstreamErrorClass::context_length);
    // Anthropic
    assert_int_equal(anthropic_class(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})"),
                     UpstreamErrorClass::context_length);
    // Gemini
    assert_int_equal(gemini_class(400, R"({"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})"),
                     UpstreamErrorClass::context_length);
    // Bedrock: both wordings
    assert_int_equal(bedrock_class(400, R"({"message":"Input is too long for requested model."})", "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                     UpstreamErrorClass::context_length);
    assert_int_equal(bedrock_class(400, R"({"message":"The model returned the following errors: too many input tokens"})", "ValidationException"),
                     UpstreamErrorClass::context_length);
}

static void test_content_policy_on_every_wire(void**) {
    // OpenAI
    assert_int_equal(openai_class(400, R"({"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}})"),
                     UpstreamErrorClass::content_policy);
    // Azure content filter (providers.md §6.4)
    assert_int_equal(openai_class(400, R"({"error":{"code":"content_filter","status":400,"param":"prompt","message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"medium"}}}}})"),
                     UpstreamErrorClass::content_policy);
    // Zhipu 1301 (providers.md §9.4), OpenAI wire and Anthropic wire
    assert_int_equal(openai_class(400, R"({"error":{"code":"1301","message":"The input or generated content may contain unsafe or sensitive content."}})"),
                     UpstreamErrorClass::content_policy);
    assert_int_equal(anthropic_class(400, R"({"type":"error","error":{"type":"invalid_request_error","code":"1301","message":"unsafe content"}})"),
                     UpstreamErrorClass::content_policy);
}

static void test_invalid_request_and_retryable(void**) {
    assert_int_equal(openai_class(400, R"({"error":{"message":"Invalid value for 'temperature': 3.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}})"),
                     UpstreamErrorClass::invalid_request);
    assert_int_equal(openai_class(404, R"({"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}})"),
                     UpstreamErrorClass::invalid_request);
    assert_int_equal(anthropic_class(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})"),
                     UpstreamErrorClass::invalid_request);
    assert_int_equal(gemini_class(400, R"({"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}})"),
                     UpstreamErrorClass::invalid_request);
    assert_int_equal(bedrock_class(400, R"({"message":"Malformed input request: temperature must be <= 1"})", "ValidationException"),
                     UpstreamErrorClass::invalid_request);

    assert_int_equal(openai_class(429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})"),
                     UpstreamErrorClass::retryable);
    assert_int_equal(openai_class(503, "upstream connect error"), UpstreamErrorClass::retryable);
    assert_int_equal(anthropic_class(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
                     UpstreamErrorClass::retryable);
    assert_int_equal(gemini_class(503, R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})"),
                     UpstreamErrorClass::retryable);
    assert_int_equal(bedrock_class(429, R"({"message":"Too many requests, please wait before trying again."})", "ThrottlingException"),
                     UpstreamErrorClass::retryable);
    assert_int_equal(openai_class(401, R"({"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}})"),
                     UpstreamErrorClass::credential);
    assert_int_equal(openai_class(429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"),
                     UpstreamErrorClass::quota);
    // a context-length wording on a retryable status stays retryable: the status decides first
    assert_int_equal(openai_class(503, R"({"error":{"message":"maximum context length exceeded while loading"}})"),
                     UpstreamErrorClass::retryable);
}

static void test_tokens_and_names(void**) {
    assert_str_eq(std::string(attempt_status_token(UpstreamErrorClass::context_length)), "context");
    assert_str_eq(std::string(attempt_status_token(UpstreamErrorClass::content_policy)), "policy");
    assert_true(attempt_status_token(UpstreamErrorClass::invalid_request).empty());
    assert_true(attempt_status_token(UpstreamErrorClass::retryable).empty());
    assert_str_eq(std::string(error_class_name(UpstreamErrorClass::context_length)), "context_length");
    assert_false(says_context_length_exceeded("Invalid value for 'max_tokens'"));
    assert_false(says_context_length_exceeded(""));
}

static void test_client_body_gets_the_class_code(void**) {
    const WireAdapter& wire = wire_adapter(WireFormat::openai);
    ErrorContext ec;
    // vLLM's flat error: the client's envelope says context_length_exceeded, the message is the provider's
    std::string body = wire.client_error_body(
        400, R"({"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400})", ec);
    assert_true(body.find(R"("code":"context_length_exceeded")") != std::string::npos);
    assert_true(body.find("maximum context length is 4096 tokens") != std::string::npos);
    // Azure's own code is the provider's reason: kept
    body = wire.client_error_body(400, R"({"error":{"code":"content_filter","message":"filtered","param":"prompt"}})", ec);
    assert_true(body.find(R"("code":"content_filter")") != std::string::npos);
    // a policy refusal without a code gets the class's
    assert_str_eq(error_body_with_class_code(R"({"error":{"message":"no","code":null}})", UpstreamErrorClass::content_policy),
                  R"({"error":{"message":"no","code":"content_policy_violation"}})");
    // other classes and non-envelopes are left alone
    assert_str_eq(error_body_with_class_code(R"({"error":{"message":"bad","code":null}})", UpstreamErrorClass::invalid_request),
                  R"({"error":{"message":"bad","code":null}})");
    assert_str_eq(error_body_with_class_code("not json", UpstreamErrorClass::context_length), "not json");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_length_on_every_wire),
        cmocka_unit_test(test_content_policy_on_every_wire),
        cmocka_unit_test(test_invalid_request_and_retryable),
        cmocka_unit_test(test_tokens_and_names),
        cmocka_unit_test(test_client_body_gets_the_class_code),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
