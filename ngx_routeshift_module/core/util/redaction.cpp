#include "util/redaction.hpp"

namespace routeshift {
namespace {

void replace_all(std::string& s, std::string_view needle, std::string_view with) {
    if (needle.empty()) return;
    size_t pos = 0;
    while ((pos = s.find(needle, pos)) != std::string::npos) {
        s.replace(pos, needle.size(), with);
        pos += with.size();
    }
}

}  // namespace

std::string redact_secrets(std::string_view text, std::span<const std::string_view> secrets) {
    std::string s(text);
    for (auto sec : secrets) {
        if (sec.empty()) continue;
        replace_all(s, sec, "[redacted]");
        if (sec.size() > 16) replace_all(s, sec.substr(0, 12), "[redacted]");
    }
    return s;
}

bool contains_secret(std::string_view text, std::span<const std::string_view> secrets) {
    for (auto sec : secrets) {
        if (sec.empty()) continue;
        if (text.find(sec) != std::string_view::npos) return true;
        if (sec.size() > 16 && text.find(sec.substr(0, 12)) != std::string_view::npos) return true;
    }
    return false;
}

}  // namespace routeshift
