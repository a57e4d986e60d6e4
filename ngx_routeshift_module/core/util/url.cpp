// Absolute-URL parsing for provider base URLs (see url.hpp).
#include "util/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace routeshift {

namespace {

bool fail(std::string* error, const char* msg) {
    if (error) *error = msg;
    return false;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != prefix[i]) return false;
    return true;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 pchar plus '/': unreserved, sub-delims, ':', '@' and %XX escapes.
bool valid_path(std::string_view p) {
    for (size_t i = 0; i < p.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(p[i]);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        switch (c) {
        case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
        case '(': case ')': case '*': case '+': case ',': case ';': case '=': case ':':
        case '@': case '/':
            continue;
        case '%':
            if (i + 2 < p.size() && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
                i += 2;
                continue;
            }
            return false;
        default:
            return false;
        }
    }
    return true;
}

bool valid_reg_name(std::string_view h) {
    // (one trailing dot, an absolute FQDN, is removed before: "host.." is not a name)
    if (h.empty() || h.size() > 253 || h.back() == '.') return false;
    size_t label = 0;
    for (size_t i = 0; i < h.size(); ++i) {
        char c = h[i];
        if (c == '.') {
            if (label == 0) return false;  // empty label
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
        if (++label > 63) return false;
    }
    return true;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text, std::string* error) {
    // NUL, spaces, control and non-ASCII bytes belong nowhere in a URL we connect to: a NUL would
    // end the host early for inet_pton ("127.0.0.1\0junk" read as 127.0.0.1) while the rest stays
    for (char ch : text) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) {
            fail(error, "URL contains a control, space or non-ASCII byte");
            return std::nullopt;
        }
    }
    Url u;
    std::string_view rest;
    if (starts_with_ci(text, "https://")) {
        u.tls = true;
        rest = text.substr(8);
    } else if (starts_with_ci(text, "http://")) {
        rest = text.substr(7);
    } else {
        fail(error, "URL must start with http:// or https://");
        return std::nullopt;
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
        fail(error, "URL must not contain a query or fragment");
        return std::nullopt;
    }
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        fail(error, "URL must not contain userinfo");
        return std::nullopt;
    }
    if (authority.empty()) {
        fail(error, "URL has no host");
        return std::nullopt;
    }

    std::string_view port_text;
    bool has_port = false;
    if (authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            fail(error, "unterminated IPv6 literal in URL");
            return std::nullopt;
        }
        std::string host(authority.substr(1, close - 1));
        in6_addr a6;
        if (host.empty() || inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
            fail(error, "invalid IPv6 literal in URL");
            return std::nullopt;
        }
        for (auto& c : host) c = lower(c);
        u.host = std::move(host);
        u.host_is_ip = true;
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                fail(error, "invalid characters after IPv6 literal in URL");
                return std::nullopt;
            }
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        size_t colon = authority.find(':');
        std::string_view host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
        std::string h;
        h.reserve(host.size());
        for (char c : host) h += lower(c);
        if (h.empty()) {
            fail(error, "URL has no host");
            return std::nullopt;
        }
        bool numeric = h.find_first_not_of("0123456789.") == std::string::npos;
        in_addr a4;
        if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
            u.host_is_ip = true;
        } else if (numeric) {
            fail(error, "invalid IPv4 address in URL");
            return std::nullopt;
        } else {
            if (h.back() == '.') h.pop_back();  // absolute FQDN
            if (!valid_reg_name(h)) {
                fail(error, "invalid host name in URL");
                return std::nullopt;
            }
        }
        u.host = std::move(h);
    }

    unsigned default_port = u.tls ? 443 : 80;
    if (has_port) {
        if (port_text.empty() || port_text.size() > 5 ||
            port_text.find_first_not_of("0123456789") != std::string_view::npos) {
            fail(error, "invalid port in URL");
            return std::nullopt;
        }
        unsigned p = 0;
        for (char c : port_text) p = p * 10 + static_cast<unsigned>(c - '0');
        if (p == 0 || p > 65535) {
            fail(error, "invalid port in URL");
            return std::nullopt;
        }
        u.port = p;
    } else {
        u.port = default_port;
    }

    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (!valid_path(path)) {
        fail(error, "invalid characters in URL path");
        return std::nullopt;
    }
    u.path = std::string(path);

    u.host_header = (u.host.find(':') != std::string::npos) ? "[" + u.host + "]" : u.host;
    if (u.port != default_port) u.host_header += ":" + std::to_string(u.port);
    return u;
}

}  // namespace routeshift
