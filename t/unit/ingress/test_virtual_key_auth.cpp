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
    // Azure OpenAI clients send `api-key`: the last resort
    assert_str_eq(presented_key("", "", " sk-proxy-az "), "sk-proxy-az");
    assert_str_eq(presented_key("", "sk-proxy-x", "sk-proxy-az"), "sk-proxy-x");
    assert_str_eq(presented_key("Bearer sk-proxy-a", "", "sk-proxy-az"), "sk-proxy-a");
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

// Repeated lookups are served by the per-config cache, which holds only keys that matched and
// never skips the enabled / expires_at checks.
static void test_cache(void**) {
    auto cfg = test::fixture_config();
    const int64_t now = 1763700000;
    ApiError err;
    assert_int_equal(cfg->virtual_key_cache.size(), 0);
    for (int i = 0; i < 3; ++i) {
        const VirtualKey* vk = authenticate(*cfg, "sk-proxy-test-1", now, &err);
        assert_non_null(vk);
        assert_int_equal(vk->id, 5);
    }
    assert_int_equal(cfg->virtual_key_cache.size(), 1);
    assert_true(cfg->virtual_key_cache.find("sk-proxy-test-1").has_value());

    // failures are not cached
    for (int i = 0; i < 3; ++i) assert_null(authenticate(*cfg, "sk-proxy-unknown", now, &err));
    assert_null(authenticate(*cfg, "sk-proxy-test-1 ", now, &err));
    assert_null(authenticate(*cfg, "sk-proxy-test-", now, &err));
    assert_int_equal(cfg->virtual_key_cache.size(), 1);
    assert_false(cfg->virtual_key_cache.find("sk-proxy-unknown").has_value());

    // a cached key still expires, and a disabled one stays refused
    assert_non_null(authenticate(*cfg, "sk-proxy-team2", now, &err));
    assert_true(cfg->virtual_key_cache.find("sk-proxy-team2").has_value());
    err = ApiError{};
    assert_null(authenticate(*cfg, "sk-proxy-team2", 4102444800LL, &err));
    assert_str_eq(err.code, "key_expired");
    assert_non_null(authenticate(*cfg, "sk-proxy-team2", now, &err));
    for (int i = 0; i < 2; ++i) {
        err = ApiError{};
        assert_null(authenticate(*cfg, "sk-proxy-disabled", now, &err));
        assert_str_eq(err.code, "key_disabled");
    }

    // a new config (a push) starts with an empty cache
    auto fresh = test::fixture_config();
    assert_int_equal(fresh->virtual_key_cache.size(), 0);
}

// Bounded in entries and bytes; once full it stops remembering and keeps answering.
static void test_cache_bounds(void**) {
    VirtualKeyCache cache;
    for (size_t i = 0; i < VirtualKeyCache::kMaxEntries + 10; ++i) cache.remember("k" + std::to_string(i), i);
    assert_int_equal(cache.size(), VirtualKeyCache::kMaxEntries);
    assert_true(cache.bytes() <= VirtualKeyCache::kMaxBytes);
    assert_int_equal(*cache.find("k0"), 0);
    assert_false(cache.find("k" + std::to_string(VirtualKeyCache::kMaxEntries + 5)).has_value());

    VirtualKeyCache big;
    std::string long_key(64 * 1024, 'x');
    size_t n = 0;
    for (; n < 100; ++n) big.remember(long_key + std::to_string(n), n);
    assert_true(big.bytes() <= VirtualKeyCache::kMaxBytes);
    assert_true(big.size() < 100 && big.size() > 0);
    // same length, different content: no match
    assert_false(big.find(std::string(64 * 1024 + 1, 'y')).has_value());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_presented_key),
        cmocka_unit_test(test_authenticate),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_bounds),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
