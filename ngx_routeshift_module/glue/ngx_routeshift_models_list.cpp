// GET /v1/models and /v1/models/{id} (docs/design.md §18 "Models list"): answered from the worker's
// parsed snapshot, no provider and no body; OpenAI's shape, Anthropic's when the client sends
// `anthropic-version` (what @anthropic-ai/sdk always sends; the openai SDK never does).
#include "ngx_routeshift.hpp"
#include "dialect/models_list_writer.hpp"

namespace routeshift {

void models_choose_dialect(RequestCtx& ctx) {
    if (!find_header(ctx.r->headers_in.headers, "anthropic-version").empty()) ctx.dialect = Dialect::anthropic;
}

ngx_int_t send_models_answer(RequestCtx& ctx, std::string_view id) {
    if (ngx_http_discard_request_body(ctx.r) != NGX_OK) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    const bool anthropic = ctx.dialect == Dialect::anthropic;
    const int64_t created = (int64_t)zone_applied_at(ctx.zone);
    std::string* body = pool_new<std::string>(ctx.r->pool);
    if (body == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    if (ctx.endpoint == Endpoint::models_list) {
        std::vector<ListedModel> models = models_for_team(*ctx.cfg, ctx.vk->team_id);
        if (anthropic) {
            AnthropicModelsPage page;
            ApiError err;
            if (!anthropic_models_page_from_query(string_view_of(ctx.r->args), &page, &err)) {
                ctx.error = err;
                ctx.phase = Phase::failed;
                return finalize_error(ctx);
            }
            *body = anthropic_models_list_json(models, created, page);
        } else {
            *body = openai_models_list_json(models, created);
        }
    } else {
        std::optional<ListedModel> model = model_for_team(*ctx.cfg, ctx.vk->team_id, id);
        if (!model) {
            // the id is echoed only when it is printable ASCII (the path may hold any decoded byte)
            bool printable = !id.empty() && id.size() <= 256;
            for (unsigned char c : id) printable = printable && c >= 0x20 && c < 0x7f;
            std::string named = printable ? " `" + std::string(id) + "`" : std::string();
            ctx.fail(404, "The model" + named + " does not exist or you do not have access to it.",
                     "invalid_request_error", "model", "model_not_found");
            return finalize_error(ctx);
        }
        *body = anthropic ? anthropic_model_json(*model, created) : openai_model_json(*model, created);
    }
    ctx.phase = Phase::complete;
    return send_document(ctx.r, NGX_HTTP_OK, "application/json", *body, {});
}

}  // namespace routeshift
