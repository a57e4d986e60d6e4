// Gemini :countTokens relayed to Gemini-wire providers (docs/design.md §18 "Gemini native",
// §22): the key's generateContent endpoint gives the host, auth and base path; the method differs.
#pragma once
#include "egress/openai/upstream_request.hpp"

namespace routeshift {

// ".../models/{m}:generateContent" -> ".../models/{m}:countTokens". False for any other path.
bool gemini_count_tokens_endpoint(UpstreamEndpoint* endpoint);

}  // namespace routeshift
