// How big a chat request's prompt is: message count, characters (Unicode code points of the
// decoded text), system-prompt characters, and an estimate of its tokens. One estimate for every
// consumer — routing-rule size matches, rate limits (TPM reserved before an attempt) and the cost
// ceiling's worst case — so they never disagree about the same request.
#pragma once
#include "ingress/chat_request.hpp"

#include <cstddef>
#include <cstdint>

namespace routeshift {

struct PromptSize {
    size_t messages = 0;
    uint64_t characters = 0;         // text of every message (string content and "text" parts)
    uint64_t system_characters = 0;  // the part of `characters` in system and developer messages
    uint64_t other_bytes = 0;        // tool definitions, tool-call arguments, non-text parts (raw JSON bytes)
    uint64_t estimated_tokens = 0;   // see estimate_tokens()
};

// Tokens for `characters` of text: ceil(characters / 4), the common rule of thumb for English and
// code with BPE tokenizers. An estimate, used where the real count is not known yet.
inline uint64_t estimate_tokens(uint64_t characters) { return (characters + 3) / 4; }

// Measures `request` (one pass over its messages and tools; no allocation unless a string has
// escapes). estimated_tokens = estimate_tokens(characters) + estimate_tokens(other_bytes)
// + 4 per message (role and framing overhead of the chat formats).
PromptSize measure_prompt(const ChatRequest& request);

}  // namespace routeshift
