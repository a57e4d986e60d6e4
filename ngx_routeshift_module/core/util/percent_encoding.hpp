// The one percent-encoder (RFC 3986 §2.1) for everything the gateway puts into a URL: Azure
// deployment names and api-version, Gemini model path segments, Bedrock model ids, and the SigV4
// canonical URI / query (whose rule is exactly this one: uppercase hex, unreserved kept).
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

enum class PercentEncode {
    segment,  // only RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) stays: one path segment or query part
    path,     // as `segment`, and '/' stays too: a whole path
    // as `segment`, and "." / ".." are written %2E / %2E%2E: a segment of a URL we send (a model
    // name) never becomes a dot segment, which a server or proxy would resolve (RFC 3986 §5.2.4)
    path_segment,
};

// True for the RFC 3986 unreserved characters.
bool percent_unreserved(unsigned char c);

// Appends `s` with every byte outside the kept set written as %XX (uppercase hex).
void percent_encode_append(std::string& out, std::string_view s, PercentEncode mode = PercentEncode::segment);

// Decodes %XX sequences; a '%' not followed by two hex digits is kept as is.
std::string percent_decode(std::string_view s);

}  // namespace routeshift
