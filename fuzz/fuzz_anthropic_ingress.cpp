// The Anthropic Messages body converter (docs/design.md §18): any input is either refused with a
// 400 whose Anthropic-shaped error body is valid JSON, or converted into valid JSON that the OpenAI
// ingress accepts or refuses with a 400 (what it validates that the converter passes through); the
// Anthropic wire's splice of an accepted body is valid JSON naming the new model.
#include "fuzz_support.hpp"
#include "dialect/anthropic_error.hpp"
#include "ingress/anthropic_messages_ingress.hpp"
#include "ingress/chat_request.hpp"
#include "util/json_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace routeshift;
    if (size == 0) return 0;
    // the first byte picks the endpoint
    AnthropicBodyKind kind = data[0] % 2 == 0 ? AnthropicBodyKind::messages : AnthropicBodyKind::count_tokens;
    std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string openai_body;
    ApiError err;
    if (!anthropic_messages_to_openai(body, kind, &openai_body, &err)) {
        fuzz::check(err.status == 400, "a refused Anthropic body is not a 400", err.message);
        fuzz::check(fuzz::valid_json_document(anthropic_error_body(err)), "the Anthropic error body is not valid JSON",
                    err.message);
        return 0;
    }
    // The conversion is valid JSON; the OpenAI ingress may still refuse what it validates and the
    // converter passes through (a model with a line break): a 400 the client gets in its dialect.
    fuzz::check(fuzz::valid_json_document(openai_body), "the converted Anthropic body is not valid JSON", openai_body);
    ApiError parse_error;
    if (!parse_chat_request(openai_body, &parse_error)) {
        fuzz::check(parse_error.status == 400 && !parse_error.message.empty(),
                    "the OpenAI ingress refused a converted Anthropic body without a 400", parse_error.message);
        fuzz::check(fuzz::valid_json_document(anthropic_error_body(parse_error)), "the Anthropic error body is not valid JSON",
                    parse_error.message);
        return 0;
    }
    std::string error;
    std::string spliced = anthropic_body_with_model(body, "claude-upstream");
    JsonPtr spliced_json = json_parse(spliced, &error);
    fuzz::check(spliced_json != nullptr, "the Anthropic splice is not valid JSON", spliced);
    const char* model = json_string_value(json_object_get(spliced_json.get(), "model"));
    fuzz::check(model != nullptr && std::string_view(model) == "claude-upstream", "the Anthropic splice lost the model",
                spliced);
    return 0;
}
