// Provider kinds, default endpoints and auth shapes (see provider_catalog.hpp).
#include "provider_catalog.hpp"

namespace routeshift {

namespace {

// Indexed by ProviderKind; the order must match the enum.
constexpr ProviderInfo kProviders[] = {
    {ProviderKind::openai, "openai", "https://api.openai.com/v1", AuthShape::bearer},
    // Azure builds its host from key metadata (resource_name) unless the provider has a base_url.
    {ProviderKind::azure, "azure", "", AuthShape::api_key},
    {ProviderKind::together, "together", "https://api.together.xyz/v1", AuthShape::bearer},
    {ProviderKind::groq, "groq", "https://api.groq.com/openai/v1", AuthShape::bearer},
    {ProviderKind::zai, "zai", "https://api.z.ai/api/paas/v4", AuthShape::bearer},
    {ProviderKind::mimo, "mimo", "https://api.xiaomimimo.com/v1", AuthShape::api_key},
    {ProviderKind::dashscope, "dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
     AuthShape::bearer},
    // base_url mandatory; the auth shape can be overridden per key (metadata.auth_header).
    {ProviderKind::openai_compat, "openai_compat", "", AuthShape::bearer},
};

constexpr bool table_in_enum_order() {
    for (size_t i = 0; i < sizeof kProviders / sizeof kProviders[0]; ++i)
        if (static_cast<size_t>(kProviders[i].kind) != i) return false;
    return true;
}
static_assert(table_in_enum_order(), "kProviders must be in ProviderKind order");

}  // namespace

const ProviderInfo* provider_info(std::string_view kind_name) {
    for (const auto& p : kProviders)
        if (p.name == kind_name) return &p;
    return nullptr;
}

const ProviderInfo& provider_info(ProviderKind kind) {
    return kProviders[static_cast<size_t>(kind)];
}

}  // namespace routeshift
