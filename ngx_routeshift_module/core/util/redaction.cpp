#include "util/redaction.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace routeshift {
namespace {

using Span = std::pair<size_t, size_t>;  // [begin, end) in the text

constexpr std::string_view kRedacted = "[redacted]";
constexpr size_t kPrefixOfLong = 12;  // a secret longer than 16 is also caught by its first 12

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hex4(std::string_view t, size_t i) {
    if (i + 4 > t.size()) return -1;
    int v = 0;
    for (size_t k = 0; k < 4; ++k) {
        int d = hex_digit(t[i + k]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The unit of `t` starting at `i`: a JSON escape (its length and decoded bytes) or one raw byte.
size_t unit_at(std::string_view t, size_t i, std::string* decoded) {
    decoded->clear();
    if (t[i] == '\\' && i + 1 < t.size()) {
        switch (t[i + 1]) {
        case '/': *decoded = "/"; return 2;
        case '\\': *decoded = "\\"; return 2;
        case '"': *decoded = "\""; return 2;
        case 'b': *decoded = "\b"; return 2;
        case 'f': *decoded = "\f"; return 2;
        case 'n': *decoded = "\n"; return 2;
        case 'r': *decoded = "\r"; return 2;
        case 't': *decoded = "\t"; return 2;
        case 'u': {
            int hi = hex4(t, i + 2);
            if (hi < 0) break;
            if (hi >= 0xD800 && hi <= 0xDBFF && i + 7 < t.size() && t[i + 6] == '\\' && t[i + 7] == 'u') {
                int lo = hex4(t, i + 8);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    append_utf8(*decoded, 0x10000 + ((static_cast<uint32_t>(hi) - 0xD800) << 10) +
                                              (static_cast<uint32_t>(lo) - 0xDC00));
                    return 12;
                }
            }
            if (hi >= 0xD800 && hi <= 0xDFFF) *decoded = "\xFF";  // lone surrogate: matches no secret
            else append_utf8(*decoded, static_cast<uint32_t>(hi));
            return 6;
        }
        default: break;
        }
    }
    *decoded = t.substr(i, 1);
    return 1;
}

// Start offsets of the units of `t` (every escape is one unit), plus t.size() at the end.
std::vector<size_t> unit_starts(std::string_view t) {
    std::vector<size_t> starts;
    std::string scratch;
    for (size_t i = 0; i < t.size(); i += unit_at(t, i, &scratch)) starts.push_back(i);
    starts.push_back(t.size());
    return starts;
}

// End of a match of `needle` read unit by unit (escapes decoded) from unit start `i`, or npos.
size_t decoded_match(std::string_view t, size_t i, std::string_view needle, std::string* scratch) {
    size_t j = 0;
    while (j < needle.size()) {
        if (i >= t.size()) return std::string_view::npos;
        size_t len = unit_at(t, i, scratch);
        if (scratch->size() > needle.size() - j || needle.compare(j, scratch->size(), *scratch) != 0)
            return std::string_view::npos;
        j += scratch->size();
        i += len;
    }
    return i;
}

// Every stretch of `t` holding a secret, widened to whole escapes, sorted and merged.
std::vector<Span> secret_spans(std::string_view t, std::span<const std::string_view> secrets, bool first_only) {
    std::vector<std::string_view> needles;
    for (auto s : secrets) {
        if (s.empty()) continue;
        needles.push_back(s);
        if (s.size() > 16) needles.push_back(s.substr(0, kPrefixOfLong));
    }
    std::vector<Span> spans;
    if (needles.empty()) return spans;
    for (auto n : needles) {
        for (size_t p = t.find(n); p != std::string_view::npos; p = t.find(n, p + 1)) {
            spans.emplace_back(p, p + n.size());
            if (first_only) return spans;
        }
    }
    if (t.find('\\') == std::string_view::npos) {
        std::sort(spans.begin(), spans.end());
    } else {
        std::vector<size_t> starts = unit_starts(t);
        std::string scratch;
        for (size_t u = 0; u + 1 < starts.size(); ++u) {
            for (auto n : needles) {
                size_t e = decoded_match(t, starts[u], n, &scratch);
                if (e == std::string_view::npos) continue;
                spans.emplace_back(starts[u], e);
                if (first_only) return spans;
            }
        }
        // raw matches may begin or end inside an escape: widen them to whole units
        for (auto& [b, e] : spans) {
            auto lo = std::upper_bound(starts.begin(), starts.end(), b);
            b = *(lo - 1);
            e = *std::lower_bound(starts.begin(), starts.end(), e);
        }
        std::sort(spans.begin(), spans.end());
    }
    std::vector<Span> merged;
    for (const Span& s : spans) {
        if (!merged.empty() && s.first < merged.back().second) merged.back().second = std::max(merged.back().second, s.second);
        else merged.push_back(s);
    }
    return merged;
}

}  // namespace

std::string redact_secrets(std::string_view text, std::span<const std::string_view> secrets) {
    std::vector<Span> spans = secret_spans(text, secrets, false);
    if (spans.empty()) return std::string(text);
    std::string out;
    out.reserve(text.size());
    size_t at = 0;
    for (const auto& [b, e] : spans) {
        out.append(text.substr(at, b - at));
        out += kRedacted;
        at = e;
    }
    out.append(text.substr(at));
    return out;
}

bool contains_secret(std::string_view text, std::span<const std::string_view> secrets) {
    return !secret_spans(text, secrets, true).empty();
}

}  // namespace routeshift
