// What the client of a streamed answer has received so far (docs/design.md §19): read from the
// events the gateway sends it, whatever wire the provider spoke and whether the gateway wrote them
// or relayed the provider's own (an Anthropic client on an Anthropic-wire key, a Gemini client on a
// Gemini-wire key), so that a continuation can resume the same answer. One reader per client
// dialect, chosen once: OpenAI chat chunks, Anthropic Messages events, Gemini
// GenerateContentResponse chunks. It keeps the text of the answer (choice 0, the text blocks,
// candidate 0's text parts), the message id and model (and OpenAI's created), whether a tool call
// or a second choice / candidate / non-text block is under way, and whether the answer finished.
// Only kept for requests that may be continued.
#pragma once
#include "ingress/endpoint_route.hpp"
#include "util/sse_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

class JsonMembers;  // util/json_scan.hpp

class DeliveredStream {
public:
    // More delivered text than this is not kept (nor continued): it would be sent back whole as the
    // continuation's prompt, and a worker must not hold a copy of every long answer.
    static constexpr size_t kMaxText = 1u << 20;
    // A relayed event split over reads is kept until its end; a longer one is not an answer's.
    static constexpr size_t kMaxPartialEvent = 256u * 1024;

    explicit DeliveredStream(Dialect dialect = Dialect::openai) : dialect_(dialect) {}

    // `out`: the next bytes of the client's stream (SSE; relayed provider bytes may split an event,
    // whose start is kept until it is whole). Records every event before the first error event and
    // returns that event's offset in `out` (out.size() when there is none; 0 when it began in an
    // earlier call): a stream that will be continued sends only what comes before it, and the
    // next call reads the continuation's events afresh.
    size_t observe(std::string_view out);

    // The bytes of the last event not yet whole (relayed provider bytes split mid-event), at the end
    // of what observe() saw; drop_partial_event() forgets them (the provider's stream ended, or a
    // continuation's events start afresh).
    size_t pending_bytes() const { return events_.pending(); }
    void drop_partial_event() { events_.reset(); }

    Dialect dialect() const { return dialect_; }
    const std::string& text() const { return text_; }     // the answer's text so far
    const std::string& id() const { return id_; }          // chunk id / message id / responseId
    const std::string& model() const { return model_; }    // model / modelVersion
    int64_t created() const { return created_; }           // OpenAI chunks only
    bool tool_call_started() const { return tool_call_; }  // a tool call's arguments may be cut
    // Another choice or candidate, or (Anthropic) a non-text block open at the cut: a continuation
    // cannot resume it.
    bool several_choices() const { return several_choices_ || other_block_open_; }
    bool finished() const { return finished_; }            // a finish_reason / message_delta / finishReason went out
    bool role_sent() const { return role_sent_; }
    bool too_long() const { return too_long_; }            // over kMaxText: text() was dropped
    // Anthropic: the number of content blocks started (the next block's index) and whether the
    // last one is a text block still open (a continuation writes into it).
    size_t blocks_started() const { return blocks_started_; }
    bool text_block_open() const { return text_block_open_; }

private:
    // One whole event's data; false when it is an error event.
    bool observe_data(std::string_view json);
    void append_text(std::string_view piece);
    // `*kept` = the string member `key` of `top`, unless a value was kept already (the first wins).
    static void keep_first(const JsonMembers& top, std::string_view key, std::string* kept);
    void observe_openai_chunk(const JsonMembers& top);
    void observe_anthropic_event(const JsonMembers& top);
    void observe_gemini_chunk(const JsonMembers& top);

    Dialect dialect_;
    SseParser events_{kMaxPartialEvent};  // holds the start of an event the last call did not end
    std::string piece_;                   // scratch: one decoded text piece
    std::string text_, id_, model_;
    int64_t created_ = 0;
    size_t blocks_started_ = 0;
    bool text_block_open_ = false;
    bool other_block_open_ = false;
    bool tool_call_ = false;
    bool several_choices_ = false;
    bool finished_ = false;
    bool role_sent_ = false;
    bool too_long_ = false;
};

}  // namespace routeshift
