// The continuation capability table (see continuation_style.hpp).
#include "continuation/continuation_style.hpp"

#include "util/ascii_text.hpp"

namespace routeshift {
namespace {

// Model families whose OpenAI-compatible APIs take an assistant message with "prefix": true
// (DeepSeek's chat prefix completion, Mistral's prefix mode), matched case-insensitively.
constexpr std::string_view kPrefixFamilies[] = {"deepseek", "mistral", "codestral", "magistral", "devstral"};

}  // namespace

std::optional<ContinuationStyle> continuation_style_named(std::string_view name) {
    if (name == "prefill") return ContinuationStyle::prefill;
    if (name == "prefix") return ContinuationStyle::prefix;
    if (name == "continue_final_message") return ContinuationStyle::continue_final_message;
    if (name == "instruction") return ContinuationStyle::instruction;
    if (name == "none") return ContinuationStyle::none;
    return std::nullopt;
}

std::string_view continuation_style_name(ContinuationStyle style) {
    switch (style) {
        case ContinuationStyle::prefill: return "prefill";
        case ContinuationStyle::prefix: return "prefix";
        case ContinuationStyle::continue_final_message: return "continue_final_message";
        case ContinuationStyle::instruction: return "instruction";
        case ContinuationStyle::none: return "none";
    }
    return "none";
}

ContinuationStyle continuation_style(ProviderKind kind, WireFormat wire, std::string_view upstream_model,
                                     std::optional<ContinuationStyle> metadata_override) {
    if (metadata_override) return *metadata_override;
    switch (wire) {
        case WireFormat::anthropic:
            return ContinuationStyle::prefill;  // the Messages API continues a final assistant turn
        case WireFormat::bedrock:
            // Converse continues a final assistant turn for Claude; other families reject it
            return contains_ignoring_case(upstream_model, "anthropic") || contains_ignoring_case(upstream_model, "claude")
                       ? ContinuationStyle::prefill
                       : ContinuationStyle::instruction;
        case WireFormat::gemini:
            return ContinuationStyle::instruction;
        case WireFormat::openai:
            break;
    }
    (void)kind;  // OpenAI-wire kinds differ by the model family they serve, not by kind
    for (std::string_view family : kPrefixFamilies) {
        if (contains_ignoring_case(upstream_model, family)) return ContinuationStyle::prefix;
    }
    return ContinuationStyle::instruction;
}

}  // namespace routeshift
