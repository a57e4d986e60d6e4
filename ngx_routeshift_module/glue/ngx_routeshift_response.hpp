// The response session's entry points between the glue files that relay an answer
// (docs/design.md §10): the transport (ngx_routeshift_upstream.cpp) and the held answer
// (ngx_routeshift_response_hold.cpp).
#pragma once
#include "ngx_routeshift.hpp"

namespace routeshift {

// ngx_routeshift_upstream.cpp
// Accounts the current attempt once (counters, cooldown, usage, $routeshift_attempt_statuses).
void record_attempt(ngx_http_request_t* r, RequestCtx& ctx, ngx_peer_connection_t* pc, ngx_uint_t state);
// Masks the current key's secret in client-bound output that holds an error.
void scrub_answer(const RequestCtx& ctx, std::string* out);

// ngx_routeshift_response_hold.cpp
// Whether this 2xx answer is held before the client's headers go out: a non-streaming answer with
// a framed body (Content-Length or chunked; a close-delimited one is relayed), until complete; a
// translated stream (every SSE stream), until its first content-bearing event.
bool hold_answer_start(const RequestCtx& ctx, const ngx_http_upstream_t* u);
// Reads the held answer from the header buffer (called from process_header while
// Phase::holding). NGX_AGAIN: more to read; NGX_OK: released (headers go out now);
// NGX_HTTP_UPSTREAM_INVALID_HEADER: the answer is unusable, the attempt fails over.
ngx_int_t hold_answer(ngx_http_request_t* r, RequestCtx& ctx);
// The one place where the client's response headers are decided, once per request: a held answer
// is complete (and accounted, so its usage and cost are known), a stream has its first content,
// or an error is relayed. Headers pushed to r->headers_out here go out with the answer.
void release_response_headers(ngx_http_request_t* r, RequestCtx& ctx);
// After the headers: queues the held answer's bytes on `*ll` (no copy). NGX_OK: the answer is
// complete (nothing more to read), or a released stream goes on (u->length set to what is left);
// NGX_DECLINED: the body was not held.
ngx_int_t send_held_answer(ngx_http_request_t* r, RequestCtx& ctx, ngx_chain_t*** ll);

// ngx_routeshift_output_buffers.cpp
// Appends a copy of `data` to `*ll`'s chain, in reused output buffers of one size (at most
// kMaxSpareOutputBuffers spares are kept; the rest go back to the pool).
ngx_int_t emit(ngx_http_request_t* r, ngx_http_upstream_t* u, ngx_chain_t*** ll, std::string_view data);
// The end of u->out_bufs, where the next output goes.
ngx_chain_t** out_tail(ngx_http_upstream_t* u);

// ngx_routeshift_provider_headers.cpp
// Hides every provider response header outside the allow-list (hash 0: nginx does not copy it)
// and masks the key's secret in the others. Called when the headers are released.
ngx_int_t filter_provider_headers(ngx_http_request_t* r, const RequestCtx& ctx);

// ngx_routeshift_stream_timers.cpp
// start_upstream: a stream with routeshift_first_token_timeout or routeshift_stream_idle_timeout
// gets its own copy of the upstream conf (u->conf), whose read_timeout follows the phases.
ngx_int_t stream_timers_init(ngx_http_request_t* r, RequestCtx& ctx, const LocConf& lc);
// peer_get: the new attempt must show its first content within the first-token limit.
void stream_timers_attempt(RequestCtx& ctx);
// hold_answer, waiting for more: re-arms the read timer (what is left of the first-token limit).
void stream_timers_rearm(ngx_http_request_t* r, RequestCtx& ctx);
// release_response_headers: from now on the idle limit applies between two reads.
void stream_timers_released(RequestCtx& ctx);
// The $routeshift_attempt_statuses token of an attempt whose read timed out: "ttft" (first-token
// limit, before the headers went out), "stall" (idle limit, `relaying`), or null (the socket
// read timeout: the numeric status stays).
const char* stream_timers_token(const RequestCtx& ctx, bool relaying);

// ngx_routeshift_attempt_outcome.cpp (docs/design.md §20)
// The wire's verdict on the current attempt's error answer: notes its class (status token,
// request log, metrics) and, for a context-length error with a context fallback planned, switches
// the request to it: `verdict` then says retry (the key not parked) and nginx's tries allow the
// fallback's attempts.
void attempt_error_outcome(ngx_http_request_t* r, RequestCtx& ctx, ErrorVerdict* verdict);
// The $routeshift_attempt_statuses token of the current attempt's error answer ("context",
// "policy"), "" when its status says it.
std::string_view attempt_error_token(const RequestCtx& ctx);

}  // namespace routeshift
