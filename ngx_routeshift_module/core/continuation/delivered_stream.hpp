// What the client of a streamed OpenAI chat answer has received so far (docs/design.md §19): read
// from the chunks the gateway sends it, whatever wire the provider spoke, so that a continuation
// can resume the same answer: the text of choice 0, the chunk id, created and model, whether a tool
// call or another choice is under way, whether the answer finished. Only kept for requests that
// may be continued.
#pragma once
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

    // `out`: whole SSE events about to go to the client. Records every event before the first error
    // event and returns that event's offset in `out` (out.size() when there is none): a stream that
    // will be continued sends only what comes before it.
    size_t observe(std::string_view out);

    const std::string& text() const { return text_; }     // choice 0's content so far
    const std::string& id() const { return id_; }
    const std::string& model() const { return model_; }
    int64_t created() const { return created_; }
    bool tool_call_started() const { return tool_call_; }  // a tool call's arguments may be cut
    bool several_choices() const { return several_choices_; }
    bool finished() const { return finished_; }            // a finish_reason went out
    bool role_sent() const { return role_sent_; }
    bool too_long() const { return too_long_; }            // over kMaxText: text() was dropped

private:
    void observe_chunk(const JsonMembers& top);

    std::string text_, id_, model_;
    int64_t created_ = 0;
    bool tool_call_ = false;
    bool several_choices_ = false;
    bool finished_ = false;
    bool role_sent_ = false;
    bool too_long_ = false;
};

}  // namespace routeshift
