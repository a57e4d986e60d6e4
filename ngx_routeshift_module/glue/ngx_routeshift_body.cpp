// The client body, read into memory in proportion to its size and handed over as one contiguous
// buffer, without copying what nginx already placed contiguously.
//
// nginx's reader alone would keep a body larger than client_body_buffer_size in a temp file
// (reading it back is blocking file I/O in the worker), and it allocates client_body_buffer_size
// up front for every chunked body (the module used to raise that buffer to routeshift_max_body_size:
// 4 MiB per chunked request, 64 MiB on the admin location). Instead:
//  - a Content-Length body whose first bytes came with the headers (nginx's "preread") goes into
//    one buffer of exactly its size: the preread bytes are moved there and the header buffer's
//    fields point at it, so nginx's own fast path (the body fits behind the preread bytes in the
//    header buffer) receives the rest right behind them. Only the preread bytes (at most one
//    header buffer) are copied; the header buffer is put back when the body is complete, or at
//    the latest when the request's pool goes;
//  - a request body filter (installed first, so it sees nginx's de-framed pieces) keeps pieces that
//    lie back to back in one buffer able to hold the whole body where they are, and gathers any
//    other body (chunked, or larger than client_body_buffer_size and sent after the headers) into
//    one buffer: allocated once at its size for Content-Length, grown geometrically when chunked;
//  - nginx's save filter then sees the whole body as one buffer at its end, so nothing is ever
//    written to a temp file. The size limit stays nginx's (client_max_body_size, also for chunked).
#include "ngx_routeshift.hpp"

namespace routeshift {
namespace {

ngx_http_request_body_filter_pt next_request_body_filter;

// Per-request state of read_body_in_memory, in pool-cleanup storage.
struct BodyGather {
    ngx_http_request_t* r = nullptr;
    ngx_http_client_body_handler_pt done = nullptr;
    off_t length = -1;  // Content-Length, -1 when chunked

    // The header buffer, while its fields point at the body buffer (null otherwise).
    ngx_buf_t* header_in = nullptr;
    u_char* header_start = nullptr;
    u_char* header_end = nullptr;
    u_char* header_last = nullptr;

    // The body so far: in place (`view`), or gathered.
    const u_char* view = nullptr;
    size_t view_size = 0;
    bool gathering = false;
    std::string gathered;

    ~BodyGather() { restore_header_in(); }

    void restore_header_in() noexcept {
        if (header_in == nullptr) return;
        header_in->start = header_start;
        header_in->end = header_end;
        header_in->pos = header_last;  // its bytes were all body, now consumed
        header_in->last = header_last;
        header_in = nullptr;
    }

    // One de-framed piece of the body; `buffer_end` is the end of the buffer it lies in.
    void add(const u_char* pos, size_t n, const u_char* buffer_end) {
        if (!gathering) {
            if (view_size == 0 && length >= 0 && buffer_end - pos >= length) {
                view = pos;  // this buffer can hold the whole body: nginx fills it in order
                view_size = n;
                return;
            }
            if (view_size != 0 && pos == view + view_size) {
                view_size += n;
                return;
            }
            gathering = true;
            if (length > 0) gathered.reserve((size_t)length);
            gathered.append(reinterpret_cast<const char*>(view), view_size);
        }
        gathered.append(reinterpret_cast<const char*>(pos), n);  // std::string grows geometrically
    }

    std::string_view text() const {
        if (gathering) return gathered;
        return {reinterpret_cast<const char*>(view), view_size};
    }
};

void gather_cleanup(void* data) noexcept { static_cast<BodyGather*>(data)->~BodyGather(); }

// The request's BodyGather, found by its cleanup handler: the admin location has no module
// context to hold it, and a request has only a handful of cleanups.
BodyGather* find_gather(ngx_http_request_t* r) {
    if (r != r->main) return nullptr;
    for (ngx_pool_cleanup_t* c = r->pool->cleanup; c; c = c->next) {
        if (c->handler == gather_cleanup) return static_cast<BodyGather*>(c->data);
    }
    return nullptr;
}

ngx_int_t request_body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    BodyGather* g = find_gather(r);
    if (g == nullptr) return next_request_body_filter(r, in);
    try {
        bool last = false;
        for (ngx_chain_t* cl = in; cl; cl = cl->next) {
            ngx_buf_t* b = cl->buf;
            if (b->last > b->pos) g->add(b->pos, (size_t)(b->last - b->pos), b->end);
            b->pos = b->last;  // consumed: nginx may reuse its buffer
            if (b->last_buf) last = true;
        }
        if (!last) return NGX_OK;
        // the whole body, as the one buffer nginx's save filter keeps in r->request_body->bufs
        std::string_view body = g->text();
        ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
        ngx_chain_t* cl = ngx_alloc_chain_link(r->pool);
        if (b == nullptr || cl == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
        b->start = b->pos = reinterpret_cast<u_char*>(const_cast<char*>(body.data()));
        b->end = b->last = b->pos + body.size();
        b->memory = 1;
        b->last_buf = 1;
        cl->buf = b;
        cl->next = nullptr;
        return next_request_body_filter(r, cl);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: reading the request body failed: %s", e.what());
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: reading the request body failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

void body_read(ngx_http_request_t* r) noexcept {
    BodyGather* g = find_gather(r);
    if (g == nullptr) {  // cannot happen: read_body_in_memory made it
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    g->restore_header_in();
    g->done(r);
}

// Moves the preread start of a Content-Length body into a buffer of the body's size and points
// the header buffer at it (see the top of the file). Nothing to do when there is no preread, the
// whole body was preread, or the header buffer has room for it.
bool move_preread(ngx_http_request_t* r, BodyGather* g) {
#if (NGX_HTTP_V2)
    if (r->stream) return true;  // HTTP/2 bodies do not go through the header buffer
#endif
    ngx_buf_t* h = r->header_in;
    off_t preread = h->last - h->pos;
    if (g->length <= 0 || preread == 0 || preread >= g->length || h->end - h->pos >= g->length) return true;
    auto* body = static_cast<u_char*>(ngx_palloc(r->pool, (size_t)g->length));
    if (body == nullptr) return false;
    ngx_memcpy(body, h->pos, (size_t)preread);
    g->header_in = h;
    g->header_start = h->start;
    g->header_end = h->end;
    g->header_last = h->last;
    h->start = body;
    h->pos = body;
    h->last = body + preread;
    h->end = body + g->length;
    return true;
}

}  // namespace

ngx_int_t read_body_in_memory(ngx_http_request_t* r, ngx_http_client_body_handler_pt done) {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, sizeof(BodyGather));
    if (cln == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    auto* g = new (cln->data) BodyGather();
    cln->handler = gather_cleanup;
    g->r = r;
    g->done = done;
    g->length = r->headers_in.chunked ? -1 : r->headers_in.content_length_n;
    if (!move_preread(r, g)) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    return ngx_http_read_client_request_body(r, body_read);
}

bool request_body_text(ngx_http_request_t* r, std::string_view* out) {
    *out = {};
    ngx_http_request_body_t* rb = r->request_body;
    if (rb == nullptr || rb->bufs == nullptr) return true;
    if (rb->temp_file || rb->bufs->next != nullptr || rb->bufs->buf->in_file) return false;
    ngx_buf_t* b = rb->bufs->buf;
    *out = std::string_view(reinterpret_cast<const char*>(b->pos), (size_t)(b->last - b->pos));
    return true;
}

ngx_int_t body_filter_init(ngx_conf_t*) {
    next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = request_body_filter;
    return NGX_OK;
}

}  // namespace routeshift
