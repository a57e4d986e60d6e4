// Mid-stream continuation (docs/design.md §19). Once a stream's headers went out, nginx can no longer
// fail over: its relay ends the request on the first break. For a stream that may be continued the
// relayed attempt's connection is watched instead (its recv and read handler are wrapped): a break,
// a stall or a give-up of the translator after content posts the continuation, which runs outside
// nginx's relay loop and hands the attempt to nginx's own next-upstream path (ngx_http_upstream_next:
// the key parked, the next candidate picked by peer_get). The continuation attempt's answer is then
// read in the header phase (process_header) and sent by us, on the same client stream; a clean end
// goes through nginx's normal finalization (r->post_action makes it skip the second header).
#include "ngx_routeshift_continuation.hpp"
#include "ngx_routeshift_response.hpp"
#include "ngx_routeshift_metrics.hpp"

#include "continuation/attempt_usage_total.hpp"
#include "continuation/continuation_request.hpp"
#include "continuation/continuation_translator.hpp"
#include "dialect/dialect_error.hpp"
#include "routing/cooldown.hpp"

namespace routeshift {
namespace {

// How much of the delivered text an instruction-style continuation may repeat, and the least that
// counts as a repetition rather than chance.
constexpr size_t kMaxInstructionOverlap = 256;
constexpr size_t kMinInstructionOverlap = 4;

// nginx's header reader (static in ngx_http_upstream.c), seen while it calls our process_header:
// calling it on a failing connection is how a relayed attempt reaches ngx_http_upstream_next.
ngx_http_upstream_handler_pt g_header_reader = nullptr;

void start_continuation(ngx_event_t* ev) noexcept;

// routeshift_stream_continuations_total{outcome} (shared by every worker).
void count_outcome(const RequestCtx& ctx, ContinuationOutcome outcome) {
    if (ctx.zone == nullptr) return;
    __atomic_fetch_add(&zone_continuation_metrics(ctx.zone)->outcomes[(size_t)outcome], 1, __ATOMIC_RELAXED);
}

// Sends what u->out_bufs holds (and what the client has not taken yet), as nginx's relay does.
void flush_output(ngx_http_request_t* r, ngx_http_upstream_t* u) {
    ngx_connection_t* c = r->connection;
    if (u->out_bufs || u->busy_bufs || c->buffered) {
        if (ngx_http_output_filter(r, u->out_bufs) == NGX_ERROR) {
            c->error = 1;
            return;
        }
        ngx_chain_update_chains(r->pool, &u->free_bufs, &u->busy_bufs, &u->out_bufs, u->output.tag);
    }
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
    if (c->data == r && ngx_handle_write_event(c->write, clcf->send_lowat) != NGX_OK) {
        c->error = 1;
        return;
    }
    if (c->write->active && !c->write->ready) {
        ngx_add_timer(c->write, clcf->send_timeout);
    } else if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }
}

ngx_int_t send_output(ngx_http_request_t* r, std::string_view data) {
    ngx_http_upstream_t* u = r->upstream;
    ngx_chain_t** ll = out_tail(u);
    if (emit(r, u, &ll, data) != NGX_OK) return NGX_ERROR;
    flush_output(r, u);
    return NGX_OK;
}

// The client's write events while a continuation relays (nginx's relay handler would read the
// continuation's connection behind process_header's back).
void continuation_write_handler(ngx_http_request_t* r) noexcept {
    ngx_connection_t* c = r->connection;
    try {
        if (c->write->timedout) {
            c->timedout = 1;
            ngx_connection_error(c, NGX_ETIMEDOUT, const_cast<char*>("client timed out"));
            ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
            return;
        }
        flush_output(r, r->upstream);
        if (c->error) ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: sending a continued stream failed");
    }
}

// Whether the stream can still be continued: nothing cut mid-way that a continuation cannot finish
// (a tool call's arguments, several choices), and an attempt left in the budget.
bool can_continue(ngx_http_request_t* r, const RequestCtx& ctx) {
    const StreamContinuation* st = ctx.continuation;
    if (st == nullptr || ctx.client_aborted || r->connection->error) return false;
    const DeliveredStream& d = st->delivered;
    if (d.finished() || d.several_choices() || d.too_long() || d.text().empty()) return false;
    if (d.tool_call_started()) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "routeshift: a stream broke inside a tool call's arguments: it cannot be continued");
        return false;
    }
    return r->upstream->peer.tries > 1;
}

// The relayed attempt's recv: a break (end or error) after content is kept from nginx, which would
// end the request; the continuation is posted instead.
ssize_t continuation_recv(ngx_connection_t* c, u_char* buf, size_t size) {
    auto* r = static_cast<ngx_http_request_t*>(c->data);
    RequestCtx* ctx = get_ctx(r);
    StreamContinuation* st = ctx ? ctx->continuation : nullptr;
    if (st == nullptr) return NGX_ERROR;
    if (st->failing) {
        c->read->ready = 0;
        return NGX_ERROR;  // the attempt is over: nginx's header reader moves to the next peer
    }
    if (st->pending) {
        c->read->ready = 0;
        return NGX_AGAIN;
    }
    ssize_t n = st->original_recv(c, buf, size);
    const ResponseTranslator* t = ctx->response.translator.get();
    if ((n == 0 || n == NGX_ERROR) && t && !t->complete() && ctx->phase == Phase::relaying) {
        try {
            if (continuation_rescue(r, *ctx, "cut", 0, nullptr)) {
                c->read->eof = 0;
                c->read->error = 0;
                c->read->ready = 0;
                return NGX_AGAIN;
            }
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: continuing a stream failed");
        }
    }
    return n;
}

// The relayed attempt's read handler: a stall (the idle limit) after content is continued too.
void continuation_relay_read(ngx_http_request_t* r, ngx_http_upstream_t* u) noexcept {
    RequestCtx* ctx = get_ctx(r);
    StreamContinuation* st = ctx ? ctx->continuation : nullptr;
    if (st == nullptr) return;
    if (st->pending) return;  // the continuation is about to start
    ngx_connection_t* c = u->peer.connection;
    try {
        if (c && c->read->timedout && ctx->phase == Phase::relaying) {
            const char* token = stream_timers_token(*ctx, true);
            if (continuation_rescue(r, *ctx, token ? token : "timeout", 0, nullptr)) {
                c->read->timedout = 0;
                return;
            }
        }
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: continuing a stream failed");
    }
    st->relay_reader(r, u);
}

// Posted by continuation_rescue: the failed attempt goes to nginx's next-upstream path from the
// header reader (its wrapped recv now fails), outside the relay loop that saw the failure.
void start_continuation(ngx_event_t* ev) noexcept {
    auto* r = static_cast<ngx_http_request_t*>(ev->data);
    ngx_connection_t* c = r->connection;
    try {
        RequestCtx* ctx = get_ctx(r);
        ngx_http_upstream_t* u = r->upstream;
        StreamContinuation* st = ctx ? ctx->continuation : nullptr;
        if (st == nullptr || st->pending == nullptr || u == nullptr || u->peer.connection == nullptr ||
            g_header_reader == nullptr) {
            return;
        }
        st->pending = nullptr;
        st->started = true;
        st->failing = true;
        // ngx_http_upstream_send_request arms the next attempt's read timer only while header_sent
        // is 0; continuation_finalize sets it back before nginx looks at it again
        u->header_sent = 0;
        r->write_event_handler = continuation_write_handler;
        u->read_event_handler = g_header_reader;
        u->peer.connection->read->timedout = 0;
        g_header_reader(r, u);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: starting a continuation failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "routeshift: starting a continuation failed");
    }
    ngx_http_run_posted_requests(c);
}

// The continuation's translator: the target wire's decoder, then the client dialect's writer
// resuming what the client already has (its id, model, and for OpenAI created; for Anthropic the
// open text block or the next block's index).
std::unique_ptr<ResponseTranslator> resumed_answer_translator(RequestCtx& ctx) {
    const StreamContinuation& st = *ctx.continuation;
    const DeliveredStream& d = st.delivered;
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    std::string model = d.model().empty() ? ctx.plan.targets[c.target].upstream_model : d.model();
    ContinuationOptions o;
    std::string_view text = d.text();
    switch (st.style) {
        case ContinuationStyle::prefill:
            // the prefill lost its trailing whitespace: a continuation that starts with it repeats it
            o.max_overlap = text.size() - continuation_prefill(text).size();
            o.min_overlap = 1;
            break;
        case ContinuationStyle::instruction:
            o.max_overlap = kMaxInstructionOverlap;
            o.min_overlap = kMinInstructionOverlap;
            break;
        default:
            break;  // the target continues the text exactly
    }
    o.delivered_tail.assign(text.substr(text.size() - std::min(text.size(), std::max<size_t>(o.max_overlap, 1))));
    o.earlier = st.earlier;
    if (ctx.dialect == Dialect::anthropic) {
        AnthropicAnswerWriterOptions w;
        w.stream = true;
        w.id = d.id().empty() ? std::string("msg_gateway") : d.id();
        w.model = std::move(model);
        w.resume_blocks = d.blocks_started();
        w.resume_text_open = d.text_block_open();
        return continuation_translator(wire_response_decoder(key.wire, true, w.id), std::move(o), std::move(w));
    }
    if (ctx.dialect == Dialect::google) {
        GeminiAnswerWriterOptions w;
        w.stream = true;
        w.id = d.id();
        w.model = std::move(model);
        return continuation_translator(wire_response_decoder(key.wire, true, w.id), std::move(o), std::move(w));
    }
    OpenAIChatWriterOptions w;
    w.stream = true;
    w.include_usage = ctx.req.include_usage;
    w.id = d.id().empty() ? std::string("chatcmpl-gateway") : d.id();
    w.model = std::move(model);
    w.created = d.created() ? d.created() : (int64_t)ngx_time();
    w.legacy_functions = ctx.req.legacy_functions;
    return continuation_translator(wire_response_decoder(key.wire, true, w.id), std::move(o), std::move(w));
}

// The end of a stream no candidate could continue, in the client's dialect.
std::string interrupted_event(Dialect dialect) {
    static constexpr const char* kMessage = "The provider's stream was interrupted and no other candidate could continue it.";
    if (dialect == Dialect::openai) return OpenAIStreamRelay::error_event(kMessage, "stream_interrupted");
    ApiError error;
    error.status = 502;
    error.message = kMessage;
    error.code = "stream_interrupted";
    return dialect_error_event(dialect, error);
}

// ngx_delete_posted_event is several statements (no do-while): an unbraced `if` guarded only the
// first, and the queue removal ran on an event no longer posted (the worker crash of s7).
void cancel_posted(ngx_event_t* ev) {
    if (ev->posted) {
        ngx_delete_posted_event(ev);
    }
}

}  // namespace

StreamContinuation::~StreamContinuation() { cancel_posted(&event); }

ngx_int_t continuation_begin(ngx_http_request_t* r, RequestCtx& ctx, const LocConf& lc) {
    // the streamed answer endpoints whose client stream a DeliveredStream reads (docs/design.md §19)
    bool streamed_answer = ctx.endpoint == Endpoint::chat_completions || ctx.endpoint == Endpoint::messages ||
                           ctx.endpoint == Endpoint::gemini_stream_generate_content;
    if (!lc.stream_continuation || !ctx.plan.budget.stream_continuation || !ctx.req.stream || !streamed_answer ||
        ctx.cands.size() < 2 || ctx.plan.budget.attempts < 2) {
        return NGX_OK;  // (a key is never tried twice in a request: one candidate cannot continue)
    }
    ctx.continuation = pool_new<StreamContinuation>(r->pool, ctx.dialect);
    if (ctx.continuation == nullptr) return NGX_ERROR;
    ctx.continuation->event.handler = start_continuation;
    ctx.continuation->event.data = r;
    ctx.continuation->event.log = r->connection->log;
    return NGX_OK;
}

bool continuation_attempt(const RequestCtx& ctx) { return ctx.continuation && ctx.continuation->started; }

void continuation_header_stage(ngx_http_upstream_t* u) {
    if (g_header_reader == nullptr) g_header_reader = u->read_event_handler;
}

size_t continuation_observe(RequestCtx& ctx, std::string* out) {
    StreamContinuation* st = ctx.continuation;
    if (st == nullptr) return out->size();
    size_t error_at = st->delivered.observe(*out);
    std::string& held = st->partial_event;
    if (error_at < out->size()) {
        // the error event began in the held bytes (they are one incomplete event): none goes out
        if (error_at == 0 && !held.empty()) {
            held.clear();
            return 0;
        }
        size_t shift = held.size();
        out->insert(0, held);
        held.clear();
        return error_at + shift;
    }
    size_t pending = std::min(st->delivered.pending_bytes(), held.size() + out->size());
    out->insert(0, held);
    held.assign(*out, out->size() - pending, pending);
    out->resize(out->size() - pending);
    return out->size();
}

void continuation_stream_ended(RequestCtx& ctx, bool complete, std::string* out) {
    StreamContinuation* st = ctx.continuation;
    if (st == nullptr) return;
    if (complete) out->insert(0, st->partial_event);
    st->partial_event.clear();
    st->delivered.drop_partial_event();
}

bool continuation_rescue(ngx_http_request_t* r, RequestCtx& ctx, const char* token, size_t error_at, std::string* out) {
    StreamContinuation* st = ctx.continuation;
    ngx_http_upstream_t* u = r->upstream;
    // u->cleanup is gone once nginx finalizes the upstream: too late to continue
    if (st == nullptr || st->pending || st->started || u->cleanup == nullptr) return false;
    if (!can_continue(r, ctx)) {
        if (!ctx.client_aborted && !r->connection->error) count_outcome(ctx, ContinuationOutcome::impossible);
        return false;
    }
    if (out) out->resize(std::min(error_at, out->size()));
    // the continuation's events follow whole events only
    st->partial_event.clear();
    st->delivered.drop_partial_event();
    st->pending = token;
    ctx.attempt.failure = token;
    if (ctx.response.translator) ctx.usage = ctx.response.translator->usage();
    u->keepalive = 0;
    u->length = 1;  // nginx's relay must not end the request: the answer goes on
    if (u->peer.connection) u->peer.connection->read->ready = 0;
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "routeshift: provider key %L (%s/%s) failed mid-stream (%s) after %uz bytes of text; "
                  "continuing on the next candidate",
                  (int64_t)key.id, ctx.cfg->providers[key.provider].name.c_str(), key.label.c_str(), token,
                  st->delivered.text().size());
    ngx_post_event(&st->event, &ngx_posted_events);
    return true;
}

void continuation_relay_started(ngx_http_request_t* r, RequestCtx& ctx) {
    StreamContinuation* st = ctx.continuation;
    ngx_http_upstream_t* u = r->upstream;
    ngx_connection_t* c = u->peer.connection;
    if (st == nullptr || st->started || c == nullptr || st->wrapped) return;
    st->wrapped = c;
    st->original_recv = c->recv;
    c->recv = continuation_recv;
    st->relay_reader = u->read_event_handler;
    u->read_event_handler = continuation_relay_read;
    if (st->pending) {  // the held answer already failed after its content
        u->length = 1;
        c->read->ready = 0;
    }
}

bool continuation_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* spliced,
                                  std::string* error) {
    StreamContinuation* st = ctx.continuation;
    if (st == nullptr || !st->started) return true;
    st->reading = false;
    const ProviderKey& key = ctx.cfg->keys[c.key];
    std::string_view model = ctx.plan.targets[c.target].upstream_model;
    st->style = continuation_style(ctx.cfg->providers[key.provider].kind, key.wire, model, key.meta.continuation);
    std::string original;
    if (!spliced->pieces.empty()) {
        for (const SplicedBody::Piece& piece : spliced->pieces) original.append(spliced->piece_text(piece, ctx.req.body));
    } else {
        original = ctx.plan.bodies[c.body].bytes;
    }
    if (!build_continuation_body(original, key.wire, st->style, st->delivered.text(), &st->body, error)) return false;
    *spliced = SplicedBody{};
    return wire_adapter(key).request_head(*ctx.cfg, key, *c.ent, true, st->body, (int64_t)ngx_time(), head, error);
}

std::string_view continuation_attempt_body(const RequestCtx& ctx) {
    return continuation_attempt(ctx) ? std::string_view(ctx.continuation->body) : std::string_view();
}

ngx_int_t continuation_answer(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    int status = ctx.attempt.upstream_status;
    const ProviderKey& key = ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key];
    if (status < 200 || status >= 300) {
        // a target that refuses the continuation (e.g. no assistant prefill) is skipped, its key not
        // parked; the client never sees this answer. Overload and rate limits still park it.
        if (status == 408 || status == 429 || status >= 500) {
            ctx.attempt.pending_cooldown_ms =
                cooldown_ms(find_header(u->headers_in.headers, "retry-after"),
                            find_header(u->headers_in.headers, "retry-after-ms"), key.cooldown_seconds, (int64_t)ngx_time());
        }
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "routeshift: provider key %L (%s/%s) did not continue the stream (HTTP %d, style %s); trying the next",
                      (int64_t)key.id, ctx.cfg->providers[key.provider].name.c_str(), key.label.c_str(), status,
                      std::string(continuation_style_name(ctx.continuation->style)).c_str());
        u->keepalive = 0;
        count_outcome(ctx, ContinuationOutcome::rejected);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
    ctx.response.translator = resumed_answer_translator(ctx);
    ctx.response.mode = BodyMode::translated;
    ctx.response.released = true;
    ctx.phase = Phase::relaying;
    ctx.continuation->reading = true;
    ctx.continuation->body_left = u->headers_in.chunked ? -1 : u->headers_in.content_length_n;
    return continuation_read(r, ctx);
}

ngx_int_t continuation_read(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    ngx_buf_t* b = &u->buffer;
    StreamContinuation& st = *ctx.continuation;
    ResponseTranslator& t = *ctx.response.translator;
    std::string out;
    bool ok = true;
    bool done = false;
    if (u->headers_in.chunked) {
        while (ok) {
            ngx_int_t rc = ngx_http_parse_chunked(r, b, &ctx.attempt.chunked);
            if (rc == NGX_OK) {
                size_t n = std::min<size_t>((size_t)(b->last - b->pos), (size_t)ctx.attempt.chunked.size);
                ok = t.feed(std::string_view(reinterpret_cast<const char*>(b->pos), n), &out);
                b->pos += n;
                ctx.attempt.chunked.size -= (off_t)n;
                continue;
            }
            if (rc == NGX_DONE) done = true;
            if (rc == NGX_ERROR) ok = false;
            break;
        }
    } else {
        size_t avail = (size_t)(b->last - b->pos);
        size_t n = st.body_left < 0 ? avail : std::min<size_t>(avail, (size_t)st.body_left);
        ok = t.feed(std::string_view(reinterpret_cast<const char*>(b->pos), n), &out);
        b->pos += n;
        if (st.body_left >= 0) st.body_left -= (off_t)n;
        done = st.body_left == 0;
    }
    bool error_event = t.saw_error();  // the provider's own; finish() writes one for an early end
    if (ok && done) ok = t.finish(&out);
    size_t error_at = st.delivered.observe(out);  // the continuation's text is delivered text too
    bool failed = !ok || t.saw_error();
    if (failed) out.resize(error_at);
    scrub_answer(ctx, &out);
    if (send_output(r, out) != NGX_OK) return NGX_ERROR;
    if (failed) {
        ctx.attempt.failure = error_event || !done ? "invalid" : "cut";
        ctx.usage = t.usage();
        u->keepalive = 0;
        if (!can_continue(r, ctx)) u->peer.tries = 1;  // nginx ends the request: no further attempt
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
    if (done) {
        ctx.phase = Phase::complete;
        ctx.usage = t.usage();
        u->keepalive = 0;
        record_attempt(r, ctx, &u->peer, 0);
        count_outcome(ctx, ContinuationOutcome::continued);
        // nginx now finalizes the request the normal way, without a second header
        r->post_action = 1;
        return NGX_OK;
    }
    b->pos = b->last = b->start;
    ngx_connection_t* c = u->peer.connection;
    if (t.content_started()) {
        stream_timers_released(ctx);
        if (c) ngx_add_timer(c->read, u->conf->read_timeout);
    } else {
        stream_timers_rearm(r, ctx);
    }
    return NGX_AGAIN;
}

void continuation_attempt_ending(RequestCtx& ctx, ngx_peer_connection_t* pc) {
    StreamContinuation* st = ctx.continuation;
    if (st == nullptr) return;
    if (st->wrapped && st->wrapped == pc->connection) {
        pc->connection->recv = st->original_recv;
        st->wrapped = nullptr;
    }
    st->failing = false;
    if (st->reading && ctx.phase != Phase::complete && ctx.attempt.failure == nullptr) {
        bool timed_out = pc->connection && pc->connection->read->timedout;
        const ResponseTranslator* t = ctx.response.translator.get();
        const char* limit = timed_out ? stream_timers_token(ctx, t && t->content_started()) : nullptr;
        ctx.attempt.failure = limit ? limit : timed_out ? "timeout" : "cut";
        if (t) ctx.usage = t->usage();
    }
}

void continuation_attempt_accounted(RequestCtx& ctx) {
    if (ctx.continuation == nullptr) return;
    add_attempt_usage(&ctx.continuation->earlier, attempt_usage(ctx.attempt.error_usage, ctx.usage, ctx.relaying()));
}

const char* continuation_success_token(const RequestCtx& ctx) {
    const StreamContinuation* st = ctx.continuation;
    return st && st->reading && ctx.phase == Phase::complete ? "continued" : nullptr;
}

bool continuation_finalize(ngx_http_request_t* r, RequestCtx& ctx, ngx_int_t rc) {
    StreamContinuation* st = ctx.continuation;
    if (st == nullptr) return false;
    cancel_posted(&st->event);
    if (!st->started) return false;
    ngx_http_upstream_t* u = r->upstream;
    u->header_sent = 1;
    r->post_action = 0;
    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST) ctx.client_aborted = true;
    if (ctx.phase == Phase::complete) return true;
    // no candidate was left, or able, to continue: the stream ends with an error, never [DONE]
    ctx.phase = Phase::complete;
    ctx.midstream_failure = true;
    if (!ctx.client_aborted) count_outcome(ctx, ContinuationOutcome::failed);
    if (!ctx.client_aborted && !r->connection->error) send_output(r, interrupted_event(ctx.dialect));
    return true;
}

}  // namespace routeshift
