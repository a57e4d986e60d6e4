// Asynchronous DNS for provider hosts. The upstream's peer.get is synchronous, so every
// candidate's address is resolved before the first attempt, with nginx's own resolver (and its
// cache: a warm name answers within the same event-loop turn).
#include "ngx_routeshift.hpp"

namespace routeshift {
namespace {

struct DnsJob {
    RequestCtx* ctx;
    void (*done)(RequestCtx&);
    std::string host;
};

bool g_launching = false;  // resolve_candidates is starting lookups (single-threaded worker)

void set_addr(ngx_pool_t* pool, Candidate& c, const struct sockaddr* sa, socklen_t len) {
    auto* copy = static_cast<struct sockaddr*>(ngx_palloc(pool, len));
    if (copy == nullptr) {
        c.unusable = true;
        c.unusable_reason = "out of memory";
        return;
    }
    ngx_memcpy(copy, sa, len);
    ngx_inet_set_port(copy, (in_port_t)c.ent->port);
    c.addr.sockaddr = copy;
    c.addr.socklen = len;
}

void mark_host_unusable(RequestCtx& ctx, const std::string& host, const std::string& reason) {
    for (Candidate& c : ctx.cands) {
        if (!c.unusable && !c.addr.sockaddr && c.ent->host == host) {
            c.unusable = true;
            c.unusable_reason = reason;
        }
    }
}

// Runs `done` once every lookup ended. Called from nginx's resolver callback too, so everything
// `done` starts (the upstream) runs inside this try.
void finish_if_done(RequestCtx& ctx, void (*done)(RequestCtx&), bool from_event) noexcept {
    if (ctx.dns_pending != 0 || g_launching) return;
    ngx_http_request_t* r = ctx.r;
    ngx_connection_t* c = r->connection;
    try {
        for (Candidate& cand : ctx.cands) {  // never pick a key without an address
            if (!cand.unusable && cand.addr.sockaddr == nullptr) {
                cand.unusable = true;
                cand.unusable_reason = "no address for " + cand.ent->host;
            }
        }
        done(ctx);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: starting the upstream failed: %s", e.what());
        ctx.release_reserved_pick();
        ctx.fail(500, "Internal gateway error.", "server_error", "", "");
        ngx_http_finalize_request(r, finalize_error(ctx));
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: starting the upstream failed (unknown exception)");
        ctx.release_reserved_pick();
        ctx.fail(500, "Internal gateway error.", "server_error", "", "");
        ngx_http_finalize_request(r, finalize_error(ctx));
    }
    if (from_event) ngx_http_run_posted_requests(c);
}

void on_resolved(ngx_resolver_ctx_t* rctx) noexcept {
    auto* job = static_cast<DnsJob*>(rctx->data);
    RequestCtx& ctx = *job->ctx;
    try {
        for (Candidate& c : ctx.cands) {
            if (c.unusable || c.ent->host != job->host || c.addr.sockaddr) continue;
            if (rctx->state != 0 || rctx->naddrs == 0) {
                c.unusable = true;
                c.unusable_reason = "DNS lookup of " + job->host + " failed (" +
                                    std::string(reinterpret_cast<const char*>(ngx_resolver_strerror(rctx->state))) + ")";
                continue;
            }
            ngx_uint_t i = rctx->naddrs > 1 ? ngx_random() % rctx->naddrs : 0;
            set_addr(ctx.r->pool, c, rctx->addrs[i].sockaddr, rctx->addrs[i].socklen);
        }
        if (rctx->state != 0) {
            ngx_log_error(NGX_LOG_WARN, ctx.r->connection->log, 0, "routeshift: cannot resolve \"%V\": %s",
                          &rctx->name, ngx_resolver_strerror(rctx->state));
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, ctx.r->connection->log, 0, "routeshift: DNS answer for \"%V\" not used: %s",
                      &rctx->name, e.what());
        for (Candidate& c : ctx.cands) {  // the candidates without an address become unusable
            if (!c.unusable && !c.addr.sockaddr && c.ent->host == job->host) c.unusable = true;
        }
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, ctx.r->connection->log, 0, "routeshift: DNS answer for \"%V\" not used",
                      &rctx->name);
        for (Candidate& c : ctx.cands) {
            if (!c.unusable && !c.addr.sockaddr && c.ent->host == job->host) c.unusable = true;
        }
    }
    for (auto it = ctx.dns_ctxs.begin(); it != ctx.dns_ctxs.end(); ++it) {
        if (*it == rctx) {
            ctx.dns_ctxs.erase(it);
            break;
        }
    }
    ngx_resolve_name_done(rctx);
    ctx.dns_pending--;
    finish_if_done(ctx, job->done, true);
}

}  // namespace

void resolve_candidates(RequestCtx& ctx, void (*done)(RequestCtx&)) {
    ngx_http_request_t* r = ctx.r;
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
    std::vector<std::string> names;

    for (Candidate& c : ctx.cands) {
        if (c.unusable) continue;
        if (c.ent->host_is_ip) {  // parsed once per config version (EndpointEntry)
            c.addr.sockaddr = reinterpret_cast<struct sockaddr*>(const_cast<unsigned char*>(c.ent->ip_sockaddr.data()));
            c.addr.socklen = c.ent->ip_socklen;
            continue;
        }
        bool seen = false;
        for (const auto& n : names) seen = seen || n == c.ent->host;
        if (!seen) names.push_back(c.ent->host);
    }

    // While lookups are being started, an answer from the resolver's cache must not finish the
    // request under our feet; the flag is cleared on every way out of the loop.
    struct Launching {
        Launching() { g_launching = true; }
        ~Launching() { g_launching = false; }
    };
    {
    Launching launching;
    for (const std::string& host : names) {
        ngx_resolver_ctx_t* rctx = ngx_resolve_start(clcf->resolver, nullptr);
        if (rctx == nullptr || rctx == NGX_NO_RESOLVER) {
            mark_host_unusable(ctx, host, rctx ? "no \"resolver\" is configured to look up " + host
                                                : std::string("out of memory"));
            if (rctx == NGX_NO_RESOLVER) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "routeshift: no resolver defined to resolve %s", host.c_str());
            }
            continue;
        }
        DnsJob* job = pool_new<DnsJob>(r->pool, DnsJob{&ctx, done, host});
        u_char* name = static_cast<u_char*>(ngx_pnalloc(r->pool, host.size()));
        if (job == nullptr || name == nullptr) {
            ngx_resolve_name_done(rctx);
            mark_host_unusable(ctx, host, "out of memory");
            continue;
        }
        ngx_memcpy(name, host.data(), host.size());
        rctx->name.data = name;
        rctx->name.len = host.size();
        rctx->handler = on_resolved;
        rctx->data = job;
        rctx->timeout = clcf->resolver_timeout;
        ctx.dns_pending++;
        ctx.dns_ctxs.push_back(rctx);
        if (ngx_resolve_name(rctx) != NGX_OK) {  // rctx is freed by nginx on error
            ctx.dns_ctxs.pop_back();
            ctx.dns_pending--;
            mark_host_unusable(ctx, host, "DNS lookup of " + host + " could not start");
        }
    }
    }
    finish_if_done(ctx, done, false);
}

}  // namespace routeshift
