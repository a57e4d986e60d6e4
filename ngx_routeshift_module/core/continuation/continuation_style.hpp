// How a provider can be asked to continue an answer that broke mid-stream (docs/design.md §19):
// one table per provider kind and model, which key metadata "continuation" overrides.
#pragma once
#include "config/provider_catalog.hpp"

#include <optional>
#include <string_view>

namespace routeshift {

enum class ContinuationStyle {
    prefill,                 // the delivered text as the last (assistant) message: Anthropic, Bedrock Claude
    prefix,                  // assistant message with "prefix": true: DeepSeek, Mistral
    continue_final_message,  // vLLM: "continue_final_message": true, "add_generation_prompt": false
    instruction,             // assistant message + a user turn asking to continue without repeating
    none,                    // this target never continues a stream
};

// The metadata spelling ("prefill", "prefix", "continue_final_message", "instruction", "none");
// nullopt for anything else.
std::optional<ContinuationStyle> continuation_style_named(std::string_view name);
std::string_view continuation_style_name(ContinuationStyle style);

// The style a key of `kind`, spoken to in `wire`, uses for `upstream_model`. `metadata_override`
// (key metadata "continuation") wins when set.
ContinuationStyle continuation_style(ProviderKind kind, WireFormat wire, std::string_view upstream_model,
                                     std::optional<ContinuationStyle> metadata_override);

}  // namespace routeshift
