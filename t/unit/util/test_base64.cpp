// base64: RFC 4648 test vectors, round trips, refusals (docs/design.md §22).
#include "util/base64.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_rfc4648_vectors(void**) {
    const char* cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (auto& c : cases) {
        std::string out = "x";
        base64_append(out, c[0]);
        assert_str_eq(out, std::string("x") + c[1]);
        std::string back;
        assert_true(base64_decode(c[1], &back));
        assert_str_eq(back, c[0]);
    }
}

static void test_binary_round_trip(void**) {
    std::string bytes;
    for (int i = 0; i < 256; i++) bytes.push_back((char)i);
    for (size_t n = 0; n <= bytes.size(); n += 17) {
        std::string text;
        base64_append(text, std::string_view(bytes).substr(0, n));
        assert_int_equal(text.size() % 4, 0);
        std::string back;
        assert_true(base64_decode(text, &back));
        assert_true(back == bytes.substr(0, n));
    }
    std::string text;
    base64_append(text, "\xfb\xff");
    assert_str_eq(text, "+/8=");
}

static void test_refusals(void**) {
    std::string out;
    assert_false(base64_decode("Zm9", &out));       // length
    assert_false(base64_decode("Zm9v!A==", &out));  // character
    assert_false(base64_decode("Z===", &out));      // padding too long
    assert_false(base64_decode("Zg==Zm9v", &out));  // padding inside
    assert_false(base64_decode("Zm=v", &out));      // '=' then data
}

static void test_base64url(void**) {
    std::string out;
    base64url_append(out, "\xfb\xff");
    assert_str_eq(out, "-_8");  // no padding, URL alphabet
    std::string back;
    assert_true(base64url_decode("-_8", &back));
    assert_str_eq(back, "\xfb\xff");
    assert_false(base64url_decode("+/8", &back));
    assert_false(base64url_decode("-_8=", &back));
    assert_false(base64url_decode("-_9", &back));  // stray bits in the last character
    assert_false(base64url_decode("A", &back));
    assert_true(base64url_character('_') && base64url_character('Z') && !base64url_character('/'));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_base64url),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
