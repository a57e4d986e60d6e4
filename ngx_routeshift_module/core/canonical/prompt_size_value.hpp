// The measured size of a chat request's prompt (see prompt_size.hpp for how it is measured). A
// header of its own so ChatRequest can cache the measurement without including the measurer.
#pragma once
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

}  // namespace routeshift
