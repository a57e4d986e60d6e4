// Parsing and validation of the config snapshot (docs/design.md §2; see config_snapshot.hpp).
#include "config/config_snapshot.hpp"

#include "config/snapshot_text.hpp"

#include <climits>
#include <cstdlib>
#include <new>
#include <optional>
#include <set>
#include <unordered_set>

namespace routeshift {

namespace {

constexpr long long kMaxWeight = 1000;
constexpr long long kMaxCooldownSeconds = 86400;
constexpr long long kMaxRetryBudget = 100;

// Thrown inside the parser only; parse_snapshot turns it into the `error` string.
struct SnapshotError {
    std::string message;
};

[[noreturn]] void fail(std::string msg) { throw SnapshotError{std::move(msg)}; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One row of one table: knows how to name itself in errors.
class Row {
public:
    Row(const char* table, size_t index, const json_t* obj) : obj_(obj) {
        name_ = std::string(table) + "[" + std::to_string(index) + "]";
        if (!json_is_object(obj)) fail(name_ + ": expected an object, got " + json_type_name(obj));
    }

    const std::string& name() const { return name_; }
    void set_id(int64_t id) { name_ += " (id " + std::to_string(id) + ")"; }
    [[noreturn]] void error(const std::string& what) const { fail(name_ + ": " + what); }

    const json_t* get(const char* key) const {
        const json_t* v = json_object_get(obj_, key);
        return (v && !json_is_null(v)) ? v : nullptr;
    }

    int64_t required_int(const char* key) const {
        const json_t* v = get(key);
        if (!v) error(std::string(key) + " is required");
        if (!json_is_integer(v)) error(std::string(key) + " must be an integer, got " + json_type_name(v));
        return json_integer_value(v);
    }

    // nullopt when absent or null
    std::optional<int64_t> optional_int(const char* key) const {
        const json_t* v = get(key);
        if (!v) return std::nullopt;
        if (!json_is_integer(v)) error(std::string(key) + " must be an integer, got " + json_type_name(v));
        return json_integer_value(v);
    }

    long long int_in_range(const char* key, long long def, long long lo, long long hi) const {
        auto v = optional_int(key);
        if (!v) return def;
        if (*v < lo || *v > hi)
            error(std::string(key) + " " + std::to_string(*v) + " is out of range " + std::to_string(lo) +
                  ".." + std::to_string(hi));
        return *v;
    }

    bool boolean(const char* key, bool def) const {
        const json_t* v = get(key);
        if (!v) return def;
        if (!json_is_boolean(v)) error(std::string(key) + " must be a boolean, got " + json_type_name(v));
        return json_is_true(v);
    }

    // nullopt when absent or null; rejects control characters (these strings reach headers/logs).
    std::optional<std::string> optional_string(const char* key) const {
        const json_t* v = get(key);
        if (!v) return std::nullopt;
        if (!json_is_string(v)) error(std::string(key) + " must be a string, got " + json_type_name(v));
        std::string s(json_string_value(v), json_string_length(v));
        if (has_control_characters(s)) error(std::string(key) + " contains control characters");
        return s;
    }

    std::string required_string(const char* key) const {
        auto s = optional_string(key);
        if (!s || s->empty()) error(std::string(key) + " must be a non-empty string");
        return *s;
    }

private:
    const json_t* obj_;
    std::string name_;
};

const json_t* table(const json_t* root, const char* key) {
    const json_t* v = json_object_get(root, key);
    if (!v || json_is_null(v)) return nullptr;
    if (!json_is_array(v)) fail(std::string(key) + " must be an array, got " + json_type_name(v));
    return v;
}

// A team's or virtual key's spend budget (docs/design.md §13); null/absent = none.
SpendBudget parse_spend_budget(const Row& row) {
    return {row.int_in_range("daily_budget_microcents", 0, 1, INT64_MAX),
            row.int_in_range("monthly_budget_microcents", 0, 1, INT64_MAX)};
}

std::string alias_key(int64_t team_id, std::string_view alias) {
    std::string k = std::to_string(team_id);
    k += '\0';
    k += alias;
    return k;
}

std::shared_ptr<Config> build(const json_t* root) {
    if (!json_is_object(root)) fail(std::string("snapshot must be a JSON object, got ") + json_type_name(root));
    auto cfg = std::make_shared<Config>();

    if (const json_t* v = json_object_get(root, "version"); v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) != 1) fail("version: only version 1 is supported");
    }
    const json_t* gen = json_object_get(root, "generation");
    if (!gen || !json_is_integer(gen)) fail("generation is required and must be an integer");
    if (json_integer_value(gen) < 1) fail("generation must be >= 1");
    cfg->generation = json_integer_value(gen);
    if (const json_t* q = json_object_get(root, "quarantined"); json_is_array(q) && json_array_size(q) > 0) {
        char* dumped = json_dumps(q, JSON_COMPACT | JSON_PRESERVE_ORDER);  // shown as is by /admin/status
        if (dumped) cfg->quarantined_json = dumped;
        free(dumped);
    }

    if (const json_t* s = json_object_get(root, "settings"); s && !json_is_null(s)) {
        if (!json_is_object(s)) fail(std::string("settings must be an object, got ") + json_type_name(s));
        auto req = [&](const char* key, long long def, long long lo, long long hi) -> long long {
            const json_t* v = json_object_get(s, key);
            if (!v || json_is_null(v)) return def;
            if (!json_is_integer(v)) fail(std::string("settings.") + key + " must be an integer");
            long long x = json_integer_value(v);
            if (x < lo || x > hi)
                fail(std::string("settings.") + key + " " + std::to_string(x) + " is out of range " +
                     std::to_string(lo) + ".." + std::to_string(hi));
            return x;
        };
        cfg->settings.retry_budget = static_cast<int>(req("retry_budget", 0, 0, kMaxRetryBudget));
        cfg->settings.default_cooldown_seconds =
            static_cast<int>(req("default_cooldown_seconds", 30, 0, kMaxCooldownSeconds));
        cfg->settings.cost_ceiling_microcents = req("cost_ceiling_microcents", 0, 0, INT64_MAX);
        cfg->settings.circuit_breaker_threshold = static_cast<int>(req("circuit_breaker_threshold", 5, 0, 1000));
        cfg->settings.latency_window_seconds = static_cast<int>(req("latency_window_seconds", 300, 5, 86400));
        cfg->settings.rate_limit_window_seconds = static_cast<int>(req("rate_limit_window_seconds", 60, 1, 86400));
        if (const json_t* f = json_object_get(s, "files_provider"); f && !json_is_null(f)) {
            if (!json_is_string(f)) fail("settings.files_provider must be a string (a provider name)");
            cfg->settings.files_provider = json_string_value(f);
        }
    }

    // providers
    std::unordered_map<int64_t, size_t> provider_by_id;
    if (const json_t* t = table(root, "providers")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("providers", i, json_array_get(t, i));
            Provider p;
            p.id = row.required_int("id");
            row.set_id(p.id);
            if (!provider_by_id.emplace(p.id, cfg->providers.size()).second) row.error("duplicate id");
            p.name = row.required_string("name");
            if (p.name.find('/') != std::string::npos) row.error("name " + quote_value(p.name) + " must not contain '/'");
            if (p.name.find_first_of(" \t") != std::string::npos) row.error("name " + quote_value(p.name) + " must not contain spaces");
            if (cfg->provider_by_name.count(p.name)) row.error("duplicate name " + quote_value(p.name));
            std::string kind = row.required_string("kind");
            const ProviderInfo* info = provider_info(kind);
            if (!info) row.error("unknown kind " + quote_value(kind));
            p.kind = info->kind;
            auto base = row.optional_string("base_url");
            if (base) {
                std::string uerr;
                if (!parse_url(*base, &uerr)) row.error("base_url " + quote_value(*base) + ": " + uerr);
                while (!base->empty() && base->back() == '/') base->pop_back();
                p.base_url = *base;
                p.base_url_set = true;
            } else if (p.kind == ProviderKind::openai_compat) {
                row.error("kind openai_compat requires a base_url");
            } else {
                p.base_url = std::string(info->default_base_url);  // "" for azure: built per key
            }
            p.enabled = row.boolean("enabled", true);
            if (auto balancing = row.optional_string("balancing")) {
                auto strategy = balance_strategy_from_name(*balancing);
                if (!strategy) row.error("unknown balancing " + quote_value(*balancing) +
                                         " (weighted_round_robin, latency or least_busy)");
                p.balancing = *strategy;
            }
            cfg->provider_by_name.emplace(p.name, cfg->providers.size());
            cfg->providers.push_back(std::move(p));
        }
    }

    // provider_keys
    std::unordered_set<int64_t> key_ids;
    if (const json_t* t = table(root, "provider_keys")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("provider_keys", i, json_array_get(t, i));
            ProviderKey k;
            k.id = row.required_int("id");
            row.set_id(k.id);
            if (!key_ids.insert(k.id).second) row.error("duplicate id");
            int64_t pid = row.required_int("provider_id");
            auto pit = provider_by_id.find(pid);
            if (pit == provider_by_id.end()) row.error("provider_id " + std::to_string(pid) + " does not exist");
            k.provider = pit->second;
            const Provider& prov = cfg->providers[k.provider];
            k.label = row.optional_string("label").value_or("");

            // Parsed once here into typed fields: no attempt reads the JSON (bodies excepted).
            const json_t* md = row.get("metadata");
            std::string merr;
            if (!parse_key_metadata(md, prov.kind, &k.meta, &merr)) row.error(merr);
            k.metadata = JsonPtr(md ? json_deep_copy(md) : json_object());
            if (!k.metadata) row.error("out of memory");
            k.auth = openai_auth_shape(prov.kind, k.meta);

            // The secret never appears in a message, only what is wrong with it.
            const json_t* sec = row.get("secret");
            if (sec && !json_is_string(sec)) row.error(std::string("secret must be a string, got ") + json_type_name(sec));
            if (sec) k.secret.assign(json_string_value(sec), json_string_length(sec));
            if (has_control_characters(k.secret)) row.error("secret contains control characters");
            if (k.secret.empty() && !(prov.kind == ProviderKind::openai_compat && k.auth == AuthShape::none))
                row.error("secret is required (empty is only allowed with metadata.auth_header \"none\")");
            k.wire = wire_format(prov.kind, k.meta.api);
            if (prov.kind == ProviderKind::azure && prov.base_url.empty() && k.meta.resource_name.empty())
                row.error("azure key needs metadata.resource_name (provider " + quote_value(prov.name) +
                          " has no base_url)");

            k.weight = static_cast<int>(row.int_in_range("weight", 1, 0, kMaxWeight));
            k.rpm = row.int_in_range("rpm", 0, 0, INT64_MAX);
            k.tpm = row.int_in_range("tpm", 0, 0, INT64_MAX);
            k.cooldown_seconds = static_cast<int>(
                row.int_in_range("cooldown_seconds", cfg->settings.default_cooldown_seconds, 0, kMaxCooldownSeconds));
            if (k.tpm) cfg->token_limits = true;
            k.priority = static_cast<int>(row.int_in_range("priority", 0, 0, 1000));
            k.breaker_threshold = static_cast<int>(row.int_in_range(
                "circuit_breaker_threshold", cfg->settings.circuit_breaker_threshold, 0, 1000));
            k.enabled = row.boolean("enabled", true);
            cfg->providers[k.provider].keys.push_back(cfg->keys.size());
            cfg->keys.push_back(std::move(k));
        }
    }

    // models
    std::set<std::pair<size_t, std::string>> model_rows;
    if (const json_t* t = table(root, "models")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("models", i, json_array_get(t, i));
            int64_t pid = row.required_int("provider_id");
            auto pit = provider_by_id.find(pid);
            if (pit == provider_by_id.end()) row.error("provider_id " + std::to_string(pid) + " does not exist");
            ModelEntry m;
            m.provider = pit->second;
            m.model = row.required_string("model");
            if (!model_rows.emplace(m.provider, m.model).second)
                row.error("duplicate model " + quote_value(m.model) + " for provider_id " + std::to_string(pid));
            if (m.model == "*") {
                cfg->providers[m.provider].any_model = true;
                continue;  // not a public name; served as "<provider>/<any model>"
            }
            auto up = row.optional_string("upstream_model");
            if (up && up->empty()) row.error("upstream_model must not be empty");
            m.upstream_model = up ? *up : m.model;
            m.priority = static_cast<int>(row.int_in_range("priority", 0, 0, 1000));
            m.context_fallback_model = row.optional_string("context_fallback_model").value_or("");
            cfg->models_by_name[m.model].push_back(cfg->models.size());
            cfg->models.push_back(std::move(m));
        }
    }

    // teams
    std::unordered_set<int64_t> team_ids;
    if (const json_t* t = table(root, "teams")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("teams", i, json_array_get(t, i));
            int64_t id = row.required_int("id");
            row.set_id(id);
            if (id < 1) row.error("id must be >= 1");
            if (!team_ids.insert(id).second) row.error("duplicate id");
            row.optional_string("name");
            TeamLimits limits{row.int_in_range("rpm_limit", 0, 0, INT64_MAX), row.int_in_range("tpm_limit", 0, 0, INT64_MAX)};
            if (limits.rpm_limit || limits.tpm_limit) cfg->team_limits.emplace(id, limits);
            if (limits.tpm_limit) cfg->token_limits = true;
            SpendBudget budget = parse_spend_budget(row);
            if (budget.any()) cfg->team_budgets.emplace(id, budget);
        }
    }

    // virtual_keys
    std::unordered_set<int64_t> vk_ids;
    if (const json_t* t = table(root, "virtual_keys")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("virtual_keys", i, json_array_get(t, i));
            VirtualKey vk;
            vk.id = row.required_int("id");
            row.set_id(vk.id);
            if (!vk_ids.insert(vk.id).second) row.error("duplicate id");
            vk.team_id = row.required_int("team_id");
            if (!team_ids.count(vk.team_id)) row.error("team_id " + std::to_string(vk.team_id) + " does not exist");
            vk.name = row.optional_string("name").value_or("");
            const json_t* h = row.get("key_hash");
            if (!h || !json_is_string(h) || json_string_length(h) != 64)
                row.error("key_hash must be 64 hex characters (SHA-256)");
            const char* hs = json_string_value(h);
            for (size_t b = 0; b < 32; ++b) {
                int hi = hex_value(hs[2 * b]), lo = hex_value(hs[2 * b + 1]);
                if (hi < 0 || lo < 0) row.error("key_hash must be 64 hex characters (SHA-256)");
                vk.hash[b] = static_cast<unsigned char>(hi << 4 | lo);
            }
            vk.enabled = row.boolean("enabled", true);
            vk.expires_at = row.int_in_range("expires_at", 0, 0, INT64_MAX);
            vk.rpm_limit = row.int_in_range("rpm_limit", 0, 0, INT64_MAX);
            vk.tpm_limit = row.int_in_range("tpm_limit", 0, 0, INT64_MAX);
            if (vk.tpm_limit) cfg->token_limits = true;
            vk.budget = parse_spend_budget(row);
            std::string hkey(reinterpret_cast<const char*>(vk.hash), 32);
            if (!cfg->virtual_key_by_hash.emplace(hkey, cfg->virtual_keys.size()).second)
                row.error("duplicate key_hash");
            cfg->virtual_keys.push_back(vk);
        }
    }

    // model_aliases
    if (const json_t* t = table(root, "model_aliases")) {
        for (size_t i = 0; i < json_array_size(t); ++i) {
            Row row("model_aliases", i, json_array_get(t, i));
            int64_t team = row.optional_int("team_id").value_or(0);
            if (team != 0 && !team_ids.count(team)) row.error("team_id " + std::to_string(team) + " does not exist");
            if (team == 0 && row.get("team_id")) row.error("team_id 0 does not exist (use null for a global alias)");
            std::string alias = row.required_string("alias");
            std::string target = row.required_string("target");
            if (!cfg->aliases.emplace(alias_key(team, alias), std::move(target)).second)
                row.error("duplicate alias " + quote_value(alias) +
                          (team ? " for team_id " + std::to_string(team) : std::string(" (global)")));
        }
    }

    std::string rules_error;
    if (!parse_routing_rules(root, *cfg, team_ids, &cfg->routing_rules, &rules_error)) fail(rules_error);

    // carried, not used yet
    std::string price_error;
    if (!cfg->prices.parse(table(root, "model_prices"), provider_by_id, &price_error)) fail(price_error);
    return cfg;
}

}  // namespace

const std::string* Config::alias_target(int64_t team_id, std::string_view alias) const {
    auto it = aliases.find(alias_key(team_id, alias));
    return it == aliases.end() ? nullptr : &it->second;
}

std::shared_ptr<const Config> parse_snapshot(std::string_view json, std::string* error) {
    std::string perr;
    JsonPtr root = json_parse(json, &perr);
    if (!root) {
        // jansson quotes the token near the error, which could be part of a secret: drop it.
        size_t near = perr.find(" near ");
        if (near != std::string::npos) perr.resize(near);
        if (error) *error = "snapshot is not valid JSON: " + perr;
        return nullptr;
    }
    try {
        return build(root.get());
    } catch (const SnapshotError& e) {
        if (error) *error = e.message;
        return nullptr;
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory while parsing the snapshot";
        return nullptr;
    }
}

}  // namespace routeshift
