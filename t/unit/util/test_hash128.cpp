// XXH3-128 compiled into the core (XXH_INLINE_ALL) gives the digests of Debian's own libxxhash
// build (vectors computed with libxxhash.so.0's XXH3_128bits) at every length class of XXH3
// (0, 1-3, 4-8, 9-16, 17-128, 129-240, longer), in canonical byte order, also in place.
#include "util/hash128.hpp"

#include <cstring>
#include <string>

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::string hex(const unsigned char* bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

std::string digest_hex(const void* data, size_t n) {
    unsigned char out[kHash128Bytes];
    hash128(data, n, out);
    return hex(out, sizeof out);
}

}  // namespace

static void test_reference_vectors(void**) {
    assert_str_eq(digest_hex("", 0), "99aa06d3014798d86001c324468d497f");
    assert_str_eq(digest_hex("routeshift-session-3", 20), "5aa6f993993bcef885dd9b633429001c");
    unsigned char data[1100];
    for (size_t i = 0; i < sizeof data; i++) data[i] = static_cast<unsigned char>(i * 7 % 251);
    const struct {
        size_t size;
        const char* digest;
    } vectors[] = {
        {1, "a6cd5e9392000f6ac44bdff4074eecdb"},    {3, "656e81c56e41fe02c3489259e968ad9e"},
        {4, "ab5c3e7474d809db81a65295de8e7dde"},    {8, "e4b9dd0b66ff3c50ebabbd0695002ff6"},
        {9, "82ddc95bc76007671c69c3f04aaed08c"},    {16, "ddf6c1254d70f76794eaa17b20756f46"},
        {17, "263f67af63088041735fe434ded90c3c"},   {128, "381610c474b8adfb2dfb73305de1f91a"},
        {129, "4e05eed4427255d51f8b5092c9ba3be8"},  {240, "17ffe035d71c1ec8e6bf81617aad6c4a"},
        {241, "29bc1e9cffb6d79bc614c8c3575348c1"},  {528, "38b249692b3ea1cb9fb02718de5edc05"},
        {1024, "07fe8eadab1cf098f22ef3dc84ff47ea"}, {1100, "a8075f1512bba036102cd5b3580cefc5"},
    };
    for (const auto& v : vectors) assert_str_eq(digest_hex(data, v.size), v.digest);
}

static void test_output_may_overlap_the_input(void**) {
    unsigned char block[16 + 40];
    for (size_t i = 0; i < sizeof block; i++) block[i] = static_cast<unsigned char>(i);
    std::string expected = digest_hex(block, sizeof block);
    hash128(block, sizeof block, block);  // the session chain's step: the digest replaces its own prefix
    assert_str_eq(hex(block, kHash128Bytes), expected);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_output_may_overlap_the_input),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
