// The whole gateway configuration as pushed by routeshift-sync (docs/design.md §2), parsed and
// indexed for the request path. Immutable once built; workers share it through shared_ptr.
#pragma once
#include "util/json_util.hpp"
#include "accounting/spend_budget.hpp"
#include "config/key_metadata.hpp"
#include "config/model_prices.hpp"
#include "config/provider_catalog.hpp"
#include "config/routing_rules.hpp"
#include "config/virtual_key_cache.hpp"
#include "routing/balance_strategy.hpp"
#include "util/url.hpp"
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace routeshift {

struct Provider {
    int64_t id = 0;
    std::string name;
    ProviderKind kind = ProviderKind::openai;
    std::string base_url;     // effective base (default filled in), no trailing slash
    bool base_url_set = false;  // the snapshot named a base_url (else the kind's default)
    bool enabled = true;
    std::vector<size_t> keys; // indexes into Config::keys (enabled or not), snapshot order
    bool any_model = false;   // a "*" row exists
    BalanceStrategy balancing = BalanceStrategy::weighted_round_robin;  // docs/design.md §9
};

struct ProviderKey {
    int64_t id = 0;
    size_t provider;          // index into Config::providers
    std::string label;
    std::string secret;       // never log / print
    JsonPtr metadata;         // object (never null after parsing); request-body options only
    KeyMetadata meta;         // the typed settings every attempt reads (parsed from `metadata`)
    WireFormat wire = WireFormat::openai;  // how this key is spoken to
    AuthShape auth = AuthShape::bearer;    // credential header on the OpenAI wire
    int weight = 1;           // 0 = receives no traffic
    long long rpm = 0, tpm = 0;  // 0 = unlimited; per rate_limit_window_seconds (docs/design.md §9)
    int cooldown_seconds = 30;
    int priority = 0;            // failover tier among the keys of a provider: lower first
    int breaker_threshold = 5;   // consecutive failures that open the circuit; 0 = no breaker
    bool enabled = true;
};

struct ModelEntry {
    size_t provider;          // index into Config::providers
    std::string model;        // public name
    std::string upstream_model;
    int priority = 0;         // failover tier among the providers serving this name: lower first
    std::string context_fallback_model;  // where a context-length error goes (§20); "" = none
};

struct VirtualKey {
    int64_t id = 0;
    int64_t team_id = 0;
    std::string name;
    unsigned char hash[32];   // SHA-256 of the full key string
    bool enabled = true;
    int64_t expires_at = 0;   // unix seconds, 0 = never
    long long rpm_limit = 0, tpm_limit = 0;  // 0 = unlimited (docs/design.md §9)
    SpendBudget budget;       // daily/monthly spend budget (docs/design.md §13)
};

// A team's request and token limits (docs/design.md §9); teams without limits are not listed.
struct TeamLimits {
    long long rpm_limit = 0, tpm_limit = 0;
};

struct Settings {
    int retry_budget = 0;             // 0 = use the nginx directive's value
    int default_cooldown_seconds = 30;
    int64_t cost_ceiling_microcents = 0;  // per-request spend cap; 0 = none (a rule's ceiling wins)
    int circuit_breaker_threshold = 5;  // default of keys without their own; 0 = no breaker
    int latency_window_seconds = 300;   // p50 window of latency balancing
    int rate_limit_window_seconds = 60; // the "minute" of RPM/TPM limits (shorter in tests)
    std::string files_provider;       // provider name serving calls without a model (docs/design.md §21); "" = none
};

struct Config {
    int64_t generation = 0;
    Settings settings;
    std::vector<Provider> providers;
    std::vector<ProviderKey> keys;
    std::vector<ModelEntry> models;
    std::vector<VirtualKey> virtual_keys;
    ModelPrices prices;               // by (provider, upstream model); see model_prices.hpp
    RoutingRules routing_rules;  // compiled once per snapshot, in evaluation order
    std::unordered_map<int64_t, TeamLimits> team_limits;  // team id -> limits (limited teams only)
    std::unordered_map<int64_t, SpendBudget> team_budgets;  // team id -> spend budget (budgeted teams only, §13)

    std::string quarantined_json;  // the sync's "quarantined" rows (a JSON array) for /admin/status
    bool token_limits = false;  // some key, virtual key or team has a TPM limit: requests measure their prompt

    std::unordered_map<std::string, size_t> provider_by_name;        // enabled and disabled
    std::unordered_map<std::string, std::vector<size_t>> models_by_name; // public name -> ModelEntry idx
    // alias lookup: key is team_id (0 = global) + '\0' + alias
    std::unordered_map<std::string, std::string> aliases;
    std::unordered_map<std::string, size_t> virtual_key_by_hash;     // 32 raw bytes -> idx
    // Presented key -> index of its virtual key, filled by authenticate() so a known key skips
    // SHA-256. Mutable in a shared const Config: every worker owns its Config copy and is
    // single-threaded; the cache goes away with the config it belongs to.
    mutable VirtualKeyCache virtual_key_cache;

    const std::string* alias_target(int64_t team_id, std::string_view alias) const;
};

// Parses and validates a whole snapshot. On any problem returns null and sets `error` to a
// message naming the offending row (e.g. "provider_keys[3] (id 12): provider_id 9 does not exist").
// Never puts a secret into `error`.
std::shared_ptr<const Config> parse_snapshot(std::string_view json, std::string* error);

}  // namespace routeshift
