#include "util/base64.hpp"

#include <cstdint>

namespace routeshift {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// `bytes` in `alphabet`, with '=' padding or without.
void encode_append(std::string& out, std::string_view bytes, const char* alphabet, bool pad) {
    out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t v = (uint32_t)(unsigned char)bytes[i] << 16 | (uint32_t)(unsigned char)bytes[i + 1] << 8 |
                     (unsigned char)bytes[i + 2];
        out += alphabet[v >> 18];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    size_t rest = bytes.size() - i;
    if (rest == 0) return;
    uint32_t v = (uint32_t)(unsigned char)bytes[i] << 16;
    if (rest == 2) v |= (uint32_t)(unsigned char)bytes[i + 1] << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    else if (pad) out += '=';
    if (pad) out += '=';
}

int url_sextet(char c) {
    if (c == '-') return 62;
    if (c == '_') return 63;
    if (c == '+' || c == '/') return -1;
    return c == '=' ? -1 : -2;  // -2: decide by the shared letters and digits
}

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

void base64_append(std::string& out, std::string_view bytes) { encode_append(out, bytes, kAlphabet, true); }

void base64url_append(std::string& out, std::string_view bytes) { encode_append(out, bytes, kUrlAlphabet, false); }

bool base64url_character(char c) {
    int v = url_sextet(c);
    return v >= 0 || (v == -2 && sextet(c) >= 0);
}

bool base64url_decode(std::string_view text, std::string* out) {
    if (text.size() % 4 == 1) return false;
    out->clear();
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v = url_sextet(c);
        if (v == -2) v = sextet(c);
        if (v < 0) return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->push_back((char)((acc >> bits) & 0xff));
        }
    }
    return (acc & ((1u << bits) - 1)) == 0;
}

bool base64_decode(std::string_view text, std::string* out) {
    out->clear();
    if (text.size() % 4 != 0) return false;
    out->reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int a = sextet(text[i]), b = sextet(text[i + 1]);
        int c = text[i + 2] == '=' && last && text[i + 3] == '=' ? -2 : sextet(text[i + 2]);
        int d = text[i + 3] == '=' && last ? -2 : sextet(text[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1) return false;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c < 0 ? 0 : c) << 6 | (uint32_t)(d < 0 ? 0 : d);
        out->push_back((char)(v >> 16));
        if (c >= 0) out->push_back((char)((v >> 8) & 0xff));
        if (d >= 0) out->push_back((char)(v & 0xff));
    }
    return true;
}

}  // namespace routeshift
