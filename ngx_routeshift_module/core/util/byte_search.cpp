// See byte_search.hpp.
#include "util/byte_search.hpp"

#include <cstring>

#if defined(__SSE2__) && !defined(RS_JSON_NO_SIMD)
#include <emmintrin.h>
#define RS_BYTE_SEARCH_SSE2 1
#else
#define RS_BYTE_SEARCH_SSE2 0
#endif

namespace routeshift {

const char* find_bytes(std::string_view haystack, std::string_view needle) {
    const size_t n = needle.size();
    if (n == 0) return haystack.data();
    if (haystack.size() < n) return nullptr;
    const char* h = haystack.data();
#if RS_BYTE_SEARCH_SSE2
    // 16 candidate positions a step: the three loads of candidates i..i+15 end at i + n - 1 + 16
    if (n >= 3 && haystack.size() >= n - 1 + 16) {
        const __m128i first = _mm_set1_epi8(needle[0]);
        const __m128i second = _mm_set1_epi8(needle[1]);
        const __m128i last = _mm_set1_epi8(needle[n - 1]);
        const size_t final_step = haystack.size() - (n - 1) - 16;  // the last candidates, overlapping
        for (size_t i = 0;; i = i + 16 < final_step ? i + 16 : final_step) {
            const __m128i at_first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
            const __m128i at_second = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + 1));
            const __m128i at_last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1));
            unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(
                _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(at_first, first), _mm_cmpeq_epi8(at_second, second)),
                              _mm_cmpeq_epi8(at_last, last))));
            // candidates before i were tested already (no match, or it was returned): the first
            // match here is the first in the haystack
            while (mask != 0) {
                const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
                if (std::memcmp(h + at + 2, needle.data() + 2, n - 3) == 0) return h + at;
                mask &= mask - 1;
            }
            if (i == final_step) return nullptr;
        }
    }
#endif
    // short haystacks and needles (or no SSE2)
    return static_cast<const char*>(memmem(h, haystack.size(), needle.data(), n));
}

}  // namespace routeshift
