// SipHash-2-4 with a 128-bit output (Aumasson & Bernstein), fed in pieces. A keyed hash of a few
// instructions per byte: the session ids (docs/design.md §12) are grouping labels, not secrets or
// proofs (a client may force any id), so they need a well-mixed 128-bit digest, not SHA-256's
// collision resistance at ~30 instructions a byte on CPUs without SHA extensions.
#pragma once
#include <cstddef>
#include <cstdint>

namespace routeshift {

class SipHash128 {
public:
    explicit SipHash128(const unsigned char key[16]);

    void update(const void* data, size_t size);
    // The digest of everything fed (little-endian v-words, as the reference implementation writes
    // them). Call once.
    void finish(unsigned char out[16]);

private:
    void compress(uint64_t word);

    uint64_t v0_, v1_, v2_, v3_;
    uint64_t tail_ = 0;      // the bytes of an incomplete word, little-endian
    uint64_t total_ = 0;     // bytes fed
};

}  // namespace routeshift
