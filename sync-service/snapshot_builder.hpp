// Turns the rows of the config tables into the snapshot JSON of docs/design.md §2 and validates
// it with the module's own parser (routeshift::parse_snapshot) before anything is pushed.
//
// What goes into the snapshot:
//   * every provider (enabled or not), every team, every virtual key (revoked/disabled ones with
//     "enabled": false, expires_at as unix seconds), every model alias, enabled models, enabled
//     routing rules (by priority), every model price;
//   * only USABLE provider keys: enabled keys of enabled providers. Their secrets are decrypted
//     here (AAD "provider_keys:<id>"); disabled keys never leave the database, so disabling a key
//     whose ciphertext cannot be decrypted any more also unblocks the config.
// By default any problem (a secret that does not decrypt, a row the parser rejects) fails the whole
// build with messages naming the table and row id; the caller keeps the previous snapshot. With
// BuildOptions::quarantine (serve, check) such rows are quarantined instead (snapshot_quarantine.hpp)
// and only problems no row can be blamed for fail the build.
#pragma once
#include "secret_box.hpp"
#include "snapshot_quarantine.hpp"

#include <jansson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rsync {

struct SettingsRow {
    std::optional<int64_t> retry_budget;
    int64_t default_cooldown_seconds = 30;
    std::optional<int64_t> cost_ceiling_microcents;
    int64_t circuit_breaker_threshold = 5, latency_window_seconds = 300, rate_limit_window_seconds = 60;
    std::optional<std::string> files_provider;  // the provider of model-less calls (files, batches)
};

struct ProviderRow {
    int64_t id = 0;
    std::string name;
    std::string kind;
    std::optional<std::string> base_url;
    bool enabled = true;
    std::string balancing = "weighted_round_robin";
};

struct ProviderKeyRow {
    int64_t id = 0;
    int64_t provider_id = 0;
    std::string label;
    SealedSecret sealed;
    std::string metadata_json = "{}";  // jsonb text of an object
    int64_t weight = 1;
    std::optional<int64_t> rpm, tpm, cooldown_seconds;
    bool enabled = true;
    int64_t priority = 0;
    std::optional<int64_t> circuit_breaker_threshold;  // nullopt = settings default
};

struct ModelRow {
    int64_t id = 0;
    int64_t provider_id = 0;
    std::string model;
    std::optional<std::string> upstream_model;
    bool enabled = true;
    int64_t priority = 0;
    std::optional<std::string> context_fallback_model = std::nullopt;  // sql/011 (§20); last: rows are brace-initialised
};

struct TeamRow {
    int64_t id = 0;
    std::string name;
    std::optional<int64_t> rpm_limit = std::nullopt, tpm_limit = std::nullopt;
    std::optional<int64_t> daily_budget_microcents = std::nullopt, monthly_budget_microcents = std::nullopt;
};

struct VirtualKeyRow {
    int64_t id = 0;
    int64_t team_id = 0;
    std::string name;
    std::string key_hash;
    bool enabled = true;                // false when disabled or revoked
    std::optional<int64_t> expires_at;  // unix seconds
    std::optional<int64_t> rpm_limit = std::nullopt, tpm_limit = std::nullopt;
    std::optional<int64_t> daily_budget_microcents = std::nullopt, monthly_budget_microcents = std::nullopt;
};

struct AliasRow {
    int64_t id = 0;
    std::optional<int64_t> team_id;  // nullopt = global
    std::string alias;
    std::string target;
};

struct RoutingRuleRow {
    int64_t id = 0;
    std::string name;
    std::optional<int64_t> team_id;
    int64_t priority = 100;
    std::string match_json = "{}", action_json = "{}", conditions_json = "{}";
    std::optional<int64_t> retry_budget, cost_ceiling_microcents;
    std::optional<int64_t> first_token_timeout_ms;
    std::optional<std::string> context_fallback_model;  // sql/011
    bool stream_continuation = true;  // sql/010
    bool enabled = true;
};

struct ModelPriceRow {
    int64_t id = 0;
    int64_t provider_id = 0;
    std::string model;
    int64_t input_microcents_per_mtok = 0;
    int64_t output_microcents_per_mtok = 0;
    std::optional<int64_t> cached_input_microcents_per_mtok;
    int64_t effective_from = 0;  // unix seconds
    std::optional<int64_t> max_output_tokens;  // NULL = unknown (sql/005)
};

struct ConfigRows {
    int64_t generation = 0;
    SettingsRow settings;
    std::vector<ProviderRow> providers;
    std::vector<ProviderKeyRow> provider_keys;
    std::vector<ModelRow> models;
    std::vector<TeamRow> teams;
    std::vector<VirtualKeyRow> virtual_keys;
    std::vector<AliasRow> model_aliases;
    std::vector<RoutingRuleRow> routing_rules;
    std::vector<ModelPriceRow> model_prices;
};

// A built, validated snapshot. Holds plaintext secrets: wiped on destruction, never logged.
struct Snapshot {
    int64_t generation = 0;
    std::string json;
    size_t provider_keys = 0;              // keys shipped
    std::vector<std::string> secrets;      // shipped plaintexts, to redact text coming back from nginx
    std::vector<QuarantinedRow> quarantined;  // rows left out or served in their last good version
    Snapshot() = default;
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    ~Snapshot();
    // Replaces every occurrence of a shipped secret (and its first 12 characters when longer than
    // 16) in `text` by "[redacted]".
    std::string redact(std::string text) const;
};

struct BuildOptions {
    // null: do not decrypt; every shipped secret becomes "[redacted]" (for `check`/`snapshot
    // --redacted` without the master key). The JSON is still validated.
    const SecretBox* box = nullptr;
    bool validate = true;  // run routeshift::parse_snapshot
    // Quarantine failing rows instead of failing the build (needs `validate`).
    bool quarantine = false;
    // The last good snapshot's JSON (with secrets), for the last good version of quarantined rows.
    const std::string* previous_json = nullptr;
};

// Builds and validates. On failure returns false and appends one message per problem to `errors`
// (each names the table and row, e.g. "provider_keys id 12 (provider openai, label paid): secret
// does not decrypt: ..."); `out` is then untouched.
bool build_snapshot(const ConfigRows& rows, const BuildOptions& opts, Snapshot* out,
                    std::vector<std::string>* errors);

// The plaintext secrets of a snapshot's provider_keys (for redaction), and their scrubbing before
// the tree is freed.
std::vector<std::string> secrets_in_snapshot(const json_t* root);
void scrub_snapshot_secrets(json_t* root);

// Parses jsonb text holding an object (a new reference); null when it is not a JSON object.
json_t* json_object_from_text(const std::string& text);

}  // namespace rsync
