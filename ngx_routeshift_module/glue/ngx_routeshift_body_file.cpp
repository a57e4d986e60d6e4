// A multipart upload read the nginx way (docs/design.md §21): beyond client_body_buffer_size
// nginx's own reader keeps the body in its client-body temp file, as proxy_pass does; the relay
// parses it through bounded windows (FileBodySource, pread) and each attempt sends it as ranges of
// that file between small memory buffers of our own (the changed part-header bytes).
//
// The file ranges are not put in u->request_bufs as file buffers: on a retry nginx's upstream
// reinit rewrites every file buffer's file_pos to the previous one's file_last ("there is at most
// one file"), which is right for a body sent whole and wrong for ranges with gaps (the replaced
// bytes). So the chain carries placeholders (special buffers nginx leaves alone), and the output
// filter of the upstream's output chain turns each into a fresh file buffer and hands the chain to
// a second ngx_output_chain, which sends file buffers the usual way: sendfile when the connection
// can, else read into one client_body_buffer_size buffer at a time.
#include "ngx_routeshift.hpp"

#include <cerrno>
#include <unistd.h>

namespace routeshift {
namespace {

// Tags of the placeholders and of the second output chain's own buffers (addresses, never read).
const char kFileRangeTag = 0;
const char kFileWriterTag = 0;

class FileBodySource final : public BodySource {
public:
    FileBodySource(ngx_fd_t fd, size_t size) : fd_(fd), size_(size) {}
    size_t size() const override { return size_; }
    bool read(size_t offset, size_t n, std::string_view* out) override {
        *out = {};
        if (offset >= size_) return true;
        n = std::min(n, size_ - offset);
        window_.resize(n);  // one window's worth, reused: the largest read bounds the memory
        size_t got = 0;
        while (got < n) {
            ssize_t k = pread(fd_, window_.data() + got, n - got, (off_t)(offset + got));
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) return false;  // the file is shorter than nginx said, or unreadable
            got += (size_t)k;
        }
        *out = std::string_view(window_.data(), n);
        return true;
    }

private:
    ngx_fd_t fd_;
    size_t size_;
    std::string window_;
};

// The output filter of u->output for an attempt whose body has file ranges (see the top).
ngx_int_t write_with_file_ranges(void* data, ngx_chain_t* in) noexcept {
    auto& ctx = *static_cast<RequestCtx*>(data);
    ngx_http_request_t* r = ctx.r;
    ngx_http_upstream_t* u = r->upstream;
    ngx_output_chain_ctx_t*& writer = ctx.attempt.file_writer;  // one per attempt
    if (writer == nullptr) {
        writer = static_cast<ngx_output_chain_ctx_t*>(ngx_pcalloc(r->pool, sizeof(ngx_output_chain_ctx_t)));
        if (writer == nullptr) return NGX_ERROR;
        writer->pool = r->pool;
        writer->bufs = u->output.bufs;  // nginx's: one client_body_buffer_size buffer
        writer->alignment = u->output.alignment;
        writer->sendfile = u->output.sendfile;  // set by nginx once the connection is known (TLS: off)
        writer->tag = (ngx_buf_tag_t)&kFileWriterTag;
        writer->output_filter = ngx_chain_writer;
        writer->filter_ctx = &u->writer;
    }
    ngx_chain_t* out = nullptr;
    ngx_chain_t** last = &out;
    for (; in; in = in->next) {
        ngx_buf_t* b = in->buf;
        if (b->tag == (ngx_buf_tag_t)&kFileRangeTag) {  // a fresh copy: sending moves its file_pos
            ngx_buf_t* range = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
            if (range == nullptr) return NGX_ERROR;
            *range = *b->shadow;
            range->flush = b->flush;
            b = range;
        }
        ngx_chain_t* cl = ngx_alloc_chain_link(r->pool);
        if (cl == nullptr) return NGX_ERROR;
        cl->buf = b;
        *last = cl;
        last = &cl->next;
    }
    *last = nullptr;
    return ngx_output_chain(writer, out);
}

}  // namespace

ngx_int_t read_body_spooled(ngx_http_request_t* r, ngx_http_client_body_handler_pt done) {
    return ngx_http_read_client_request_body(r, done);  // no BodyGather: nginx's reader as is
}

bool spooled_body(ngx_http_request_t* r, std::string* gathered, SpooledBody* out) {
    *out = SpooledBody{};
    ngx_http_request_body_t* rb = r->request_body;
    if (rb == nullptr || rb->bufs == nullptr) return true;
    if (rb->temp_file) {  // nginx wrote the whole body to the file: one file buffer [0, size)
        ngx_buf_t* b = rb->bufs->buf;
        if (rb->bufs->next != nullptr || !b->in_file || b->file_pos != 0) return false;
        out->file = &rb->temp_file->file;
        out->size = (size_t)b->file_last;
        return true;
    }
    if (rb->bufs->next == nullptr && !rb->bufs->buf->in_file) {
        ngx_buf_t* b = rb->bufs->buf;
        out->memory = std::string_view(reinterpret_cast<const char*>(b->pos), (size_t)(b->last - b->pos));
        out->size = out->memory.size();
        return true;
    }
    gathered->clear();  // a small body in pieces (preread + the rest): at most one buffer's worth
    for (ngx_chain_t* cl = rb->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) return false;
        gathered->append(reinterpret_cast<const char*>(cl->buf->pos), (size_t)(cl->buf->last - cl->buf->pos));
    }
    out->memory = *gathered;
    out->size = gathered->size();
    return true;
}

std::unique_ptr<BodySource> file_body_source(ngx_file_t* file, size_t size) {
    return std::make_unique<FileBodySource>(file->fd, size);
}

ngx_chain_t* file_range_link(ngx_pool_t* pool, ngx_file_t* file, size_t offset, size_t size) {
    ngx_chain_t* cl = ngx_alloc_chain_link(pool);
    ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(pool));
    ngx_buf_t* range = static_cast<ngx_buf_t*>(ngx_calloc_buf(pool));
    if (cl == nullptr || b == nullptr || range == nullptr) return nullptr;
    range->in_file = 1;
    range->file = file;
    range->file_pos = (off_t)offset;
    range->file_last = (off_t)(offset + size);
    // the placeholder: special (no bytes, no file flag), so nginx passes it on, never rewrites it
    b->sync = 1;
    b->tag = (ngx_buf_tag_t)&kFileRangeTag;
    b->shadow = range;
    cl->buf = b;
    cl->next = nullptr;
    return cl;
}

void send_file_ranges(RequestCtx& ctx) {
    ngx_http_upstream_t* u = ctx.r->upstream;
    u->output.output_filter = write_with_file_ranges;
    u->output.filter_ctx = &ctx;
}

}  // namespace routeshift
