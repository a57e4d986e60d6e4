// Held answers (docs/design.md §10): the client's headers go out only once the attempt is known to
// be usable, so every failure before that fails over to the next candidate like any other.
// A non-streaming 2xx answer is read whole, translated and checked (its usage, hence its cost, is
// known when the headers are written); a stream is held until its first content-bearing event,
// what came before it (role chunk, comments) kept and sent with the headers. The body is read
// through nginx's header buffer: while Phase::holding, process_header de-frames what arrived and
// empties the buffer again.
#include "ngx_routeshift_response.hpp"
#include "ngx_routeshift_continuation.hpp"

#include "util/json_scan.hpp"

namespace routeshift {
namespace {

// The largest answer held, as the translators bound a JSON answer (kMaxJsonAnswer).
constexpr size_t kMaxHeldAnswer = 64u << 20;
// The most a stream may send the client before its first content (role chunks, keep-alive
// comments): a provider that only keeps the connection alive meets the first-token limit long
// before this; one that floods without content fails over instead of growing the worker.
constexpr size_t kMaxHeldStreamPrefix = 256u << 10;

// One de-framed piece of the held body: through the translator, or kept as is.
bool take_piece(ngx_http_request_t* r, RequestCtx& ctx, std::string_view piece) {
    Response& resp = ctx.response;
    if (resp.mode == BodyMode::translated) {
        uint64_t skipped = resp.translator->skipped_events();
        bool ok = resp.translator->feed(piece, &resp.held);
        if (resp.translator->skipped_events() != skipped) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "routeshift: skipped %uL malformed event(s) of the provider's stream",
                          resp.translator->skipped_events() - skipped);
        }
        return ok && (!ctx.req.stream || resp.translator->content_started() || resp.held.size() <= kMaxHeldStreamPrefix);
    }
    if (resp.held.size() + piece.size() > kMaxHeldAnswer) return false;
    resp.held.append(piece);  // its usage is read from the one scan of the whole answer
    return true;
}

// The attempt's 2xx answer is unusable: the attempt fails (and its key cools down like after a
// 5xx); nginx moves on to the next candidate, or answers 502 when none is left.
ngx_int_t fail_held_answer(ngx_http_request_t* r, RequestCtx& ctx, const char* token, const char* why) {
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "routeshift: provider key %L (%s/%s) sent %s; trying the next",
                  (int64_t)key.id, ctx.cfg->providers[key.provider].name.c_str(), key.label.c_str(), why);
    ctx.attempt.failure = token;
    ctx.last_failure = "Provider '" + ctx.cfg->providers[key.provider].name + "' (key '" + key.label + "') sent " +
                       why + ".";
    r->upstream->keepalive = 0;
    return NGX_HTTP_UPSTREAM_INVALID_HEADER;
}

ngx_int_t release_given_up_stream(ngx_http_request_t* r, RequestCtx& ctx, const char* token);

// The whole body is in: finish the translation (or check the relayed JSON), account the attempt
// and release the headers.
ngx_int_t complete_held_answer(ngx_http_request_t* r, RequestCtx& ctx) {
    Response& resp = ctx.response;
    if (resp.mode == BodyMode::translated) {
        // an error event the provider sent is `invalid`; the error a decoder writes at finish for a
        // stream that merely ended early is not (§10.1: `cut`)
        bool error_event = resp.translator->saw_error();
        bool ok = resp.translator->finish(&resp.held) && !resp.translator->saw_error();
        if (!ok && ctx.req.stream) {
            // content and the failure came in one read: as after the first content anywhere, the
            // client gets the content, then a continuation (§19) or the error event
            if (resp.translator->content_started())
                return release_given_up_stream(r, ctx, error_event ? "invalid" : "cut");
            return error_event ? fail_held_answer(r, ctx, "invalid", "an error event before its first token")
                               : fail_held_answer(r, ctx, "cut", "a stream that ended before completing");
        }
        if (!ok) return fail_held_answer(r, ctx, "invalid", "an answer that could not be translated");
        ctx.usage = resp.translator->usage();
    } else {
        // one scan checks the answer and finds its usage and, for a first turn, its session
        JsonValue root;
        JsonMembers top;
        if (!json_scan(resp.held, &root, &top, nullptr) || !root.is(JsonType::object)) {
            return fail_held_answer(r, ctx, "invalid", "a truncated or malformed answer");
        }
        ctx.usage = usage_from_members(top);
        session_passthrough_answer(ctx, top);  // a first turn's session (docs/design.md §12)
    }
    scrub_answer(ctx, &resp.held);
    // the answer's length is known: a relayed one keeps it as Content-Length (translated answers
    // are re-framed by the header filter)
    if (resp.mode == BodyMode::passthrough) r->upstream->headers_in.content_length_n = (off_t)resp.held.size();
    ctx.phase = Phase::complete;
    record_attempt(r, ctx, &r->upstream->peer, 0);  // before the headers: usage and cost are known
    if (relay_turn_page(r, ctx)) return NGX_HTTP_UPSTREAM_INVALID_HEADER;  // a list's next page (§21)
    release_response_headers(r, ctx);
    return NGX_OK;
}

// A held stream showed its first content: what was held goes out with the headers, and the rest of
// the stream is relayed as it comes (input_filter).
ngx_int_t release_held_stream(ngx_http_request_t* r, RequestCtx& ctx) {
    continuation_observe(ctx, &ctx.response.held);
    ctx.response.stream_held = true;
    scrub_answer(ctx, &ctx.response.held);
    release_response_headers(r, ctx);
    return NGX_OK;
}

// A held stream failed after its first content (in the same read): the content and the error
// event go out, and the answer is over (nothing more is read from the provider). `token`: the
// attempt's status token (invalid: the translator gave up or an error event; cut: it ended early).
ngx_int_t release_given_up_stream(ngx_http_request_t* r, RequestCtx& ctx, const char* token) {
    size_t error_at = continuation_observe(ctx, &ctx.response.held);
    if (continuation_rescue(r, ctx, token, error_at, &ctx.response.held)) {
        // the content goes out and the next candidate continues the answer (§19)
        ctx.response.stream_held = true;
        scrub_answer(ctx, &ctx.response.held);
        release_response_headers(r, ctx);
        return NGX_OK;
    }
    ctx.phase = Phase::complete;
    ctx.midstream_failure = true;  // never back to the keep-alive pool
    ctx.attempt.failure = token;
    ctx.usage = ctx.response.translator->usage();
    r->upstream->keepalive = 0;
    scrub_answer(ctx, &ctx.response.held);
    record_attempt(r, ctx, &r->upstream->peer, 0);
    release_response_headers(r, ctx);
    return NGX_OK;
}

// A piece of the held body could not be taken: before the first content the attempt fails over;
// after it (same read) the stream is released with its error event.
ngx_int_t piece_refused(ngx_http_request_t* r, RequestCtx& ctx) {
    if (ctx.req.stream && ctx.response.translator->content_started()) return release_given_up_stream(r, ctx, "invalid");
    return fail_held_answer(r, ctx, "invalid",
                            ctx.req.stream ? "a stream that could not be read, or too much before its first token"
                                           : "an answer that could not be read");
}

// Nothing more to read: nginx finalizes the request once the queued output is sent.
ngx_int_t complete_length(ngx_http_request_t* r) {
    r->upstream->length = 0;
    return NGX_OK;
}

}  // namespace

bool hold_answer_start(const RequestCtx& ctx, const ngx_http_upstream_t* u) {
    int status = (int)u->headers_in.status_n;
    if (status == NGX_HTTP_NO_CONTENT || status == NGX_HTTP_NOT_MODIFIED) return false;
    // a stream is held whatever its framing (a close-delimited one that ends before its first
    // content is an attempt failure); only a translator can tell when its content starts
    if (ctx.req.stream) return ctx.response.mode == BodyMode::translated;
    return u->headers_in.chunked || u->headers_in.content_length_n >= 0;
}

ngx_int_t hold_answer(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    ngx_buf_t* b = &u->buffer;
    Response& resp = ctx.response;
    if (ctx.phase != Phase::holding) {  // first call, right after the headers
        ctx.phase = Phase::holding;
        if (ctx.first_byte_msec == 0) ctx.first_byte_msec = ngx_current_msec;
        resp.body_left = u->headers_in.chunked ? -1 : u->headers_in.content_length_n;
    }
    bool done = false;
    if (u->headers_in.chunked) {
        for (;;) {
            ngx_int_t rc = ngx_http_parse_chunked(r, b, &ctx.attempt.chunked);
            if (rc == NGX_OK) {
                size_t n = std::min<size_t>((size_t)(b->last - b->pos), (size_t)ctx.attempt.chunked.size);
                std::string_view piece(reinterpret_cast<const char*>(b->pos), n);
                b->pos += n;
                ctx.attempt.chunked.size -= (off_t)n;
                if (!take_piece(r, ctx, piece)) return piece_refused(r, ctx);
                continue;
            }
            if (rc == NGX_DONE) {
                done = true;
                break;
            }
            if (rc == NGX_AGAIN) break;
            return fail_held_answer(r, ctx, "invalid", "an invalid chunked body");
        }
    } else {
        // a close-delimited stream (body_left -1) takes everything; its end is nginx's to see
        size_t avail = (size_t)(b->last - b->pos);
        size_t n = resp.body_left < 0 ? avail : std::min<size_t>(avail, (size_t)resp.body_left);
        std::string_view piece(reinterpret_cast<const char*>(b->pos), n);
        b->pos += n;
        if (resp.body_left >= 0) resp.body_left -= (off_t)n;
        if (!take_piece(r, ctx, piece)) return piece_refused(r, ctx);
        done = resp.body_left == 0;
    }
    if (!done && ctx.req.stream) {
        if (resp.translator->content_started()) return release_held_stream(r, ctx);
        if (resp.translator->saw_error()) return fail_held_answer(r, ctx, "invalid", "an error event before its first token");
    }
    if (!done) {
        // everything read is consumed: the buffer takes the next bytes from its start, and the
        // read timeout counts from the latest bytes (as when relaying)
        b->pos = b->last = b->start;
        stream_timers_rearm(r, ctx);
        return NGX_AGAIN;
    }
    u->keepalive = !u->headers_in.connection_close;
    if (b->pos != b->last) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "routeshift: provider sent data after its answer");
        u->keepalive = 0;
    }
    b->pos = b->last;
    return complete_held_answer(r, ctx);
}

void release_response_headers(ngx_http_request_t* r, RequestCtx& ctx) {
    if (ctx.response.released) return;
    ctx.response.released = true;
    if (filter_provider_headers(r, ctx) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: filtering the provider's headers failed");
    }
    if (ctx.phase != Phase::complete) ctx.phase = Phase::relaying;
    stream_timers_released(ctx);
}

ngx_int_t send_held_answer(ngx_http_request_t* r, RequestCtx& ctx, ngx_chain_t*** ll) {
    Response& resp = ctx.response;
    ngx_http_upstream_t* u = r->upstream;
    if (resp.released && !resp.held.empty() && ctx.continuation) {
        // a continuation's attempt replaces ctx.response before this may be sent (§19): a copy
        if (emit(r, u, ll, resp.held) != NGX_OK) return NGX_ERROR;
    } else if (resp.released && !resp.held.empty()) {
        ngx_chain_t* cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
        if (cl == nullptr) return NGX_ERROR;
        ngx_buf_t* b = cl->buf;
        b->start = nullptr;  // the held string's memory: never reused for other output
        b->end = nullptr;
        b->pos = reinterpret_cast<u_char*>(resp.held.data());
        b->last = b->pos + resp.held.size();
        b->memory = 1;
        b->temporary = 0;
        b->flush = 1;
        b->tag = u->output.tag;
        cl->next = nullptr;
        **ll = cl;
        *ll = &cl->next;
    }
    // a complete answer: nothing more to read
    if (resp.released && ctx.phase == Phase::complete) return complete_length(r);
    if (!resp.stream_held) return NGX_DECLINED;
    // a released stream goes on in input_filter, from where holding left its body
    u->length = u->headers_in.chunked ? 1 : resp.body_left;
    // nginx reads on only when the provider sends more: the held bytes go out now, from the
    // client's write handler (which sends what is queued and then reads the provider again)
    ngx_post_event(r->connection->write, &ngx_posted_events);
    return NGX_OK;
}

}  // namespace routeshift
