// percent_encoding: the one RFC 3986 encoder (segment and path modes) and its decoder.
#include "util/percent_encoding.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string encode(std::string_view s, PercentEncode mode = PercentEncode::segment) {
    std::string out;
    percent_encode_append(out, s, mode);
    return out;
}

static void test_unreserved_kept(void**) {
    const std::string unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    assert_str_eq(encode(unreserved), unreserved);
    for (int c = 0; c < 256; ++c) {
        bool expected = unreserved.find(static_cast<char>(c)) != std::string::npos;
        assert_int_equal(percent_unreserved(static_cast<unsigned char>(c)), expected);
    }
}

static void test_everything_else_escaped_uppercase(void**) {
    assert_str_eq(encode("my deploy/1"), "my%20deploy%2F1");
    assert_str_eq(encode("anthropic.claude-3:0"), "anthropic.claude-3%3A0");
    assert_str_eq(encode("a+b=c&d?e#f%"), "a%2Bb%3Dc%26d%3Fe%23f%25");
    assert_str_eq(encode(std::string_view("\x00\xff\x7f", 3)), "%00%FF%7F");
    assert_str_eq(encode("\xc3\xa9"), "%C3%A9");  // UTF-8 bytes one by one
    assert_str_eq(encode(""), "");
    std::string out = "/prefix/";
    percent_encode_append(out, "x y");
    assert_str_eq(out, "/prefix/x%20y");  // appends
}

static void test_path_keeps_slash(void**) {
    assert_str_eq(encode("/model/a:b/converse", PercentEncode::path), "/model/a%3Ab/converse");
    assert_str_eq(encode("/a%3Ab", PercentEncode::path), "/a%253Ab");  // SigV4 double encoding
    assert_str_eq(encode("/a b/", PercentEncode::segment), "%2Fa%20b%2F");
}

static void test_decode(void**) {
    assert_str_eq(percent_decode("a%20b%2Fc"), "a b/c");
    assert_str_eq(percent_decode("%e2%82%ac"), "\xe2\x82\xac");
    assert_str_eq(percent_decode("100%"), "100%");        // not an escape: kept
    assert_str_eq(percent_decode("%zz%4"), "%zz%4");
    assert_str_eq(percent_decode("%41"), "A");
    for (const std::string& s : {std::string("my deploy/1"), std::string("a:b?c=d&e"), std::string("\x00\x01\xff", 3)})
        assert_str_eq(percent_decode(encode(s)), s);
}

// issue 13: a model named "." or ".." must not become a dot segment of an upstream path
static void test_path_segment_never_a_dot_segment(void**) {
    assert_str_eq(encode(".", PercentEncode::path_segment), "%2E");
    assert_str_eq(encode("..", PercentEncode::path_segment), "%2E%2E");
    assert_str_eq(encode("...", PercentEncode::path_segment), "...");
    assert_str_eq(encode("a.b", PercentEncode::path_segment), "a.b");
    assert_str_eq(encode("../x", PercentEncode::path_segment), "..%2Fx");
    assert_str_eq(percent_decode(encode("..", PercentEncode::path_segment)), "..");
    // the SigV4 rule (segment/path) is unchanged: AWS signs what is sent
    assert_str_eq(encode("..", PercentEncode::segment), "..");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreserved_kept),
        cmocka_unit_test(test_everything_else_escaped_uppercase),
        cmocka_unit_test(test_path_keeps_slash),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_path_segment_never_a_dot_segment),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
