// Percent-encoding (see percent_encoding.hpp).
#include "util/percent_encoding.hpp"

namespace routeshift {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "." and ".." as a whole segment are dot segments (RFC 3986 §5.2.4): a server or proxy removes
// them, so a model named ".." would climb out of /model/{id}/. Written as %2E they stay data.
bool dot_segment(std::string_view segment) { return segment == "." || segment == ".."; }

}  // namespace

bool percent_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

void percent_encode_append(std::string& out, std::string_view s, PercentEncode mode) {
    const bool keep_slash = mode == PercentEncode::path;
    if (mode == PercentEncode::path_segment && dot_segment(s)) {
        for (size_t i = 0; i < s.size(); ++i) out += "%2E";
        return;
    }
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (percent_unreserved(c) || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += kHexUpper[c >> 4];
            out += kHexUpper[c & 15];
        }
    }
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

}  // namespace routeshift
