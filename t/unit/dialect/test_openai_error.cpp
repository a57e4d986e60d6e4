// openai_error: envelope, default types, upstream error normalisation and secret redaction.
#include "util/json_util.hpp"
#include "dialect/openai_error.hpp"

#include <vector>

#include "test_util.hpp"

using namespace routeshift;

static std::string norm(int status, std::string_view body, std::vector<std::string_view> secrets = {}) {
    return normalize_upstream_error(status, body, secrets);
}

// Every normalised body must be the OpenAI envelope with the four keys.
static JsonPtr check_shape(const std::string& body) {
    JsonPtr j = json_parse(body, nullptr);
    if (!j || !json_is_object(j.get())) fail_msg("not a JSON object: %s", body.c_str());
    json_t* e = json_object_get(j.get(), "error");
    if (!json_is_object(e)) fail_msg("no error object: %s", body.c_str());
    if (!json_is_string(json_object_get(e, "message"))) fail_msg("message not a string: %s", body.c_str());
    if (!json_is_string(json_object_get(e, "type"))) fail_msg("type not a string: %s", body.c_str());
    if (!json_object_get(e, "param")) fail_msg("param missing: %s", body.c_str());
    if (!json_object_get(e, "code")) fail_msg("code missing: %s", body.c_str());
    return j;
}

static std::string field(const JsonPtr& j, const char* k) {
    return std::string(json_string_view(json_object_get(j.get(), "error"), k));
}

static void test_error_body(void**) {
    ApiError e;
    e.status = 404;
    e.message = "The model `x\"` does not exist";
    e.param = "model";
    e.code = "model_not_found";
    e.type = "not_found_error";
    assert_str_eq(openai_error_body(e),
                  R"({"error":{"message":"The model `x\"` does not exist","type":"not_found_error","param":"model","code":"model_not_found"}})");

    ApiError d;
    d.status = 429;
    d.message = "slow down";
    assert_str_eq(openai_error_body(d),
                  R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}})");
}

static void test_type_for_status(void**) {
    const struct {
        int status;
        const char* type;
    } cases[] = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {408, "timeout_error"},
        {409, "conflict_error"},
        {413, "invalid_request_error"},
        {422, "invalid_request_error"},
        {429, "rate_limit_error"},
        {500, "server_error"},
        {503, "server_error"},
        {504, "timeout_error"},
        {529, "server_error"},
    };
    for (const auto& c : cases) assert_str_eq(openai_error_type_for_status(c.status), c.type);
}

static void test_keeps_openai_shape(void**) {
    std::string in =
        R"({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})";
    assert_str_eq(norm(429, in), in);
}

static void test_adds_missing_keys(void**) {
    // Azure 429: code + message only
    auto j = check_shape(norm(429, R"({"error":{"code":"429","message":"Requests ... Please retry after 6 seconds."}})"));
    assert_str_eq(field(j, "type"), "rate_limit_error");
    assert_str_eq(field(j, "code"), "429");
    assert_true(json_is_null(json_object_get(json_object_get(j.get(), "error"), "param")));
    // Azure content filter keeps its extra fields
    std::string az = norm(400, R"({"error":{"code":"content_filter","status":400,"param":"prompt","message":"filtered","innererror":{"code":"ResponsibleAIPolicyViolation"}}})");
    auto k = check_shape(az);
    assert_str_eq(field(k, "type"), "invalid_request_error");
    assert_str_eq(field(k, "param"), "prompt");
    assert_contains(az, "ResponsibleAIPolicyViolation");
    // Gemini: integer code, status
    auto g = check_shape(norm(503, R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})"));
    assert_str_eq(field(g, "type"), "server_error");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g.get(), "error"), "code")), 503);
    // Anthropic
    auto a = check_shape(norm(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
    assert_str_eq(field(a, "type"), "overloaded_error");
    assert_str_eq(field(a, "message"), "Overloaded");
    // error object without message
    auto m = check_shape(norm(500, R"({"error":{"code":"x"}})"));
    assert_contains(field(m, "message"), "500");
    // Gemini stream endpoints wrap the error in an array
    auto arr = check_shape(norm(429, R"([{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}])"));
    assert_str_eq(field(arr, "message"), "quota");
}

static void test_wraps_other_shapes(void**) {
    auto t = check_shape(norm(400, R"({"error":"model not found"})"));
    assert_str_eq(field(t, "message"), "model not found");
    assert_str_eq(field(t, "type"), "invalid_request_error");

    auto c = check_shape(norm(429, R"({"message":"too many requests"})"));
    assert_str_eq(field(c, "message"), "too many requests");
    assert_str_eq(field(c, "type"), "rate_limit_error");

    auto v = check_shape(norm(400, R"({"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400})"));
    assert_str_eq(field(v, "message"), "bad");
    assert_str_eq(field(v, "type"), "BadRequestError");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v.get(), "error"), "code")), 400);

    auto h = check_shape(norm(502, "<html><body>Bad Gateway</body></html>\n"));
    assert_str_eq(field(h, "message"), "<html><body>Bad Gateway</body></html>");
    assert_str_eq(field(h, "type"), "server_error");

    auto e = check_shape(norm(503, ""));
    assert_contains(field(e, "message"), "503");

    auto o = check_shape(norm(500, R"({"detail":"boom"})"));
    assert_contains(field(o, "message"), "boom");

    // invalid UTF-8 and a very long body still give valid JSON
    std::string junk(5000, 'x');
    junk[10] = '\xff';
    junk += "\xe2\x82";  // truncated code point
    auto l = check_shape(norm(500, junk));
    assert_true(field(l, "message").size() < 1100);
}

static void test_redacts_secrets(void**) {
    std::string secret = "sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::vector<std::string_view> secrets = {secret, "", "other-key-123"};
    std::string out = norm(401, R"({"error":{"message":"Incorrect API key provided: sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
                           secrets);
    check_shape(out);
    assert_not_contains(out, "ABCDEFGH");
    assert_contains(out, "Incorrect API key provided: [redacted].");

    // only a 12-character prefix echoed (providers truncate keys in messages)
    std::string p = norm(401, R"({"error":{"message":"key sk-live-ABCD**** is invalid","extra":{"sk-live-ABCD":"x"}}})", secrets);
    check_shape(p);
    assert_not_contains(p, "sk-live-ABCD");
    assert_contains(p, "key [redacted]**** is invalid");

    std::string txt = norm(401, "invalid key other-key-123", secrets);
    assert_not_contains(txt, "other-key-123");
    assert_contains(txt, "[redacted]");

    std::string wrapped = norm(401, R"({"error":"bad key sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ"})", secrets);
    assert_not_contains(wrapped, "ABCDEFGH");
}

// issue 13: whatever bytes a message holds, the body is valid UTF-8 JSON
static void test_output_is_valid_utf8(void**) {
    ApiError e;
    e.status = 502;
    e.message = "cut \xE2\x82 and \xFF bytes";
    e.code = "bad\xC3";
    std::string out = openai_error_body(e);
    JsonPtr doc = json_parse(out, nullptr);  // jansson refuses invalid UTF-8
    assert_non_null(doc.get());
    assert_contains(out, "cut \xEF\xBF\xBD\xEF\xBF\xBD and \xEF\xBF\xBD bytes");
    assert_non_null(json_parse(openai_error_event(e).substr(6), nullptr).get());
    // a plain-text upstream error cut at the message limit keeps whole characters
    std::string text(1023, 'a');
    text += "\xE2\x82\xAC tail";
    std::string body = normalize_upstream_error(500, text, {});
    assert_non_null(json_parse(body, nullptr).get());
    assert_not_contains(body, "\xEF\xBF\xBD");
    // a key escaped as "\/" in a body that is not JSON is still found
    const std::string_view secrets[] = {"sk-proj/ABCDEFGHIJKLMNOPQRSTUV"};
    std::string n = normalize_upstream_error(401, "oops: sk-proj\\/ABCDEFGHIJKLMNOPQRSTUV {", secrets);
    assert_not_contains(n, "ABCDEFGHIJKLMNOPQRSTUV");
    assert_contains(n, "[redacted]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body),         cmocka_unit_test(test_type_for_status),
        cmocka_unit_test(test_keeps_openai_shape), cmocka_unit_test(test_adds_missing_keys),
        cmocka_unit_test(test_wraps_other_shapes), cmocka_unit_test(test_redacts_secrets),
        cmocka_unit_test(test_output_is_valid_utf8),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
