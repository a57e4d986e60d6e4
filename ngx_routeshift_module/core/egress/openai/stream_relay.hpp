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

    // The upstream body ended (clean close). If no [DONE] was seen, appends an OpenAI error event
    // followed by nothing else so the client sees an error rather than a short "complete" answer,
    // and returns false. Returns true for a complete stream.
    bool finish(std::string* out);

    bool saw_done() const { return done_; }
    bool saw_error() const { return error_; }
    bool saw_first_event() const { return events_ > 0; }
    const Usage& usage() const { return usage_; }
    // Each event's data goes to `session` while it awaits a first turn's answer.
    void observe_session(SessionInference* session) { session_ = session; }

    // The error event text for a stream that broke (e.g. upstream timeout mid-stream).
    static std::string error_event(std::string_view message, std::string_view code);

private:
    void on_event(const SseEvent& ev, std::string* out);

    SseParser parser_;
    bool want_usage_;
    bool done_ = false;
    bool error_ = false;
    bool broken_ = false;  // the parser gave up; nothing more is relayed
    uint64_t events_ = 0;
    Usage usage_;
    SessionInference* session_ = nullptr;
};

// Usage from a complete non-streaming chat.completion JSON body (fields left -1 when absent).
Usage usage_from_completion(std::string_view body);

}  // namespace routeshift
