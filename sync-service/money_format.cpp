#include "money_format.hpp"

namespace rsync {
namespace {
constexpr int64_t kMicrocentsPerDollar = 100000000;  // 100 cents × 1e6
constexpr int kDecimals = 8;
}  // namespace

std::string format_usd(int64_t microcents) {
    bool negative = microcents < 0;
    uint64_t magnitude = negative ? 0 - (uint64_t)microcents : (uint64_t)microcents;
    std::string fraction = std::to_string(magnitude % kMicrocentsPerDollar);
    fraction.insert(0, kDecimals - fraction.size(), '0');
    while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
    return std::string(negative ? "-$" : "$") + std::to_string(magnitude / kMicrocentsPerDollar) + "." + fraction;
}

std::optional<int64_t> parse_usd(std::string_view text) {
    if (!text.empty() && text.front() == '$') text.remove_prefix(1);
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() && fraction.empty()) return std::nullopt;
    if (whole.size() > 10 || fraction.size() > kDecimals) return std::nullopt;  // < $1e10: no overflow
    if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;  // "5."
    int64_t dollars = 0, part = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') return std::nullopt;
        dollars = dollars * 10 + (c - '0');
    }
    for (size_t i = 0; i < kDecimals; ++i) {
        char c = i < fraction.size() ? fraction[i] : '0';
        if (c < '0' || c > '9') return std::nullopt;
        part = part * 10 + (c - '0');
    }
    return dollars * kMicrocentsPerDollar + part;
}

}  // namespace rsync
