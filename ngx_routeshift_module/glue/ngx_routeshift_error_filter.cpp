// Header and body filters for gateway locations:
//  * relayed provider answers get the X-RouteShift-* headers (and lose Content-Length where the
//    body is re-framed or normalised);
//  * every error response nginx itself produces for a request we handle (our own 4xx, "no live
//    upstreams", timeouts after the last attempt, body too large...) is rewritten into the
//    error envelope of the client's dialect (OpenAI, Anthropic, Google: docs/design.md §18), so a
//    client never sees an HTML error page.
#include "ngx_routeshift.hpp"
#include "dialect/dialect_error.hpp"

namespace routeshift {
namespace {

ngx_http_output_header_filter_pt next_header_filter;
ngx_http_output_body_filter_pt next_body_filter;

ngx_int_t add_header(ngx_http_request_t* r, std::string_view name, std::string_view value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) return NGX_ERROR;
    u_char* p = static_cast<u_char*>(ngx_pnalloc(r->pool, name.size() + value.size()));
    if (p == nullptr) return NGX_ERROR;
    ngx_memcpy(p, name.data(), name.size());
    ngx_memcpy(p + name.size(), value.data(), value.size());
    h->hash = 1;
    h->key.data = p;
    h->key.len = name.size();
    h->value.data = p + name.size();
    h->value.len = value.size();
    h->lowcase_key = nullptr;
    return NGX_OK;
}

ngx_int_t add_routing_headers(ngx_http_request_t* r, RequestCtx& ctx) {
    if (ctx.current >= 0) {
        const Candidate& c = ctx.cands[(size_t)ctx.current];
        const ProviderKey& k = ctx.cfg->keys[c.key];
        if (add_header(r, "X-RouteShift-Provider", ctx.cfg->providers[k.provider].name) != NGX_OK) return NGX_ERROR;
        if (add_header(r, "X-RouteShift-Resolved-Model", ctx.plan.targets[c.target].upstream_model) != NGX_OK) return NGX_ERROR;
    }
    if (ctx.attempts > 0 && add_header(r, "X-RouteShift-Attempts", std::to_string(ctx.attempts)) != NGX_OK) {
        return NGX_ERROR;
    }
    if (cost_ceiling_exceeded(ctx) && add_header(r, "X-RouteShift-Cost-Ceiling", "exceeded") != NGX_OK) {
        return NGX_ERROR;
    }
    return NGX_OK;
}

void set_json_type(ngx_http_request_t* r) {
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = nullptr;
    r->headers_out.charset.len = 0;
}

ApiError default_error(int status, const RequestCtx& ctx) {
    ApiError e;
    e.status = status;
    e.type = std::string(openai_error_type_for_status(status));
    switch (status) {
    case 400: e.message = "Malformed request."; break;
    case 405: e.message = "Method not allowed."; break;
    case 408: e.message = "Timed out reading the request."; break;
    case 413: e.message = "Request body is too large."; e.code = "request_too_large"; break;
    case 502:
        e.message = ctx.attempts ? "All attempts to reach a provider failed. " + ctx.last_failure
                                 : "Bad gateway.";
        e.code = "upstream_error";
        break;
    case 503: e.message = "No provider is available right now. " + ctx.last_failure; e.code = "upstream_unavailable"; break;
    case 504:
        e.message = "The provider did not answer in time. " + ctx.last_failure;
        e.code = "upstream_timeout";
        break;
    default: e.message = "Gateway error (HTTP " + std::to_string(status) + ")."; break;
    }
    return e;
}

// nginx may answer before our handler runs (e.g. a Content-Length over the limit is refused
// while the location is chosen): give such errors a context so they are rendered too.
RequestCtx* ctx_for_error(ngx_http_request_t* r) {
    if (r != r->main || r->headers_out.status < 400) return nullptr;
    auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
    if (lc == nullptr || !lc->pass) return nullptr;
    RequestCtx* ctx = pool_new_recycled<RequestCtx>(r->pool);
    if (ctx == nullptr) return nullptr;
    ctx->r = r;
    ctx->dialect = route_endpoint({}, string_view_of(r->uri)).dialect;  // the error in the client's dialect
    ngx_http_set_ctx(r, ctx, ngx_http_routeshift_module);
    return ctx;
}

// A list whose later provider page failed (§21): what the earlier pages kept, as a 200 in place of
// nginx's error page (the body filter swaps the body as for an error).
ngx_int_t send_interrupted_page(ngx_http_request_t* r, RequestCtx& ctx) {
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.status_line.len = 0;
    ctx.replace_body = true;
    set_json_type(r);
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    r->headers_out.content_length_n = (off_t)ctx.error_json.size();
    if (add_routing_headers(r, ctx) != NGX_OK) return NGX_ERROR;
    return next_header_filter(r);
}

ngx_int_t header_filter(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = r == r->main ? get_ctx(r) : nullptr;
    try {
        if (ctx == nullptr) ctx = ctx_for_error(r);
        if (ctx == nullptr) return next_header_filter(r);
        if (ctx->relaying()) {
            const Response& resp = ctx->response;
            if (add_routing_headers(r, *ctx) != NGX_OK) return NGX_ERROR;
            if (resp.client_status) {
                r->headers_out.status = (ngx_uint_t)resp.client_status;
                r->headers_out.status_line.len = 0;
            }
            if (resp.mode != BodyMode::passthrough) {  // re-framed or replaced
                ngx_http_clear_content_length(r);
                // a translated answer held whole goes out as it is: its length is known, so no
                // chunked framing (and no separate write for the last chunk)
                if (resp.mode == BodyMode::translated && !ctx->req.stream && ctx->phase == Phase::complete) {
                    r->headers_out.content_length_n = (off_t)resp.held.size();
                }
            }
            if (resp.mode == BodyMode::error || (resp.converted && !ctx->req.stream)) set_json_type(r);
            if (resp.converted && ctx->req.stream) {
                ngx_str_set(&r->headers_out.content_type, "text/event-stream");
                r->headers_out.content_type_len = r->headers_out.content_type.len;
                r->headers_out.content_type_lowcase = nullptr;
                r->headers_out.charset.len = 0;
            }
            return next_header_filter(r);
        }
        int status = (int)r->headers_out.status;
        if (status < 400) return next_header_filter(r);
        if (relay_interrupted_page(*ctx, &ctx->error_json)) return send_interrupted_page(r, *ctx);
        ApiError e = ctx->phase == Phase::failed ? ctx->error : default_error(status, *ctx);
        e.status = status;
        ctx->error_json = dialect_error_body(ctx->dialect, e);
        ctx->replace_body = true;
        set_json_type(r);
        ngx_http_clear_content_length(r);
        ngx_http_clear_accept_ranges(r);
        ngx_http_clear_last_modified(r);
        r->headers_out.content_length_n = (off_t)ctx->error_json.size();
        if (ctx->retry_after && add_header(r, "Retry-After", std::to_string(ctx->retry_after)) != NGX_OK) {
            return NGX_ERROR;
        }
        if (!ctx->allow.empty() && add_header(r, "Allow", ctx->allow) != NGX_OK) return NGX_ERROR;
        if (add_routing_headers(r, *ctx) != NGX_OK) return NGX_ERROR;
        return next_header_filter(r);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: header filter failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: header filter failed");
        return NGX_ERROR;
    }
}

ngx_int_t body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    RequestCtx* ctx = r == r->main ? get_ctx(r) : nullptr;
    if (ctx == nullptr || !ctx->replace_body) return next_body_filter(r, in);
    bool last = false;
    for (ngx_chain_t* cl = in; cl; cl = cl->next) {  // drop nginx's HTML page
        if (cl->buf->last_buf || cl->buf->last_in_chain) last = true;
        cl->buf->pos = cl->buf->last;
        if (cl->buf->in_file) cl->buf->file_pos = cl->buf->file_last;
    }
    if (!last) return NGX_OK;
    ctx->replace_body = false;
    ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
    if (b == nullptr) return NGX_ERROR;
    b->pos = reinterpret_cast<u_char*>(ctx->error_json.data());
    b->last = b->pos + ctx->error_json.size();
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, nullptr};
    return next_body_filter(r, &out);
}

}  // namespace

ngx_int_t finalize_error(RequestCtx& ctx) {
    ctx.phase = Phase::failed;
    return ctx.error.status;
}

ngx_int_t error_filter_init(ngx_conf_t*) {
    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = header_filter;
    next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = body_filter;
    return NGX_OK;
}

}  // namespace routeshift
