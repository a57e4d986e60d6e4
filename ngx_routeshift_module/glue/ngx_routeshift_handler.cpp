// The chat-completions content handler: authenticate, read and validate the body, resolve the
// model, collect candidate provider keys, resolve their hosts, then hand over to the upstream.
#include "ngx_routeshift.hpp"
#include "ingress/virtual_key_auth.hpp"

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
    ctx.has_error = true;
    return finalize_error(ctx);
}

// The body is kept in memory (see merge_loc_conf); it arrives as one buffer, or a short chain.
bool body_text(ngx_http_request_t* r, std::string* storage, std::string_view* out) {
    ngx_http_request_body_t* rb = r->request_body;
    if (rb == nullptr || rb->bufs == nullptr) {
        *out = {};
        return true;
    }
    if (rb->temp_file) return false;
    if (rb->bufs->next == nullptr && !rb->bufs->buf->in_file) {
        ngx_buf_t* b = rb->bufs->buf;
        *out = std::string_view(reinterpret_cast<const char*>(b->pos), (size_t)(b->last - b->pos));
        return true;
    }
    for (ngx_chain_t* cl = rb->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) return false;
        storage->append(reinterpret_cast<const char*>(cl->buf->pos), (size_t)(cl->buf->last - cl->buf->pos));
    }
    *out = *storage;
    return true;
}

// The endpoint of key `ki` for `model`, from the per-config cache.
const EndpointEntry& endpoint_for(RequestCtx& ctx, size_t ki, const std::string& model) {
    std::string ck = std::to_string(ki);
    ck += ctx.req.stream ? "|s|" : "|n|";
    ck += model;
    auto it = ctx.endpoints->find(ck);
    if (it != ctx.endpoints->end()) return it->second;
    EndpointEntry e;
    const ProviderKey& key = ctx.cfg->keys[ki];
    e.ok = wire_adapter(key).endpoint(*ctx.cfg, key, model, ctx.req.stream, &e.ep, &e.error);
    if (e.ok) {
        e.conn_key = e.ep.sni + "|" + e.ep.host;
        e.peer_name_text = e.ep.host + ":" + std::to_string(e.ep.port);
        if (e.ep.host_is_ip) {
            ngx_addr_t addr;
            std::string h = e.ep.host;
            if (ngx_parse_addr(ctx.r->pool, &addr, (u_char*)h.data(), h.size()) == NGX_OK) {
                ngx_inet_set_port(addr.sockaddr, (in_port_t)e.ep.port);
                auto* p = reinterpret_cast<unsigned char*>(addr.sockaddr);
                e.ip_sockaddr.assign(p, p + addr.socklen);
                e.ip_socklen = addr.socklen;
            } else {
                e.ok = false;
                e.error = "bad address " + h;
            }
        }
    }
    // Clients choose model names (a "*" provider takes any): past this size the cache stops
    // growing and the entry lives only as long as the request.
    constexpr size_t kMaxCachedEndpoints = 4096;
    EndpointEntry* slot;
    if (ctx.endpoints->size() < kMaxCachedEndpoints) {
        slot = &ctx.endpoints->emplace(std::move(ck), std::move(e)).first->second;
    } else {
        slot = &ctx.own_endpoints.emplace_back(std::move(e));
    }
    EndpointEntry& stored = *slot;
    stored.peer_name.data = reinterpret_cast<u_char*>(stored.peer_name_text.data());
    stored.peer_name.len = stored.peer_name_text.size();
    return stored;
}

void after_resolve(RequestCtx& ctx) {
    bool any = false;
    std::string reason;
    for (const Candidate& c : ctx.cands) {
        if (!c.unusable) any = true;
        else if (reason.empty()) reason = c.unusable_reason;
    }
    if (!any) {
        ngx_http_finalize_request(ctx.r, fail(ctx, 502, "No provider endpoint is reachable: " + reason,
                                              "server_error", "", "provider_unreachable"));
        return;
    }
    start_upstream(ctx);
}

void body_handler(ngx_http_request_t* r) noexcept {
    RequestCtx* pctx = get_ctx(r);
    if (pctx == nullptr) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    RequestCtx& ctx = *pctx;
    try {
        std::string storage;
        std::string_view body;
        if (!body_text(r, &storage, &body)) {
            ngx_http_finalize_request(r, fail(ctx, 413, "Request body is too large.",
                                              "invalid_request_error", "", "request_too_large"));
            return;
        }
        ApiError err;
        auto req = parse_chat_request(body, &err);
        if (!req) {
            ngx_http_finalize_request(r, fail(ctx, err));
            return;
        }
        ctx.req = std::move(*req);
        ctx.requested_model = ctx.req.route_hint.empty() ? ctx.req.model : ctx.req.route_hint;

        const Config& cfg = *ctx.cfg;
        if (!resolve_model(cfg, ctx.vk->team_id, ctx.requested_model, &ctx.targets, &err)) {
            ngx_http_finalize_request(r, fail(ctx, err));
            return;
        }

        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
        const std::vector<int>& slots = *ctx.slots;
        const ApiError* body_error = nullptr;
        for (size_t t = 0; t < ctx.targets.size(); t++) {
            size_t pi = ctx.targets[t].provider;
            const Provider& p = cfg.providers[pi];
            for (size_t ki : p.keys) {
                const ProviderKey& key = cfg.keys[ki];
                if (!key.enabled || key.weight <= 0) continue;
                Candidate c;
                c.key = ki;
                c.target = t;
                c.slot = ki < slots.size() ? slots[ki] : -1;
                const EndpointEntry& ent = endpoint_for(ctx, ki, ctx.targets[t].upstream_model);
                c.ent = &ent;
                c.ep = &ent.ep;
                if (!ent.ok) {
                    c.unusable = true;
                    c.unusable_reason = ent.error;
                }
                // the provider's body, built once and shared by its keys (Azure: per key)
                const WireAdapter& wire = wire_adapter(key);
                int64_t kid = wire.body_depends_on_key(cfg, key) ? key.id : -1;
                for (size_t b = 0; b < ctx.bodies.size(); b++) {
                    const auto& B = ctx.bodies[b];
                    if (B.target == t && B.provider == pi && B.key_id == kid) c.body = b;
                }
                if (c.body == SIZE_MAX) {
                    RequestCtx::Body B{t, pi, kid, false, {}, {}};
                    B.ok = wire.build_body(cfg, key, ctx.req, ctx.targets[t].upstream_model, &B.bytes, &B.error);
                    c.body = ctx.bodies.size();
                    ctx.bodies.push_back(std::move(B));
                }
                if (!ctx.bodies[c.body].ok) {
                    c.unusable = true;
                    c.unusable_reason = ctx.bodies[c.body].error.message;
                    if (!body_error) body_error = &ctx.bodies[c.body].error;
                }
                ctx.cands.push_back(std::move(c));
            }
        }
        if (body_error) {
            bool any_usable = false;
            for (const Candidate& c : ctx.cands) any_usable = any_usable || !c.unusable;
            if (!any_usable) {  // no provider can express this request
                ApiError e = *body_error;
                ngx_http_finalize_request(r, fail(ctx, e));
                return;
            }
        }
        ctx.budget = cfg.settings.retry_budget > 0 ? (ngx_uint_t)cfg.settings.retry_budget : lc->retry_budget;
        if (ctx.budget == 0) ctx.budget = 1;

        int64_t wait_ms = -1;
        size_t healthy = zone_count_healthy(mc->shm_zone, ctx, &wait_ms);
        if (healthy == 0) {
            if (wait_ms >= 0) {
                ctx.retry_after = (ngx_uint_t)((wait_ms + 999) / 1000);
                ngx_http_finalize_request(
                    r, fail(ctx, 503,
                            "Every provider key for model '" + ctx.targets[0].public_model +
                                "' is cooling down after upstream errors; retry later.",
                            "server_error", "", "all_keys_cooling_down"));
            } else {
                ngx_http_finalize_request(
                    r, fail(ctx, 503,
                            "No enabled provider key serves model '" + ctx.targets[0].public_model + "'.",
                            "server_error", "", "no_provider_key"));
            }
            return;
        }
        ctx.budget = std::min<ngx_uint_t>(ctx.budget, healthy);
        resolve_candidates(ctx, after_resolve);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: %s", e.what());
        ngx_http_finalize_request(r, fail(ctx, 500, "Internal gateway error.", "server_error", "", ""));
    } catch (...) {
        ngx_http_finalize_request(r, fail(ctx, 500, "Internal gateway error.", "server_error", "", ""));
    }
}

}  // namespace

RequestCtx* get_ctx(ngx_http_request_t* r) {
    return static_cast<RequestCtx*>(ngx_http_get_module_ctx(r, ngx_http_routeshift_module));
}

ngx_int_t chat_handler(ngx_http_request_t* r) noexcept {
    try {
        RequestCtx* pctx = pool_new<RequestCtx>(r->pool);
        if (pctx == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
        RequestCtx& ctx = *pctx;
        ctx.r = r;
        ctx.start_msec = ngx_current_msec;
        ngx_http_set_ctx(r, pctx, ngx_http_routeshift_module);

        if (r->method != NGX_HTTP_POST) {
            return fail(ctx, 405, "Only POST is supported on this endpoint.", "invalid_request_error",
                        "", "method_not_allowed");
        }
        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
        if (mc->shm_zone == nullptr) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: no routeshift_zone configured");
            return fail(ctx, 500, "Gateway misconfigured.", "server_error", "", "");
        }
        ctx.cfg = zone_config(mc->shm_zone);
        ctx.slots = zone_slots(mc->shm_zone);
        ctx.endpoints = zone_endpoints(mc->shm_zone);
        if (!ctx.cfg) {
            return fail(ctx, 503, "The gateway has not received its configuration yet.", "server_error",
                        "", "not_configured");
        }

        std::string_view authz = r->headers_in.authorization ? sv(r->headers_in.authorization->value)
                                                             : std::string_view{};
        std::string_view key = presented_key(authz, find_header(r->headers_in.headers, "x-api-key"));
        if (key.empty()) {
            return fail(ctx, 401,
                        "Missing API key. Send 'Authorization: Bearer sk-proxy-...' or 'x-api-key'.",
                        "authentication_error", "", "missing_api_key");
        }
        ApiError err;
        ctx.vk = authenticate(*ctx.cfg, key, (int64_t)ngx_time(), &err);
        if (ctx.vk == nullptr) return fail(ctx, err);

        if (r->headers_in.content_length_n > (off_t)lc->max_body_size) {
            return fail(ctx, 413,
                        "Request body is too large (limit " + std::to_string(lc->max_body_size) + " bytes).",
                        "invalid_request_error", "", "request_too_large");
        }
        r->request_body_in_single_buf = 1;
        ngx_int_t rc = ngx_http_read_client_request_body(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
                return fail(ctx, 413,
                            "Request body is too large (limit " + std::to_string(lc->max_body_size) + " bytes).",
                            "invalid_request_error", "", "request_too_large");
            }
            return rc;  // the error filter renders it in OpenAI shape
        }
        return NGX_DONE;
    } catch (...) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace routeshift
