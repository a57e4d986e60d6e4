// Tool-call ids across providers. An id minted by one provider (Gemini's carry thought signatures,
// some OpenAI-compatible servers use dots or colons) goes back to whichever provider serves the next
// turn; Anthropic (`^[a-zA-Z0-9_-]+$`) and Bedrock (`toolUseId`, `[a-zA-Z0-9_-]{1,64}`) refuse
// anything else. Ids that fit pass unchanged; others are rewritten deterministically, so the
// assistant's tool call and the tool message answering it still match without any state.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

// Whether `id` is accepted as is ([a-zA-Z0-9_-]{1,64}).
bool portable_tool_call_id(std::string_view id);

// `id` when portable, else "rs_" + 40 hex digits of its SHA-256.
std::string provider_tool_call_id(std::string_view id);

}  // namespace routeshift
