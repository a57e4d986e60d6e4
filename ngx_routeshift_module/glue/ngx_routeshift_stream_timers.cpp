// A stream's time limits per attempt (docs/design.md §10), separate from the socket read timeout:
// routeshift_first_token_timeout, or the deciding routing rule's first_token_timeout_ms (from the
// attempt's start to its first content-bearing event)
// and routeshift_stream_idle_timeout (between two reads once the stream is relayed). Both are
// nginx's own upstream read timer, armed from the request's copy of the upstream conf: no timer
// of ours outlives the connection, and a timeout takes nginx's own paths (the next candidate
// before the headers went out, the stream's error event after).
#include "ngx_routeshift_response.hpp"

namespace routeshift {

ngx_int_t stream_timers_init(ngx_http_request_t* r, RequestCtx& ctx, const LocConf& lc) {
    // the deciding routing rule's first-token limit replaces the directive's
    int64_t rule_limit = ctx.plan.budget.first_token_timeout_ms;
    ngx_msec_t first_token = rule_limit > 0 ? (ngx_msec_t)rule_limit : lc.first_token_timeout;
    if (!ctx.req.stream || (first_token == 0 && lc.stream_idle_timeout == 0)) return NGX_OK;
    auto* conf = static_cast<ngx_http_upstream_conf_t*>(ngx_palloc(r->pool, sizeof(ngx_http_upstream_conf_t)));
    if (conf == nullptr) return NGX_ERROR;
    *conf = lc.upstream;
    ctx.timers.conf = conf;
    ctx.timers.first_token = first_token;
    ctx.timers.idle = lc.stream_idle_timeout;
    ctx.timers.read = lc.upstream.read_timeout;
    r->upstream->conf = conf;
    return NGX_OK;
}

void stream_timers_attempt(RequestCtx& ctx) {
    StreamTimers& t = ctx.timers;
    if (t.conf == nullptr) return;
    // armed by nginx once the request is sent; the deadline counts from the pick
    t.conf->read_timeout = t.first_token ? std::min(t.first_token, t.read) : t.read;
}

void stream_timers_rearm(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_connection_t* c = r->upstream->peer.connection;
    if (c == nullptr) return;
    const StreamTimers& t = ctx.timers;
    ngx_msec_t timeout = r->upstream->conf->read_timeout;
    if (ctx.req.stream && t.first_token) {
        // no content yet: what is left of the first-token limit
        ngx_msec_t deadline = ctx.attempt.started_msec + t.first_token;
        ngx_msec_t left = (ngx_msec_int_t)(deadline - ngx_current_msec) > 0 ? deadline - ngx_current_msec : 1;
        timeout = std::min(left, t.read);
    }
    ngx_add_timer(c->read, timeout);
}

void stream_timers_released(RequestCtx& ctx) {
    StreamTimers& t = ctx.timers;
    if (t.conf == nullptr) return;
    t.conf->read_timeout = t.idle ? t.idle : t.read;
}

const char* stream_timers_token(const RequestCtx& ctx, bool relaying) {
    const StreamTimers& t = ctx.timers;
    if (relaying) return t.idle ? "stall" : nullptr;
    if (!t.first_token) return nullptr;
    // the first-token limit fired unless the socket read timeout is the shorter one
    return t.first_token <= t.read ? "ttft" : nullptr;
}

}  // namespace routeshift
