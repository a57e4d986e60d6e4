// The provider transport: an nginx upstream whose balancer (peer.get) picks a provider key for
// every attempt and rebuilds the whole request for it (URL, Host, TLS name, auth, body). Retries
// come from ngx_http_upstream_next; the answer is relayed unbuffered, SSE event by event.
#include "ngx_routeshift_response.hpp"
#include "ngx_routeshift_continuation.hpp"
#include "dialect/dialect_error.hpp"
#include "util/byte_search.hpp"
#include "util/redaction.hpp"
#include "routing/cooldown.hpp"

namespace routeshift {
namespace {


// ---- balancer ---------------------------------------------------------------------------------

ngx_int_t process_status_line(ngx_http_request_t* r) noexcept;

// A memory buffer over `bytes` (not copied); a fresh one per attempt, since sending moves its pos.
ngx_chain_t* memory_link(ngx_pool_t* pool, std::string_view bytes) {
    ngx_chain_t* cl = ngx_alloc_chain_link(pool);
    ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(pool));
    if (cl == nullptr || b == nullptr) return nullptr;
    b->start = b->pos = reinterpret_cast<u_char*>(const_cast<char*>(bytes.data()));
    b->end = b->last = b->pos + bytes.size();
    b->memory = 1;
    cl->buf = b;
    cl->next = nullptr;
    return cl;
}

// The key of the next attempt: the one reserved with the health check first (if its host
// resolved), then smooth WRR among the untried, then cooling keys when only those remain.
int next_candidate(RequestCtx& ctx) {
    if (ctx.reserved_pick >= 0) {
        int idx = ctx.reserved_pick;
        if (!ctx.cands[(size_t)idx].unusable) {
            ctx.reserved_pick = -1;
            return idx;
        }
        ctx.release_reserved_pick();
    }
    int idx = zone_pick(ctx.zone, ctx, false);
    if (idx < 0) idx = zone_pick(ctx.zone, ctx, true);  // only cooling keys left: still try one
    return idx;
}

ngx_int_t peer_get(ngx_peer_connection_t* pc, void* data) noexcept {
    auto& ctx = *static_cast<RequestCtx*>(data);
    ngx_http_request_t* r = ctx.r;
    ngx_http_upstream_t* u = r->upstream;
    try {
        int idx;
        std::string head;
        if (ctx.attempts > 0) cost_ceiling_before_pick(ctx);  // the first pick was planned within it
        SplicedBody spliced;
        for (;;) {
            // §21: a list's later pages (and a stale connection's retry of one) stay on its key
            idx = relay_following_page(ctx) ? relay_page_pick(ctx) : next_candidate(ctx);
            if (idx < 0) return NGX_BUSY;
            Candidate& c = ctx.cands[(size_t)idx];
            const ProviderKey& key = ctx.cfg->keys[c.key];
            const WireAdapter& wire = wire_adapter(key);
            std::string err;
            // rebuilt on every attempt: Bedrock's SigV4 signature carries the time
            if (ctx.endpoint == Endpoint::openai_relay) {
                if (relay_attempt_request(ctx, c, &head, &spliced, &err)) break;
            } else if (ctx.endpoint == Endpoint::embeddings) {  // §22
                if (embeddings_attempt_request(ctx, c, &head, &spliced, &err)) break;
            } else if (wire.spliced_request(*ctx.cfg, key, *c.ent, ctx.req, ctx.plan.targets[c.target].upstream_model,
                                     &head, &spliced) ||
                wire.request_head(*ctx.cfg, key, *c.ent, ctx.req.stream, ctx.plan.bodies[c.body].bytes,
                                  (int64_t)ngx_time(), &head, &err)) {
                if (continuation_attempt_request(ctx, c, &head, &spliced, &err)) break;  // §19
            }
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: provider key %L unusable: %s",
                          (int64_t)key.id, err.c_str());
            c.unusable = true;
            c.unusable_reason = err;
            zone_attempt_done(ctx.zone, ctx, c, 0, Outcome::client_gone, 0, nullptr);  // undo the pick
            if (relay_following_page(ctx)) return NGX_BUSY;  // a list's later page has no other key
        }
        Candidate& c = ctx.cands[(size_t)idx];
        // an Anthropic client's betas go to the Anthropic-wire keys that get its body (§18)
        if (ctx.dialect == Dialect::anthropic && ctx.cfg->keys[c.key].wire == WireFormat::anthropic)
            add_client_anthropic_betas(&head, find_header(r->headers_in.headers, "anthropic-beta"));
        ctx.current = idx;
        ctx.attempts++;
        ctx.phase = Phase::awaiting_headers;
        ctx.attempt = Attempt{};
        ctx.attempt.started_msec = ngx_current_msec;
        ctx.attempt.head = std::move(head);
        ctx.attempt.spliced = std::move(spliced);
        stream_timers_attempt(ctx);
        ctx.response = Response{};
        r->state = 0;
        u->process_header = process_status_line;  // reinit_request is skipped after connect errors

        // the head, then the body: spans of the client's body (spliced), or the plan's body buffer
        // every attempt on this (target, provider) shares; no copy either way
        ngx_chain_t* head_link = memory_link(r->pool, ctx.attempt.head);
        if (head_link == nullptr) return NGX_ERROR;
        ngx_chain_t* tail = head_link;
        const SplicedBody& sb = ctx.attempt.spliced;
        if (!sb.pieces.empty()) {
            for (const SplicedBody::Piece& piece : sb.pieces) {
                // an upload in nginx's temp file: its bytes are sent from there (§21)
                tail->next = !piece.own && ctx.client_body_file
                                 ? file_range_link(r->pool, ctx.client_body_file, piece.offset, piece.size)
                                 : memory_link(r->pool, sb.piece_text(piece, ctx.req.body));
                if (tail->next == nullptr) return NGX_ERROR;
                tail = tail->next;
            }
            if (ctx.client_body_file) send_file_ranges(ctx);
        } else if (!ctx.plan.bodies[c.body].bytes.empty() || continuation_attempt(ctx)) {
            std::string_view continuation_body = continuation_attempt_body(ctx);
            tail->next = memory_link(r->pool, continuation_attempt(ctx) ? continuation_body
                                                                         : std::string_view(ctx.plan.bodies[c.body].bytes));
            if (tail->next == nullptr) return NGX_ERROR;
            tail = tail->next;
        }
        tail->buf->flush = 1;
        u->request_bufs = head_link;

        pc->sockaddr = c.addr.sockaddr;
        pc->socklen = c.addr.socklen;
        pc->name = const_cast<ngx_str_t*>(&c.ent->peer_name);
#if (NGX_HTTP_SSL)
        u->ssl = c.ent->tls ? 1 : 0;
        const std::string& name = c.ent->sni.empty() ? c.ent->host : c.ent->sni;
        u->ssl_name.data = reinterpret_cast<u_char*>(const_cast<char*>(name.data()));
        u->ssl_name.len = name.size();
#endif
        pc->cached = 0;  // set again by keepalive_get only when this attempt reuses a connection
        return keepalive_get(pc, c);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: choosing a provider key failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: choosing a provider key failed");
        return NGX_ERROR;
    }
}

// How soon after its pick a reused connection must fail to count as stale (not the key's fault).
constexpr ngx_msec_t kStaleConnectionWindowMs = 250;

}  // namespace

// Accounts the current attempt once: counters, in-flight, cooldown, usage. Called when the
// answer's body is complete (before its last bytes reach the client, so anyone who saw the
// answer also sees the accounting) or, at the latest, when nginx frees the peer.
void record_attempt(ngx_http_request_t* r, RequestCtx& ctx, ngx_peer_connection_t* pc, ngx_uint_t state) {
    if (ctx.current < 0 || ctx.attempt.recorded) return;
    Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    const Provider& prov = ctx.cfg->providers[key.provider];
    int status = ctx.attempt.upstream_status;
    // A pooled connection the provider had already closed fails at once: nginx grants an extra
    // try (tries++ when pc->cached), and the key is not to blame, so it may be picked again. Only
    // once per request, and only for a failure within a few milliseconds: a provider that accepts
    // and then stays silent or closes later is a failure of the key like any other.
    if (status == 0 && pc->cached && (state & NGX_PEER_FAILED) && !ctx.client_aborted && !ctx.stale_retry_used &&
        ngx_current_msec - ctx.attempt.started_msec <= kStaleConnectionWindowMs) {
        ctx.stale_retry_used = true;
        ctx.attempt.recorded = true;
        c.tried = false;
        ctx.attempts--;
        zone_attempt_done(ctx.zone, ctx, c, 0, Outcome::client_gone, 0, nullptr);
        return;
    }
    pc->cached = 0;  // not a stale connection: no extra try from nginx either
    ctx.attempt.recorded = true;
    int64_t cooldown = ctx.attempt.pending_cooldown_ms;
    Outcome outcome;
    std::string token;  // $routeshift_attempt_statuses: the status, or why a 2xx answer failed
    if (ctx.client_aborted && ctx.phase != Phase::complete) {
        // the client left before the answer was complete: not the provider's fault, and not a
        // success either (an aborted stream is no served answer)
        status = NGX_HTTP_CLIENT_CLOSED_REQUEST;
        outcome = Outcome::client_gone;
        cooldown = 0;
    } else if (status == 0) {
        // no response: connection refused/reset, TLS failure, or timeout
        bool timed_out = pc->connection && (pc->connection->read->timedout || pc->connection->write->timedout);
        status = timed_out ? 504 : 502;
        if (const char* limit = timed_out ? stream_timers_token(ctx, false) : nullptr) token = limit;
        outcome = Outcome::failure;
        cooldown = (int64_t)key.cooldown_seconds * 1000;
        ctx.last_failure = std::string(timed_out ? "Timed out talking to provider '" : "Could not reach provider '") +
                           prov.name + "' (key '" + key.label + "').";
    } else if (ctx.attempt.failure || ctx.phase == Phase::holding) {
        // a 2xx answer that broke off, timed out or could not be used before the client saw it
        bool timed_out = pc->connection && pc->connection->read->timedout;
        const char* limit = timed_out ? stream_timers_token(ctx, false) : nullptr;
        token = ctx.attempt.failure ? ctx.attempt.failure : limit ? limit : timed_out ? "timeout" : "cut";
        outcome = Outcome::failure;
        cooldown = (int64_t)key.cooldown_seconds * 1000;
        if (!ctx.attempt.failure) {
            ctx.last_failure = "Provider '" + prov.name + "' (key '" + key.label + "') " +
                               (timed_out ? "timed out in the middle of its answer." : "broke off its answer.");
        }
    } else if (ctx.midstream_failure) {
        bool timed_out = pc->connection && pc->connection->read->timedout;
        const char* limit = timed_out ? stream_timers_token(ctx, true) : nullptr;
        token = limit ? limit : timed_out ? "timeout" : "cut";
        outcome = Outcome::failure;  // the answer broke after it started: park the key like a 5xx
        cooldown = (int64_t)key.cooldown_seconds * 1000;
        ctx.last_failure = "Provider '" + prov.name + "' (key '" + key.label + "') broke off its answer.";
    } else if (status < 400) {
        outcome = Outcome::success;
        if (const char* continued = continuation_success_token(ctx)) token = continued;
    } else {
        outcome = Outcome::failure;
        token = attempt_error_token(ctx);  // "context", "policy" (§20); else the status
        ctx.last_failure = "Provider '" + prov.name + "' (key '" + key.label + "') answered HTTP " +
                           std::to_string(status) + ".";
    }
    if (!ctx.attempt_statuses.empty()) ctx.attempt_statuses += ',';
    ctx.attempt_statuses += token.empty() ? std::to_string(status) : token;
    request_log_attempt_done(ctx, c, status, token);
    continuation_attempt_accounted(ctx);
    bool has_usage = ctx.usage.prompt_tokens > 0 || ctx.usage.completion_tokens > 0;
    zone_attempt_done(ctx.zone, ctx, c, status, outcome, cooldown, has_usage ? &ctx.usage : nullptr);
    cost_ceiling_attempt_done(ctx, c);
    if (cooldown > 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "routeshift: provider key %L (%s/%s) cooling down for %L ms after status %d",
                      (int64_t)key.id, prov.name.c_str(), key.label.c_str(), (int64_t)cooldown, status);
    }
}

namespace {

void peer_free(ngx_peer_connection_t* pc, void* data, ngx_uint_t state) noexcept {
    auto& ctx = *static_cast<RequestCtx*>(data);
    ngx_http_request_t* r = ctx.r;
    if (pc->tries) pc->tries--;
    if (ctx.current < 0) return;
    try {
        continuation_attempt_ending(ctx, pc);
        record_attempt(r, ctx, pc, state);
        int status = ctx.attempt.upstream_status;
        // a list's page turn (§21) ends a complete answer through nginx's next-upstream path
        bool page_turn = relay_page_due(ctx);
        if ((state == 0 || page_turn) && status >= 200 && status < 400 && !ctx.midstream_failure && !ctx.client_aborted) {
            keepalive_save(pc, r->upstream, ctx.cands[(size_t)ctx.current]);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting an attempt failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: accounting an attempt failed");
    }
}

ngx_int_t peer_init(ngx_http_request_t* r, ngx_http_upstream_srv_conf_t*) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_ERROR;
    ngx_http_upstream_t* u = r->upstream;
    u->peer.get = peer_get;
    u->peer.free = peer_free;
    u->peer.data = ctx;
    u->peer.tries = ctx->plan.budget.attempts;
    return NGX_OK;
}

// ---- request / response callbacks ----------------------------------------------------------------

ngx_int_t create_request(ngx_http_request_t* r) noexcept {
    // The real request is built per attempt in peer_get; nothing is sent before that.
    return NGX_OK;
}

ngx_int_t process_header(ngx_http_request_t* r) noexcept;

ngx_int_t reinit_request(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_OK;
    ctx->attempt.status = ngx_http_status_t{};
    ctx->attempt.chunked = ngx_http_chunked_t{};
    r->state = 0;
    r->upstream->process_header = process_status_line;
    return NGX_OK;
}

ngx_int_t process_status_line(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_ERROR;
    ngx_http_upstream_t* u = r->upstream;
    ngx_int_t rc = ngx_http_parse_status_line(r, &u->buffer, &ctx->attempt.status);
    continuation_header_stage(u);
    if (rc == NGX_AGAIN) return rc;
    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: provider sent no valid HTTP/1.x status line");
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
    if (u->state && u->state->status == 0) u->state->status = ctx->attempt.status.code;
    u->headers_in.status_n = ctx->attempt.status.code;
    size_t len = (size_t)(ctx->attempt.status.end - ctx->attempt.status.start);
    u->headers_in.status_line.len = len;
    u->headers_in.status_line.data = static_cast<u_char*>(ngx_pnalloc(r->pool, len));
    if (u->headers_in.status_line.data == nullptr) return NGX_ERROR;
    ngx_memcpy(u->headers_in.status_line.data, ctx->attempt.status.start, len);
    if (ctx->attempt.status.http_version < NGX_HTTP_VERSION_11) u->headers_in.connection_close = 1;
    u->process_header = process_header;
    return process_header(r);
}

// For an error status that another key might fix, the body tells whether it will (a 429 for an
// empty balance won't). Error bodies are small: wait until the whole body is in the header
// buffer, unless it cannot fit (then decide on the status alone). NGX_AGAIN = wait.
ngx_int_t peek_error_body(ngx_http_request_t* r, RequestCtx& ctx, std::string_view* body) {
    ngx_http_upstream_t* u = r->upstream;
    ngx_buf_t* b = &u->buffer;
    size_t avail = (size_t)(b->last - b->pos);
    bool full = b->last == b->end;
    if (!u->headers_in.chunked && u->headers_in.content_length_n >= 0) {
        size_t len = (size_t)u->headers_in.content_length_n;
        if (avail >= len) {
            *body = std::string_view(reinterpret_cast<const char*>(b->pos), len);
            return NGX_OK;
        }
        if (full || (size_t)(b->end - b->pos) < len) {
            *body = std::string_view(reinterpret_cast<const char*>(b->pos), avail);
            return NGX_OK;
        }
        return NGX_AGAIN;
    }
    if (u->headers_in.chunked) {
        ngx_buf_t tmp = *b;
        ngx_http_chunked_t st{};
        ctx.response.peek.clear();
        for (;;) {
            ngx_int_t rc = ngx_http_parse_chunked(r, &tmp, &st);
            if (rc == NGX_OK) {
                size_t n = std::min<size_t>((size_t)(tmp.last - tmp.pos), (size_t)st.size);
                ctx.response.peek.append(reinterpret_cast<const char*>(tmp.pos), n);
                tmp.pos += n;
                st.size -= (off_t)n;
                continue;
            }
            if (rc == NGX_DONE || rc == NGX_ERROR || full) break;
            return NGX_AGAIN;  // NGX_AGAIN: more chunks to come
        }
        *body = ctx.response.peek;
        return NGX_OK;
    }
    *body = std::string_view(reinterpret_cast<const char*>(b->pos), avail);  // close-delimited
    return NGX_OK;
}

// A provider response header by lower-case name, also when it is hidden from the client.
std::string_view provider_header(const ngx_list_t& headers, std::string_view lowcase_name) {
    for (const ngx_list_part_t* part = &headers.part; part; part = part->next) {
        auto* h = static_cast<const ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; i++) {
            if (h[i].key.data && h[i].key.len == lowcase_name.size() &&
                ngx_strncmp(h[i].lowcase_key, lowcase_name.data(), lowcase_name.size()) == 0) {
                return string_view_of(h[i].value);
            }
        }
    }
    return {};
}

// The key's secret and Bedrock's error-type header, for the wire adapter's error verdicts.
ErrorContext error_context(const RequestCtx& ctx, const std::string_view* secret) {
    ErrorContext ec;
    ec.secrets = std::span<const std::string_view>(secret, 1);
    ec.amzn_error_type = provider_header(ctx.r->upstream->headers_in.headers, "x-amzn-errortype");
    return ec;
}

ErrorVerdict classify_error(const RequestCtx& ctx, int status, std::string_view body) {
    const ProviderKey& key = ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key];
    std::string_view secret = key.secret;
    return wire_adapter(key).classify_error(status, body, error_context(ctx, &secret));
}

std::unique_ptr<ResponseTranslator> make_translator(RequestCtx& ctx, std::string_view ctype) {
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const WireAdapter& wire = wire_adapter(ctx.cfg->keys[c.key]);
    if (ctx.endpoint == Endpoint::openai_relay) return relay_translator(ctx, ctype);  // §21
    if (ctx.endpoint == Endpoint::embeddings) return embeddings_translator(ctx, ctype);  // §22
    TranslatorOptions opt;
    opt.stream = ctx.req.stream;
    opt.include_usage = ctx.req.include_usage;
    if (ctx.endpoint == Endpoint::messages_count_tokens || ctx.endpoint == Endpoint::gemini_count_tokens)
        return nullptr;  // {"input_tokens":N} / {"totalTokens":N} relayed as is
    if (ctx.dialect != Dialect::openai) {  // the client's dialect decides (docs/design.md §18)
        ctx.response.converted = true;
        return dialect_translator(ctx, ctype);
    }
    ctx.response.converted = wire.converts();
    if (ctx.response.converted) {
        opt.model = ctx.plan.targets[c.target].upstream_model;
        opt.id = fresh_answer_id("chatcmpl-");
        opt.created = (int64_t)ngx_time();
        opt.legacy_functions = ctx.req.legacy_functions;
    }
    return wire.translator(opt, ctype);
}

// All upstream headers are parsed: decide retry vs relay, and how the body will be handled.
ngx_int_t decide(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    int status = ctx.attempt.upstream_status;
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    if (continuation_attempt(ctx)) return continuation_answer(r, ctx);  // docs/design.md §19
    if (status >= 400) {
        std::string_view body;
        // error bodies are small and decide both the retry and the key's fate (Gemini reports a
        // revoked key as a 400 API_KEY_INVALID), so read them whenever they fit the buffer
        if (peek_error_body(r, ctx, &body) == NGX_AGAIN) {
            ctx.phase = Phase::awaiting_error_body;
            return NGX_AGAIN;
        }
        ErrorVerdict v = classify_error(ctx, status, body);
        attempt_error_outcome(r, ctx, &v);  // §20: its class; a context-length error may switch models
        bool may_retry = u->peer.tries > 1;
        if (v.park_key) {
            ctx.attempt.pending_cooldown_ms =
                v.park_ms >= 0 ? v.park_ms
                               : cooldown_ms(find_header(u->headers_in.headers, "retry-after"),
                                             find_header(u->headers_in.headers, "retry-after-ms"),
                                             key.cooldown_seconds, (int64_t)ngx_time());
        }
        // a list's later page (§21) is not retried: the call ends with what its earlier pages kept
        if (relay_following_page(ctx)) return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        if (v.retry && cost_ceiling_allows_retry(ctx, body, may_retry)) return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        ctx.response.mode = BodyMode::error;
        // another wire format's error becomes an OpenAI error with the status OpenAI would use
        // (Anthropic 529 -> 503); OpenAI-compatible statuses are already right
        if ((wire_adapter(key).converts() || ctx.dialect != Dialect::openai) && v.error.status >= 400) {
            ctx.response.client_status = v.error.status;
        }
        release_response_headers(r, ctx);
        return NGX_OK;
    }
    std::string_view ctype = u->headers_in.content_type ? string_view_of(u->headers_in.content_type->value) : std::string_view{};
    ctx.response.translator = make_translator(ctx, ctype);
    ctx.response.mode = ctx.response.translator ? BodyMode::translated : BodyMode::passthrough;
    session_answer_start(ctx);
    if (hold_answer_start(ctx, u)) return hold_answer(r, ctx);
    release_response_headers(r, ctx);
    return NGX_OK;
}

ngx_int_t headers_done(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    int status = (int)u->headers_in.status_n;
    ctx.attempt.upstream_status = status;
    ctx.attempt.status_msec = ngx_current_msec;
    if (u->headers_in.chunked) u->headers_in.content_length_n = -1;
    if (status == NGX_HTTP_NO_CONTENT || status == NGX_HTTP_NOT_MODIFIED ||
        (!u->headers_in.chunked && u->headers_in.content_length_n == 0)) {
        u->keepalive = !u->headers_in.connection_close;
    }
    if (status == NGX_HTTP_SWITCHING_PROTOCOLS || status < 200) return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    return decide(r, ctx);
}

ngx_int_t process_header(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_ERROR;
    try {
        if (ctx->phase == Phase::awaiting_error_body) return decide(r, *ctx);  // more of the error body
        if (ctx->phase == Phase::holding) return hold_answer(r, *ctx);         // more of a held answer
        if (continuation_attempt(*ctx) && ctx->phase == Phase::relaying) return continuation_read(r, *ctx);
        ngx_http_upstream_t* u = r->upstream;
        auto* umcf = static_cast<ngx_http_upstream_main_conf_t*>(
            ngx_http_get_module_main_conf(r, ngx_http_upstream_module));
        for (;;) {
            ngx_int_t rc = ngx_http_parse_header_line(r, &u->buffer, 1);
            if (rc == NGX_OK) {
                ngx_table_elt_t* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&u->headers_in.headers));
                if (h == nullptr) return NGX_ERROR;
                h->hash = r->header_hash;
                h->key.len = (size_t)(r->header_name_end - r->header_name_start);
                h->value.len = (size_t)(r->header_end - r->header_start);
                h->key.data = static_cast<u_char*>(ngx_pnalloc(r->pool, h->key.len + 1 + h->value.len + 1 + h->key.len));
                if (h->key.data == nullptr) {
                    h->hash = 0;
                    return NGX_ERROR;
                }
                h->value.data = h->key.data + h->key.len + 1;
                h->lowcase_key = h->key.data + h->key.len + 1 + h->value.len + 1;
                ngx_memcpy(h->key.data, r->header_name_start, h->key.len);
                h->key.data[h->key.len] = '\0';
                ngx_memcpy(h->value.data, r->header_start, h->value.len);
                h->value.data[h->value.len] = '\0';
                if (h->key.len == r->lowcase_index) {
                    ngx_memcpy(h->lowcase_key, r->lowcase_header, h->key.len);
                } else {
                    ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
                }
                auto* hh = static_cast<ngx_http_upstream_header_t*>(
                    ngx_hash_find(&umcf->headers_in_hash, h->hash, h->lowcase_key, h->key.len));
                if (hh && hh->handler(r, h, hh->offset) != NGX_OK) return NGX_ERROR;
                continue;
            }
            if (rc == NGX_HTTP_PARSE_HEADER_DONE) return headers_done(r, *ctx);
            if (rc == NGX_AGAIN) return NGX_AGAIN;
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: provider sent an invalid header");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: reading the provider's headers failed: %s",
                      e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: reading the provider's headers failed");
        return NGX_ERROR;
    }
}

// ---- body ---------------------------------------------------------------------------------------

constexpr size_t kMaxErrorBody = 64 * 1024;

std::vector<std::string_view> secrets_of(const RequestCtx& ctx) {
    std::vector<std::string_view> s;
    if (ctx.current >= 0) s.push_back(ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key].secret);
    return s;
}

}  // namespace

// Providers quote credentials in error messages; an error event inside a stream must not carry
// them to the client. Only output holding an error is searched.
void scrub_answer(const RequestCtx& ctx, std::string* out) {
    // find_bytes, not std::string::find (it stops at every '"' of the answer to compare) nor memmem
    // (its general search costs more than the rest of the check on every held answer)
    if (ctx.current < 0 || find_bytes(*out, "\"error\"") == nullptr) return;
    auto secrets = secrets_of(ctx);
    *out = redact_secrets(*out, std::span<const std::string_view>(secrets));
}

namespace {

// The upstream body is complete: produce the tail of the client's answer.
ngx_int_t body_complete(ngx_http_request_t* r, RequestCtx& ctx, ngx_chain_t*** ll) {
    ngx_http_upstream_t* u = r->upstream;
    if (ctx.phase == Phase::complete) return NGX_OK;
    ctx.phase = Phase::complete;
    ngx_int_t rc = NGX_OK;
    Response& resp = ctx.response;
    if (resp.mode == BodyMode::translated) {
        ctx.scratch.clear();
        // an answer the provider did not complete ends in an error, never in a clean [DONE]
        bool finished = resp.translator->finish(&ctx.scratch);
        continuation_stream_ended(ctx, finished, &ctx.scratch);
        size_t error_at = continuation_observe(ctx, &ctx.scratch);
        if (!finished && ctx.req.stream && continuation_rescue(r, ctx, "cut", error_at, &ctx.scratch)) {
            ctx.phase = Phase::relaying;  // the next candidate continues the answer (§19)
            scrub_answer(ctx, &ctx.scratch);
            return emit(r, u, ll, ctx.scratch);
        }
        if (!finished) ctx.midstream_failure = true;
        ctx.usage = resp.translator->usage();
        scrub_answer(ctx, &ctx.scratch);
        rc = emit(r, u, ll, ctx.scratch);
    } else if (resp.mode == BodyMode::error) {
        const ProviderKey& key = ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key];
        std::string_view secret = key.secret;
        std::string body = dialect_error_from_openai_body(
            ctx.dialect, resp.client_status ? resp.client_status : ctx.attempt.upstream_status,
            wire_adapter(key).client_error_body(ctx.attempt.upstream_status, resp.error_body,
                                                error_context(ctx, &secret)));
        rc = emit(r, u, ll, body);
    } else {
        ctx.usage = resp.usage_scanner.usage();
    }
    record_attempt(r, ctx, &u->peer, 0);
    return rc;
}

// The translator gave up on a stream (its error event is queued): the answer is over. Nothing more
// is read; nginx finalizes the request once the output is sent and closes the upstream
// connection, instead of reading an endless provider to its end.
void end_given_up_stream(ngx_http_request_t* r, RequestCtx& ctx) {
    ngx_http_upstream_t* u = r->upstream;
    ctx.phase = Phase::complete;
    ctx.midstream_failure = true;  // never back to the keep-alive pool
    ctx.attempt.failure = "invalid";
    ctx.usage = ctx.response.translator->usage();
    u->length = 0;
    u->keepalive = 0;
    record_attempt(r, ctx, &u->peer, 0);
}

bool stream_given_up(const RequestCtx& ctx) {
    return ctx.phase == Phase::complete && ctx.attempt.failure != nullptr;
}

// Consumes one piece of de-framed upstream body. NGX_DONE: a stream's translator gave up, the
// answer is over.
ngx_int_t consume(ngx_http_request_t* r, RequestCtx& ctx, ngx_chain_t*** ll, u_char* pos, size_t n) {
    ngx_http_upstream_t* u = r->upstream;
    std::string_view piece(reinterpret_cast<const char*>(pos), n);
    Response& resp = ctx.response;
    if (resp.mode == BodyMode::translated) {
        ctx.scratch.clear();
        uint64_t skipped = resp.translator->skipped_events();
        bool given_up = !resp.translator->feed(piece, &ctx.scratch);
        if (given_up) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "routeshift: the provider's answer ended with an error or could not be read");
        }
        if (resp.translator->skipped_events() != skipped) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "routeshift: skipped %uL malformed event(s) of the provider's stream",
                          resp.translator->skipped_events() - skipped);
        }
        size_t error_at = continuation_observe(ctx, &ctx.scratch);
        bool rescued = given_up && ctx.req.stream && continuation_rescue(r, ctx, "invalid", error_at, &ctx.scratch);
        scrub_answer(ctx, &ctx.scratch);
        if (emit(r, u, ll, ctx.scratch) != NGX_OK) return NGX_ERROR;
        if (rescued) return NGX_DONE;  // the next candidate continues the answer (§19)
        if (given_up && ctx.req.stream) {
            end_given_up_stream(r, ctx);
            return NGX_DONE;
        }
        return NGX_OK;
    }
    if (resp.mode == BodyMode::error) {
        if (resp.error_body.size() < kMaxErrorBody) {
            resp.error_body.append(piece.substr(0, kMaxErrorBody - resp.error_body.size()));
        }
        return NGX_OK;
    }
    resp.usage_scanner.feed(piece);  // the usage, without keeping the answer
    // pass through without copying
    ngx_chain_t* cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == nullptr) return NGX_ERROR;
    ngx_buf_t* b = cl->buf;
    b->start = nullptr;  // not ours to reuse for copies
    b->end = nullptr;
    b->pos = pos;
    b->last = pos + n;
    b->memory = 1;
    b->temporary = 0;
    b->flush = 1;
    b->tag = u->output.tag;
    cl->next = nullptr;
    **ll = cl;
    *ll = &cl->next;
    return NGX_OK;
}

ngx_int_t input_filter_init(void* data) noexcept {
    auto* r = static_cast<ngx_http_request_t*>(data);
    ngx_http_upstream_t* u = r->upstream;
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_ERROR;
    try {
        ngx_chain_t** held = out_tail(u);
        ngx_int_t rc = send_held_answer(r, *ctx, &held);
        if (rc == NGX_OK && ctx->response.stream_held) continuation_relay_started(r, *ctx);
        if (rc == NGX_OK && u->out_bufs != nullptr) {
            // The headers wait in the write filter. nginx would flush them alone (its buffer holds
            // no body bytes: the hold consumed them) and send the held answer in a second write;
            // sent now, headers and answer leave in one writev (one loopback segment, not two).
            if (ngx_http_output_filter(r, u->out_bufs) == NGX_ERROR) return NGX_ERROR;
            ngx_chain_update_chains(r->pool, &u->free_bufs, &u->busy_bufs, &u->out_bufs, u->output.tag);
        }
        if (rc != NGX_DECLINED) return rc;
        int status = (int)u->headers_in.status_n;
        if (status == NGX_HTTP_NO_CONTENT || status == NGX_HTTP_NOT_MODIFIED ||
            (!u->headers_in.chunked && u->headers_in.content_length_n == 0)) {
            u->length = 0;
            u->keepalive = !u->headers_in.connection_close;
            ngx_chain_t** ll = out_tail(u);
            return body_complete(r, *ctx, &ll);
        }
        u->length = u->headers_in.chunked ? 1 : u->headers_in.content_length_n;
        return NGX_OK;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: starting the answer failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: starting the answer failed");
        return NGX_ERROR;
    }
}

ngx_int_t input_filter(void* data, ssize_t bytes) noexcept {
    auto* r = static_cast<ngx_http_request_t*>(data);
    ngx_http_upstream_t* u = r->upstream;
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return NGX_ERROR;
    try {
        if (ctx->first_byte_msec == 0) ctx->first_byte_msec = ngx_current_msec;
        if (stream_given_up(*ctx)) return NGX_OK;  // read while the error event is still being sent
        ngx_buf_t* buf = &u->buffer;
        ngx_chain_t** ll = out_tail(u);

        if (!u->headers_in.chunked) {
            u_char* pos = buf->last;
            buf->last += bytes;
            if (u->length == 0) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "routeshift: provider sent more data than its Content-Length");
                u->keepalive = 0;
                return NGX_OK;
            }
            size_t n = (size_t)bytes;
            if (u->length != -1) {
                if ((off_t)n > u->length) {
                    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                                  "routeshift: provider sent more data than its Content-Length");
                    n = (size_t)u->length;
                }
                u->length -= (off_t)n;
            }
            ngx_int_t rc = consume(r, *ctx, &ll, pos, n);
            if (rc == NGX_DONE) return NGX_OK;
            if (rc != NGX_OK) return NGX_ERROR;
            if (u->length == 0) {
                u->keepalive = !u->headers_in.connection_close;
                return body_complete(r, *ctx, &ll);
            }
            return NGX_OK;
        }

        buf->pos = buf->last;
        buf->last += bytes;
        for (;;) {
            ngx_int_t rc = ngx_http_parse_chunked(r, buf, &ctx->attempt.chunked);
            if (rc == NGX_OK) {
                size_t n;
                u_char* pos = buf->pos;
                if (buf->last - buf->pos >= ctx->attempt.chunked.size) {
                    n = (size_t)ctx->attempt.chunked.size;
                    buf->pos += n;
                    ctx->attempt.chunked.size = 0;
                } else {
                    n = (size_t)(buf->last - buf->pos);
                    ctx->attempt.chunked.size -= (off_t)n;
                    buf->pos = buf->last;
                }
                ngx_int_t consumed = consume(r, *ctx, &ll, pos, n);
                if (consumed == NGX_DONE) return NGX_OK;
                if (consumed != NGX_OK) return NGX_ERROR;
                continue;
            }
            if (rc == NGX_DONE) {
                u->keepalive = !u->headers_in.connection_close;
                u->length = 0;
                if (buf->pos != buf->last) {
                    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "routeshift: provider sent data after the final chunk");
                    u->keepalive = 0;
                }
                return body_complete(r, *ctx, &ll);
            }
            if (rc == NGX_AGAIN) return NGX_OK;
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: provider sent an invalid chunked body");
            return NGX_ERROR;
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: relaying the answer failed: %s", e.what());
        return NGX_ERROR;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: relaying the answer failed");
        return NGX_ERROR;
    }
}

void abort_request(ngx_http_request_t*) noexcept {}

void finalize_request(ngx_http_request_t* r, ngx_int_t rc) noexcept {
    RequestCtx* ctx = get_ctx(r);
    if (ctx == nullptr) return;
    try {
        ngx_http_upstream_t* u = r->upstream;
        if (continuation_finalize(r, *ctx, rc)) return;  // a continued stream ends its own way (§19)
        if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST) ctx->client_aborted = true;
        bool mid_answer = ctx->phase == Phase::relaying;  // relaying, body not complete
        if (rc != 0 && rc != NGX_HTTP_CLIENT_CLOSED_REQUEST && mid_answer && !r->connection->error) {
            ctx->midstream_failure = true;
        }
        if (u->header_sent && mid_answer && !r->connection->error) {
            ngx_chain_t* out = nullptr;
            ngx_chain_t** ll = &out;
            if (rc == 0) {
                body_complete(r, *ctx, &ll);  // a body delimited by connection close
            } else if (ctx->response.mode == BodyMode::translated && ctx->req.stream &&
                       !ctx->response.translator->complete() && !ctx->response.translator->saw_error()) {
                ctx->phase = Phase::complete;
                ctx->usage = ctx->response.translator->usage();
                std::string ev = ctx->dialect == Dialect::openai
                                     ? OpenAIStreamRelay::error_event(
                                           "The provider's stream was interrupted before completion.", "stream_interrupted")
                                     : dialect_error_event(ctx->dialect, {502, "The provider's stream was interrupted before completion.",
                                                                          "server_error", "", "stream_interrupted"});
                emit(r, u, &ll, ev);
            }
            if (out) ngx_http_output_filter(r, out);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: ending the answer failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: ending the answer failed");
    }
}

}  // namespace

void start_upstream(RequestCtx& ctx) {
    ngx_http_request_t* r = ctx.r;
    auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
    if (ngx_http_upstream_create(r) != NGX_OK) {
        ctx.release_reserved_pick();
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ngx_http_upstream_t* u = r->upstream;
    u->conf = &lc->upstream;
    if (stream_timers_init(r, ctx, *lc) != NGX_OK || continuation_begin(r, ctx, *lc) != NGX_OK) {
        ctx.release_reserved_pick();
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    u->output.tag = (ngx_buf_tag_t)&ngx_http_routeshift_module;
    u->create_request = create_request;
    u->reinit_request = reinit_request;
    u->process_header = process_status_line;
    u->abort_request = abort_request;
    u->finalize_request = finalize_request;
    u->input_filter_init = input_filter_init;
    u->input_filter = input_filter;
    u->input_filter_ctx = r;
    u->buffering = 0;
    ngx_http_upstream_init(r);
}

ngx_int_t upstream_init_conf(ngx_conf_t* cf, LocConf* conf) {
    // A private upstream{} whose peer.init installs our balancer.
    auto* uscf = static_cast<ngx_http_upstream_srv_conf_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_http_upstream_srv_conf_t)));
    if (uscf == nullptr) return NGX_ERROR;
    uscf->peer.init = peer_init;
    ngx_str_set(&uscf->host, "routeshift");
    uscf->file_name = cf->conf_file->file.name.data;
    uscf->line = cf->conf_file->line;
    conf->upstream.upstream = uscf;

#if (NGX_HTTP_SSL)
    auto* ssl = static_cast<ngx_ssl_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t)));
    if (ssl == nullptr) return NGX_ERROR;
    ssl->log = cf->log;
    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3, nullptr) != NGX_OK) return NGX_ERROR;
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == nullptr) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }
    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;
    ngx_str_t ciphers = ngx_string("DEFAULT");
    if (ngx_ssl_ciphers(cf, ssl, &ciphers, 0) != NGX_OK) return NGX_ERROR;
    if (conf->ssl_verify) {
        // depth 10: real provider chains (leaf, intermediates, root) need more than nginx's 1
        if (ngx_ssl_trusted_certificate(cf, ssl, &conf->ssl_trusted_certificate, 10) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    conf->upstream.ssl = ssl;
#endif
    return NGX_OK;
}

}  // namespace routeshift
