#include "config_reader.hpp"

namespace rsync {
namespace {

ConfigRows read_rows(PgConnection& c) {
    ConfigRows rows;
    {
        PgResult r = c.exec("SELECT generation FROM config_state");
        if (r.rows() != 1) throw PgError("config_state must hold exactly one row", "", false);
        rows.generation = r.i64(0, 0);
    }
    {
        PgResult r = c.exec("SELECT retry_budget, default_cooldown_seconds, cost_ceiling_microcents,"
                            " circuit_breaker_threshold, latency_window_seconds, rate_limit_window_seconds,"
                            " files_provider FROM settings");
        if (r.rows() > 1) throw PgError("settings must hold at most one row", "", false);
        if (r.rows() == 1) {
            rows.settings.retry_budget = r.opt_i64(0, 0);
            rows.settings.default_cooldown_seconds = r.i64(0, 1);
            rows.settings.cost_ceiling_microcents = r.opt_i64(0, 2);
            rows.settings.circuit_breaker_threshold = r.i64(0, 3);
            rows.settings.latency_window_seconds = r.i64(0, 4);
            rows.settings.rate_limit_window_seconds = r.i64(0, 5);
            rows.settings.files_provider = r.opt_str(0, 6);
        }
    }
    {
        PgResult r = c.exec("SELECT id, name, kind, base_url, enabled, balancing FROM providers ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            ProviderRow p;
            p.id = r.i64(i, 0);
            p.name = r.str(i, 1);
            p.kind = r.str(i, 2);
            p.base_url = r.opt_str(i, 3);
            p.enabled = r.boolean(i, 4);
            p.balancing = r.str(i, 5);
            rows.providers.push_back(std::move(p));
        }
    }
    {
        PgResult r = c.exec(
            "SELECT id, provider_id, label, encode(secret_ciphertext, 'hex'), encode(secret_nonce, 'hex'),"
            " secret_key_version, metadata::text, weight, rpm, tpm, cooldown_seconds, enabled,"
            " priority, circuit_breaker_threshold FROM provider_keys ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            ProviderKeyRow k;
            k.id = r.i64(i, 0);
            k.provider_id = r.i64(i, 1);
            k.label = r.str(i, 2);
            if (!hex_decode(r.text(i, 3), &k.sealed.ciphertext) || !hex_decode(r.text(i, 4), &k.sealed.nonce))
                throw PgError("provider_keys id " + std::to_string(k.id) + ": undecodable bytea", "", false);
            k.sealed.key_version = static_cast<int>(r.i64(i, 5));
            k.metadata_json = r.str(i, 6);
            k.weight = r.i64(i, 7);
            k.rpm = r.opt_i64(i, 8);
            k.tpm = r.opt_i64(i, 9);
            k.cooldown_seconds = r.opt_i64(i, 10);
            k.enabled = r.boolean(i, 11);
            k.priority = r.i64(i, 12);
            k.circuit_breaker_threshold = r.opt_i64(i, 13);
            rows.provider_keys.push_back(std::move(k));
        }
    }
    {
        PgResult r = c.exec("SELECT id, provider_id, model, upstream_model, enabled, priority, context_fallback_model FROM models ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            ModelRow m;
            m.id = r.i64(i, 0);
            m.provider_id = r.i64(i, 1);
            m.model = r.str(i, 2);
            m.upstream_model = r.opt_str(i, 3);
            m.enabled = r.boolean(i, 4);
            m.priority = r.i64(i, 5);
            m.context_fallback_model = r.opt_str(i, 6);
            rows.models.push_back(std::move(m));
        }
    }
    {
        PgResult r = c.exec("SELECT id, name, rpm_limit, tpm_limit, daily_budget_microcents, monthly_budget_microcents"
                            " FROM teams ORDER BY id");
        for (int i = 0; i < r.rows(); ++i)
            rows.teams.push_back({r.i64(i, 0), r.str(i, 1), r.opt_i64(i, 2), r.opt_i64(i, 3), r.opt_i64(i, 4), r.opt_i64(i, 5)});
    }
    {
        PgResult r = c.exec(
            "SELECT id, team_id, name, key_hash, enabled AND revoked_at IS NULL,"
            " floor(extract(epoch FROM expires_at))::bigint, rpm_limit, tpm_limit,"
            " daily_budget_microcents, monthly_budget_microcents FROM virtual_keys ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            VirtualKeyRow v;
            v.id = r.i64(i, 0);
            v.team_id = r.i64(i, 1);
            v.name = r.str(i, 2);
            v.key_hash = r.str(i, 3);
            v.enabled = r.boolean(i, 4);
            v.expires_at = r.opt_i64(i, 5);
            v.rpm_limit = r.opt_i64(i, 6);
            v.tpm_limit = r.opt_i64(i, 7);
            v.daily_budget_microcents = r.opt_i64(i, 8);
            v.monthly_budget_microcents = r.opt_i64(i, 9);
            rows.virtual_keys.push_back(std::move(v));
        }
    }
    {
        PgResult r = c.exec("SELECT id, team_id, alias, target FROM model_aliases ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            AliasRow a;
            a.id = r.i64(i, 0);
            a.team_id = r.opt_i64(i, 1);
            a.alias = r.str(i, 2);
            a.target = r.str(i, 3);
            rows.model_aliases.push_back(std::move(a));
        }
    }
    {
        PgResult r = c.exec(
            "SELECT id, name, team_id, priority, match::text, action::text, conditions::text, enabled,"
            " retry_budget, cost_ceiling_microcents, first_token_timeout_ms, context_fallback_model,"
            " stream_continuation FROM routing_rules ORDER BY priority, id");
        for (int i = 0; i < r.rows(); ++i) {
            RoutingRuleRow x;
            x.id = r.i64(i, 0);
            x.name = r.str(i, 1);
            x.team_id = r.opt_i64(i, 2);
            x.priority = r.i64(i, 3);
            x.match_json = r.str(i, 4);
            x.action_json = r.str(i, 5);
            x.conditions_json = r.str(i, 6);
            x.enabled = r.boolean(i, 7);
            x.retry_budget = r.opt_i64(i, 8);
            x.cost_ceiling_microcents = r.opt_i64(i, 9);
            x.first_token_timeout_ms = r.opt_i64(i, 10);
            x.context_fallback_model = r.opt_str(i, 11);
            x.stream_continuation = r.boolean(i, 12);
            rows.routing_rules.push_back(std::move(x));
        }
    }
    {
        PgResult r = c.exec(
            "SELECT id, provider_id, model, input_microcents_per_mtok, output_microcents_per_mtok,"
            " cached_input_microcents_per_mtok, floor(extract(epoch FROM effective_from))::bigint,"
            " max_output_tokens FROM model_prices ORDER BY provider_id, model, effective_from, id");
        for (int i = 0; i < r.rows(); ++i) {
            ModelPriceRow p;
            p.id = r.i64(i, 0);
            p.provider_id = r.i64(i, 1);
            p.model = r.str(i, 2);
            p.input_microcents_per_mtok = r.i64(i, 3);
            p.output_microcents_per_mtok = r.i64(i, 4);
            p.cached_input_microcents_per_mtok = r.opt_i64(i, 5);
            p.effective_from = r.i64(i, 6);
            p.max_output_tokens = r.opt_i64(i, 7);
            rows.model_prices.push_back(std::move(p));
        }
    }
    return rows;
}

}  // namespace

ConfigRows read_config(PgConnection& conn) {
    conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    try {
        ConfigRows rows = read_rows(conn);
        conn.exec("COMMIT");
        return rows;
    } catch (...) {
        if (conn.ok()) {
            try {
                conn.exec("ROLLBACK");
            } catch (const PgError&) {
            }
        }
        throw;
    }
}

int64_t read_generation(PgConnection& conn) {
    PgResult r = conn.exec("SELECT generation FROM config_state");
    if (r.rows() != 1) throw PgError("config_state must hold exactly one row", "", false);
    return r.i64(0, 0);
}

}  // namespace rsync
