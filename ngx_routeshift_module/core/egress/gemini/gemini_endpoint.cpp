// Gemini endpoint: the request path (model percent-encoded as one segment) and the per-attempt
// credential header.
#include "egress/gemini/gemini_internal.hpp"

#include "util/percent_encoding.hpp"

namespace routeshift {

using namespace gemini_internal;

std::string gemini_request_path(std::string_view base_path, std::string_view upstream_model, bool stream) {
    string out(base_path);
    while (!out.empty() && out.back() == '/') out.pop_back();
    string_view m = upstream_model;
    if (m.starts_with("models/")) {
        m.remove_prefix(7);
        out += "/models/";
    } else if (m.starts_with("tunedModels/")) {
        m.remove_prefix(12);
        out += "/tunedModels/";
    } else {
        out += "/models/";
    }
    percent_encode_append(out, m, PercentEncode::path_segment);  // one segment: ':' and '/' escaped
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
