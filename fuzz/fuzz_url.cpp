// URL parsing and building: an accepted provider URL has a host and Host header made only of
// visible ASCII (no NUL, no trailing junk), and rebuilding it from its parts parses to the same URL.
#include "fuzz_support.hpp"
#include "util/url.hpp"
#include "util/percent_encoding.hpp"

namespace {

void check_visible(std::string_view s, const char* what) {
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        fuzz::check(c > 0x20 && c < 0x7f, what, s);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto url = routeshift::parse_url(text, &error);
    if (url) {
        fuzz::check(!url->host.empty(), "a URL without host accepted", text);
        check_visible(url->host, "host holds a byte outside visible ASCII");
        check_visible(url->host_header, "Host header holds a byte outside visible ASCII");
        check_visible(url->path, "path holds a byte outside visible ASCII");
        std::string rebuilt = (url->tls ? "https://" : "http://") + url->host_header + url->path;
        auto again = routeshift::parse_url(rebuilt, &error);
        fuzz::check(again && again->host == url->host && again->port == url->port && again->path == url->path &&
                        again->tls == url->tls,
                    "a rebuilt URL parses differently", rebuilt);
    }
    // the one percent-encoder: its output decodes back, and a path segment is never a dot segment
    std::string encoded;
    routeshift::percent_encode_append(encoded, text, routeshift::PercentEncode::path_segment);
    fuzz::check(encoded != "." && encoded != "..", "a dot segment survives encoding", encoded);
    fuzz::check(routeshift::percent_decode(encoded) == text, "percent encoding does not round-trip", text);
    check_visible(encoded, "encoded segment holds a byte outside visible ASCII");
    return 0;
}
