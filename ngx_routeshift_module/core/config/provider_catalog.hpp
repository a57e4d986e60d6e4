// The provider kinds the gateway speaks to, their default endpoints and auth shapes.
#pragma once
#include <string_view>

namespace routeshift {

enum class ProviderKind {
    openai, azure, together, groq, zai, mimo, dashscope, openai_compat,
    anthropic, gemini, bedrock, minimax, moonshot,
};

// The wire format a provider key is spoken to in. Z.ai and Xiaomi MiMo serve both OpenAI- and
// Anthropic-compatible endpoints: key metadata "api":"anthropic" selects the latter.
enum class WireFormat { openai, anthropic, gemini, bedrock };

enum class AuthShape {
    bearer,      // Authorization: Bearer <secret>
    api_key,     // api-key: <secret>            (Azure, Xiaomi MiMo)
    x_api_key,   // x-api-key: <secret>
    none,        // no credential header          (Ollama, local vLLM)
};

struct ProviderInfo {
    ProviderKind kind;
    std::string_view name;             // as written in the snapshot ("openai", ...)
    std::string_view default_base_url; // "" when mandatory or built per key (azure, bedrock, ...)
    AuthShape auth;                    // for the OpenAI wire format
    WireFormat wire;                   // default wire format
};

// nullptr for an unknown kind name.
const ProviderInfo* provider_info(std::string_view kind_name);
const ProviderInfo& provider_info(ProviderKind kind);

// The wire format of one key: the kind's default, or metadata "api" ("openai" | "anthropic")
// for zai and mimo. `api` is the metadata value ("" when absent).
WireFormat wire_format(ProviderKind kind, std::string_view api);

}  // namespace routeshift
