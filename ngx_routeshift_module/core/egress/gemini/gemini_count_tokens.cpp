#include "egress/gemini/gemini_count_tokens.hpp"

namespace routeshift {

bool gemini_count_tokens_endpoint(UpstreamEndpoint* endpoint) {
    constexpr std::string_view kGenerate = ":generateContent";
    std::string& path = endpoint->path;
    if (!std::string_view(path).ends_with(kGenerate)) return false;
    path.replace(path.size() - kGenerate.size(), kGenerate.size(), ":countTokens");
    return true;
}

}  // namespace routeshift
