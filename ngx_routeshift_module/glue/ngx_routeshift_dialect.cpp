// The client dialect's side of an answer (docs/design.md §18): which translator an Anthropic client's
// answer goes through, a static rule's answer in that dialect, and count_tokens. OpenAI clients
// never come here (their answers are relayed or translated as before).
#include "ngx_routeshift.hpp"
#include "canonical/prompt_size.hpp"
#include "dialect/anthropic_messages_translator.hpp"
#include "dialect/gemini_generate_content_translator.hpp"
#include "util/hex.hpp"

#include <cstdio>

namespace routeshift {

// "<prefix>rs" and 8 hex digits of each of two ngx_random()s (snprintf cost ~1k instructions a
// request).
std::string fresh_answer_id(std::string_view prefix) {
    std::string id;
    id.reserve(prefix.size() + 18);
    id.append(prefix).append("rs");
    append_hex_digits(id, (uint64_t)ngx_random(), 8);
    append_hex_digits(id, (uint64_t)ngx_random(), 8);
    return id;
}

namespace {

// A dialect writer's options: the request's stream flag, `model`, and a fresh id ("<prefix>rs" + hex).
template <typename Options>
Options answer_options(const RequestCtx& ctx, std::string model, const char* id_prefix) {
    Options options;
    options.stream = ctx.req.stream;
    options.model = std::move(model);
    options.id = fresh_answer_id(id_prefix);
    return options;
}

AnthropicAnswerWriterOptions anthropic_options(const RequestCtx& ctx, std::string model) {
    return answer_options<AnthropicAnswerWriterOptions>(ctx, std::move(model), "msg_");
}

GeminiAnswerWriterOptions gemini_options(const RequestCtx& ctx, std::string model) {
    return answer_options<GeminiAnswerWriterOptions>(ctx, std::move(model), "");
}

}  // namespace

std::unique_ptr<ResponseTranslator> dialect_translator(RequestCtx& ctx, std::string_view) {
    const Candidate& c = ctx.cands[(size_t)ctx.current];
    WireFormat wire = ctx.cfg->keys[c.key].wire;
    if (ctx.dialect == Dialect::google) {  // a Gemini-wire provider's answer is relayed as it is
        GeminiAnswerWriterOptions options = gemini_options(ctx, ctx.plan.targets[c.target].upstream_model);
        return gemini_generate_content_translator(wire_response_decoder(wire, ctx.req.stream, options.id),
                                                  std::move(options), wire == WireFormat::gemini);
    }
    // the provider speaks Anthropic Messages: its answer is relayed as it is (usage still read)
    bool relay = wire == WireFormat::anthropic;
    AnthropicAnswerWriterOptions options = anthropic_options(ctx, ctx.plan.targets[c.target].upstream_model);
    return anthropic_messages_translator(wire_response_decoder(wire, ctx.req.stream, options.id), std::move(options),
                                         relay);
}

void dialect_static_answer(RequestCtx& ctx, std::string* body) {
    if (ctx.dialect == Dialect::google) {
        GeminiGenerateContentWriter writer(gemini_options(ctx, ctx.plan.requested_model));
        write_static_content(writer, ctx, body);
        return;
    }
    AnthropicMessagesAnswerWriter writer(anthropic_options(ctx, ctx.plan.requested_model));
    write_static_content(writer, ctx, body);
}

ngx_int_t send_count_tokens(RequestCtx& ctx) {
    // Estimated like every other consumer of prompt sizes (rules, TPM limits, the cost ceiling):
    // no provider is asked, so the number is the gateway's, not the model's tokenizer's.
    std::string* body = pool_new<std::string>(ctx.r->pool);
    if (body == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    std::string tokens = std::to_string(measure_prompt(ctx.req).estimated_tokens);
    *body = ctx.dialect == Dialect::google ? "{\"totalTokens\":" + tokens + "}" : "{\"input_tokens\":" + tokens + "}";
    ctx.phase = Phase::complete;
    return send_document(ctx.r, NGX_HTTP_OK, "application/json", *body, {});
}

}  // namespace routeshift
