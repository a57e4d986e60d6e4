// A fast, well-mixed 128-bit hash for grouping labels (the session ids, docs/design.md §12): XXH3-128
// (xxHash 0.8, Yann Collet) from Debian's libxxhash-dev, compiled in here header-only
// (XXH_INLINE_ALL: no runtime library). Not a MAC and not collision resistant against an
// adversary: use it only where a forged collision buys nothing.
#pragma once
#include <cstddef>

namespace routeshift {

inline constexpr size_t kHash128Bytes = 16;

// XXH3-128 of `data` (seed 0, the default secret), written in xxHash's canonical byte order (the
// high 64 bits first, big-endian: the digits `xxh128sum` prints). `out` may overlap `data`.
void hash128(const void* data, size_t size, unsigned char out[kHash128Bytes]);

}  // namespace routeshift
