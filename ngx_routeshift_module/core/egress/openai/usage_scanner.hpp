// Reads the token usage of a non-streaming OpenAI JSON answer while its bytes are relayed: the
// scanner follows the JSON structure piece by piece and keeps only the top-level "usage" value,
// so the answer itself is never copied.
#pragma once
#include "egress/openai/stream_relay.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

class UsageScanner {
public:
    // The next bytes of the answer (any split).
    void feed(std::string_view piece);
    // The usage of the complete answer: what usage_from_completion(whole answer) gives for a
    // well-formed answer (the last top-level "usage" wins, like jansson). Empty when the answer
    // is not a complete JSON object or has no usage. A key spelled with escapes ("\u0075sage")
    // is not recognised.
    Usage usage() const;
    void reset() { *this = UsageScanner(); }

private:
    static constexpr size_t kMaxUsageValue = 64 * 1024;
    static constexpr size_t kMaxKey = 8;  // longer keys are not "usage"

    int depth_ = 0;
    bool started_ = false;       // the first non-blank byte was seen
    bool root_object_ = false;   // ...and it opened an object
    bool complete_ = false;      // the root object closed
    bool broken_ = false;        // not JSON the scanner can follow
    bool in_string_ = false;
    bool escape_ = false;
    bool key_string_ = false;    // the current string is a depth-1 key
    bool key_escaped_ = false;
    bool expect_key_ = false;    // at depth 1, the next string is a key
    bool usage_key_ = false;     // the last depth-1 key was "usage" (until its ':')
    bool capturing_ = false;     // inside the "usage" value
    std::string key_;
    std::string value_;          // the "usage" value being captured
    std::string usage_value_;    // the last complete one

    void end_capture(const char* from, const char* upto);
};

}  // namespace routeshift
