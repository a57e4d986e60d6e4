// A snapshot covering every provider kind, shared by several tests.
// Include before test_util.hpp (cmocka.h must come last).
#pragma once
#include "config/config_snapshot.hpp"
#include "ingress/virtual_key_auth.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace test {

inline constexpr const char* kOpenAISecret = "sk-openai-AAAAAAAAAAAAAAAAAAAAAAAA";

inline std::string fixture_snapshot_json() {
    std::string j = R"({
  "version": 1,
  "generation": 17,
  "settings": {"retry_budget": 3, "default_cooldown_seconds": 20},
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai", "base_url": null, "enabled": true},
    {"id": 2, "name": "azure-v1", "kind": "azure"},
    {"id": 3, "name": "azure-dated", "kind": "azure"},
    {"id": 4, "name": "together", "kind": "together"},
    {"id": 5, "name": "groq", "kind": "groq"},
    {"id": 6, "name": "zai", "kind": "zai"},
    {"id": 7, "name": "mimo", "kind": "mimo"},
    {"id": 8, "name": "dashscope", "kind": "dashscope"},
    {"id": 9, "name": "local", "kind": "openai_compat", "base_url": "http://127.0.0.1:8081/v1/"},
    {"id": 10, "name": "offline", "kind": "openai", "enabled": false},
    {"id": 11, "name": "azure-local", "kind": "azure", "base_url": "http://127.0.0.1:9000"},
    {"id": 12, "name": "compat", "kind": "openai_compat", "base_url": "https://llm.example.com:8443/api"}
  ],
  "provider_keys": [
    {"id": 10, "provider_id": 1, "label": "paid", "secret": "sk-openai-AAAAAAAAAAAAAAAAAAAAAAAA",
     "metadata": {"organization": "org-123", "project": "proj_abc"}, "weight": 3, "rpm": null, "tpm": null,
     "cooldown_seconds": 30, "enabled": true},
    {"id": 11, "provider_id": 1, "label": "free", "secret": "sk-openai-B", "weight": 1},
    {"id": 12, "provider_id": 1, "label": "off", "secret": "sk-openai-C", "enabled": false},
    {"id": 20, "provider_id": 2, "label": "az", "secret": "az-key-1",
     "metadata": {"resource_name": "myres", "deployment": "gpt4o-prod"}},
    {"id": 21, "provider_id": 2, "label": "az-v1", "secret": "az-key-1b",
     "metadata": {"resource_name": "myres", "api_version": "v1"}},
    {"id": 30, "provider_id": 3, "label": "az-dated", "secret": "az-key-2",
     "metadata": {"resource_name": "myres2", "api_version": "2024-10-21", "deployment": "my deploy/1"}},
    {"id": 31, "provider_id": 3, "label": "az-dated-nodep", "secret": "az-key-3",
     "metadata": {"resource_name": "myres2", "api_version": "2025-04-01-preview"}},
    {"id": 40, "provider_id": 4, "secret": "tg-key"},
    {"id": 50, "provider_id": 5, "secret": "gsk-key"},
    {"id": 60, "provider_id": 6, "secret": "zai-key"},
    {"id": 70, "provider_id": 7, "secret": "mimo-key"},
    {"id": 80, "provider_id": 8, "secret": "ds-key"},
    {"id": 90, "provider_id": 9, "secret": "", "metadata": {"auth_header": "none"}},
    {"id": 91, "provider_id": 9, "secret": "local-key", "metadata": {"auth_header": "api-key"}},
    {"id": 92, "provider_id": 9, "secret": "local-key-2"},
    {"id": 100, "provider_id": 10, "secret": "sk-offline"},
    {"id": 110, "provider_id": 11, "secret": "az-local", "metadata": {"deployment": "dep-local"}},
    {"id": 120, "provider_id": 12, "secret": "compat-key", "metadata": {"auth_header": "x-api-key"}},
    {"id": 121, "provider_id": 12, "secret": "compat-key-2", "metadata": {"auth_header": "authorization"}}
  ],
  "models": [
    {"provider_id": 1, "model": "gpt-4o", "upstream_model": "gpt-4o-2024-11-20"},
    {"provider_id": 1, "model": "gpt-4o-mini"},
    {"provider_id": 1, "model": "*"},
    {"provider_id": 2, "model": "gpt-4o-mini", "upstream_model": "gpt-4o-mini-2024-07-18"},
    {"provider_id": 4, "model": "llama-3.3-70b", "upstream_model": "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
    {"provider_id": 4, "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
    {"provider_id": 5, "model": "llama-3.3-70b", "upstream_model": "llama-3.3-70b-versatile"},
    {"provider_id": 6, "model": "glm-4.6"},
    {"provider_id": 7, "model": "mimo-v2-flash"},
    {"provider_id": 8, "model": "qwen-plus"},
    {"provider_id": 9, "model": "*"},
    {"provider_id": 10, "model": "gpt-4o"},
    {"provider_id": 10, "model": "only-offline"},
    {"provider_id": 10, "model": "*"}
  ],
  "teams": [{"id": 1, "name": "default"}, {"id": 2, "name": "research"}],
  "virtual_keys": [
    {"id": 5, "team_id": 1, "name": "ci", "key_hash": "@H1@", "enabled": true, "expires_at": null},
    {"id": 6, "team_id": 2, "name": "disabled", "key_hash": "@H2@", "enabled": false},
    {"id": 7, "team_id": 1, "name": "expired", "key_hash": "@H3@", "expires_at": 1000},
    {"id": 8, "team_id": 2, "name": "research", "key_hash": "@H4@", "expires_at": 4102444800}
  ],
  "model_aliases": [
    {"team_id": 1, "alias": "smart", "target": "openai/gpt-4o"},
    {"team_id": null, "alias": "smart", "target": "llama-3.3-70b"},
    {"team_id": null, "alias": "cheap", "target": "gpt-4o-mini"},
    {"team_id": 2, "alias": "fast", "target": "groq/llama-3.3-70b"},
    {"team_id": null, "alias": "ghost", "target": "offline/gpt-4o"}
  ],
  "routing_rules": [],
  "model_prices": []
})";
    auto put = [&j](const char* marker, const char* key) {
        size_t p = j.find(marker);
        j.replace(p, 4, routeshift::hash_virtual_key_hex(key));
    };
    put("@H1@", "sk-proxy-test-1");
    put("@H2@", "sk-proxy-disabled");
    put("@H3@", "sk-proxy-expired");
    put("@H4@", "sk-proxy-team2");
    return j;
}

inline std::shared_ptr<const routeshift::Config> fixture_config() {
    std::string err;
    auto cfg = routeshift::parse_snapshot(fixture_snapshot_json(), &err);
    if (!cfg) {
        std::fprintf(stderr, "fixture snapshot rejected: %s\n", err.c_str());
        std::abort();
    }
    return cfg;
}

inline const routeshift::ProviderKey& key_by_id(const routeshift::Config& cfg, int64_t id) {
    for (const auto& k : cfg.keys)
        if (k.id == id) return k;
    std::fprintf(stderr, "no key %lld in fixture\n", static_cast<long long>(id));
    std::abort();
}

}  // namespace test
