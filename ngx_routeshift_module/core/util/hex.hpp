// Lower-case hexadecimal: of bytes (digests, signatures, session ids) and of the low digits of an
// integer (ids, checksums in messages). The one hex writer of the code base.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace routeshift {

inline constexpr char kHexDigits[] = "0123456789abcdef";

// Writes two digits per byte at `out`; returns the position after them.
inline char* write_hex(char* out, const unsigned char* bytes, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        *out++ = kHexDigits[bytes[i] >> 4];
        *out++ = kHexDigits[bytes[i] & 15];
    }
    return out;
}

inline void append_hex(std::string& out, const unsigned char* bytes, size_t n) {
    const size_t at = out.size();
    out.resize(at + 2 * n);
    write_hex(out.data() + at, bytes, n);
}

// The low `digits` hex digits of `value` (at most 16), most significant first, zero-padded.
inline void append_hex_digits(std::string& out, uint64_t value, int digits) {
    char buffer[16];
    for (int i = digits - 1; i >= 0; --i, value >>= 4) buffer[i] = kHexDigits[value & 15];
    out.append(buffer, static_cast<size_t>(digits));
}

}  // namespace routeshift
