// Output copies of translated answers (docs/design.md §10): made in buffers of one size that are
// reused once nginx has sent them, so a stream's memory does not grow with its events' sizes.
#include "ngx_routeshift_response.hpp"

namespace routeshift {
namespace {

// Output copies are made in buffers of one size, reused once nginx has sent them (our tag brings
// them back to u->free_bufs): an answer of any length, with events of any size, holds at most what
// is not yet sent plus kMaxSpareOutputBuffers, never one buffer per event size.
constexpr size_t kOutputBufferSize = 16384;  // above the request pool's small-block limit: freeable
constexpr size_t kMaxSpareOutputBuffers = 16;

// Sent output buffers of ours beyond the spares go back to the pool (a burst of output, e.g. one
// large event, does not stay allocated for the rest of the stream).
void trim_spare_output_buffers(ngx_http_request_t* r, ngx_http_upstream_t* u) {
    size_t spares = 0;
    for (ngx_chain_t** pp = &u->free_bufs; *pp;) {
        ngx_buf_t* b = (*pp)->buf;
        if (b->start == nullptr || ++spares <= kMaxSpareOutputBuffers) {
            pp = &(*pp)->next;
            continue;
        }
        ngx_chain_t* cl = *pp;
        *pp = cl->next;
        ngx_pfree(r->pool, b->start);
        b->start = b->end = b->pos = b->last = nullptr;
        ngx_free_chain(r->pool, cl);
    }
}

// A spare output buffer of ours from u->free_bufs, or a new one.
ngx_chain_t* output_buffer(ngx_http_request_t* r, ngx_http_upstream_t* u) {
    for (ngx_chain_t** pp = &u->free_bufs; *pp; pp = &(*pp)->next) {
        if ((*pp)->buf->start != nullptr) {
            ngx_chain_t* cl = *pp;
            *pp = cl->next;
            return cl;
        }
    }
    ngx_chain_t* cl = ngx_alloc_chain_link(r->pool);
    if (cl == nullptr) return nullptr;
    auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
    if (b == nullptr) return nullptr;
    b->start = static_cast<u_char*>(ngx_palloc(r->pool, kOutputBufferSize));
    if (b->start == nullptr) return nullptr;
    b->end = b->start + kOutputBufferSize;
    cl->buf = b;
    return cl;
}

}  // namespace

// Appends a copy of `data` to `*ll`'s chain, in as many output buffers as it takes.
ngx_int_t emit(ngx_http_request_t* r, ngx_http_upstream_t* u, ngx_chain_t*** ll, std::string_view data) {
    if (data.empty()) return NGX_OK;
    trim_spare_output_buffers(r, u);
    while (!data.empty()) {
        ngx_chain_t* cl = output_buffer(r, u);
        if (cl == nullptr) return NGX_ERROR;
        ngx_buf_t* b = cl->buf;
        size_t n = std::min(data.size(), (size_t)(b->end - b->start));
        b->pos = b->start;
        b->last = ngx_cpymem(b->pos, data.data(), n);
        data.remove_prefix(n);
        b->temporary = 1;
        b->memory = 0;
        b->flush = 1;
        b->tag = u->output.tag;
        cl->next = nullptr;
        **ll = cl;
        *ll = &cl->next;
    }
    return NGX_OK;
}

ngx_chain_t** out_tail(ngx_http_upstream_t* u) {
    ngx_chain_t** ll = &u->out_bufs;
    while (*ll) ll = &(*ll)->next;
    return ll;
}

}  // namespace routeshift
