// SipHash-2-4-128 (see siphash.hpp): the reference algorithm, word at a time.
#include "util/siphash.hpp"

#include <cstring>

namespace routeshift {
namespace {

constexpr uint64_t rotate_left(uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

inline uint64_t load_le64(const unsigned char* p) {
    uint64_t word;
    std::memcpy(&word, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    return word;
}

inline void store_le64(unsigned char* p, uint64_t word) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    std::memcpy(p, &word, 8);
}

inline void sip_round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
    v0 += v1; v1 = rotate_left(v1, 13); v1 ^= v0; v0 = rotate_left(v0, 32);
    v2 += v3; v3 = rotate_left(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotate_left(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotate_left(v1, 17); v1 ^= v2; v2 = rotate_left(v2, 32);
}

}  // namespace

SipHash128::SipHash128(const unsigned char key[16]) {
    const uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    v0_ = k0 ^ 0x736f6d6570736575ull;
    v1_ = k1 ^ 0x646f72616e646f6dull ^ 0xee;  // 0xee: the 128-bit output variant
    v2_ = k0 ^ 0x6c7967656e657261ull;
    v3_ = k1 ^ 0x7465646279746573ull;
}

void SipHash128::compress(uint64_t word) {
    v3_ ^= word;
    sip_round(v0_, v1_, v2_, v3_);
    sip_round(v0_, v1_, v2_, v3_);
    v0_ ^= word;
}

void SipHash128::update(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t pending = total_ & 7;  // bytes already in tail_
    total_ += size;
    if (pending != 0) {
        while (size > 0 && pending < 8) {
            tail_ |= (uint64_t)*p++ << (8 * pending++);
            --size;
        }
        if (pending < 8) return;
        compress(tail_);
        tail_ = 0;
    }
    for (; size >= 8; size -= 8, p += 8) compress(load_le64(p));
    for (size_t i = 0; i < size; i++) tail_ |= (uint64_t)p[i] << (8 * i);
}

void SipHash128::finish(unsigned char out[16]) {
    compress(tail_ | (total_ << 56));
    v2_ ^= 0xee;
    for (int i = 0; i < 4; i++) sip_round(v0_, v1_, v2_, v3_);
    store_le64(out, v0_ ^ v1_ ^ v2_ ^ v3_);
    v1_ ^= 0xdd;
    for (int i = 0; i < 4; i++) sip_round(v0_, v1_, v2_, v3_);
    store_le64(out + 8, v0_ ^ v1_ ^ v2_ ^ v3_);
}

}  // namespace routeshift
