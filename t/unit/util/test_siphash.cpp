// SipHash-2-4-128: the reference vector, and the same digest as OpenSSL's SIPHASH MAC for every
// length and however the input is split into pieces.
#include "util/siphash.hpp"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <string>

#include "test_util.hpp"

using namespace routeshift;

namespace {

const unsigned char kKey[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

std::string hex(const unsigned char* bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

std::string openssl_siphash(const unsigned char* message, size_t n) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
    assert_non_null(mac);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    assert_non_null(ctx);
    size_t size = 16;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t("size", &size), OSSL_PARAM_construct_end()};
    assert_int_equal(EVP_MAC_init(ctx, kKey, sizeof kKey, params), 1);
    assert_int_equal(EVP_MAC_update(ctx, message, n), 1);
    unsigned char out[16];
    size_t written = 0;
    assert_int_equal(EVP_MAC_final(ctx, out, &written, sizeof out), 1);
    assert_int_equal(written, 16);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return hex(out, sizeof out);
}

}  // namespace

static void test_reference_vectors(void**) {
    // vectors.h of the reference implementation (128-bit output, key 00..0f, message 00..len-1)
    unsigned char message[16];
    for (int i = 0; i < 16; i++) message[i] = (unsigned char)i;
    unsigned char out[16];
    SipHash128 empty(kKey);
    empty.finish(out);
    assert_str_eq(hex(out, 16), "a3817f04ba25a8e66df67214c7550293");
    SipHash128 fifteen(kKey);
    fifteen.update(message, 15);
    fifteen.finish(out);
    assert_str_eq(hex(out, 16), openssl_siphash(message, 15));
}

static void test_pieces_and_lengths_agree_with_openssl(void**) {
    unsigned char message[300];
    for (size_t i = 0; i < sizeof message; i++) message[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n < sizeof message; n++) {
        std::string expected = openssl_siphash(message, n);
        // whole, and in three pieces at every split point of a coarse grid (tails of 0..7 bytes)
        for (size_t split = 0; split <= n; split += n / 9 + 1) {
            SipHash128 hash(kKey);
            hash.update(message, split / 2);
            hash.update(message + split / 2, split - split / 2);
            hash.update(message + split, n - split);
            unsigned char out[16];
            hash.finish(out);
            assert_str_eq(hex(out, 16), expected);
        }
    }
}

static void test_key_matters(void**) {
    unsigned char other_key[16];
    std::memcpy(other_key, kKey, 16);
    other_key[15] ^= 1;
    unsigned char a[16], b[16];
    SipHash128 first(kKey), second(other_key);
    first.update("hi", 2);
    second.update("hi", 2);
    first.finish(a);
    second.finish(b);
    assert_true(std::memcmp(a, b, 16) != 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_pieces_and_lengths_agree_with_openssl),
        cmocka_unit_test(test_key_matters),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
