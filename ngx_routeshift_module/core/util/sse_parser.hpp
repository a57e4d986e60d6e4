// Incremental Server-Sent-Events framing (docs/wire-formats.md, Cross-provider rules → SSE
// parsing): feed bytes as they arrive, get whole events. Accepts \n, \r\n and \r line ends, joins
// multi-line data with \n, ignores comments. Memory is bounded by the largest single event.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace routeshift {

struct SseEvent {
    std::string_view event;  // "" when no event: line
    std::string_view data;   // joined data lines
    std::string_view id;
    std::string_view raw;    // the exact bytes of the event including its terminating blank line
};

// What ends `raw` (an event as SseParser delivered it) with a blank line: "" when it has one. Only
// the stream's last event, delivered by flush(), may lack it; a relay that writes an event of its
// own after that one appends this first, or the client would read both as one event.
std::string_view sse_event_terminator(std::string_view raw);

class SseParser {
public:
    explicit SseParser(size_t max_event_bytes = 4 << 20) : max_(max_event_bytes) {}
    // Calls `on_event` for every complete event in the bytes seen so far. Returns false when a
    // single event exceeds the limit (the stream should be treated as broken; the parser is reset).
    // Every block that ends in a blank line is delivered, including comment-only blocks such as
    // ": keep-alive" (data "", event "") so that pass-through relays can forward their bytes.
    bool feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);
    // The body ended. Dispatches a last event that is complete except for its blank line
    // (e.g. "data: [DONE]\n" then EOF) and one held back only because a final "\r" could still
    // have been the first half of "\r\n". An unterminated last line is dropped (WHATWG rule).
    // Afterwards the parser is empty (pending() == 0).
    void flush(const std::function<void(const SseEvent&)>& on_event);
    // Bytes of an incomplete trailing event still held.
    size_t pending() const { return buf_.size() - consumed_; }
    void reset() {
        buf_.clear();
        consumed_ = 0;
        scan_ = line_start_ = 0;
        has_lines_ = false;
    }

    // Lifetime: every string_view in an SseEvent points into the caller's `bytes` or into the
    // parser's own buffers and is valid only during the callback. Copy what must outlive it.
    // The concatenation of all `raw` views, in order, followed by the pending bytes, is exactly
    // the byte stream that was fed (blank lines between events belong to the next event's raw).

private:
    bool parse(std::string_view bytes, bool at_eof, const std::function<void(const SseEvent&)>& on_event);
    void dispatch(std::string_view raw, const std::function<void(const SseEvent&)>& on_event);

    std::string buf_;       // the incomplete trailing event (always starts at an event boundary)
    size_t consumed_ = 0;   // always 0 between calls (kept for pending())
    size_t max_;
    size_t scan_ = 0;       // offset in buf_ where scanning resumes
    size_t line_start_ = 0; // offset in buf_ of the current (unterminated) line
    bool has_lines_ = false;// the pending event has a non-empty line
    std::string scratch_;   // joined multi-line data of the event being dispatched
};

}  // namespace routeshift
