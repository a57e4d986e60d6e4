// Sends a complete in-memory answer (admin JSON, the status page, metrics text) with its
// Content-Type and any extra headers; the one place those small documents are written out.
#include "ngx_routeshift.hpp"

namespace routeshift {

ngx_int_t send_document(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type,
                        std::string_view body, std::initializer_list<DocumentHeader> headers) {
    r->headers_out.status = status;
    auto* type = static_cast<u_char*>(ngx_pnalloc(r->pool, content_type.size()));
    if (type == nullptr) return NGX_ERROR;
    ngx_memcpy(type, content_type.data(), content_type.size());
    r->headers_out.content_type.data = type;
    r->headers_out.content_type.len = content_type.size();
    r->headers_out.content_type_len = content_type.size();
    r->headers_out.content_length_n = (off_t)body.size();
    for (const DocumentHeader& header : headers) {  // names and values are string literals
        auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
        if (h == nullptr) return NGX_ERROR;
        h->hash = 1;
        h->key.data = reinterpret_cast<u_char*>(const_cast<char*>(header.first.data()));
        h->key.len = header.first.size();
        h->value.data = reinterpret_cast<u_char*>(const_cast<char*>(header.second.data()));
        h->value.len = header.second.size();
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) r->keepalive = 0;
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;
    ngx_buf_t* b = ngx_create_temp_buf(r->pool, body.size() ? body.size() : 1);
    if (b == nullptr) return NGX_ERROR;
    b->last = ngx_cpymem(b->pos, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

}  // namespace routeshift
