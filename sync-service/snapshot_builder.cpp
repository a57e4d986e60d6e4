#include "snapshot_builder.hpp"

#include "config/config_snapshot.hpp"  // routeshift::parse_snapshot (module core)
#include "snapshot_rules.hpp"

#include <jansson.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

namespace rsync {
namespace {

struct J {
    json_t* p;
    explicit J(json_t* v) : p(v) {}
    ~J() { json_decref(p); }
    J(const J&) = delete;
    J& operator=(const J&) = delete;
};

json_t* jstr(const std::string& s) { return json_stringn(s.data(), s.size()); }
json_t* jopt_str(const std::optional<std::string>& s) { return s ? jstr(*s) : json_null(); }
json_t* jopt_int(const std::optional<int64_t>& v) { return v ? json_integer(*v) : json_null(); }
json_t* jopt_team(const std::optional<int64_t>& v) { return v ? json_integer(*v) : json_null(); }

// Overwrites the plaintext secrets held by jansson before the tree is freed.
void scrub_secrets(json_t* keys) {
    size_t i;
    json_t* k;
    json_array_foreach(keys, i, k) {
        json_t* s = json_object_get(k, "secret");
        if (json_is_string(s)) OPENSSL_cleanse(const_cast<char*>(json_string_value(s)), json_string_length(s));
    }
}

void set(json_t* obj, const char* key, json_t* value) { json_object_set_new(obj, key, value); }

}  // namespace

std::vector<std::string> secrets_in_snapshot(const json_t* root) {
    std::vector<std::string> out;
    size_t i;
    json_t* k;
    json_array_foreach(json_object_get(root, "provider_keys"), i, k) {
        json_t* s = json_object_get(k, "secret");
        if (json_is_string(s)) out.emplace_back(json_string_value(s), json_string_length(s));
    }
    return out;
}

void scrub_snapshot_secrets(json_t* root) { scrub_secrets(json_object_get(root, "provider_keys")); }

namespace {

// A json_t parsed from the previous snapshot; scrubbed and freed with it.
struct PreviousSnapshot {
    json_t* root = nullptr;
    explicit PreviousSnapshot(const std::string* text) {
        if (!text) return;
        json_error_t err;
        root = json_loadb(text->data(), text->size(), 0, &err);
    }
    ~PreviousSnapshot() {
        if (root) scrub_secrets(json_object_get(root, "provider_keys"));
        json_decref(root);
    }
    PreviousSnapshot(const PreviousSnapshot&) = delete;
    PreviousSnapshot& operator=(const PreviousSnapshot&) = delete;
};

std::string key_row_name(const ProviderKeyRow& k, const std::map<int64_t, const ProviderRow*>& providers) {
    std::string s = "provider_keys id " + std::to_string(k.id) + " (";
    auto it = providers.find(k.provider_id);
    s += "provider " + (it != providers.end() ? it->second->name : "id " + std::to_string(k.provider_id));
    s += ", label " + k.label + ")";
    return s;
}

}  // namespace

json_t* json_object_from_text(const std::string& text) {
    json_error_t err;
    json_t* v = json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &err);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return nullptr;
    }
    return v;
}

Snapshot::~Snapshot() {
    wipe(json);
    for (auto& s : secrets) wipe(s);
}

std::string Snapshot::redact(std::string text) const {
    auto replace_all = [&](const std::string& needle) {
        if (needle.empty()) return;
        size_t pos = 0;
        while ((pos = text.find(needle, pos)) != std::string::npos) {
            text.replace(pos, needle.size(), "[redacted]");
            pos += 10;
        }
    };
    for (const auto& s : secrets) replace_all(s);
    for (const auto& s : secrets) {
        if (s.size() > 16) replace_all(s.substr(0, 12));
    }
    return text;
}

bool build_snapshot(const ConfigRows& rows, const BuildOptions& opts, Snapshot* out,
                    std::vector<std::string>* errors) {
    size_t errors_before = errors->size();
    const bool quarantine = opts.quarantine && opts.validate;
    std::vector<QuarantinedRow> quarantined;
    std::vector<int64_t> quarantined_keys;  // skipped while building: their last good version may return
    // A row-level problem: an error (strict) or a quarantined row (serve, check).
    auto row_problem = [&](const char* table, int64_t id, std::string message) {
        if (quarantine) quarantined.push_back({table, id, std::move(message), false});
        else errors->push_back(std::move(message));
    };
    if (rows.generation < 1) errors->push_back("config_state: generation must be >= 1");

    std::map<int64_t, const ProviderRow*> providers;
    for (const auto& p : rows.providers) providers[p.id] = &p;

    J root(json_object());
    set(root.p, "version", json_integer(1));
    set(root.p, "generation", json_integer(rows.generation));

    json_t* settings = json_object();
    if (rows.settings.retry_budget) set(settings, "retry_budget", json_integer(*rows.settings.retry_budget));
    set(settings, "default_cooldown_seconds", json_integer(rows.settings.default_cooldown_seconds));
    if (rows.settings.cost_ceiling_microcents)
        set(settings, "cost_ceiling_microcents", json_integer(*rows.settings.cost_ceiling_microcents));
    set(settings, "circuit_breaker_threshold", json_integer(rows.settings.circuit_breaker_threshold));
    set(settings, "latency_window_seconds", json_integer(rows.settings.latency_window_seconds));
    set(settings, "rate_limit_window_seconds", json_integer(rows.settings.rate_limit_window_seconds));
    if (rows.settings.files_provider) set(settings, "files_provider", json_string(rows.settings.files_provider->c_str()));
    set(root.p, "settings", settings);

    json_t* jproviders = json_array();
    for (const auto& p : rows.providers) {
        json_t* o = json_object();
        set(o, "id", json_integer(p.id));
        set(o, "name", jstr(p.name));
        set(o, "kind", jstr(p.kind));
        set(o, "base_url", jopt_str(p.base_url));
        set(o, "enabled", json_boolean(p.enabled));
        set(o, "balancing", jstr(p.balancing));
        json_array_append_new(jproviders, o);
    }
    set(root.p, "providers", jproviders);

    std::vector<std::string> secrets;
    json_t* jkeys = json_array();
    for (const auto& k : rows.provider_keys) {
        auto pit = providers.find(k.provider_id);
        if (!k.enabled || pit == providers.end() || !pit->second->enabled) continue;  // not shipped
        std::string plain;
        if (opts.box) {
            std::string err;
            if (!opts.box->open(k.sealed, provider_key_aad(k.id), &plain, &err)) {
                row_problem("provider_keys", k.id, key_row_name(k, providers) + ": secret does not decrypt: " + err);
                quarantined_keys.push_back(k.id);
                continue;
            }
        } else {
            plain = "[redacted]";
        }
        json_t* md = json_object_from_text(k.metadata_json);
        if (!md) {
            row_problem("provider_keys", k.id, key_row_name(k, providers) + ": metadata is not a JSON object");
            quarantined_keys.push_back(k.id);
            wipe(plain);
            continue;
        }
        json_t* o = json_object();
        set(o, "id", json_integer(k.id));
        set(o, "provider_id", json_integer(k.provider_id));
        set(o, "label", jstr(k.label));
        set(o, "secret", jstr(plain));
        set(o, "metadata", md);
        set(o, "weight", json_integer(k.weight));
        set(o, "rpm", jopt_int(k.rpm));
        set(o, "tpm", jopt_int(k.tpm));
        set(o, "cooldown_seconds", jopt_int(k.cooldown_seconds));  // null = settings default
        set(o, "enabled", json_true());
        set(o, "priority", json_integer(k.priority));
        set(o, "circuit_breaker_threshold", jopt_int(k.circuit_breaker_threshold));  // null = settings default
        json_array_append_new(jkeys, o);
        if (opts.box) secrets.push_back(plain);
        wipe(plain);
    }
    set(root.p, "provider_keys", jkeys);
    size_t key_count = json_array_size(jkeys);

    json_t* jmodels = json_array();
    for (const auto& m : rows.models) {
        if (!m.enabled) continue;
        json_t* o = json_object();
        set(o, "provider_id", json_integer(m.provider_id));
        set(o, "model", jstr(m.model));
        if (m.upstream_model) set(o, "upstream_model", jstr(*m.upstream_model));
        set(o, "priority", json_integer(m.priority));
        if (m.context_fallback_model) set(o, "context_fallback_model", jstr(*m.context_fallback_model));
        json_array_append_new(jmodels, o);
    }
    set(root.p, "models", jmodels);

    json_t* jteams = json_array();
    for (const auto& t : rows.teams) {
        json_t* o = json_object();
        set(o, "id", json_integer(t.id));
        set(o, "name", jstr(t.name));
        set(o, "rpm_limit", jopt_int(t.rpm_limit));
        set(o, "tpm_limit", jopt_int(t.tpm_limit));
        set(o, "daily_budget_microcents", jopt_int(t.daily_budget_microcents));
        set(o, "monthly_budget_microcents", jopt_int(t.monthly_budget_microcents));
        json_array_append_new(jteams, o);
    }
    set(root.p, "teams", jteams);

    json_t* jvks = json_array();
    for (const auto& v : rows.virtual_keys) {
        json_t* o = json_object();
        set(o, "id", json_integer(v.id));
        set(o, "team_id", json_integer(v.team_id));
        set(o, "name", jstr(v.name));
        set(o, "key_hash", jstr(v.key_hash));
        set(o, "enabled", json_boolean(v.enabled));
        // 0 means "never" to the module: an instant at/before the epoch becomes 1 (long expired).
        if (v.expires_at) set(o, "expires_at", json_integer(*v.expires_at < 1 ? 1 : *v.expires_at));
        else set(o, "expires_at", json_null());
        set(o, "rpm_limit", jopt_int(v.rpm_limit));
        set(o, "tpm_limit", jopt_int(v.tpm_limit));
        set(o, "daily_budget_microcents", jopt_int(v.daily_budget_microcents));
        set(o, "monthly_budget_microcents", jopt_int(v.monthly_budget_microcents));
        json_array_append_new(jvks, o);
    }
    set(root.p, "virtual_keys", jvks);

    json_t* jaliases = json_array();
    for (const auto& a : rows.model_aliases) {
        json_t* o = json_object();
        set(o, "team_id", jopt_team(a.team_id));
        set(o, "alias", jstr(a.alias));
        set(o, "target", jstr(a.target));
        json_array_append_new(jaliases, o);
    }
    set(root.p, "model_aliases", jaliases);

    std::vector<std::string> rule_errors;
    add_rules_to_snapshot(root.p, rows.routing_rules, &rule_errors);  // rules + their time zones

    json_t* jprices = json_array();
    for (const auto& p : rows.model_prices) {
        json_t* o = json_object();
        set(o, "id", json_integer(p.id));
        set(o, "provider_id", json_integer(p.provider_id));
        set(o, "model", jstr(p.model));
        set(o, "input_microcents_per_mtok", json_integer(p.input_microcents_per_mtok));
        set(o, "output_microcents_per_mtok", json_integer(p.output_microcents_per_mtok));
        set(o, "cached_input_microcents_per_mtok", jopt_int(p.cached_input_microcents_per_mtok));
        if (p.max_output_tokens) set(o, "max_output_tokens", json_integer(*p.max_output_tokens));
        set(o, "effective_from", json_integer(p.effective_from));
        json_array_append_new(jprices, o);
    }
    set(root.p, "model_prices", jprices);

    PreviousSnapshot previous(quarantine ? opts.previous_json : nullptr);
    for (auto& e : rule_errors) {
        // "routing_rules id N: ..."
        int64_t id = std::strtoll(e.c_str() + std::strlen("routing_rules id "), nullptr, 10);
        if (quarantine) {
            bool kept = restore_previous_row(root.p, previous.root, "routing_rules", id);
            quarantined.push_back({"routing_rules", id, std::move(e), kept});
        } else {
            errors->push_back(std::move(e));
        }
    }
    for (int64_t id : quarantined_keys) {
        bool kept = restore_previous_row(root.p, previous.root, "provider_keys", id);
        for (auto& q : quarantined) {
            if (q.table == "provider_keys" && q.id == id) q.kept_previous = kept;
        }
    }

    auto fail = [&](std::string* text) {
        scrub_secrets(json_object_get(root.p, "provider_keys"));
        for (auto& s : secrets) wipe(s);
        if (text) wipe(*text);
        return false;
    };
    if (errors->size() != errors_before) return fail(nullptr);

    std::string text;
    if (quarantine) {
        std::string error;
        if (!validate_with_quarantine(root.p, previous.root, &quarantined, &text, &error)) {
            errors->push_back(error);
            return fail(&text);
        }
        if (!quarantined.empty()) {
            // Shown by /admin/status; the module ignores it when parsing.
            wipe(text);
            set(root.p, "quarantined", quarantined_json(quarantined));
            char* dumped = json_dumps(root.p, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (!dumped) {
                errors->push_back("snapshot serialisation failed (out of memory?)");
                return fail(nullptr);
            }
            text.assign(dumped);
            OPENSSL_cleanse(dumped, text.size());
            free(dumped);
        }
        for (auto& s : secrets) wipe(s);
        secrets = opts.box ? secrets_in_snapshot(root.p) : std::vector<std::string>{};
        key_count = json_array_size(json_object_get(root.p, "provider_keys"));
    } else {
        char* dumped = json_dumps(root.p, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!dumped) {
            errors->push_back("snapshot serialisation failed (out of memory?)");
            return fail(nullptr);
        }
        text.assign(dumped);
        OPENSSL_cleanse(dumped, text.size());  // the dump holds secrets
        free(dumped);
        if (opts.validate) {
            std::string perr;
            if (!routeshift::parse_snapshot(text, &perr)) {
                errors->push_back("snapshot rejected by the module's validator: " + perr);
                return fail(&text);
            }
        }
    }
    scrub_secrets(json_object_get(root.p, "provider_keys"));
    wipe(out->json);
    for (auto& s : out->secrets) wipe(s);
    out->generation = rows.generation;
    out->json = std::move(text);
    out->provider_keys = key_count;
    out->secrets = std::move(secrets);
    out->quarantined = std::move(quarantined);
    return true;
}

}  // namespace rsync
