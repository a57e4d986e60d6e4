// POST /v1/messages/count_tokens (docs/design.md §18 "count_tokens"): relayed to the Anthropic API
// when the requested model is served there, answered with the gateway's estimate otherwise. Gemini's
// :countTokens likewise, relayed to Gemini-wire keys (§22).
#include "ngx_routeshift.hpp"
#include "egress/anthropic/anthropic_count_tokens.hpp"
#include "egress/gemini/gemini_count_tokens.hpp"
#include "routing/model_resolver.hpp"

namespace routeshift {

namespace {

bool relay_key(const RequestCtx& ctx, const ProviderKey& key) {
    if (!key.enabled) return false;
    if (ctx.endpoint == Endpoint::gemini_count_tokens) return key.wire == WireFormat::gemini;
    return relays_count_tokens(ctx.cfg->providers[key.provider].kind);
}

}  // namespace

bool count_tokens_may_relay(const RequestCtx& ctx) {
    std::vector<Target> targets;
    std::string_view requested = ctx.req.route_hint.empty() ? std::string_view(ctx.req.model) : ctx.req.route_hint;
    if (!resolve_model(*ctx.cfg, ctx.vk->team_id, requested, &targets, nullptr)) return false;
    for (const Target& t : targets) {
        for (size_t k : ctx.cfg->providers[t.provider].keys)
            if (relay_key(ctx, ctx.cfg->keys[k])) return true;
    }
    return false;
}

bool count_tokens_keep_relay_candidates(RequestCtx& ctx) {
    bool any = false;
    for (Candidate& c : ctx.cands) {
        if (c.unusable) continue;
        if (relay_key(ctx, ctx.cfg->keys[c.key])) {
            any = true;
        } else {
            c.unusable = true;
            c.unusable_reason = ctx.endpoint == Endpoint::gemini_count_tokens
                                    ? "countTokens is relayed to Gemini-wire providers only"
                                    : "count_tokens is relayed to the Anthropic API only";
        }
    }
    return any;
}

void count_tokens_endpoint_for(const RequestCtx& ctx, const ProviderKey& key, EndpointEntry* entry) {
    if (!entry->ok || !relay_key(ctx, key)) return;
    bool gemini = ctx.endpoint == Endpoint::gemini_count_tokens;
    if (!(gemini ? gemini_count_tokens_endpoint(entry) : count_tokens_endpoint(entry))) {
        entry->ok = false;
        entry->error = "no count_tokens endpoint beside " + entry->path;
    }
}

}  // namespace routeshift
