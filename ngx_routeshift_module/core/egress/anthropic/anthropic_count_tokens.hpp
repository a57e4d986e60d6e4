// Anthropic's token counter, POST {base}/v1/messages/count_tokens (docs/design.md §18 "count_tokens"):
// an Anthropic client's count_tokens is relayed there (body = the client's, model replaced, as for
// /v1/messages) when the model is served by the Anthropic API itself; everything else keeps the
// gateway's estimate.
#pragma once
#include "config/provider_catalog.hpp"
#include "egress/openai/upstream_request.hpp"

namespace routeshift {

// Only the Anthropic API documents count_tokens; the Anthropic-compatible endpoints of MiniMax,
// Moonshot, Z.ai and MiMo do not.
bool relays_count_tokens(ProviderKind kind);

// The Messages endpoint -> its count_tokens endpoint (path ".../v1/messages" + "/count_tokens").
// False when the path is not a Messages path.
bool count_tokens_endpoint(UpstreamEndpoint* endpoint);

}  // namespace routeshift
