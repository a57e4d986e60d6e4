// Kernel choice and the AVX2 kernel of json_scan's string scanning (see json_scan_simd.hpp).
#include "util/json_scan_simd.hpp"

#if RS_JSON_AVX2
#include <immintrin.h>
#endif

namespace routeshift {
namespace json_scan_detail {

namespace {

bool cpu_has_avx2() {
#if RS_JSON_AVX2
    // this may run from a shared object's constructor, before libgcc's own initialisation
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");  // also false when the OS does not save YMM registers
#else
    return false;
#endif
}

JsonScanKernel best_kernel() {
    if (cpu_has_avx2()) return JsonScanKernel::avx2;
    if (RS_JSON_SSE2) return JsonScanKernel::sse2;
    if (RS_JSON_SWAR) return JsonScanKernel::swar;
    return JsonScanKernel::bytewise;
}

}  // namespace

JsonScanKernel g_kernel = best_kernel();

#if RS_JSON_AVX2
// Same classification as special16(), 32 lanes at a time (sign bits only).
__attribute__((target("avx2"))) static inline __m256i special32(const uchar* p) {
    const __m256i flip = _mm256_set1_epi8(0x02), limit = _mm256_set1_epi8(0x21), backslash = _mm256_set1_epi8('\\');
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm256_or_si256(_mm256_subs_epi8(_mm256_xor_si256(v, flip), limit), _mm256_cmpeq_epi8(v, backslash));
}

__attribute__((target("avx2"))) const uchar* skip_plain_avx2(const uchar* p, const uchar* end) {
    // 128 bytes per turn with one test: the cost per byte is what a large prompt pays
    const __m256i sign = _mm256_set1_epi8(static_cast<char>(0x80));
    if (end - p >= 128) {
        for (const uchar* const last = end - 128; p <= last; p += 128) {
            __m256i any = _mm256_or_si256(_mm256_or_si256(special32(p), special32(p + 32)),
                                          _mm256_or_si256(special32(p + 64), special32(p + 96)));
            if (!_mm256_testz_si256(any, sign)) break;
        }
    }
    while (end - p >= 32) {
        unsigned bits = static_cast<unsigned>(_mm256_movemask_epi8(special32(p)));
        if (bits) return p + __builtin_ctz(bits);
        p += 32;
    }
    // the last < 32 bytes: one load ending at `end` (the caller guaranteed 32 bytes before it),
    // with the lanes already looked at shifted out
    if (p == end) return end;
    const size_t seen = static_cast<size_t>(32 - (end - p));
    unsigned bits = static_cast<unsigned>(_mm256_movemask_epi8(special32(end - 32))) >> seen;
    return bits ? p + __builtin_ctz(bits) : end;
}
#else
const uchar* skip_plain_avx2(const uchar* p, const uchar* end) { return skip_plain_bytewise(p, end); }
#endif

}  // namespace json_scan_detail

JsonScanKernel json_scan_kernel() { return json_scan_detail::g_kernel; }

const char* json_scan_kernel_name(JsonScanKernel k) {
    switch (k) {
    case JsonScanKernel::avx2: return "avx2";
    case JsonScanKernel::sse2: return "sse2";
    case JsonScanKernel::swar: return "swar";
    case JsonScanKernel::bytewise: return "bytewise";
    }
    return "?";
}

bool json_scan_use_kernel(JsonScanKernel k) {
    bool available = k == JsonScanKernel::bytewise || (k == JsonScanKernel::swar && RS_JSON_SWAR) ||
                     (k == JsonScanKernel::sse2 && RS_JSON_SSE2) ||
                     (k == JsonScanKernel::avx2 && json_scan_detail::cpu_has_avx2());
    if (available) json_scan_detail::g_kernel = k;
    return available;
}

}  // namespace routeshift
