#include "egress/anthropic/anthropic_count_tokens.hpp"

namespace routeshift {

bool relays_count_tokens(ProviderKind kind) { return kind == ProviderKind::anthropic; }

bool count_tokens_endpoint(UpstreamEndpoint* endpoint) {
    constexpr std::string_view kMessages = "/v1/messages";
    std::string& path = endpoint->path;
    if (!std::string_view(path).ends_with(kMessages)) return false;
    path += "/count_tokens";
    return true;
}

}  // namespace routeshift
