// The routeshift_pass content handler: dispatch on method + path (docs/design.md §18), authenticate,
// read the body, parse it in place (an Anthropic client's converted to OpenAI shape once), hand it
// to the planner (core/routing/planner), resolve the candidates' hosts, then start the upstream.
#include "ngx_routeshift.hpp"
#include "ingress/anthropic_messages_ingress.hpp"
#include "ingress/gemini_generate_content_ingress.hpp"
#include "ingress/gemini_native_path.hpp"
#include "ingress/azure_deployment_path.hpp"
#include "ingress/virtual_key_auth.hpp"
#include "routing/rate_limiter.hpp"
#include "util/percent_encoding.hpp"

#include <cstdio>

namespace routeshift {
namespace {

ngx_int_t fail(RequestCtx& ctx, int status, std::string message, std::string_view type,
               std::string param, std::string code) {
    ctx.fail(status, std::move(message), type, std::move(param), std::move(code));
    return finalize_error(ctx);
}


ngx_int_t fail(RequestCtx& ctx, const ApiError& e) {
    ctx.error = e;
    ctx.phase = Phase::failed;
    return finalize_error(ctx);
}

// What the planner asks the glue: endpoints from the per-config cache, health (and the first
// pick) from the shared zone.
class GlueEnvironment final : public PlanEnvironment {
public:
    explicit GlueEnvironment(RequestCtx& ctx) : ctx_(ctx) {}

    const UpstreamEndpoint* endpoint(size_t key, const std::string& model, bool stream, std::string* error) override {
        const EndpointEntry& entry = endpoint_for(key, model, stream);
        if (!entry.ok) {
            *error = entry.error;
            return nullptr;
        }
        return &entry;
    }

    KeyHealth health(std::span<const PlannedCandidate> candidates) override {
        ZoneAssessment a = zone_assess_and_pick(ctx_.zone, *ctx_.cfg, *ctx_.slots, candidates, ctx_.reserve_tokens);
        ctx_.reserved_pick = a.pick;
        ctx_.reserved_probe = a.probe;
        return a.health;
    }

private:
    RequestCtx& ctx_;

    // The endpoint of key `ki` for `model`, from the per-config cache.
    const EndpointEntry& endpoint_for(size_t ki, const std::string& model, bool stream) {
        std::string cache_key = std::to_string(ki);
        cache_key += stream ? "|s|" : "|n|";
        const bool count_tokens =
            ctx_.endpoint == Endpoint::messages_count_tokens || ctx_.endpoint == Endpoint::gemini_count_tokens;
        if (count_tokens) cache_key += "c|";  // another endpoint of the same key
        cache_key += model;
        auto it = ctx_.endpoints->find(cache_key);
        if (it != ctx_.endpoints->end()) return it->second;
        EndpointEntry e;
        const ProviderKey& key = ctx_.cfg->keys[ki];
        e.ok = wire_adapter(key).endpoint(*ctx_.cfg, key, model, stream, &e, &e.error);
        if (count_tokens) count_tokens_endpoint_for(ctx_, key, &e);
        if (e.ok) {
            e.conn_key = e.sni + "|" + e.host;
            e.peer_name_text = e.host + ":" + std::to_string(e.port);
            if (e.host_is_ip) {
                ngx_addr_t addr;
                std::string h = e.host;
                if (ngx_parse_addr(ctx_.r->pool, &addr, (u_char*)h.data(), h.size()) == NGX_OK) {
                    ngx_inet_set_port(addr.sockaddr, (in_port_t)e.port);
                    auto* p = reinterpret_cast<unsigned char*>(addr.sockaddr);
                    e.ip_sockaddr.assign(p, p + addr.socklen);
                    e.ip_socklen = addr.socklen;
                } else {
                    e.ok = false;
                    e.error = "bad address " + h;
                }
            }
        }
        // Clients choose model names (a "*" provider takes any): past this many entries or bytes
        // (the 2x of the key: it is also inside the path) the cache stops growing and the entry
        // lives only as long as the request.
        constexpr size_t kMaxCachedEndpoints = 4096;
        constexpr size_t kMaxCachedEndpointBytes = 4u << 20;
        const size_t entry_bytes = sizeof(EndpointEntry) + 2 * cache_key.size() + e.host.size() + e.host_header.size() +
                                   e.sni.size() + e.path.size() + e.error.size() + e.conn_key.size() +
                                   e.peer_name_text.size() + e.ip_sockaddr.size();
        EndpointEntry* slot;
        if (ctx_.endpoints->size() < kMaxCachedEndpoints &&
            ctx_.endpoints->bytes + entry_bytes <= kMaxCachedEndpointBytes) {
            ctx_.endpoints->bytes += entry_bytes;
            slot = &ctx_.endpoints->emplace(std::move(cache_key), std::move(e)).first->second;
        } else {
            slot = &ctx_.own_endpoints.emplace_back(std::move(e));
        }
        slot->peer_name.data = reinterpret_cast<u_char*>(slot->peer_name_text.data());
        slot->peer_name.len = slot->peer_name_text.size();
        return *slot;
    }
};

// A Google client's key: `Authorization: Bearer`, `x-goog-api-key`, or the `key` query parameter
// (docs/design.md §18 "Gemini native"). The query's bytes are masked in the request line once read,
// so the key reaches no access log; it is never forwarded (providers get their own URL).
std::string_view presented_google_key(ngx_http_request_t* r, std::string_view authorization) {
    std::string_view key = presented_key(authorization, find_header(r->headers_in.headers, "x-goog-api-key"));
    if (!key.empty()) return key;
    std::string_view raw = query_api_key(string_view_of(r->args));
    if (raw.empty()) return {};
    std::string* decoded = pool_new<std::string>(r->pool, percent_decode(raw));
    if (decoded == nullptr) throw std::bad_alloc();
    // r->args, r->unparsed_uri and r->request_line view the same bytes of the header buffer
    auto* bytes = reinterpret_cast<u_char*>(const_cast<char*>(raw.data()));
    for (size_t i = 0; i < raw.size(); ++i) bytes[i] = 'x';
    return *decoded;
}

// Every candidate host resolved (or failed): start the upstream, or answer 502.
void after_resolve(RequestCtx& ctx) {
    bool any = false;
    std::string reason;
    for (const Candidate& c : ctx.cands) {
        if (!c.unusable && !c.held) any = true;
        else if (reason.empty()) reason = c.unusable_reason;
    }
    if (!any) {
        ctx.release_reserved_pick();
        ngx_http_finalize_request(ctx.r, fail(ctx, 502, "No provider endpoint is reachable: " + reason,
                                              "server_error", "", "provider_unreachable"));
        return;
    }
    start_upstream(ctx);
}

}  // namespace

// Virtual-key and team RPM/TPM limits, before planning (docs/design.md §9): false = 429 set.
bool admit_caller(RequestCtx& ctx) {
    if (ctx.cfg->token_limits) ctx.reserve_tokens = tokens_to_reserve(ctx.req);
    int64_t retry_after_ms = 0;
    const char* which = "";
    if (!zone_admit_caller(ctx.zone, *ctx.cfg, *ctx.vk, ctx.reserve_tokens, &retry_after_ms, &which)) {
        ctx.fail(429, std::string("This ") + which + " is over its rate limit; retry later.", "rate_limit_error", "",
                 "rate_limit_exceeded");
        ctx.retry_after = (ngx_uint_t)((retry_after_ms + 999) / 1000);
        return false;
    }
    auto team = ctx.cfg->team_limits.find(ctx.vk->team_id);
    ctx.caller_reserved = ctx.reserve_tokens > 0 && (ctx.vk->tpm_limit || (team != ctx.cfg->team_limits.end() && team->second.tpm_limit));
    return true;
}

std::unique_ptr<PlanEnvironment> glue_plan_environment(RequestCtx& ctx) { return std::make_unique<GlueEnvironment>(ctx); }

void start_planned(RequestCtx& ctx) {
    ngx_http_request_t* r = ctx.r;
    if (ctx.plan.static_answer) {  // a static routing rule: no provider, no candidates
        ngx_http_finalize_request(r, send_static_answer(ctx));
        return;
    }
    if (!ctx.plan.ok && add_rule_header(ctx) != NGX_OK) throw std::bad_alloc();  // a block rule
    ctx.cands.reserve(ctx.plan.candidates.size());
    for (PlannedCandidate& planned : ctx.plan.candidates) {
        Candidate c;
        static_cast<PlannedCandidate&>(c) = std::move(planned);
        c.slot = c.key < ctx.slots->size() ? (*ctx.slots)[c.key] : -1;
        c.ent = static_cast<const EndpointEntry*>(c.endpoint);  // GlueEnvironment hands out entries
        ctx.cands.push_back(std::move(c));
    }
    ctx.plan.candidates.clear();  // they live on in ctx.cands
    if (ctx.reserved_pick >= 0) {
        ctx.cands[(size_t)ctx.reserved_pick].tried = true;
        ctx.cands[(size_t)ctx.reserved_pick].probe = ctx.reserved_probe;
    }
    const bool count_tokens =
        ctx.endpoint == Endpoint::messages_count_tokens || ctx.endpoint == Endpoint::gemini_count_tokens;
    if (count_tokens && (!ctx.plan.ok || !count_tokens_keep_relay_candidates(ctx))) {
        ctx.release_reserved_pick();  // nothing to relay to: the estimate, as for other providers
        ngx_http_finalize_request(r, send_count_tokens(ctx));
        return;
    }
    if (!ctx.plan.ok) {
        ctx.release_reserved_pick();
        ctx.retry_after = (ngx_uint_t)ctx.plan.retry_after_seconds;
        ngx_http_finalize_request(r, fail(ctx, ctx.plan.error));
        return;
    }
    ctx.phase = Phase::resolving;
    resolve_candidates(ctx, after_resolve);
}

void plan_with_location(RequestCtx& ctx, PlanEnvironment& env) {
    auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(ctx.r, ngx_http_routeshift_module));
    PlanOptions options;
    options.directive_retry_budget = (unsigned)lc->retry_budget;
    options.environment = string_view_of(lc->environment);
    // Built in ctx.plan itself (plan_request returns its one Plan: the returned value initialises
    // the storage directly), not built aside and move-assigned (~10 members moved, a Plan destroyed).
    ctx.plan.~Plan();
    try {
        new (&ctx.plan) Plan(plan_request(*ctx.cfg, *ctx.vk, ctx.req, (int64_t)ngx_time(), options, env));
    } catch (...) {
        new (&ctx.plan) Plan();  // the request context destroys a Plan there in any case
        throw;
    }
}

namespace {

// A Gemini native client's body, converted once into OpenAI shape (docs/design.md §18): the model
// comes from the path. Google streams without alt=sse as one JSON array, which this gateway does
// not write: such a request is a 400 naming alt=sse.
bool convert_gemini_body(RequestCtx& ctx, std::string_view client_body, std::string_view* body, ApiError* err) {
    GeminiNativePath native;
    std::string_view path = string_view_of(ctx.r->uri);
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    if (!parse_gemini_native_path(path, &native)) {
        err->status = 404;
        err->message = "Unknown endpoint.";
        return false;
    }
    GeminiBodyKind kind = ctx.endpoint == Endpoint::gemini_count_tokens      ? GeminiBodyKind::count_tokens
                          : ctx.endpoint == Endpoint::gemini_generate_content ? GeminiBodyKind::generate
                                                                               : GeminiBodyKind::stream_generate;
    if (kind == GeminiBodyKind::stream_generate) {
        ngx_str_t alt;
        if (ngx_http_arg(ctx.r, (u_char*)"alt", 3, &alt) != NGX_OK || string_view_of(alt) != "sse") {
            err->status = 400;
            err->type = "invalid_request_error";
            err->message = "streamGenerateContent is served as server-sent events only: add the query parameter alt=sse.";
            return false;
        }
    }
    if (!gemini_generate_content_to_openai(client_body, native.model, kind, &ctx.converted_body, err)) return false;
    *body = ctx.converted_body;
    return true;
}

void read_and_plan(ngx_http_request_t* r, RequestCtx& ctx) {
    if (ctx.endpoint == Endpoint::openai_relay) {  // the other OpenAI endpoints (docs/design.md §21)
        relay_read_and_plan(r, ctx);
        return;
    }
    if (ctx.endpoint == Endpoint::embeddings) {  // every dialect's embeddings (docs/design.md §22)
        embeddings_read_and_plan(r, ctx);
        return;
    }
    std::string_view body;
    if (!request_body_text(r, &body)) {
        ngx_http_finalize_request(r, fail(ctx, 413, "Request body is too large.", "invalid_request_error", "",
                                          "request_too_large"));
        return;
    }
    ApiError err;
    std::string_view client_body = body;
    if (ctx.dialect == Dialect::anthropic) {  // converted once; the pipeline reads OpenAI shape
        AnthropicBodyKind kind = ctx.endpoint == Endpoint::messages_count_tokens ? AnthropicBodyKind::count_tokens
                                                                                 : AnthropicBodyKind::messages;
        if (!anthropic_messages_to_openai(client_body, kind, &ctx.converted_body, &err)) {
            ngx_http_finalize_request(r, fail(ctx, err));
            return;
        }
        body = ctx.converted_body;
    } else if (!ctx.path_model.empty()) {  // Azure-style path: the deployment is the model (§18)
        ctx.converted_body = body_with_deployment_model(body, ctx.path_model);
        body = ctx.converted_body;
    }
    if (ctx.dialect == Dialect::google && !convert_gemini_body(ctx, client_body, &body, &err)) {
        ngx_http_finalize_request(r, fail(ctx, err));
        return;
    }
    // parsed in place (no move of the request); the body buffer lives as long as the request
    if (!parse_chat_request_borrowed(body, &ctx.req, &err)) {
        ngx_http_finalize_request(r, fail(ctx, err));
        return;
    }
    ctx.req.host_splices_body = true;  // peer_get sends OpenAI-wire bodies as spans of the client's
    if (ctx.dialect == Dialect::anthropic) ctx.req.anthropic_client_body = client_body;
    if (ctx.dialect == Dialect::google) ctx.req.gemini_client_body = client_body;
    if ((ctx.endpoint == Endpoint::messages_count_tokens || ctx.endpoint == Endpoint::gemini_count_tokens) &&
        !count_tokens_may_relay(ctx)) {
        ngx_http_finalize_request(r, send_count_tokens(ctx));
        return;
    }
    if (!session_begin(ctx)) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    if (!admit_caller(ctx)) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }

    GlueEnvironment env(ctx);
    plan_with_location(ctx, env);
    start_planned(ctx);
}

void body_handler(ngx_http_request_t* r) noexcept {
    RequestCtx* pctx = get_ctx(r);
    if (pctx == nullptr) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    RequestCtx& ctx = *pctx;
    try {
        read_and_plan(r, ctx);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: planning failed: %s", e.what());
        ctx.release_reserved_pick();
        ngx_http_finalize_request(r, fail(ctx, 500, "Internal gateway error.", "server_error", "", ""));
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: planning failed (unknown exception)");
        ctx.release_reserved_pick();
        ngx_http_finalize_request(r, fail(ctx, 500, "Internal gateway error.", "server_error", "", ""));
    }
}

}  // namespace

RequestCtx* get_ctx(ngx_http_request_t* r) {
    return static_cast<RequestCtx*>(ngx_http_get_module_ctx(r, ngx_http_routeshift_module));
}

ngx_int_t chat_handler(ngx_http_request_t* r) noexcept {
    try {
        RequestCtx* pctx = pool_new_recycled<RequestCtx>(r->pool);
        if (pctx == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
        RequestCtx& ctx = *pctx;
        ctx.r = r;
        ctx.start_msec = ngx_current_msec;
        ngx_http_set_ctx(r, pctx, ngx_http_routeshift_module);

        EndpointRoute route = route_endpoint(string_view_of(r->method_name), string_view_of(r->uri));
        ctx.endpoint = route.endpoint;
        ctx.dialect = route.dialect;
        const bool models = route.endpoint == Endpoint::models_list || route.endpoint == Endpoint::models_retrieve;
        if (models) models_choose_dialect(ctx);
        else ctx.path_model = route.path_model;
        if (route.endpoint == Endpoint::unknown) {
            return fail(ctx, 404, "Unknown endpoint " + std::string(string_view_of(r->uri)) + ".",
                        "invalid_request_error", "", "unknown_url");
        }
        if (route.endpoint == Endpoint::not_served) {
            return fail(ctx, 404, "The endpoint " + std::string(string_view_of(r->uri)) + " is not served by this gateway.",
                        "invalid_request_error", "", "endpoint_not_served");
        }
        if (!route.method_allowed) {
            ctx.allow = route.allow;
            return fail(ctx, 405, "Only " + std::string(route.allow) + " is supported on this endpoint.",
                        "invalid_request_error", "", "method_not_allowed");
        }
        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
        if (mc->shm_zone == nullptr) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: no routeshift_zone configured");
            return fail(ctx, 500, "Gateway misconfigured.", "server_error", "", "");
        }
        ctx.zone = mc->shm_zone;
        ctx.cfg = zone_config(mc->shm_zone);
        ctx.slots = zone_slots(mc->shm_zone);
        ctx.endpoints = zone_endpoints(mc->shm_zone);
        if (!ctx.cfg) {
            ctx.retry_after = 1;  // the sync pushes within about a second of a restart
            return fail(ctx, 503, "The gateway has not received its configuration yet.", "server_error",
                        "", "not_configured");
        }

        std::string_view authz = r->headers_in.authorization ? string_view_of(r->headers_in.authorization->value)
                                                             : std::string_view{};
        std::string_view key = ctx.dialect == Dialect::google
                                   ? presented_google_key(r, authz)
                                   : presented_key(authz, find_header(r->headers_in.headers, "x-api-key"),
                                                   find_header(r->headers_in.headers, "api-key"));
        if (key.empty()) {
            return fail(ctx, 401,
                        "Missing API key. Send 'Authorization: Bearer sk-proxy-...' or 'x-api-key'.",
                        "authentication_error", "", "missing_api_key");
        }
        ApiError err;
        ctx.vk = authenticate(*ctx.cfg, key, (int64_t)ngx_time(), &err);
        if (ctx.vk == nullptr) return fail(ctx, err);
        if (models) return send_models_answer(ctx, route.path_model);  // no body, no spend
        if (!spend_admit_caller(ctx)) return finalize_error(ctx);  // over its spend budget: 429

        if (r->headers_in.content_length_n > (off_t)lc->max_body_size) {
            return fail(ctx, 413,
                        "Request body is too large (limit " + std::to_string(lc->max_body_size) + " bytes).",
                        "invalid_request_error", "", "request_too_large");
        }
        // an upload goes to nginx's temp file beyond client_body_buffer_size (docs/design.md §21)
        ngx_int_t rc = ctx.endpoint == Endpoint::openai_relay && relay_body_spools(r) ? read_body_spooled(r, body_handler)
                                                                                      : read_body_in_memory(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
                return fail(ctx, 413,
                            "Request body is too large (limit " + std::to_string(lc->max_body_size) + " bytes).",
                            "invalid_request_error", "", "request_too_large");
            }
            return rc;  // the error filter renders it in OpenAI shape
        }
        return NGX_DONE;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: %s", e.what());
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: unknown exception in the chat handler");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

RequestCtx::~RequestCtx() {
    for (ngx_resolver_ctx_t* c : dns_ctxs) ngx_resolve_name_done(c);  // request ended mid-lookup
    release_reserved_pick();  // ended before its first attempt
    // no attempt succeeded: the caller's token reservation was not spent
    if (caller_reserved && zone && cfg && vk) zone_adjust_caller(zone, *cfg, *vk, -reserve_tokens);
}

void RequestCtx::release_reserved_pick() noexcept {
    if (reserved_pick < 0) return;
    size_t pick = (size_t)reserved_pick;
    reserved_pick = -1;
    if (zone == nullptr || cfg == nullptr || slots == nullptr) return;
    // the pick indexes the plan's candidates, which `cands` takes over one for one
    const PlannedCandidate* c = pick < cands.size()                ? &cands[pick]
                                : pick < plan.candidates.size() ? &plan.candidates[pick]
                                                                : nullptr;
    bool probe = reserved_probe;
    reserved_probe = false;
    if (c && c->key < slots->size()) zone_release_pick(zone, *cfg, (*slots)[c->key], c->key, reserve_tokens, probe);
}

}  // namespace routeshift
