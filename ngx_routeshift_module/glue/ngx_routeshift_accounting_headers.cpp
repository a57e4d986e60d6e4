// Sessions and cost in the response (docs/design.md §12): X-RouteShift-Session-Id on every
// response whose session is known, X-RouteShift-Cost-Microcents on every response whose body is
// complete when its headers go out (non-streaming answers, errors), and, for streams whose client
// sent `TE: trailers`, both as HTTP trailers after the last chunk (announced by `Trailer:`).
// A header filter and a body filter below the error filter, so they see every response of a
// routeshift_pass location, the gateway's own errors included.
#include "ngx_routeshift.hpp"

namespace routeshift {
namespace {

ngx_http_output_header_filter_pt next_header_filter;
ngx_http_output_body_filter_pt next_body_filter;

constexpr std::string_view kSessionHeader = "X-RouteShift-Session-Id";
constexpr std::string_view kCostHeader = "X-RouteShift-Cost-Microcents";

ngx_int_t push_field(ngx_http_request_t* r, ngx_list_t* list, std::string_view name, std::string_view value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(list));
    if (h == nullptr) return NGX_ERROR;
    u_char* p = static_cast<u_char*>(ngx_pnalloc(r->pool, name.size() + value.size()));
    if (p == nullptr) {
        h->hash = 0;
        return NGX_ERROR;
    }
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

// The client accepts trailers: `TE: trailers` (a comma-separated list, any case), over HTTP/1.1
// chunked (nginx's chunked filter writes r->headers_out.trailers after the last chunk) or HTTP/2
// (a trailing HEADERS frame from the same list).
bool client_accepts_trailers(ngx_http_request_t* r) {
    if (r->headers_in.te == nullptr || r->http_version < NGX_HTTP_VERSION_11) return false;
    std::string_view te = string_view_of(r->headers_in.te->value);
    while (!te.empty()) {
        size_t comma = te.find(',');
        std::string_view item = te.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        size_t end = item.find_first_of(" \t;");
        item = item.substr(0, end);
        if (item.size() == 8 && ngx_strncasecmp((u_char*)item.data(), (u_char*)"trailers", 8) == 0) return true;
        if (comma == std::string_view::npos) break;
        te.remove_prefix(comma + 1);
    }
    return false;
}

// A provider's 2xx answer (or a static rule's) is what the client received.
bool answer_relayed(const RequestCtx& ctx) {
    if (!ctx.relaying() || ctx.response.mode == BodyMode::error) return false;
    if (ctx.current < 0) return ctx.plan.static_answer;
    int status = ctx.attempt.upstream_status;
    if (ctx.response.translator && ctx.response.translator->saw_error() && !ctx.req.stream) return false;
    return status >= 200 && status < 300;
}

// Everything the response will say is known: the body is complete (non-streaming answers held
// until then, static answers, the gateway's errors) or there is no upstream body at all. A relayed
// provider error goes out as it is read: the cost so far (that error's own usage, which error
// bodies rarely report, is not in it).
bool body_known(const RequestCtx& ctx) {
    return ctx.phase != Phase::relaying || ctx.response.mode == BodyMode::error;
}

// A first turn's session completes once its answer is complete (as far as the client got it).
void settle_session(RequestCtx& ctx, bool body_complete) {
    if (ctx.session.awaiting_answer() && body_complete && answer_relayed(ctx)) ctx.session.complete_answer();
}

ngx_int_t header_filter(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = r == r->main ? get_ctx(r) : nullptr;
    if (ctx == nullptr) return next_header_filter(r);
    try {
        bool complete = body_known(*ctx);
        settle_session(*ctx, complete);
        if (ctx->session.known() && push_field(r, &r->headers_out.headers, kSessionHeader, ctx->session.id()) != NGX_OK) {
            return NGX_ERROR;
        }
        if (complete) {
            if (!ctx->cost_unknown && push_field(r, &r->headers_out.headers, kCostHeader, std::to_string(ctx->spent_microcents)) != NGX_OK) {
                return NGX_ERROR;
            }
        } else if (client_accepts_trailers(r)) {
            // a stream: the cost (and a first turn's session) is known only at its end
            r->expect_trailers = 1;
            ctx->trailers_pending = true;
            std::string announced(kCostHeader);
            if (!ctx->session.known()) announced.append(", ").append(kSessionHeader);
            if (push_field(r, &r->headers_out.headers, "Trailer", announced) != NGX_OK) return NGX_ERROR;
        }
        return next_header_filter(r);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting headers failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting headers failed");
        return NGX_ERROR;
    }
}

ngx_int_t body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    RequestCtx* ctx = r == r->main ? get_ctx(r) : nullptr;
    if (ctx == nullptr) return next_body_filter(r, in);
    try {
        bool last = false;
        for (ngx_chain_t* cl = in; cl; cl = cl->next) last = last || cl->buf->last_buf;
        if (last) {
            bool had_session = ctx->session.known();
            settle_session(*ctx, ctx->phase == Phase::complete);
            if (ctx->trailers_pending) {
                ctx->trailers_pending = false;
                if (!ctx->cost_unknown &&
                    push_field(r, &r->headers_out.trailers, kCostHeader, std::to_string(ctx->spent_microcents)) != NGX_OK) {
                    return NGX_ERROR;
                }
                if (!had_session && ctx->session.known() &&
                    push_field(r, &r->headers_out.trailers, kSessionHeader, ctx->session.id()) != NGX_OK) {
                    return NGX_ERROR;
                }
            }
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting trailers failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting trailers failed");
    }
    return next_body_filter(r, in);
}

}  // namespace

bool session_begin(RequestCtx& ctx) {
    if (!ctx.req.session_id.empty()) {
        ApiError error;
        if (!check_forced_session_id(ctx.req.session_id, &error)) {
            ctx.fail(error.status, std::move(error.message), error.type, std::move(error.param), std::move(error.code));
            return false;
        }
    }
    ctx.session.begin(ctx.req, ctx.vk ? ctx.vk->id : 0);
    return true;
}

void session_answer_start(RequestCtx& ctx) {
    if (!ctx.session.awaiting_answer()) return;
    ctx.session.restart_answer();
    if (ctx.response.translator) ctx.response.translator->observe_session(&ctx.session);
}

void session_passthrough_answer(RequestCtx& ctx, const JsonMembers& answer) {
    if (ctx.session.awaiting_answer()) ctx.session.answer_openai_completion(answer);
}

ngx_int_t accounting_filter_init(ngx_conf_t*) {
    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = header_filter;
    next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = body_filter;
    return NGX_OK;
}

}  // namespace routeshift
