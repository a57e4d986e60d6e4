// Anthropic Messages endpoint: default base URL per provider kind/region and the per-attempt
// request headers (credential, anthropic-version, anthropic-beta).
#include "egress/anthropic/anthropic_internal.hpp"

namespace routeshift {

using namespace anthropic_internal;

namespace {

std::string base_url_for(std::string_view kind_name, const ProviderKey& key) {
    std::string_view region = json_string_view(key.metadata.get(), "region");
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
    std::string_view mode = json_string_view(key.metadata.get(), "auth_header");
    std::string m = lower(mode);
    if (m.empty()) m = fl == Flavor::mimo ? "api-key" : "x-api-key";
    std::string out;
    if (!header_safe(key.secret)) {
        // A secret with control characters would split the header block: send no credential
        // (the provider answers 401 and the key is parked) rather than inject headers.
    } else if (m == "authorization" || m == "bearer") {
        out += "Authorization: Bearer " + key.secret + "\r\n";
    } else if (m == "api-key") {
        out += "api-key: " + key.secret + "\r\n";
    } else if (m != "none") {
        out += "x-api-key: " + key.secret + "\r\n";
    }
    std::string_view ver = json_string_view(key.metadata.get(), "anthropic_version");
    if (ver.empty() || !header_safe(ver)) ver = kAnthropicVersion;
    out += "anthropic-version: ";
    out += ver;
    out += "\r\n";
    const json_t* beta = json_object_get(key.metadata.get(), "anthropic_beta");
    std::string betas;
    if (json_is_string(beta)) {
        betas = sv(beta);
    } else if (json_is_array(beta)) {
        for (size_t i = 0; i < json_array_size(beta); ++i) {
            std::string_view b = sv(json_array_get(beta, i));
            if (b.empty()) continue;
            if (!betas.empty()) betas += ',';
            betas += b;
        }
    }
    if (!betas.empty() && header_safe(betas)) out += "anthropic-beta: " + betas + "\r\n";
    return out;
}

}  // namespace

std::string anthropic_request_headers(std::string_view kind_name, const ProviderKey& key) {
    return headers_for(kind_name, key);
}

std::string anthropic_request_headers(ProviderKind kind, const ProviderKey& key) {
    return headers_for(provider_info(kind).name, key);
}

std::string anthropic_default_base_url(std::string_view kind_name, const ProviderKey& key) {
    return base_url_for(kind_name, key);
}

std::string anthropic_default_base_url(ProviderKind kind, const ProviderKey& key) {
    return base_url_for(provider_info(kind).name, key);
}

}  // namespace routeshift
