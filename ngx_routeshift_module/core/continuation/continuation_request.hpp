// The request that asks the next candidate to continue a stream that broke after content reached
// the client (docs/design.md §19): the body the planner built for that candidate, with the text
// already delivered appended to its conversation in the target's continuation style.
#pragma once
#include "config/provider_catalog.hpp"
#include "continuation/continuation_style.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// The user turn of an instruction-style continuation.
inline constexpr std::string_view kContinuationInstruction =
    "Your previous message was cut off. Continue it exactly where it stopped, without repeating "
    "anything and without any preamble.";

// The prefill a target receives for `delivered`: trailing whitespace removed (Anthropic rejects a
// final assistant turn that ends in whitespace; the removed part is matched as overlap instead).
std::string_view continuation_prefill(std::string_view delivered);

// `provider_body`: the JSON body of the original request as built for the target (`wire`). Appends
// the delivered text to its "messages" ("contents" for Gemini) in `style`, and for
// continue_final_message the two vLLM flags. False + `error` when the body has no such array or
// `style` is none.
bool build_continuation_body(std::string_view provider_body, WireFormat wire, ContinuationStyle style,
                             std::string_view delivered, std::string* out, std::string* error);

}  // namespace routeshift
