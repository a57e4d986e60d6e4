// $routeshift_* variables for log_format and friends (docs/design.md §7).
#include "ngx_routeshift.hpp"
#include "routing/circuit_breaker.hpp"

#include <functional>

namespace routeshift {
namespace {

using Getter = std::string (*)(const RequestCtx&);

const Candidate* current(const RequestCtx& c) {
    return c.current >= 0 ? &c.cands[(size_t)c.current] : nullptr;
}

std::string num_or_empty(int64_t v) { return v >= 0 ? std::to_string(v) : std::string(); }

struct VarDef {
    ngx_str_t name;
    Getter get;
};

VarDef vars[] = {
    {ngx_string("routeshift_provider"),
     [](const RequestCtx& c) -> std::string {
         auto* k = current(c);
         return k ? c.cfg->providers[c.cfg->keys[k->key].provider].name : std::string();
     }},
    {ngx_string("routeshift_provider_key"),
     [](const RequestCtx& c) -> std::string {
         auto* k = current(c);
         return k ? c.cfg->keys[k->key].label : std::string();
     }},
    {ngx_string("routeshift_provider_key_id"),
     [](const RequestCtx& c) -> std::string {
         auto* k = current(c);
         return k ? std::to_string(c.cfg->keys[k->key].id) : std::string();
     }},
    {ngx_string("routeshift_requested_model"),
     [](const RequestCtx& c) -> std::string { return c.plan.requested_model; }},
    {ngx_string("routeshift_resolved_model"),
     [](const RequestCtx& c) -> std::string {
         auto* k = current(c);
         return k ? c.plan.targets[k->target].upstream_model : std::string();
     }},
    {ngx_string("routeshift_public_model"),
     [](const RequestCtx& c) -> std::string {
         auto* k = current(c);
         return k ? c.plan.targets[k->target].public_model : std::string();
     }},
    {ngx_string("routeshift_virtual_key_id"),
     [](const RequestCtx& c) -> std::string { return c.vk ? std::to_string(c.vk->id) : std::string(); }},
    {ngx_string("routeshift_team_id"),
     [](const RequestCtx& c) -> std::string { return c.vk ? std::to_string(c.vk->team_id) : std::string(); }},
    {ngx_string("routeshift_attempts"),
     [](const RequestCtx& c) -> std::string { return std::to_string(c.attempts); }},
    {ngx_string("routeshift_attempt_statuses"),
     [](const RequestCtx& c) -> std::string { return c.attempt_statuses; }},
    {ngx_string("routeshift_stream"),
     [](const RequestCtx& c) -> std::string { return c.req.stream ? "1" : "0"; }},
    {ngx_string("routeshift_prompt_tokens"),
     [](const RequestCtx& c) -> std::string { return num_or_empty(c.usage.prompt_tokens); }},
    {ngx_string("routeshift_completion_tokens"),
     [](const RequestCtx& c) -> std::string { return num_or_empty(c.usage.completion_tokens); }},
    {ngx_string("routeshift_cached_tokens"),
     [](const RequestCtx& c) -> std::string { return num_or_empty(c.usage.cached_tokens); }},
    {ngx_string("routeshift_ttfb_ms"),
     [](const RequestCtx& c) -> std::string {
         return c.first_byte_msec ? std::to_string(c.first_byte_msec - c.start_msec) : std::string();
     }},
    {ngx_string("routeshift_error"),
     [](const RequestCtx& c) -> std::string {
         if (c.phase == Phase::failed) return c.error.code.empty() ? c.error.type : c.error.code;
         int status = c.attempt.upstream_status;
         if (status >= 200 && status < 400 && !c.midstream_failure) return std::string();
         return c.last_failure;
     }},
    // what every attempt really cost, in microcents (empty when unknown: tokens at an unpriced
    // model); the session (docs/design.md §12)
    {ngx_string("routeshift_cost_microcents"),
     [](const RequestCtx& c) -> std::string { return c.cost_unknown ? std::string() : std::to_string(c.spent_microcents); }},
    {ngx_string("routeshift_session_id"),
     [](const RequestCtx& c) -> std::string { return std::string(c.session.id()); }},
    {ngx_string("routeshift_cost_ceiling"),
     [](const RequestCtx& c) -> std::string { return std::string(cost_ceiling_state(c)); }},
    {ngx_string("routeshift_tags"),  // labels of the matching tag rules, comma-separated
     [](const RequestCtx& c) -> std::string {
         std::string out;
         for (const std::string& tag : c.plan.tags) out += (out.empty() ? "" : ",") + tag;
         return out;
     }},
    {ngx_string("routeshift_rule"),  // id of the route/block/static rule that decided
     [](const RequestCtx& c) -> std::string {
         return c.plan.decided_rule ? std::to_string(c.plan.decided_rule) : std::string();
     }},
    {ngx_string("routeshift_matched_rules"),  // ids of every matching rule, comma-separated
     [](const RequestCtx& c) -> std::string {
         std::string out;
         for (int64_t id : c.plan.matched_rules) out += (out.empty() ? "" : ",") + std::to_string(id);
         return out;
     }},
    {ngx_string("routeshift_generation"),
     [](const RequestCtx& c) -> std::string { return c.cfg ? std::to_string(c.cfg->generation) : std::string(); }},
    // the circuit-breaker state of the latest attempt's key after it (docs/design.md §9)
    {ngx_string("routeshift_breaker_state"),
     [](const RequestCtx& c) -> std::string {
         return current(c) ? std::string(breaker_state_name((BreakerState)c.breaker_state)) : std::string();
     }},
};

ngx_int_t get_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t data) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) {
        v->not_found = 1;
        return NGX_OK;
    }
    try {
        std::string s = vars[data].get(*ctx);
        u_char* p = static_cast<u_char*>(ngx_pnalloc(r->pool, s.size() ? s.size() : 1));
        if (p == nullptr) return NGX_ERROR;
        ngx_memcpy(p, s.data(), s.size());
        v->data = p;
        v->len = s.size();
        v->valid = 1;
        v->no_cacheable = 1;  // changes between attempts and phases
        v->not_found = 0;
        return NGX_OK;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: variable failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: variable failed");
        return NGX_ERROR;
    }
}

}  // namespace

ngx_int_t variables_add(ngx_conf_t* cf) {
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        ngx_http_variable_t* var = ngx_http_add_variable(cf, &vars[i].name, NGX_HTTP_VAR_NOCACHEABLE);
        if (var == nullptr) return NGX_ERROR;
        var->get_handler = get_variable;
        var->data = i;
    }
    return NGX_OK;
}

}  // namespace routeshift
