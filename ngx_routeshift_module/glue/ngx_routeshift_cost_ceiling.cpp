// The per-request cost ceiling in the transport (docs/design.md "Cost ceiling"). The planner already
// kept the first attempt within the ceiling; here every finished attempt's real cost is added to
// the request's spend, and before every later attempt the candidates whose worst case no longer
// fits are set aside. When some candidates are left but none fits, the chain stops: the last error
// goes to the client with X-RouteShift-Cost-Ceiling: exceeded and $routeshift_cost_ceiling.
#include "ngx_routeshift.hpp"

#include "accounting/cost.hpp"

namespace routeshift {
// The price row in force when the request was planned for candidate `c` (the ceiling's row when it
// looked prices up), used by the ceiling, the request log and the metrics alike.
const ModelPrice* attempt_price(const RequestCtx& ctx, const Candidate& c) {
    if (c.target < ctx.plan.target_costs.size() && ctx.plan.target_costs[c.target].price) {
        return ctx.plan.target_costs[c.target].price;
    }
    if (!ctx.cfg || c.target >= ctx.plan.targets.size()) return nullptr;
    const Target& target = ctx.plan.targets[c.target];
    return ctx.cfg->prices.in_force(target.provider, target.upstream_model, ctx.plan.planned_at_unix);
}

namespace {

int64_t ceiling_of(const RequestCtx& ctx) { return ctx.plan.budget.cost_ceiling_microcents; }

bool has_tokens(const Usage& usage) { return usage.prompt_tokens > 0 || usage.completion_tokens > 0; }

// What the current attempt really cost: the usage its error body reported, else its answer's, at
// the price in force when the request was planned (the ceiling's rows when it looked them up).
// What the current attempt cost: 0 without tokens; -1 for tokens at a model without a price.
int64_t current_attempt_cost(const RequestCtx& ctx, const Candidate& c) {
    const Usage& usage = has_tokens(ctx.attempt.error_usage) ? ctx.attempt.error_usage : ctx.usage;
    if (!has_tokens(usage)) return 0;
    const ModelPrice* price = attempt_price(ctx, c);
    return price ? usage_cost_microcents(usage, *price) : -1;
}

// The ceiling's arithmetic counts an unpriced attempt as free (the planner already set aside
// targets without a price whenever a ceiling applies).
int64_t priced_part(int64_t cost) { return cost < 0 ? 0 : cost; }

int64_t worst_case_of(const RequestCtx& ctx, const Candidate& c) {
    return c.target < ctx.plan.target_costs.size() ? ctx.plan.target_costs[c.target].worst_case_microcents : -1;
}

// The untried candidates: usable ones, those that fit after `spent`, those the ceiling set aside.
struct CandidatesLeft {
    bool usable = false, fitting = false, set_aside = false;
};

CandidatesLeft candidates_left(const RequestCtx& ctx, int64_t spent) {
    CandidatesLeft left;
    for (const Candidate& c : ctx.cands) {
        if (c.tried || c.held) continue;
        if (c.over_cost_ceiling) left.set_aside = true;
        if (c.unusable) continue;
        left.usable = true;
        if (attempt_fits(spent, worst_case_of(ctx, c), ctx.plan.budget.cost_ceiling_microcents)) left.fitting = true;
    }
    return left;
}

}  // namespace

void cost_ceiling_attempt_done(RequestCtx& ctx, const Candidate& c) {
    // always: X-RouteShift-Cost-Microcents and the request log report it (docs/design.md §12)
    int64_t cost = current_attempt_cost(ctx, c);
    if (cost < 0) ctx.cost_unknown = true;
    ctx.spent_microcents = add_microcents(ctx.spent_microcents, priced_part(cost));
}

bool cost_ceiling_allows_retry(RequestCtx& ctx, std::string_view error_body, bool may_retry) {
    // an OpenAI-shaped error body may say what the failed attempt used: it was billed (and is
    // counted in the request's cost even without a ceiling)
    if (ctx.current >= 0) ctx.attempt.error_usage = usage_from_completion(error_body);
    int64_t ceiling = ceiling_of(ctx);
    if (ceiling <= 0 || ctx.current < 0) return may_retry;
    const Candidate& current = ctx.cands[(size_t)ctx.current];
    int64_t spent = add_microcents(ctx.spent_microcents, priced_part(current_attempt_cost(ctx, current)));
    CandidatesLeft left = candidates_left(ctx, spent);
    if (may_retry && (left.fitting || (!left.usable && !left.set_aside))) return true;  // nothing left: as before
    if (may_retry ? !left.fitting : (!left.usable && left.set_aside)) {
        ctx.cost_ceiling_stopped = true;
        ngx_log_error(NGX_LOG_INFO, ctx.r->connection->log, 0,
                      "routeshift: cost ceiling of %L microcents ends the chain after %L microcents spent",
                      (int64_t)ceiling, (int64_t)spent);
    }
    return false;
}

void cost_ceiling_before_pick(RequestCtx& ctx) {
    int64_t ceiling = ceiling_of(ctx);
    if (ceiling <= 0) return;
    for (Candidate& c : ctx.cands) {
        if (c.tried || c.held || c.unusable || attempt_fits(ctx.spent_microcents, worst_case_of(ctx, c), ceiling)) continue;
        c.unusable = true;
        c.over_cost_ceiling = true;
        c.unusable_reason = "its worst case passes the cost ceiling after earlier attempts";
    }
    CandidatesLeft left = candidates_left(ctx, ctx.spent_microcents);
    if (!left.fitting && left.set_aside) ctx.cost_ceiling_stopped = true;  // the pick will find none
}

bool cost_ceiling_exceeded(const RequestCtx& ctx) {
    if (ceiling_of(ctx) <= 0) return false;
    if (ctx.cost_ceiling_stopped) return true;
    if (ctx.phase == Phase::failed) return ctx.error.code == "cost_ceiling_exceeded";
    // the last attempt got no answer (nginx ends the chain itself when its tries run out) and
    // only candidates the ceiling set aside are left
    if (ctx.attempts == 0 || ctx.attempt.upstream_status != 0 || ctx.r == nullptr ||
        ctx.r->headers_out.status < NGX_HTTP_BAD_REQUEST) {
        return false;
    }
    CandidatesLeft left = candidates_left(ctx, ctx.spent_microcents);
    return !left.usable && left.set_aside;
}

std::string_view cost_ceiling_state(const RequestCtx& ctx) {
    if (cost_ceiling_exceeded(ctx)) return "exceeded";
    if (ctx.phase == Phase::failed && ctx.error.code == "cost_ceiling_unpriced") return "unpriced";
    return ceiling_of(ctx) > 0 ? "within" : "";
}

}  // namespace routeshift
