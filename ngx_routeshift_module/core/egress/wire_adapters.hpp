// The four wire adapters, each defined in its own folder (egress/<wire>/<wire>_wire.cpp); only
// the registry (wire_registry.cpp) names them.
#pragma once
#include "egress/wire_adapter.hpp"
#include "util/url.hpp"

namespace routeshift {

const WireAdapter& openai_wire();
const WireAdapter& anthropic_wire();
const WireAdapter& gemini_wire();
const WireAdapter& bedrock_wire();

// Helpers the adapters share.
// An endpoint from a base URL plus a path suffix.
bool endpoint_from_url(std::string_view base, std::string_view path_suffix, UpstreamEndpoint* out,
                       std::string* error);
// A JSON POST's head: request line, Host, Content-Type, Content-Length (of `body`), Accept,
// User-Agent, then `auth_headers` (each line ending CRLF), blank line.
std::string json_post_head(const UpstreamEndpoint& ep, bool stream, std::string_view body,
                           std::string_view auth_headers);

}  // namespace routeshift
