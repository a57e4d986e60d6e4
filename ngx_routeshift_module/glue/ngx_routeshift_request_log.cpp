// The request-log record of a request (docs/design.md §11), from its RequestCtx: each attempt is
// noted when upstream.cpp accounts it, the whole record is assembled in the log phase
// (ngx_routeshift_log_spool.cpp writes it). A request our handler never saw (nginx answered before
// it) still gets a record from what nginx knows.
#include "ngx_routeshift.hpp"
#include "continuation/attempt_usage_total.hpp"

#include "accounting/cost.hpp"
#include "accounting/request_record.hpp"
#include "canonical/prompt_size.hpp"

namespace routeshift {
namespace {

bool has_tokens(const Usage& usage) { return usage.prompt_tokens > 0 || usage.completion_tokens > 0; }

// 0 when no tokens were used; -1 (unknown) for tokens at a model without a price.
int64_t cost_of(const Usage& usage, const ModelPrice* price) {
    if (!has_tokens(usage)) return 0;
    return price ? usage_cost_microcents(usage, *price) : -1;
}

std::string metadata_of(const ChatRequest& req) {
    std::string_view text;  // the last "metadata" member counts, as in jansson
    for (size_t i = 0; i < req.members.size(); i++) {
        if (req.members[i].key == "metadata") text = req.members[i].value.is(JsonType::object) ? req.members[i].value.text : "";
    }
    return loggable_metadata(text);
}

// What the client was told went wrong ("" on success); the same text as $routeshift_error.
std::string error_of(const RequestCtx& ctx, int status) {
    if (ctx.phase == Phase::failed) return ctx.error.code.empty() ? ctx.error.type : ctx.error.code;
    if (ctx.client_aborted) return "client_closed_request";
    if (ctx.midstream_failure) return ctx.last_failure.empty() ? "stream_interrupted" : ctx.last_failure;
    if (status >= 400) return ctx.last_failure.empty() ? "http_" + std::to_string(status) : ctx.last_failure;
    return {};
}

// The answer was cut (the client left or the provider broke off) after bytes reached the client
// and the provider reported no usage: estimate it (money was spent).
void estimate_cut_answer(const RequestCtx& ctx, RequestRecord& record) {
    if (record.attempts.empty() || ctx.current < 0 || !ctx.relaying()) return;
    if (!ctx.client_aborted && !ctx.midstream_failure) return;
    AttemptRecord& last = record.attempts.back();
    if (last.usage.completion_tokens > 0) return;
    ngx_http_request_t* r = ctx.r;
    off_t body = r->connection->sent - (off_t)r->header_size;
    Usage estimate = estimate_cut_usage(measure_prompt(ctx.req).estimated_tokens, body > 0 ? (uint64_t)body : 0,
                                        ctx.req.stream);
    last.usage = estimate;
    last.cost_microcents = cost_of(estimate, attempt_price(ctx, ctx.cands[(size_t)ctx.current]));
    record.usage = estimate;
    record.usage_estimated = true;
}

void fill_from_ctx(const RequestCtx& ctx, int status, RequestRecord& record) {
    if (ctx.vk) {
        record.virtual_key_id = ctx.vk->id;
        record.team_id = ctx.vk->team_id;
    }
    record.session_id = ctx.session.id();
    record.requested_model = ctx.plan.requested_model;
    if (record.requested_model.empty()) record.requested_model = ctx.req.route_hint.empty() ? ctx.req.model : ctx.req.route_hint;
    record.stream = ctx.req.stream;
    record.endpoint = request_endpoint_name(ctx);
    record.metadata_json = metadata_of(ctx.req);
    record.tags = ctx.plan.tags;
    record.matched_rules = ctx.plan.matched_rules;
    record.attempts = ctx.attempt_log;
    if (ctx.current >= 0 && ctx.cfg) {
        const Candidate& c = ctx.cands[(size_t)ctx.current];
        const ProviderKey& key = ctx.cfg->keys[c.key];
        record.provider = ctx.cfg->providers[key.provider].name;
        record.provider_key_id = key.id;
        record.resolved_model = ctx.plan.targets[c.target].upstream_model;
    }
    record.usage = ctx.usage;
    // the served answer's usage was the gateway's estimate (embeddings of Gemini, Cohere: §22)
    record.usage_estimated = ctx.relaying() && ctx.response.translator && ctx.response.translator->usage_estimated();
    estimate_cut_answer(ctx, record);
    record.cost_microcents = attempts_cost_microcents(record.attempts);
    if (ctx.first_byte_msec) record.ttfb_ms = (int64_t)(ctx.first_byte_msec - ctx.start_msec);
    record.error = error_of(ctx, status);
}

}  // namespace

void request_log_attempt_done(RequestCtx& ctx, const Candidate& c, int status, std::string_view failure) {
    if (!log_spool_enabled()) return;  // only the record reads the attempt log: no strings built per attempt
    AttemptRecord attempt;
    const ProviderKey& key = ctx.cfg->keys[c.key];
    attempt.provider = ctx.cfg->providers[key.provider].name;
    attempt.provider_key_id = key.id;
    attempt.model = ctx.plan.targets[c.target].upstream_model;
    attempt.status = status;
    attempt.latency_ms = ctx.attempt.started_msec ? (int64_t)(ngx_current_msec - ctx.attempt.started_msec) : -1;
    if (!failure.empty()) {
        attempt.error_class = std::string(failure);  // the $routeshift_attempt_statuses token: cut, ttft, stall, invalid…
    } else if (ctx.attempt.upstream_status == 0) {
        attempt.error_class = status == NGX_HTTP_CLIENT_CLOSED_REQUEST ? "client_gone"
                              : status == 504                          ? "timeout"
                                                                       : "connect";
    } else if (ctx.midstream_failure) {
        attempt.error_class = ctx.client_aborted ? "client_gone" : "cut";
    } else if (status >= 400) {
        attempt.error_class = "http_" + std::to_string(status);
    }
    attempt.usage = attempt_usage(ctx.attempt.error_usage, ctx.usage, ctx.relaying());
    attempt.cost_microcents = cost_of(attempt.usage, attempt_price(ctx, c));
    ctx.attempt_log.push_back(std::move(attempt));
}

std::string request_log_line(ngx_http_request_t* r, const RequestCtx* ctx, std::string_view request_id) {
    RequestRecord record;
    record.request_id = std::string(request_id);
    record.ts_ms = (int64_t)r->start_sec * 1000 + (int64_t)r->start_msec;
    record.node = std::string(reinterpret_cast<const char*>(ngx_cycle->hostname.data), ngx_cycle->hostname.len);
    int status = (int)r->headers_out.status;
    if (status == NGX_HTTP_CLIENT_CLOSED_REQUEST || (ctx && ctx->client_aborted)) status = 0;  // the client left
    record.status = status;
    record.latency_ms = (int64_t)(ngx_current_msec - (ctx ? ctx->start_msec : ngx_current_msec));
    if (ctx) {
        fill_from_ctx(*ctx, status, record);
    } else {
        // nginx answered before our handler ran (e.g. a body over client_max_body_size)
        ngx_time_t* now = ngx_timeofday();
        int64_t now_ms = (int64_t)now->sec * 1000 + (int64_t)now->msec;
        record.latency_ms = now_ms > record.ts_ms ? now_ms - record.ts_ms : 0;
        if (status >= 400) record.error = "http_" + std::to_string(status);
        if (status == 0) record.error = "client_closed_request";
    }
    return request_record_json(record);
}

}  // namespace routeshift
