// The admin token handshake (design.md §15): MACs match an independent HMAC-SHA256 (Python's hmac),
// bind method and path, the comparison is exact, and token files are checked.
#include "util/admin_auth.hpp"

#include <string>

#include "test_util.hpp"

using namespace routeshift;

static void test_known_answers(void**) {
    const std::string token(32, 'k');
    // python3: hmac.new(b'k'*32, b'routeshift-admin-request\nabc\nGET\n/admin/status', sha256).hexdigest()
    assert_string_equal(admin_request_mac(token, "abc", "GET", "/admin/status").c_str(),
                        "2e516622b4a891c9df7b2863692904ff0a3a89619d1964548182ed20e97e941d");
    assert_string_equal(admin_response_proof(token, "abc").c_str(),
                        "71f04782a6e47bbfa60ac697f8e9007732449cbec2ffa031a3ba224e11393902");
    // method, path, nonce and token all change the MAC
    std::string base = admin_request_mac(token, "abc", "GET", "/admin/status");
    assert_true(base != admin_request_mac(token, "abc", "PUT", "/admin/status"));
    assert_true(base != admin_request_mac(token, "abc", "GET", "/admin/snapshot"));
    assert_true(base != admin_request_mac(token, "abd", "GET", "/admin/status"));
    assert_true(base != admin_request_mac(std::string(32, 'j'), "abc", "GET", "/admin/status"));
    assert_true(admin_response_proof(token, "abc") != admin_request_mac(token, "abc", "", ""));
}

static void test_constant_time_equal(void**) {
    assert_true(constant_time_equal("abcdef", "abcdef"));
    assert_false(constant_time_equal("abcdef", "abcdeg"));
    assert_false(constant_time_equal("abcdef", "abcde"));
    assert_false(constant_time_equal("", "a"));
    assert_true(constant_time_equal("", ""));
}

static void test_token_file_text(void**) {
    std::string token, error;
    assert_true(admin_token_from_file_text("  " + std::string(40, 'x') + "\r\n", &token, &error));
    assert_int_equal(token.size(), 40);
    assert_false(admin_token_from_file_text("short\n", &token, &error));
    assert_true(error.find("at least 32") != std::string::npos);
    assert_false(admin_token_from_file_text(std::string(20, 'a') + "\t" + std::string(20, 'b'), &token, &error));
    assert_true(error.find("control") != std::string::npos);
    assert_true(error.find("aaaa") == std::string::npos);  // never echoes the token
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_constant_time_equal),
        cmocka_unit_test(test_token_file_text),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
