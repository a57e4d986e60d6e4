// bedrock_classify_error: x-amzn-ErrorType header and/or body {"message"} / __type -> retry/park
// verdict and the OpenAI-shaped error (docs/wire-formats.md: Bedrock Converse → Exceptions, Error normalisation).
#include "bedrock_test_util.hpp"

using namespace routeshift;
using namespace bedrock_test;

namespace {

struct Case {
    int status;
    const char* header;  // x-amzn-ErrorType
    const char* body;
    bool retry, park;
    int client_status;
    const char* type;
    const char* code;  // "" = null
};

const Case kCases[] = {
    {429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
     R"({"message":"Too many requests, please wait before trying again."})", true, true, 429, "rate_limit_error",
     "rate_limit_exceeded"},
    {429, "ThrottlingException", R"({"message":"Too many tokens, please wait before trying again."})", true, true, 429,
     "rate_limit_error", "rate_limit_exceeded"},
    {503, "ServiceUnavailableException:http://internal.amazon.com/coral/com.amazon.bedrock/",
     R"({"message":"Bedrock is unable to process your request."})", true, true, 503, "server_error", "overloaded"},
    {429, "ModelNotReadyException", R"({"message":"Model is not ready"})", true, true, 503, "server_error",
     "model_not_ready"},
    {500, "InternalServerException", R"({"message":"internal"})", true, true, 500, "server_error", ""},
    {400, "ServiceQuotaExceededException", R"({"message":"Your request exceeds the service quota for your account. You can resubmit your request later."})",
     true, true, 429, "rate_limit_error", "quota_exceeded"},
    {408, "ModelTimeoutException", R"({"message":"Model has timed out in processing the request."})", true, false, 504,
     "timeout_error", "model_timeout"},
    {424, "ModelStreamErrorException", R"({"message":"stream error"})", true, false, 502, "server_error",
     "model_stream_error"},
    {424, "ModelErrorException", R"({"message":"The model failed"})", false, false, 502, "server_error", "model_error"},
    {400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
     R"({"message":"Input is too long for requested model."})", false, false, 400, "invalid_request_error",
     "context_length_exceeded"},
    {400, "ValidationException",
     R"({"message":"The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum"})", false,
     false, 400, "invalid_request_error", "context_length_exceeded"},
    {400, "ValidationException", R"({"message":"A conversation must start with a user message."})", false, false, 400,
     "invalid_request_error", ""},
    {403, "AccessDeniedException", R"({"message":"You don't have access to the model with the specified model ID."})",
     true, true, 403, "permission_error", "access_denied"},
    {403, "UnrecognizedClientException", R"({"message":"The security token included in the request is invalid."})", true,
     true, 401, "authentication_error", "invalid_credentials"},
    {403, "ExpiredTokenException", R"({"message":"The security token included in the request is expired"})", true, true,
     401, "authentication_error", "invalid_credentials"},
    {404, "ResourceNotFoundException", R"({"message":"Model not found."})", false, false, 404, "not_found_error",
     "model_not_found"},
    // no header: the body's __type (with or without namespace)
    {429, "", R"({"__type":"com.amazon.coral.service#ThrottlingException","message":"Rate exceeded"})", true, true, 429,
     "rate_limit_error", "rate_limit_exceeded"},
    {400, "", R"({"__type":"ValidationException","Message":"Malformed input request"})", false, false, 400,
     "invalid_request_error", ""},
    {403, "", R"({"Message":"User: arn:aws:iam::1:user/x is not authorized"})", true, true, 403, "permission_error", ""},
    // neither: by status
    {502, "", "<html><body>502 Bad Gateway</body></html>", true, true, 502, "server_error", ""},
    {429, "", "", true, true, 429, "rate_limit_error", "rate_limit_exceeded"},
    {500, "", "not json", true, true, 500, "server_error", ""},
    {400, "", R"({"message":"bad"})", false, false, 400, "invalid_request_error", ""},
    {413, "", R"({"message":"too large"})", false, false, 413, "invalid_request_error", ""},
};

void test_table(void**) {
    for (const Case& c : kCases) {
        ErrorVerdict v = bedrock_classify_error(c.status, c.body, c.header);
        if (v.retry != c.retry || v.park_key != c.park || v.error.status != c.client_status || v.error.type != c.type ||
            v.error.code != c.code)
            fail_msg("%d %s %s -> retry=%d park=%d status=%d type=%s code=%s", c.status, c.header, c.body, v.retry,
                     v.park_key, v.error.status, v.error.type.c_str(), v.error.code.c_str());
        assert_false(v.error.message.empty());
        // the OpenAI envelope is valid JSON
        JsonPtr j = json_parse(openai_error_body(v.error), nullptr);
        assert_non_null(j.get());
        std::string_view b = c.body;
        if (b.find("\"message\":\"") != std::string_view::npos) {
            size_t s = b.find("\"message\":\"") + 11;
            assert_contains(v.error.message, b.substr(s, b.find('"', s) - s));
        }
    }
}

void test_credentials_never_leak(void**) {
    // AWS echoes the canonical request (with the session token) on a signature mismatch
    const char* body =
        R"({"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/model/x/converse\n\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20250101T000000Z\nx-amz-security-token:SECRET-SESSION-TOKEN\n\nhost;x-amz-date;x-amz-security-token\nabc'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n...'\n"})";
    ErrorVerdict v = bedrock_classify_error(403, body, "InvalidSignatureException:http://internal.amazon.com/");
    assert_true(v.retry);  // this key's credentials are wrong: another key may work
    assert_true(v.park_key);
    assert_int_equal(v.error.status, 401);
    assert_not_contains(v.error.message, "SECRET-SESSION-TOKEN");
    assert_not_contains(v.error.message, "Canonical");
    assert_contains(v.error.message, "signature");
    // same body without the header
    v = bedrock_classify_error(403, body, "");
    assert_not_contains(v.error.message, "SECRET-SESSION-TOKEN");
    // long / control-character messages are bounded and cleaned
    std::string big = "{\"message\":\"" + std::string(5000, 'x') + "\\u0001\"}";
    v = bedrock_classify_error(400, big, "ValidationException");
    assert_true(v.error.message.size() < 1200);
    assert_not_contains(v.error.message, "\x01");
    std::string bin = std::string("\xff\xfe\x01garbage", 10);
    v = bedrock_classify_error(500, bin, "");
    JsonPtr j = json_parse(openai_error_body(v.error), nullptr);
    assert_non_null(j.get());
    // non-ASCII text survives, invalid UTF-8 never reaches the JSON envelope
    v = bedrock_classify_error(400, "{\"message\":\"Eingabe ung\u00fcltig \u2713\"}", "ValidationException");
    assert_contains(v.error.message, "Eingabe ung\xc3\xbcltig \xe2\x9c\x93");
    // park durations: credentials/access park long, throttling uses Retry-After / the key's cooldown
    assert_true(bedrock_classify_error(403, "{}", "AccessDeniedException").park_ms >= 60 * 1000);
    assert_int_equal(bedrock_classify_error(429, "{}", "ThrottlingException").park_ms, -1);
}

}  // namespace

// issue 13: x-amzn-ErrorType / :exception-type bytes are echoed into the client's message; only
// identifier characters survive, bounded, so the message stays valid UTF-8 JSON
static void test_error_type_sanitised(void**) {
    ErrorVerdict v = bedrock_classify_error(400, R"({"message":"bad"})", "Validation\xFF\"Exc\neption\x01:http://x");
    assert_str_eq(v.error.message, "bad (ValidationException)");
    assert_non_null(json_parse(openai_error_body(v.error), nullptr).get());
    std::string long_type(500, 'A');
    v = bedrock_classify_error(400, R"({"message":"bad"})", long_type);
    assert_true(v.error.message.size() < 100);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_credentials_never_leak),
        cmocka_unit_test(test_error_type_sanitised),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
