// XXH3-128 (see hash128.hpp). The whole of xxhash.h is compiled into this file alone, inlined:
// the session digest hashes a handful of short fields per request, where a call into a shared
// library and its dispatch would cost more than the hash.
#include "util/hash128.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace routeshift {

void hash128(const void* data, size_t size, unsigned char out[kHash128Bytes]) {
    const XXH128_hash_t hash = XXH3_128bits(data, size);  // reads all of `data` before `out` is written
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    for (size_t i = 0; i < kHash128Bytes; ++i) out[i] = canonical.digest[i];
}

}  // namespace routeshift
