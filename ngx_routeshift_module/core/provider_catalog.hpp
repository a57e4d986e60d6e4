// The provider kinds the gateway speaks to, their default endpoints and auth shapes.
#pragma once
#include <string_view>

namespace routeshift {

enum class ProviderKind {
    openai, azure, together, groq, zai, mimo, dashscope, openai_compat,
};

enum class AuthShape {
    bearer,      // Authorization: Bearer <secret>
    api_key,     // api-key: <secret>            (Azure, Xiaomi MiMo)
    x_api_key,   // x-api-key: <secret>
    none,        // no credential header          (Ollama, local vLLM)
};

struct ProviderInfo {
    ProviderKind kind;
    std::string_view name;             // as written in the snapshot ("openai", ...)
    std::string_view default_base_url; // "" when a base_url is mandatory
    AuthShape auth;
};

// nullptr for an unknown kind name.
const ProviderInfo* provider_info(std::string_view kind_name);
const ProviderInfo& provider_info(ProviderKind kind);

}  // namespace routeshift
