// Relay policy for an OpenAI-compatible upstream answer, event by event: passes events through
// untouched, learns usage and completion state, drops the usage-only chunk the gateway forced
// when the client did not ask for it, and produces the terminal error event when a stream breaks.
#pragma once
#include "util/sse_parser.hpp"
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

class SessionInference;  // accounting/session_inference.hpp
class JsonMembers;       // util/json_scan.hpp

struct Usage {
    int64_t prompt_tokens = -1;      // -1 = unknown
    int64_t completion_tokens = -1;
    int64_t total_tokens = -1;
    int64_t cached_tokens = -1;
};

class OpenAIStreamRelay {
public:
    explicit OpenAIStreamRelay(bool client_wants_usage) : want_usage_(client_wants_usage) {}

    // Feeds upstream body bytes (already de-chunked); appends what the client must receive to
    // `out`. Returns false when the stream is malformed beyond repair (a single event larger than
    // the parser limit, 4 MiB): the terminal error event has then already been appended to `out`,
    // saw_error() is true, and any further input is discarded.
    bool feed(std::string_view bytes, std::string* out);

    // The upstream body ended (clean close). A stream is complete when it sent [DONE], or when a
    // choice carried its finish_reason (and the usage chunk came, when the client asked for
    // usage): then [DONE] is appended here if missing. Otherwise appends an OpenAI error event
    // followed by nothing else so the client sees an error rather than a short "complete" answer,
    // and returns false. Returns true for a complete stream.
    bool finish(std::string* out);

    bool saw_done() const { return done_; }
    bool saw_error() const { return error_; }
    bool saw_first_event() const { return events_ > 0; }
    // A chunk carried content, a tool call or a finish_reason: the answer has begun.
    bool content_started() const { return content_; }
    // Events skipped because their data was not a JSON object (never relayed).
    uint64_t malformed_events() const { return malformed_; }
    const Usage& usage() const { return usage_; }
    // Each event's data goes to `session` while it awaits a first turn's answer.
    void observe_session(SessionInference* session) { session_ = session; }

    // The error event text for a stream that broke (e.g. upstream timeout mid-stream).
    static std::string error_event(std::string_view message, std::string_view code);

private:
    void append_data_event(const SseEvent& ev, std::string* out);
    void on_event(const SseEvent& ev, std::string* out);

    SseParser parser_;
    bool want_usage_;
    bool done_ = false;
    bool error_ = false;
    bool broken_ = false;  // the parser gave up; nothing more is relayed
    bool finished_ = false;   // a choice carried its finish_reason
    bool content_ = false;    // a chunk carried content (or a finish_reason)
    bool saw_usage_ = false;  // a usage object arrived
    uint64_t events_ = 0;
    uint64_t malformed_ = 0;
    Usage usage_;
    SessionInference* session_ = nullptr;
};

// Usage from a complete non-streaming chat.completion JSON body (fields left -1 when absent).
Usage usage_from_completion(std::string_view body);
// The same from the top-level members of an already scanned chat.completion object.
Usage usage_from_members(const JsonMembers& top);

}  // namespace routeshift
