// Embeddings (docs/design.md §22): POST /v1/embeddings and Azure's deployment path (OpenAI dialect),
// Gemini :embedContent / :batchEmbedContents (Google dialect). The body is parsed into the
// canonical embedding request; the call is planned like chat (aliases, rules, balancing, limits,
// health) on the keys whose wire can serve it; each attempt sends the wire's body to the wire's
// embeddings path (an OpenAI client's body to an OpenAI-wire key: spliced, only the model
// replaced); the answer is relayed (same dialect and wire) or translated.
#include "ngx_routeshift.hpp"

#include "egress/embeddings_answer.hpp"
#include "egress/embeddings_wire.hpp"
#include "egress/openai/relay_answer.hpp"
#include "egress/openai/relay_request.hpp"
#include "ingress/azure_deployment_path.hpp"
#include "ingress/gemini_embed_ingress.hpp"
#include "ingress/gemini_native_path.hpp"
#include "ingress/openai_embeddings_ingress.hpp"
#include "routing/model_resolver.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

namespace routeshift {

struct EmbeddingsCall {
    EmbeddingRequest request;
    bool gemini_single = false;  // a Google client's :embedContent
    std::string azure_body;      // an Azure deployment path's body, its model set to the deployment
    std::string_view body;       // the client's body (or azure_body): OpenAI-wire keys get its spans
    JsonMembers members;         // its top-level members (an OpenAI client's body only)
};

namespace {

ngx_int_t fail_with(RequestCtx& ctx, const ApiError& e) {
    ctx.error = e;
    ctx.phase = Phase::failed;
    return finalize_error(ctx);
}

// Whether this call relays the client's body and answer as they are: an OpenAI client on an
// OpenAI-wire key.
bool relays_as_is(const RequestCtx& ctx, WireFormat wire) { return ctx.dialect == Dialect::openai && wire == WireFormat::openai; }

// The planning environment: the glue's, with every key that cannot serve this request unusable.
class EmbeddingsEnvironment final : public PlanEnvironment {
public:
    EmbeddingsEnvironment(RequestCtx& ctx, std::unique_ptr<PlanEnvironment> glue) : ctx_(ctx), glue_(std::move(glue)) {}
    const UpstreamEndpoint* endpoint(size_t key, const std::string& model, bool stream, std::string* error) override {
        if (!embeddings_expressible(ctx_.cfg->keys[key].wire, model, ctx_.embeddings->request, error)) return nullptr;
        return glue_->endpoint(key, model, stream, error);
    }
    KeyHealth health(std::span<const PlannedCandidate> candidates) override { return glue_->health(candidates); }

private:
    RequestCtx& ctx_;
    std::unique_ptr<PlanEnvironment> glue_;
};

// Before planning: the requested model has an enabled key that can serve the request, or a 400
// that says why (an unknown model is left to the planner's 404).
bool served_somewhere(const RequestCtx& ctx, ApiError* err) {
    std::vector<Target> targets;
    const EmbeddingRequest& request = ctx.embeddings->request;
    if (!resolve_model(*ctx.cfg, ctx.vk->team_id, request.model, &targets, nullptr)) return true;
    std::string why;
    for (const Target& t : targets) {
        for (size_t k : ctx.cfg->providers[t.provider].keys) {
            const ProviderKey& key = ctx.cfg->keys[k];
            std::string reason;
            if (!key.enabled) continue;
            if (embeddings_expressible(key.wire, t.upstream_model, request, &reason)) return true;
            if (why.empty()) why = reason;
        }
    }
    if (why.empty()) return true;  // no enabled key: the planner says so
    err->status = 400;
    err->type = "invalid_request_error";
    err->param = "model";
    err->code = "embeddings_not_available_for_model";
    err->message = "The model cannot serve this embeddings request: " + why + ".";
    return false;
}

// The request the planner sees: a chat request with one user message holding the inputs, so that
// rules, prompt-size conditions, token limits and the cost ceiling measure the embedded text.
std::string planning_body(const EmbeddingRequest& request) {
    std::string text;
    for (const EmbeddingInput& input : request.inputs) {
        if (!text.empty()) text += '\n';
        text += input.text;
    }
    if (text.empty()) text = std::string(request.token_count * 4, 'x');  // token ids: their estimate
    std::string body = "{\"model\":";
    json_quoted_append(body, request.model);
    body += ",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":";
    json_quoted_append(body, text);
    body += "}]}";
    return body;
}

// The client's body in its dialect -> ctx.embeddings. False: ctx.error is set.
bool parse_body(RequestCtx& ctx, std::string_view body) {
    EmbeddingsCall& call = *ctx.embeddings;
    ApiError err;
    bool ok;
    if (ctx.dialect == Dialect::google) {
        std::string_view path = string_view_of(ctx.r->uri);
        while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
        GeminiNativePath native;
        GeminiEmbedMethod method = GeminiEmbedMethod::embed_content;
        if (!parse_gemini_native_path(path, &native) || !gemini_embed_method(native.method, &method)) {
            ctx.fail(404, "Unknown endpoint.", "invalid_request_error", "", "unknown_url");
            return false;
        }
        call.gemini_single = method == GeminiEmbedMethod::embed_content;
        ok = parse_gemini_embed_body(body, native.model, method, &call.request, &err);
    } else {
        if (!ctx.path_model.empty()) {  // Azure: the deployment is the model (§18)
            call.azure_body = body_with_deployment_model(body, ctx.path_model);
            body = call.azure_body;
        }
        ok = parse_openai_embeddings_body(body, ctx.path_model, &call.request, &err);
        JsonValue root;
        if (ok && !json_scan(body, &root, &call.members, nullptr)) {  // jansson took it: cannot happen
            err.status = 400;
            err.type = "invalid_request_error";
            err.message = "We could not parse the JSON body of your request.";
            ok = false;
        }
    }
    call.body = body;
    if (ok && !valid_model_name(call.request.model, &err)) ok = false;
    if (!ok) {
        ctx.error = err;
        ctx.phase = Phase::failed;
    }
    return ok;
}

}  // namespace

void embeddings_read_and_plan(ngx_http_request_t* r, RequestCtx& ctx) {
    ctx.embeddings = std::make_shared<EmbeddingsCall>();
    std::string_view body;
    if (!request_body_text(r, &body)) {
        ctx.fail(413, "Request body is too large.", "invalid_request_error", "", "request_too_large");
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    if (!parse_body(ctx, body)) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    ApiError err;
    ctx.converted_body = planning_body(ctx.embeddings->request);
    auto req = parse_chat_request_borrowed(ctx.converted_body, &err);
    if (!req) {
        ngx_http_finalize_request(r, fail_with(ctx, err));
        return;
    }
    ctx.req = std::move(*req);
    ctx.req.body = ctx.embeddings->body;  // the attempts splice it (OpenAI-wire keys)
    ctx.req.host_splices_body = true;
    if (!served_somewhere(ctx, &err)) {
        ngx_http_finalize_request(r, fail_with(ctx, err));
        return;
    }
    if (!admit_caller(ctx)) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    EmbeddingsEnvironment env(ctx, glue_plan_environment(ctx));
    plan_with_location(ctx, env);
    if (ctx.plan.static_answer) {  // a static rule answers in chat's shape: not for embeddings
        ctx.fail(400, "A static routing rule matched; it answers chat completions only.", "invalid_request_error", "",
                 "static_rule_not_applicable");
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    start_planned(ctx);
}

bool embeddings_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* body,
                                std::string* error) {
    const EmbeddingsCall& call = *ctx.embeddings;
    const ProviderKey& key = ctx.cfg->keys[c.key];
    // an Azure v1 key names its deployment in the body (§22)
    std::string_view upstream_model = provider_body_model(*ctx.cfg, key, ctx.plan.targets[c.target].upstream_model);
    UpstreamEndpoint ep = *c.ent;  // the chat endpoint's host and auth; the embeddings path
    if (!embeddings_upstream_path(key.wire, c.ent->path, &ep.path)) {
        *error = "its URL has no chat path to derive the embeddings path from";
        return false;
    }
    *body = SplicedBody{};
    if (relays_as_is(ctx, key.wire)) {
        std::vector<SpanReplacement> replacements;
        std::string quoted;
        json_quoted_append(quoted, upstream_model);
        replace_json_member(call.body, call.members, "model", quoted, &replacements);
        splice_spans(call.body, std::move(replacements), body);
        *head = relay_request_head(*ctx.cfg, key, ep, "POST", ep.path, "application/json", true, body->size, false);
        return true;
    }
    body->own = embeddings_upstream_body(key.wire, call.request, upstream_model);
    body->size = body->own.size();
    body->pieces.push_back(SplicedBody::Piece{true, 0, body->own.size()});
    return wire_adapter(key).request_head(*ctx.cfg, key, ep, false, body->own, (int64_t)ngx_time(), head, error);
}

std::unique_ptr<ResponseTranslator> embeddings_translator(RequestCtx& ctx, std::string_view content_type) {
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    const ProviderKey& key = ctx.cfg->keys[c.key];
    const EmbeddingsCall& call = *ctx.embeddings;
    if (relays_as_is(ctx, key.wire)) {  // the provider's answer as it is, its usage read
        RelayAnswerOptions options;
        options.content_type = content_type;
        options.required_array = "data";
        return relay_answer_translator(std::move(options));
    }
    ctx.response.converted = true;
    EmbeddingsAnswerOptions options;
    options.wire = key.wire;
    options.upstream_model = ctx.plan.targets[c.target].upstream_model;
    options.dialect = ctx.dialect;
    options.gemini_single = call.gemini_single;
    options.encoding = call.request.encoding;
    options.inputs = call.request.inputs.size();
    options.estimated_tokens = estimate_embedding_tokens(call.request);
    return embeddings_answer_translator(std::move(options));
}

}  // namespace routeshift
