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
    ngx_inet_set_port(copy, (in_port_t)c.ep->port);
    c.addr.sockaddr = copy;
    c.addr.socklen = len;
}

void finish_if_done(RequestCtx& ctx, void (*done)(RequestCtx&), bool from_event) {
    if (ctx.dns_pending != 0 || g_launching) return;
    ngx_connection_t* c = ctx.r->connection;
    done(ctx);
    if (from_event) ngx_http_run_posted_requests(c);
}

void on_resolved(ngx_resolver_ctx_t* rctx) noexcept {
    auto* job = static_cast<DnsJob*>(rctx->data);
    RequestCtx& ctx = *job->ctx;
    try {
        for (Candidate& c : ctx.cands) {
            if (c.unusable || c.ep->host != job->host || c.addr.sockaddr) continue;
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
    } catch (...) {
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
        if (c.ep->host_is_ip) {  // parsed once per config version (EndpointEntry)
            c.addr.sockaddr = reinterpret_cast<struct sockaddr*>(const_cast<unsigned char*>(c.ent->ip_sockaddr.data()));
            c.addr.socklen = c.ent->ip_socklen;
            continue;
        }
        bool seen = false;
        for (const auto& n : names) seen = seen || n == c.ep->host;
        if (!seen) names.push_back(c.ep->host);
    }

    g_launching = true;
    for (const std::string& host : names) {
        ngx_resolver_ctx_t* rctx = ngx_resolve_start(clcf->resolver, nullptr);
        if (rctx == nullptr || rctx == NGX_NO_RESOLVER) {
            for (Candidate& c : ctx.cands) {
                if (c.ep->host == host && !c.unusable) {
                    c.unusable = true;
                    c.unusable_reason = rctx ? "no \"resolver\" is configured to look up " + host
                                             : std::string("out of memory");
                }
            }
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
            for (Candidate& c : ctx.cands) {
                if (c.ep->host == host && !c.unusable && !c.addr.sockaddr) {
                    c.unusable = true;
                    c.unusable_reason = "DNS lookup of " + host + " could not start";
                }
            }
        }
    }
    g_launching = false;
    finish_if_done(ctx, done, false);
}

}  // namespace routeshift
