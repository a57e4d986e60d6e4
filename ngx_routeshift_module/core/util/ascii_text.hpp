// ASCII text tests and case folding for protocol text (provider error messages, model ids, header
// values). Byte-wise: non-ASCII bytes are left as they are and never match a case-folded letter.
#pragma once
#include <cctype>
#include <string>
#include <string_view>

namespace routeshift {

inline std::string to_ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
    return to_ascii_lower(haystack).find(to_ascii_lower(needle)) != std::string::npos;
}

// True for empty text and text of spaces, tabs and line breaks only.
inline bool is_blank(std::string_view text) {
    for (char c : text)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

// True when `text` may go into an HTTP header value as is: no control characters (CR/LF would
// split the header).
inline bool is_header_safe(std::string_view text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace routeshift
