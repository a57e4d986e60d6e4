// Mid-stream continuation (docs/design.md §19): a stream that fails after content reached the client
// is finished by the next candidate, which is asked to continue the text already delivered. The
// entry points the transport (ngx_routeshift_upstream.cpp) and the held answer
// (ngx_routeshift_response_hold.cpp) call; everything else is in ngx_routeshift_continuation.cpp.
#pragma once
#include "ngx_routeshift.hpp"
#include "continuation/continuation_style.hpp"
#include "continuation/delivered_stream.hpp"

namespace routeshift {

// The request's continuation state: only requests that may be continued have one (pool storage).
struct StreamContinuation {
    explicit StreamContinuation(Dialect dialect) : delivered(dialect) {}

    DeliveredStream delivered;        // what the client has received (read in the client's dialect)
    const char* pending = nullptr;    // the failed attempt's token: its continuation is due
    bool started = false;             // the glue owns the relay from now on (nginx's headers went out)
    bool reading = false;             // the current attempt is a continuation relaying its answer
    bool failing = false;             // the wrapped connection reports an error (its attempt is over)
    off_t body_left = -1;             // the continuation's Content-Length bytes still to read
    ContinuationStyle style = ContinuationStyle::instruction;  // of the current continuation attempt
    std::string body;                 // the current continuation attempt's request body
    Usage earlier;                    // the usage of the attempts accounted so far (running total)
    std::string partial_event;        // relayed bytes of an event not yet whole: held from the client
    ngx_event_t event{};              // posted: starts the continuation outside nginx's relay loop
    ngx_connection_t* wrapped = nullptr;  // the relayed attempt's connection, recv wrapped
    ngx_recv_pt original_recv = nullptr;
    ngx_http_upstream_handler_pt relay_reader = nullptr;  // nginx's non-buffered read handler

    ~StreamContinuation();
};

// start_upstream: a stream whose rule and location allow it gets its state (a streamed chat,
// Messages or streamGenerateContent answer).
ngx_int_t continuation_begin(ngx_http_request_t* r, RequestCtx& ctx, const LocConf& lc);
// Whether the current attempt is a continuation (its answer is relayed by continuation_read).
bool continuation_attempt(const RequestCtx& ctx);
// process_status_line: remembers nginx's header reader (it drives ngx_http_upstream_next).
void continuation_header_stage(ngx_http_upstream_t* u);
// What the client is about to receive from the relayed attempt (`*out`). Bytes of a relayed event
// that is not yet whole are taken from the end of `*out` and held (they go out with the event's
// end: a continuation must not follow half an event); held bytes before a whole event are put back
// in front. Returns the offset of an error event in `*out` (out->size() when none). A no-op
// without continuation.
size_t continuation_observe(RequestCtx& ctx, std::string* out);
// body_complete, after the translator's finish: the provider's stream ended. The held part of an
// event it left incomplete goes out in front of `*out` when the answer is `complete`, else it is
// dropped (the client never gets half an event).
void continuation_stream_ended(RequestCtx& ctx, bool complete, std::string* out);
// The relayed attempt failed after content (`token`: cut, invalid, stall...). When the stream can
// be continued: `out` (if any) is cut at `error_at`, the continuation is posted and true returned;
// the caller then emits `out` and leaves the answer open. False: end the stream as before.
bool continuation_rescue(ngx_http_request_t* r, RequestCtx& ctx, const char* token, size_t error_at, std::string* out);
// input_filter_init of a released stream: failures of the relay are caught before nginx ends it.
void continuation_relay_started(ngx_http_request_t* r, RequestCtx& ctx);
// peer_get of a continuation attempt: its head and body (the continuation request). False + `error`:
// the candidate cannot continue (its style is none, its body has no conversation).
bool continuation_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* spliced,
                                  std::string* error);
// The body peer_get sends for the current attempt when it is a continuation ("" otherwise).
std::string_view continuation_attempt_body(const RequestCtx& ctx);
// decide(), for a continuation attempt: its status and body (the relay stays in process_header).
ngx_int_t continuation_answer(ngx_http_request_t* r, RequestCtx& ctx);
// process_header while a continuation relays its answer.
ngx_int_t continuation_read(ngx_http_request_t* r, RequestCtx& ctx);
// peer_free, before the attempt is accounted: a broken continuation gets its token, the wrapped
// connection its recv back.
void continuation_attempt_ending(RequestCtx& ctx, ngx_peer_connection_t* pc);
// record_attempt: the attempt's usage joins the running total a continuation reports.
void continuation_attempt_accounted(RequestCtx& ctx);
// record_attempt of a successful attempt: "continued" for a continuation, null otherwise.
const char* continuation_success_token(const RequestCtx& ctx);
// finalize_request: true when the continuation ended the answer itself (error event included).
bool continuation_finalize(ngx_http_request_t* r, RequestCtx& ctx, ngx_int_t rc);

}  // namespace routeshift
