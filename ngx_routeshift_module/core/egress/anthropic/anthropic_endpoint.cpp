// Anthropic Messages endpoint: default base URL per provider kind/region and the per-attempt
// request headers (credential, anthropic-version, anthropic-beta).
#include "egress/anthropic/anthropic_internal.hpp"

namespace routeshift {

using namespace anthropic_internal;

namespace {

std::string base_url_for(std::string_view kind_name, const ProviderKey& key) {
    std::string_view region = key.meta.region;
    bool cn = region == "cn" || region == "china";
    switch (flavor_of(kind_name)) {
    case Flavor::anthropic: return "https://api.anthropic.com";
    case Flavor::minimax: return cn ? "https://api.minimaxi.com/anthropic" : "https://api.minimax.io/anthropic";
    case Flavor::moonshot: return cn ? "https://api.moonshot.cn/anthropic" : "https://api.moonshot.ai/anthropic";
    case Flavor::zai: return cn ? "https://open.bigmodel.cn/api/anthropic" : "https://api.z.ai/api/anthropic";
    case Flavor::mimo:
        // Token Plan clusters (host names from client code): region "token-plan-cn|sgp|ams".
        if (region == "token-plan-cn" || region == "token-plan-sgp" || region == "token-plan-ams")
            return "https://" + std::string(region) + ".xiaomimimo.com/anthropic";
        return "https://api.xiaomimimo.com/anthropic";
    }
    return "https://api.anthropic.com";
}

std::string headers_for(std::string_view kind_name, const ProviderKey& key) {
    Flavor fl = flavor_of(kind_name);
    // metadata.auth_header, else the flavour's own header (mimo: api-key, the others x-api-key)
    AuthShape shape = key.meta.auth_header.value_or(fl == Flavor::mimo ? AuthShape::api_key : AuthShape::x_api_key);
    std::string out;
    // one allocation (the lines were concatenated temporaries, each a few allocations)
    out.reserve(96 + key.secret.size() + key.meta.anthropic_version.size() + key.meta.anthropic_beta.size());
    auto line = [&out](std::string_view name, std::string_view value) {
        out += name;
        out += value;
        out += "\r\n";
    };
    if (!is_header_safe(key.secret)) {
        // A secret with control characters would split the header block: send no credential
        // (the provider answers 401 and the key is parked) rather than inject headers.
    } else if (shape == AuthShape::bearer) {
        line("Authorization: Bearer ", key.secret);
    } else if (shape == AuthShape::api_key) {
        line("api-key: ", key.secret);
    } else if (shape == AuthShape::x_api_key) {
        line("x-api-key: ", key.secret);
    }
    // defence in depth: parse_snapshot already refuses control characters in metadata
    std::string_view ver = key.meta.anthropic_version;
    if (ver.empty() || !is_header_safe(ver)) ver = kAnthropicVersion;
    line("anthropic-version: ", ver);
    const std::string& betas = key.meta.anthropic_beta;
    if (!betas.empty() && is_header_safe(betas)) line("anthropic-beta: ", betas);
    return out;
}

}  // namespace

std::string anthropic_request_headers(std::string_view kind_name, const ProviderKey& key) {
    return headers_for(kind_name, key);
}

std::string anthropic_request_headers(ProviderKind kind, const ProviderKey& key) {
    return headers_for(provider_info(kind).name, key);
}

void add_client_anthropic_betas(std::string* head, std::string_view client_betas) {
    while (!client_betas.empty() && (client_betas.front() == ' ' || client_betas.front() == ',')) client_betas.remove_prefix(1);
    while (!client_betas.empty() && (client_betas.back() == ' ' || client_betas.back() == ',')) client_betas.remove_suffix(1);
    if (client_betas.empty() || !is_header_safe(client_betas)) return;
    constexpr std::string_view kLine = "\r\nanthropic-beta: ";
    size_t at = head->find(kLine);
    if (at != std::string::npos) {  // the key's betas: the client's follow them
        size_t eol = head->find("\r\n", at + kLine.size());
        if (eol == std::string::npos) return;
        head->insert(eol, "," + std::string(client_betas));
        return;
    }
    size_t end = head->rfind("\r\n\r\n");
    if (end == std::string::npos) return;
    head->insert(end + 2, "anthropic-beta: " + std::string(client_betas) + "\r\n");
}

std::string anthropic_default_base_url(std::string_view kind_name, const ProviderKey& key) {
    return base_url_for(kind_name, key);
}

std::string anthropic_default_base_url(ProviderKind kind, const ProviderKey& key) {
    return base_url_for(provider_info(kind).name, key);
}

}  // namespace routeshift
