// What a provider's error answer means for the request (docs/design.md §20): the wire's verdict
// already says retry or not; here its class is noted for the status token, the request log and the
// metrics, and a context-length error switches the request to its context fallback model: the
// fallback's candidates, planned and held by the planner, become the only ones left.
#include "ngx_routeshift_response.hpp"

#include <algorithm>

namespace routeshift {

void attempt_error_outcome(ngx_http_request_t* r, RequestCtx& ctx, ErrorVerdict* verdict) {
    ctx.attempt.classified = true;
    ctx.attempt.error_class = upstream_error_class(*verdict);
    if (ctx.attempt.error_class != UpstreamErrorClass::context_length) return;
    unsigned attempts = switch_to_context_fallback(ctx.plan.context_fallback, std::span<Candidate>(ctx.cands));
    if (attempts == 0) return;  // no fallback (or already on it): the error goes to the client
    ctx.attempt.context_fallback = true;
    // the key answered correctly: a prompt too long for its model is not its fault
    verdict->retry = true;
    verdict->park_key = false;
    verdict->park_ms = -1;
    ngx_http_upstream_t* u = r->upstream;
    // this attempt still takes one try when it is freed; the fallback gets its own attempts even
    // when the retry budget is spent (it is another model, not a retry of this one)
    u->peer.tries = std::max<ngx_uint_t>(u->peer.tries, (ngx_uint_t)attempts + 1);
    const Target& from = ctx.plan.targets[ctx.cands[(size_t)ctx.current].target];
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "routeshift: the prompt exceeds the context of model \"%s\"; trying the context fallback \"%s\"",
                  from.public_model.c_str(), ctx.plan.context_fallback.model.c_str());
}

std::string_view attempt_error_token(const RequestCtx& ctx) {
    return ctx.attempt.classified ? attempt_status_token(ctx.attempt.error_class) : std::string_view{};
}

}  // namespace routeshift
