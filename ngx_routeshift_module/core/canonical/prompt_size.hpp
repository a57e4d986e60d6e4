// How big a chat request's prompt is: message count, characters (Unicode code points of the
// decoded text), system-prompt characters, and an estimate of its tokens. One estimate for every
// consumer — routing-rule size matches, rate limits (TPM reserved before an attempt) and the cost
// ceiling's worst case — so they never disagree about the same request.
#pragma once
#include "canonical/prompt_size_value.hpp"
#include "ingress/chat_request.hpp"

namespace routeshift {


// Measures `request` (one pass over its messages and tools; no allocation unless a string has
// escapes). estimated_tokens = estimate_tokens(characters) + estimate_tokens(other_bytes)
// + 4 per message (role and framing overhead of the chat formats).
// Measured once per request: the result is cached in `request` (rules, rate limits and the cost
// ceiling each ask, and a 100 KB prompt costs a pass over its bytes), so the reference lives as
// long as the request.
const PromptSize& measure_prompt(const ChatRequest& request);

// Upper bounds of measure_prompt's characters (and so system_characters) and estimated_tokens,
// from the byte lengths of the members it reads ("messages", "tools", "functions") and the message
// count, without reading the messages: a decoded character takes at least one byte of JSON, and
// the characters and other bytes it counts lie in disjoint parts of those members. Lets a size
// minimum (a routing rule's tokens_min, ...) be rejected without a pass over the prompt.
struct PromptSizeBound {
    uint64_t characters = 0;        // >= characters + other_bytes
    uint64_t estimated_tokens = 0;  // >= estimated_tokens
};
PromptSizeBound prompt_size_bound(const ChatRequest& request);

}  // namespace routeshift
