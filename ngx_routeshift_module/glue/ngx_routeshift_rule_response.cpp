// What the gateway answers itself when a routing rule decides (docs/routing-rules.md): a static
// rule's completion, written by the client dialect's writer (plain `chat.completion` or a
// `chat.completion.chunk` stream, as the request asked; usage zero; model = the requested model;
// no provider touched), and the X-RouteShift-Rule header on rule-decided answers. A block rule's
// error needs nothing here: the plan fails with the rule's status and message and the error filter
// renders it like every gateway error.
#include "ngx_routeshift.hpp"
#include "dialect/openai_chat_writer.hpp"

namespace routeshift {
namespace {

ngx_int_t push_header(ngx_http_request_t* r, ngx_str_t name, const std::string& value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) return NGX_ERROR;
    u_char* p = static_cast<u_char*>(ngx_pnalloc(r->pool, value.size() ? value.size() : 1));
    if (p == nullptr) return NGX_ERROR;
    ngx_memcpy(p, value.data(), value.size());
    h->hash = 1;
    h->key = name;
    h->value.data = p;
    h->value.len = value.size();
    h->lowcase_key = nullptr;
    return NGX_OK;
}

}  // namespace

ngx_int_t add_rule_header(RequestCtx& ctx) {
    if (ctx.plan.decided_rule == 0) return NGX_OK;
    static ngx_str_t name = ngx_string("X-RouteShift-Rule");
    return push_header(ctx.r, name, std::to_string(ctx.plan.decided_rule));
}

namespace {

void openai_static_answer(RequestCtx& ctx, std::string* body) {
    OpenAIChatWriterOptions options;
    options.stream = ctx.req.stream;
    options.include_usage = ctx.req.include_usage;
    options.model = ctx.plan.requested_model;
    options.fallback_id = "chatcmpl-rule-" + std::to_string(ctx.plan.decided_rule);
    options.created = (int64_t)ngx_time();
    OpenAIChatWriter writer(std::move(options));
    writer.observe_session(&ctx.session);  // a first turn's session follows the static answer
    write_static_content(writer, ctx, body);
}

}  // namespace

ngx_int_t send_static_answer(RequestCtx& ctx) {
    ngx_http_request_t* r = ctx.r;
    // Pool memory: the chain below points into it until the request ends.
    std::string* body = pool_new<std::string>(r->pool);
    if (body == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    if (ctx.dialect != Dialect::openai) dialect_static_answer(ctx, body);
    else openai_static_answer(ctx, body);
    ctx.phase = Phase::complete;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = (off_t)body->size();
    if (ctx.req.stream) {
        ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    } else {
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    if (add_rule_header(ctx) != NGX_OK) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;
    ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
    if (b == nullptr) return NGX_ERROR;
    b->pos = reinterpret_cast<u_char*>(body->data());
    b->last = b->pos + body->size();
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

}  // namespace routeshift
