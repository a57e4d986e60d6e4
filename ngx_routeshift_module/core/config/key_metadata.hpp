// Provider-key metadata (docs/design.md §2): the non-secret per-key settings the request path
// needs, parsed and validated once per snapshot into typed fields so no attempt reads JSON.
#pragma once
#include "config/provider_catalog.hpp"
#include "util/json_util.hpp"
#include "continuation/continuation_style.hpp"

#include <optional>
#include <string>

namespace routeshift {

struct KeyMetadata {
    std::string resource_name;      // azure: host label ("" = the provider's base_url)
    std::string deployment;         // azure: "" = the upstream model name
    std::string api_version;        // azure: "" or "v1" = the v1 API, else a dated version
    std::string organization;       // openai: OpenAI-Organization ("" = none)
    std::string project;            // openai: OpenAI-Project ("" = none)
    std::string api;                // zai/mimo: "openai" | "anthropic" ("" = the kind's default)
    std::optional<AuthShape> auth_header;  // metadata.auth_header; nullopt = the kind's default
    std::string region;             // bedrock; anthropic flavours ("cn", "token-plan-*")
    std::string anthropic_version;  // "" = the adapter's default version
    std::string anthropic_beta;     // comma-joined list ("" = no anthropic-beta header)
    bool bedrock_api_key = false;   // bedrock metadata.auth "api_key"/"bearer": Bearer, not SigV4
    std::string access_key_id;      // bedrock SigV4
    std::string session_token;      // bedrock SigV4 ("" = long-term credentials); a credential
    std::optional<ContinuationStyle> continuation;  // metadata.continuation (docs/design.md §19)

    bool azure_v1() const { return api_version.empty() || api_version == "v1"; }
    // Azure dated versions before 2024-09-01 reject `stream_options` ("Unrecognized request
    // argument supplied"): the gateway cannot ask them for a usage chunk.
    bool azure_rejects_stream_options() const {
        return !azure_v1() && api_version.size() >= 10 && api_version[4] == '-' && api_version.compare(0, 10, "2024-09-01") < 0;
    }
};

// Parses and validates a key's metadata object for a provider of `kind`. On a problem returns
// false and sets `error` to what is wrong ("metadata.region must be ..."), never quoting a value
// that could be a credential. `md` null counts as an empty object.
bool parse_key_metadata(const json_t* md, ProviderKind kind, KeyMetadata* out, std::string* error);

// The auth shape of a key on the OpenAI wire: the kind's, or metadata.auth_header for openai_compat.
AuthShape openai_auth_shape(ProviderKind kind, const KeyMetadata& md);

}  // namespace routeshift
