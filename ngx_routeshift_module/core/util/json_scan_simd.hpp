// The hot loop of json_scan(): in a JSON string's bytes, find the next byte that needs a decision
// ('"', '\\', a control character or a non-ASCII byte). Everything else is skipped in bulk, which
// is what keeps a large prompt cheap to validate.
//
// Four kernels give the same answer: AVX2 (32 bytes a step, 128 per loop turn; used when the CPU
// has it), SSE2 (16 bytes, the x86-64 baseline), SWAR (8 bytes in a uint64_t, other little-endian
// targets) and bytewise. The best one available is chosen once at load time; tests switch between
// them with json_scan_use_kernel() to check each at every alignment.
// -DRS_JSON_NO_SIMD compiles out AVX2 and SSE2, -DRS_JSON_SWAR=0 compiles out SWAR.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__) && !defined(RS_JSON_NO_SIMD)
#define RS_JSON_SSE2 1
#include <emmintrin.h>
#else
#define RS_JSON_SSE2 0
#endif

// AVX2 needs a runtime check (not every x86-64 has it) and the compiler's target attribute.
#if RS_JSON_SSE2 && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RS_JSON_AVX2 1
#else
#define RS_JSON_AVX2 0
#endif

// SWAR needs little-endian byte order to locate the first hit.
#ifndef RS_JSON_SWAR
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__GNUC__) || defined(__clang__))
#define RS_JSON_SWAR 1
#else
#define RS_JSON_SWAR 0
#endif
#endif

namespace routeshift {

// bytewise is 0 so that a scan running before static initialisation is slow, never wrong.
enum class JsonScanKernel : uint8_t { bytewise, swar, sse2, avx2 };

JsonScanKernel json_scan_kernel();
const char* json_scan_kernel_name(JsonScanKernel k);
// Makes json_scan() use kernel `k`; false when this build or CPU lacks it. For tests and benchmarks
// only: the switch is a plain global, not synchronised with scans running in other threads.
bool json_scan_use_kernel(JsonScanKernel k);

namespace json_scan_detail {

using uchar = unsigned char;

extern JsonScanKernel g_kernel;

// First special byte in [p, end) with AVX2, or end; needs end - p >= 32.
const uchar* skip_plain_avx2(const uchar* p, const uchar* end);

inline bool is_special(uchar c) { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80; }

inline const uchar* skip_plain_bytewise(const uchar* p, const uchar* end) {
    while (p < end && !is_special(*p)) ++p;
    return p;
}

#if RS_JSON_SWAR
inline const uchar* skip_plain_swar(const uchar* p, const uchar* end) {
    constexpr uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    // high bit of the lowest byte that is zero / below n; bits above the first hit may be spurious,
    // so only the lowest set bit of the union is used
    auto zero_bytes = [](uint64_t v) { return (v - ones) & ~v & high; };
    while (end - p >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        uint64_t hit =
            zero_bytes(v ^ (ones * '"')) | zero_bytes(v ^ (ones * '\\')) | ((v - ones * 0x20) & ~v & high) | (v & high);
        if (hit) return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
    return skip_plain_bytewise(p, end);
}
#endif

#if RS_JSON_SSE2
// The sign bit of every lane holding a special byte is set (the other bits are noise: callers
// read sign bits only, with movemask or a test against 0x80). One saturating subtraction covers
// three classes at once: x ^ 0x02 maps '"' (0x22) to 0x20, keeps 0x00-0x1F below 0x21 and
// 0x80-0xFF negative, and every other byte at >= 0x21; subtracting 0x21 (signed, saturating)
// leaves exactly quote, control and non-ASCII bytes negative. Backslash needs its own compare.
inline __m128i special16(__m128i v) {
    const __m128i flip = _mm_set1_epi8(0x02), limit = _mm_set1_epi8(0x21), backslash = _mm_set1_epi8('\\');
    return _mm_or_si128(_mm_subs_epi8(_mm_xor_si128(v, flip), limit), _mm_cmpeq_epi8(v, backslash));
}

inline const uchar* skip_plain_sse2(const uchar* p, const uchar* end) {
    while (end - p >= 16) {
        int bits = _mm_movemask_epi8(special16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
        if (bits) return p + __builtin_ctz(static_cast<unsigned>(bits));
        p += 16;
    }
    return skip_plain_bytewise(p, end);
}
#endif

// The first special byte in [p, end), or end.
inline const uchar* skip_plain(const uchar* p, const uchar* end) {
    switch (g_kernel) {
#if RS_JSON_AVX2
    case JsonScanKernel::avx2:
        // most strings (keys, roles, model names) end within 16 bytes: look there inline first
        if (end - p >= 48) {
            int bits = _mm_movemask_epi8(special16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
            if (bits) return p + __builtin_ctz(static_cast<unsigned>(bits));
            return skip_plain_avx2(p + 16, end);
        }
        return skip_plain_sse2(p, end);
#endif
#if RS_JSON_SSE2
    case JsonScanKernel::sse2: return skip_plain_sse2(p, end);
#endif
#if RS_JSON_SWAR
    case JsonScanKernel::swar: return skip_plain_swar(p, end);
#endif
    default: return skip_plain_bytewise(p, end);
    }
}

}  // namespace json_scan_detail
}  // namespace routeshift
