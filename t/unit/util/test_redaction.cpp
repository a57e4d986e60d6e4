// redaction: the one secret mask, over raw and JSON-escaped text (issue 13: "\/" and "\u00XX"
// forms, never cutting an escape).
#include "util/redaction.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

static const std::string_view kSecret = "sk-live/ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const std::string_view kSecrets[] = {kSecret};

static void test_raw_and_prefix(void**) {
    assert_str_eq(redact_secrets("key sk-live/ABCDEFGHIJKLMNOPQRSTUVWXYZ end", kSecrets), "key [redacted] end");
    // the first 12 characters of a long secret (a truncated echo)
    assert_str_eq(redact_secrets("key sk-live/ABCD...", kSecrets), "key [redacted]...");
    assert_str_eq(redact_secrets("nothing here", kSecrets), "nothing here");
    assert_true(contains_secret("x sk-live/ABCDEFGH", kSecrets));
    assert_false(contains_secret("sk-live", kSecrets));
    // two secrets side by side stay two replacements
    assert_str_eq(redact_secrets(std::string(kSecret) + std::string(kSecret), kSecrets), "[redacted][redacted]");
}

static void test_escaped_slash(void**) {
    // an error body that is not JSON but escapes '/' (a trivially reversible form of the key)
    std::string_view text = "bad key: sk-live\\/ABCDEFGHIJKLMNOPQRSTUVWXYZ (not JSON";
    assert_true(contains_secret(text, kSecrets));
    assert_str_eq(redact_secrets(text, kSecrets), "bad key: [redacted] (not JSON");
}

static void test_unicode_escapes(void**) {
    std::string_view text = R"({"m":"\u0073k-live\/ABCDEFGHIJKLMNOPQRSTUVWXY\u005a"})";
    assert_true(contains_secret(text, kSecrets));
    std::string out = redact_secrets(text, kSecrets);
    assert_str_eq(out, R"({"m":"[redacted]"})");
    // surrogate pairs and uppercase hex are decoded too
    const std::string_view emoji_secrets[] = {"\xF0\x9F\x98\x80-secret-value-1234"};
    std::string e = redact_secrets(R"(["\uD83D\uDE00-secret-value-1234"])", emoji_secrets);
    assert_str_eq(e, R"(["[redacted]"])");
}

static void test_never_cuts_an_escape(void**) {
    // the secret begins inside an escape of the serialised text: "\u0041" + "BCD..." -- a raw
    // replacement would leave "\[redacted]", which is not JSON
    const std::string_view secrets[] = {"u0041BCDEFGHIJKLMNOP"};
    std::string json = R"({"message":"x\u0041BCDEFGHIJKLMNOP y"})";
    std::string out = redact_secrets(json, secrets);
    assert_not_contains(out, "u0041BCDEFGHIJKLMNOP");
    assert_non_null(json_parse(out, nullptr).get());
    assert_str_eq(out, R"({"message":"x[redacted] y"})");
    // ...and one that ends inside an escape
    const std::string_view tail[] = {"abcdefghijklmnop\\u00"};
    std::string out2 = redact_secrets(R"(["abcdefghijklmnop\u00e9"])", tail);
    assert_non_null(json_parse(out2, nullptr).get());
    assert_str_eq(out2, R"(["[redacted]"])");
}

static void test_empty_and_no_secrets(void**) {
    const std::string_view none[] = {""};
    assert_str_eq(redact_secrets("abc", none), "abc");
    assert_false(contains_secret("abc", none));
    assert_str_eq(redact_secrets("", kSecrets), "");
    assert_str_eq(redact_secrets("trailing backslash \\", kSecrets), "trailing backslash \\");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_and_prefix),
        cmocka_unit_test(test_escaped_slash),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_never_cuts_an_escape),
        cmocka_unit_test(test_empty_and_no_secrets),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
