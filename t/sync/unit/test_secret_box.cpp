// AES-256-GCM at rest: round trip, tamper detection (a flipped byte in ciphertext, tag or nonce, a
// wrong row id, a wrong master key), key derivation, fresh nonces, key versions.
#include "cmocka_cpp.hpp"
#include "secret_box.hpp"

#include <cstdlib>
#include <set>
#include <unistd.h>

using namespace rsync;

static const char* kHexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char* kSecret = "sk-live-0123456789abcdefghijklmnopqrstuvwxyz";

static SecretBox box_with(const char* material, int version = 1) {
    SecretBox b;
    std::string err;
    assert_true(b.add_key(version, material, true, &err));
    return b;
}

static void test_round_trip(void**) {
    SecretBox b = box_with(kHexKey);
    SealedSecret s;
    std::string err, out;
    assert_true(b.seal(kSecret, provider_key_aad(42), &s, &err));
    assert_int_equal(s.nonce.size(), kGcmNonceBytes);
    assert_int_equal(s.ciphertext.size(), std::string(kSecret).size() + kGcmTagBytes);
    assert_int_equal(s.key_version, 1);
    assert_false(contains(s.ciphertext, kSecret));
    assert_true(b.open(s, provider_key_aad(42), &out, &err));
    assert_string_equal(out.c_str(), kSecret);
}

static void test_empty_and_long(void**) {
    SecretBox b = box_with(kHexKey);
    for (size_t n : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(17), size_t(5000)}) {
        std::string p(n, 'x');
        for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + i % 26);
        SealedSecret s;
        std::string err, out = "junk";
        assert_true(b.seal(p, "provider_keys:1", &s, &err));
        assert_true(b.open(s, "provider_keys:1", &out, &err));
        assert_true(out == p);
    }
}

static void test_every_flipped_byte_fails(void**) {
    SecretBox b = box_with(kHexKey);
    SealedSecret s;
    std::string err, out;
    assert_true(b.seal(kSecret, provider_key_aad(7), &s, &err));
    for (size_t i = 0; i < s.ciphertext.size(); ++i) {  // ciphertext bytes and the tag
        SealedSecret t = s;
        t.ciphertext[i] ^= 0x01;
        out = "untouched";
        assert_false(b.open(t, provider_key_aad(7), &out, &err));
        assert_string_equal(out.c_str(), "untouched");
        assert_false(contains(err, kSecret));
    }
    for (size_t i = 0; i < s.nonce.size(); ++i) {
        SealedSecret t = s;
        t.nonce[i] ^= 0x80;
        assert_false(b.open(t, provider_key_aad(7), &out, &err));
    }
    SealedSecret truncated = s;
    truncated.ciphertext.pop_back();
    assert_false(b.open(truncated, provider_key_aad(7), &out, &err));
    SealedSecret short_ct = s;
    short_ct.ciphertext.resize(5);
    assert_false(b.open(short_ct, provider_key_aad(7), &out, &err));
    assert_true(b.open(s, provider_key_aad(7), &out, &err));  // the original still opens
}

static void test_wrong_row_id_fails(void**) {
    SecretBox b = box_with(kHexKey);
    SealedSecret s;
    std::string err, out;
    assert_true(b.seal(kSecret, provider_key_aad(7), &s, &err));
    assert_false(b.open(s, provider_key_aad(8), &out, &err));
    assert_false(b.open(s, provider_key_aad(70), &out, &err));
    assert_false(b.open(s, "", &out, &err));
    assert_false(b.open(s, "virtual_keys:7", &out, &err));
    assert_true(contains(err, "authentication failed"));
    assert_string_equal(provider_key_aad(7).c_str(), "provider_keys:7");
}

static void test_wrong_master_key_fails(void**) {
    SecretBox a = box_with(kHexKey);
    SecretBox b = box_with("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    SealedSecret s;
    std::string err, out;
    assert_true(a.seal(kSecret, provider_key_aad(1), &s, &err));
    assert_false(b.open(s, provider_key_aad(1), &out, &err));
}

static void test_fresh_nonce_each_time(void**) {
    SecretBox b = box_with(kHexKey);
    std::set<std::string> nonces, cts;
    for (int i = 0; i < 200; ++i) {
        SealedSecret s;
        std::string err;
        assert_true(b.seal(kSecret, provider_key_aad(1), &s, &err));
        nonces.insert(s.nonce);
        cts.insert(s.ciphertext);
    }
    assert_int_equal(nonces.size(), 200);
    assert_int_equal(cts.size(), 200);
}

static void test_key_derivation(void**) {
    MasterKey k1, k2, k3;
    std::string err;
    // 64 hex digits are the raw key (either case, surrounding whitespace ignored)
    assert_true(derive_master_key(kHexKey, &k1, &err));
    assert_int_equal(k1[0], 0x00);
    assert_int_equal(k1[1], 0x11);
    assert_int_equal(k1[31], 0xff);
    assert_true(derive_master_key("  00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n", &k2, &err));
    assert_memory_equal(k1.data(), k2.data(), 32);
    // a passphrase goes through HKDF-SHA256: deterministic, and different for a different string
    const char* pass = "correct horse battery staple, but much longer!";
    assert_true(derive_master_key(pass, &k2, &err));
    assert_true(derive_master_key(pass, &k3, &err));
    assert_memory_equal(k2.data(), k3.data(), 32);
    assert_true(derive_master_key("correct horse battery staple, but much longer?", &k3, &err));
    assert_memory_not_equal(k2.data(), k3.data(), 32);
    // Known answer for HKDF-SHA256(ikm="a"*32, salt="routeshift/provider-key-secret",
    // info="routeshift provider_keys aes-256-gcm v1") (computed independently with Python's hmac).
    assert_true(derive_master_key(std::string(32, 'a'), &k3, &err));
    std::string hex = hex_encode(std::string_view(reinterpret_cast<const char*>(k3.data()), 32));
    assert_string_equal(hex.c_str(), "f35a3e5683da2657e088766a47c13bbbe43b0c0f9451b693ccb037343b5480ee");
    // too short is refused, and the message does not contain the value
    assert_false(derive_master_key("hunter2", &k3, &err));
    assert_true(contains(err, "too short"));
    assert_false(contains(err, "hunter2"));
    // 63 or 65 hex digits are not a raw key: treated as passphrases (long enough)
    assert_true(derive_master_key(std::string(kHexKey).substr(1), &k3, &err));
    assert_memory_not_equal(k1.data(), k3.data(), 32);
}

static void test_key_versions(void**) {
    SecretBox old_box = box_with(kHexKey, 1);
    SealedSecret s1;
    std::string err, out;
    assert_true(old_box.seal(kSecret, provider_key_aad(3), &s1, &err));
    assert_int_equal(s1.key_version, 1);

    SecretBox b;
    assert_true(b.add_key(1, kHexKey, false, &err));
    assert_true(b.add_key(2, "another secret that is long enough to be used", true, &err));
    assert_int_equal(b.current_version(), 2);
    SealedSecret s2;
    assert_true(b.seal(kSecret, provider_key_aad(3), &s2, &err));
    assert_int_equal(s2.key_version, 2);
    assert_true(b.open(s1, provider_key_aad(3), &out, &err));  // old version still readable
    assert_true(b.open(s2, provider_key_aad(3), &out, &err));
    assert_false(old_box.open(s2, provider_key_aad(3), &out, &err));  // version 2 unknown there
    assert_true(contains(err, "version 2"));
    SealedSecret relabelled = s1;
    relabelled.key_version = 2;  // claims the wrong key: fails
    assert_false(b.open(relabelled, provider_key_aad(3), &out, &err));
}

static void test_from_environment(void**) {
    std::string err;
    unsetenv("PROVIDER_KEY_SECRET");
    unsetenv("PROVIDER_KEY_SECRET_FILE");
    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("PROVIDER_KEY_SECRET_VERSION");
    assert_false(SecretBox::configured(""));
    assert_false(SecretBox::from_environment("", &err).has_value());
    assert_true(contains(err, "not set"));

    setenv("PROVIDER_KEY_SECRET", kHexKey, 1);
    setenv("PROVIDER_KEY_SECRET_VERSION", "3", 1);
    auto b = SecretBox::from_environment("", &err);
    assert_true(b.has_value());
    assert_int_equal(b->current_version(), 3);

    char path[] = "/tmp/rs-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    std::string content = std::string(kHexKey) + "\n";
    assert_int_equal(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    close(fd);
    unsetenv("PROVIDER_KEY_SECRET");
    unsetenv("PROVIDER_KEY_SECRET_VERSION");
    setenv("PROVIDER_KEY_SECRET_FILE", path, 1);
    auto f = SecretBox::from_environment("", &err);
    assert_true(f.has_value());
    SealedSecret s;
    std::string out;
    assert_true(b->seal(kSecret, "x", &s, &err));
    s.key_version = 1;
    assert_true(f->open(s, "x", &out, &err));  // same key material from the file
    unsetenv("PROVIDER_KEY_SECRET_FILE");
    setenv("PROVIDER_KEY_SECRET", "short", 1);
    assert_false(SecretBox::from_environment("", &err).has_value());
    assert_false(contains(err, "short\""));
    setenv("PROVIDER_KEY_SECRET", kHexKey, 1);
    setenv("PROVIDER_KEY_SECRET_VERSION", "zero", 1);
    assert_false(SecretBox::from_environment("", &err).has_value());
    unsetenv("PROVIDER_KEY_SECRET_VERSION");
    unsetenv("PROVIDER_KEY_SECRET");
    unlink(path);
}

static void test_hex(void**) {
    std::string out;
    assert_string_equal(hex_encode(std::string("\x00\xff\x10", 3)).c_str(), "00ff10");
    assert_true(hex_decode("00FF10", &out));
    assert_true(out == std::string("\x00\xff\x10", 3));
    assert_false(hex_decode("abc", &out));
    assert_false(hex_decode("zz", &out));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_and_long),
        cmocka_unit_test(test_every_flipped_byte_fails),
        cmocka_unit_test(test_wrong_row_id_fails),
        cmocka_unit_test(test_wrong_master_key_fails),
        cmocka_unit_test(test_fresh_nonce_each_time),
        cmocka_unit_test(test_key_derivation),
        cmocka_unit_test(test_key_versions),
        cmocka_unit_test(test_from_environment),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests_name("sync_secret_box", tests, nullptr, nullptr);
}
