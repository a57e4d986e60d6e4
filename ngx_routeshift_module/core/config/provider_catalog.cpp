// Provider kinds, default endpoints and auth shapes (see provider_catalog.hpp).
#include "config/provider_catalog.hpp"

namespace routeshift {

namespace {

// Indexed by ProviderKind; the order must match the enum.
constexpr ProviderInfo kProviders[] = {
    {ProviderKind::openai, "openai", "https://api.openai.com/v1", AuthShape::bearer, WireFormat::openai},
    // Azure builds its host from key metadata (resource_name) unless the provider has a base_url.
    {ProviderKind::azure, "azure", "", AuthShape::api_key, WireFormat::openai},
    {ProviderKind::together, "together", "https://api.together.xyz/v1", AuthShape::bearer, WireFormat::openai},
    {ProviderKind::groq, "groq", "https://api.groq.com/openai/v1", AuthShape::bearer, WireFormat::openai},
    {ProviderKind::zai, "zai", "https://api.z.ai/api/paas/v4", AuthShape::bearer, WireFormat::openai},
    {ProviderKind::mimo, "mimo", "https://api.xiaomimimo.com/v1", AuthShape::api_key, WireFormat::openai},
    {ProviderKind::dashscope, "dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
     AuthShape::bearer, WireFormat::openai},
    // base_url mandatory; the auth shape can be overridden per key (metadata.auth_header).
    {ProviderKind::openai_compat, "openai_compat", "", AuthShape::bearer, WireFormat::openai},
    // Non-OpenAI wire formats: their adapters (provider_adapter.hpp) write the auth headers.
    {ProviderKind::anthropic, "anthropic", "https://api.anthropic.com", AuthShape::x_api_key, WireFormat::anthropic},
    {ProviderKind::gemini, "gemini", "https://generativelanguage.googleapis.com/v1beta", AuthShape::none,
     WireFormat::gemini},
    // host bedrock-runtime.{metadata.region}.amazonaws.com unless the provider has a base_url
    {ProviderKind::bedrock, "bedrock", "", AuthShape::none, WireFormat::bedrock},
    // international host, or the China one with metadata "region":"cn" (built per key)
    {ProviderKind::minimax, "minimax", "", AuthShape::x_api_key, WireFormat::anthropic},
    {ProviderKind::moonshot, "moonshot", "", AuthShape::x_api_key, WireFormat::anthropic},
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

WireFormat wire_format(ProviderKind kind, std::string_view api) {
    if ((kind == ProviderKind::zai || kind == ProviderKind::mimo) && api == "anthropic") {
        return WireFormat::anthropic;
    }
    return provider_info(kind).wire;
}

}  // namespace routeshift
