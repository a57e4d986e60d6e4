// Virtual keys: format of generated keys and the stored hash (must equal the module's).
#include "cmocka_cpp.hpp"
#include "key_hash.hpp"
#include "ingress/virtual_key_auth.hpp"  // module core: routeshift::hash_virtual_key_hex

#include <set>

using namespace rsync;

static void test_known_vectors(void**) {
    // SHA-256("") and SHA-256("abc") (FIPS 180-2)
    assert_string_equal(virtual_key_hash_hex("").c_str(),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(virtual_key_hash_hex("abc").c_str(),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // the whole string, prefix included, lower-case hex
    std::string h = virtual_key_hash_hex("sk-proxy-test");
    assert_int_equal(h.size(), 64);
    for (char c : h) assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    assert_string_not_equal(h.c_str(), virtual_key_hash_hex("test").c_str());
}

static void test_generated_keys(void**) {
    std::set<std::string> seen;
    size_t counts[128] = {0};
    for (int i = 0; i < 2000; ++i) {
        std::string k = generate_virtual_key();
        assert_int_equal(k.size(), kVirtualKeyPrefix.size() + kVirtualKeyRandomChars);
        assert_true(k.rfind("sk-proxy-", 0) == 0);
        assert_true(looks_like_virtual_key(k));
        for (char c : k.substr(9)) counts[static_cast<unsigned char>(c)]++;
        assert_true(seen.insert(k).second);
    }
    // every base62 character shows up, nothing else does
    size_t distinct = 0;
    for (int c = 0; c < 128; ++c) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum) assert_int_equal(counts[c], 0);
        else {
            assert_true(counts[c] > 0);
            ++distinct;
        }
    }
    assert_int_equal(distinct, 62);
}

static void test_matches_module_hash(void**) {
    for (int i = 0; i < 50; ++i) {
        std::string k = generate_virtual_key();
        assert_string_equal(virtual_key_hash_hex(k).c_str(), routeshift::hash_virtual_key_hex(k).c_str());
    }
    assert_string_equal(virtual_key_hash_hex("sk-proxy-abc").c_str(),
                        routeshift::hash_virtual_key_hex("sk-proxy-abc").c_str());
}

static void test_looks_like(void**) {
    assert_false(looks_like_virtual_key("sk-proxy-short"));
    assert_false(looks_like_virtual_key("sk-live-0123456789012345678901234567890123"));
    assert_false(looks_like_virtual_key("sk-proxy-0123456789012345678901234567890!"));
    assert_true(looks_like_virtual_key("sk-proxy-01234567890123456789012345678901"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_generated_keys),
        cmocka_unit_test(test_matches_module_hash),
        cmocka_unit_test(test_looks_like),
    };
    return cmocka_run_group_tests_name("sync_key_hash", tests, nullptr, nullptr);
}
