// Gemini endpoint: the request path (model percent-encoded as one segment) and the per-attempt
// credential header.
#include "egress/gemini/gemini_internal.hpp"

namespace routeshift {

using namespace gemini_internal;

namespace {

// Percent-encodes a path segment (RFC 3986 unreserved characters are kept; ':' and '/' are not).
void append_segment(string& out, string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
}

}  // namespace

std::string gemini_request_path(std::string_view base_path, std::string_view upstream_model, bool stream) {
    string out(base_path);
    while (!out.empty() && out.back() == '/') out.pop_back();
    string_view m = upstream_model;
    if (starts_with(m, "models/")) {
        m.remove_prefix(7);
        out += "/models/";
    } else if (starts_with(m, "tunedModels/")) {
        m.remove_prefix(12);
        out += "/tunedModels/";
    } else {
        out += "/models/";
    }
    append_segment(out, m);
    out += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
    return out;
}

std::string gemini_request_headers(const ProviderKey& key) {
    string out = "x-goog-api-key: ";
    for (char c : key.secret) {
        if (c != '\r' && c != '\n' && c != '\0') out += c;  // never let a secret split the header block
    }
    out += "\r\n";
    return out;
}

}  // namespace routeshift
