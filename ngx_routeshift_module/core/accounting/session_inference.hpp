// Session stitching (docs/design.md §12): which conversation a request belongs to, without any
// node memory, so consecutive turns may land on different nginx nodes of a fleet.
//
// `metadata.session_id` forces the id. Otherwise the id is a digest of what every turn of one
// conversation repeats: the caller (virtual key id, the OpenAI `user` / `safety_identifier`),
// the system/developer messages and the first user message before the first assistant turn, and
// the first assistant message (its content and tool calls, as the client sends them back). A
// request that replays an assistant turn knows its id at once; a first turn completes it from the
// answer's first choice as the client receives it (canonical events of a translated answer, the
// OpenAI relay's chunks, or the OpenAI JSON answer), fed incrementally into the hash state.
//
// Text is canonicalised before hashing so that the same conversation hashes the same whichever
// dialect or wire carried it: JSON escapes decoded, runs of whitespace collapsed to one space and
// trimmed (tool-call arguments: all whitespace dropped), content arrays reduced to their text, at
// most kSessionFieldLimit canonical bytes per field. Each field is collected in a fixed buffer and
// hashed once when it ends (id version 3: XXH3-128, util/hash128.hpp).
#pragma once
#include "dialect/openai_error.hpp"
#include "ingress/chat_request.hpp"
#include "util/json_scan.hpp"
#include "util/hash128.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

inline constexpr size_t kMaxSessionIdBytes = 128;
// Canonical bytes of one field (a system message, the first user message, the answer's content,
// one tool call's arguments...) that count; the rest of a longer field is not hashed. Small on
// purpose: every first turn hashes its opening, and the answer's first 512 bytes already tell
// conversations apart (docs/design.md §12, limits).
inline constexpr size_t kSessionFieldLimit = 512;

// A client's metadata.session_id: 1..128 bytes of printable ASCII (it travels in a response
// header), no leading or trailing space. Otherwise fills `error` (400 invalid_request_error,
// param metadata.session_id) and returns false.
bool check_forced_session_id(std::string_view id, ApiError* error);

// A 128-bit digest of a sequence of fields of canonical text, each fed in pieces (docs/design.md
// §12). A field's canonical bytes (at most kSessionFieldLimit) are collected behind the chain
// value; ending the field replaces the chain value with H(chain value ‖ field), H = XXH3-128, which
// takes the length in: fields need no framing bytes and ("ab","c") and ("a","bc") still differ.
// The chain starts from H("routeshift-session-3"), the id version tag.
inline constexpr size_t kSessionDigestBytes = kHash128Bytes;

class CanonicalTextHash {
public:
    enum class Spacing : uint8_t {
        collapse,  // runs of whitespace -> one space, none at the field's start or end
        drop,      // no whitespace at all (JSON arguments re-serialised by the client)
    };

    CanonicalTextHash();

    // Appends decoded text to the current field.
    void text(std::string_view decoded, Spacing spacing);
    // Appends a JSON value of scanned text: a string decoded, anything else as its JSON text.
    void json_value(JsonValue value, Spacing spacing);
    // Ends the current field (an empty field is a field too).
    void end_field();
    // The digest of everything fed (the current field ended first); the hash starts over afterwards.
    void digest(unsigned char out[kSessionDigestBytes]);
    // Forgets everything fed.
    void reset();

private:
    // the chain value, then the current field's canonical bytes: one hash call ends a field
    unsigned char block_[kSessionDigestBytes + kSessionFieldLimit];
    size_t field_bytes_ = 0;
    bool pending_space_ = false;
};

class SessionInference {
public:
    // The request's side: the forced id (metadata.session_id, already checked), else the digest
    // of the opening and, when the request replays an assistant turn, the id itself.
    void begin(const ChatRequest& request, int64_t caller_id);

    // The id ("ses_" + 32 hex digits, or the forced one); "" while unknown.
    std::string_view id() const { return std::string_view(id_, id_size_); }
    bool known() const { return id_size_ != 0; }
    // A first turn: the id completes from the answer (the feeds below do something only then).
    bool awaiting_answer() const { return awaiting_; }

    // A new attempt: forgets what an earlier attempt's answer fed.
    void restart_answer();
    // Choice 0 of the answer as the client receives it: text deltas, tool calls (index = the
    // call's position in the message; `arguments` whole or empty), argument deltas.
    void answer_text(std::string_view text);
    void answer_tool_call(size_t index, std::string_view name, std::string_view arguments);
    void answer_tool_arguments(size_t index, std::string_view arguments);
    // The same from OpenAI bytes: one `chat.completion.chunk` (an SSE event's data) or a whole
    // `chat.completion` object.
    void answer_openai_chunk(std::string_view data);
    void answer_openai_completion(std::string_view body);
    // ...or from the top-level members of a `chat.completion` object already scanned.
    void answer_openai_completion(const JsonMembers& top);
    // The answer reached the client: a first turn's id is known from now on.
    void complete_answer();

private:
    void feed_assistant_message(JsonValue content, JsonValue tool_calls);
    void start_tool_call();
    void end_tool_call();
    void finish_id();

    char id_[kMaxSessionIdBytes];  // no heap: the id is set once per request
    size_t id_size_ = 0;
    bool awaiting_ = false;
    unsigned char opening_[kSessionDigestBytes] = {};
    CanonicalTextHash content_;          // the first assistant message's content
    CanonicalTextHash tools_;            // its tool calls: name, arguments, name, arguments...
    size_t tool_index_ = 0;              // the call whose arguments are being fed
    bool in_tool_call_ = false;
};

}  // namespace routeshift
