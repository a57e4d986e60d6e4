// virtual_key_auth: hashing, key extraction from headers, lookup and 401 reasons.
#include "snapshot_fixture.hpp"
#include "ingress/virtual_key_auth.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_hash(void**) {
    // SHA-256 test vectors (FIPS 180-2)
    assert_str_eq(hash_virtual_key_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_str_eq(hash_virtual_key_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unsigned char raw[32];
    hash_virtual_key("abc", raw);
    assert_int_equal(raw[0], 0xba);
    assert_int_equal(raw[31], 0xad);
    assert_str_eq(kVirtualKeyPrefix, "sk-proxy-");
}

static void test_presented_key(void**) {
    assert_str_eq(presented_key("Bearer sk-proxy-abc", ""), "sk-proxy-abc");
    assert_str_eq(presented_key("bearer sk-proxy-abc", ""), "sk-proxy-abc");
    assert_str_eq(presented_key("BEARER   sk-proxy-abc  ", ""), "sk-proxy-abc");
    assert_str_eq(presented_key("Bearer\tsk-proxy-abc", ""), "sk-proxy-abc");
    assert_str_eq(presented_key("", "sk-proxy-x"), "sk-proxy-x");
    assert_str_eq(presented_key("", "  sk-proxy-x "), "sk-proxy-x");
    assert_str_eq(presented_key("Bearer sk-proxy-a", "sk-proxy-b"), "sk-proxy-a");  // Authorization wins
    assert_str_eq(presented_key("", ""), "");
    assert_str_eq(presented_key("Bearer", ""), "");
    assert_str_eq(presented_key("Bearer    ", ""), "");
    assert_str_eq(presented_key("Basic dXNlcjpwYXNz", ""), "");
    assert_str_eq(presented_key("Bearersk-proxy-abc", ""), "");
    assert_str_eq(presented_key("sk-proxy-abc", ""), "");  // no scheme
}

static void test_authenticate(void**) {
    auto cfg = test::fixture_config();
    const int64_t now = 1763700000;  // 2025-11-21
    ApiError err;

    const VirtualKey* vk = authenticate(*cfg, "sk-proxy-test-1", now, &err);
    assert_non_null(vk);
    assert_int_equal(vk->id, 5);
    assert_int_equal(vk->team_id, 1);

    const VirtualKey* t2 = authenticate(*cfg, "sk-proxy-team2", now, &err);
    assert_non_null(t2);
    assert_int_equal(t2->team_id, 2);
    assert_null(authenticate(*cfg, "sk-proxy-team2", 4102444800LL, &err));  // expires exactly then
    assert_str_eq(err.code, "key_expired");

    err = ApiError{};
    assert_null(authenticate(*cfg, "sk-proxy-unknown-SECRETVALUE", now, &err));
    assert_int_equal(err.status, 401);
    assert_str_eq(err.type, "authentication_error");
    assert_str_eq(err.code, "invalid_api_key");
    assert_not_contains(err.message, "SECRETVALUE");

    err = ApiError{};
    assert_null(authenticate(*cfg, "sk-proxy-disabled", now, &err));
    assert_int_equal(err.status, 401);
    assert_str_eq(err.code, "key_disabled");
    assert_not_contains(err.message, "sk-proxy");

    err = ApiError{};
    assert_null(authenticate(*cfg, "sk-proxy-expired", now, &err));
    assert_int_equal(err.status, 401);
    assert_str_eq(err.code, "key_expired");
    assert_non_null(authenticate(*cfg, "sk-proxy-expired", 999, &err));  // before expiry

    err = ApiError{};
    assert_null(authenticate(*cfg, "", now, &err));
    assert_int_equal(err.status, 401);
    assert_str_eq(err.code, "invalid_api_key");

    // prefix / suffix variants of a valid key do not match
    assert_null(authenticate(*cfg, "sk-proxy-test-", now, &err));
    assert_null(authenticate(*cfg, "sk-proxy-test-1 ", now, &err));
    assert_null(authenticate(*cfg, "SK-PROXY-TEST-1", now, &err));
    // null err pointer is allowed
    assert_null(authenticate(*cfg, "nope", now, nullptr));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_presented_key),
        cmocka_unit_test(test_authenticate),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
