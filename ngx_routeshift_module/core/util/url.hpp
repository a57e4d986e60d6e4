// Minimal absolute-URL parsing for provider base URLs.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace routeshift {

struct Url {
    bool tls = false;        // https
    std::string host;        // without brackets for IPv6 literals
    unsigned port = 0;       // explicit or 80/443
    std::string path;        // "" or starts with "/", no trailing "/"
    bool host_is_ip = false; // IPv4/IPv6 literal (no DNS, no SNI)
    std::string host_header; // what goes into Host: (host[:port] when port is not the default)
};

// Accepts http:// and https:// URLs with optional port and path; rejects query/fragment/userinfo.
std::optional<Url> parse_url(std::string_view text, std::string* error);

}  // namespace routeshift
