// The Anthropic Messages dialect writer: canonical events -> one `message` object (non-streaming
// requests) or the SSE stream @anthropic-ai/sdk reads (message_start, content_block_start / delta /
// stop, ping, message_delta with usage and stop_reason, message_stop; `event: error` on failure).
// Text, reasoning (thinking blocks) and tool calls (tool_use blocks, input as input_json_delta)
// become content blocks in the order they come; refusals are text; images and log probabilities
// have no place in the Messages API and are dropped; choices other than 0 are dropped.
#pragma once
#include "canonical/canonical_event.hpp"
#include "egress/openai/stream_relay.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct AnthropicAnswerWriterOptions {
    bool stream = false;
    std::string model;  // "model" of the message ("" -> the provider's)
    std::string id;     // "id" of the message ("" -> the provider's, else "msg_gateway")
    // Streams: continue a message the client already has (docs/design.md §19): no message_start
    // (id and model above are the delivered ones); the next block gets index `resume_blocks`, or
    // with `resume_text_open` the text goes on in the open block resume_blocks - 1.
    bool resume = false;
    size_t resume_blocks = 0;
    bool resume_text_open = false;
};

class AnthropicMessagesAnswerWriter final : public canonical::EventSink {
public:
    explicit AnthropicMessagesAnswerWriter(AnthropicAnswerWriterOptions options);

    // Where the following events are written (the caller's output buffer for this feed).
    void bind(std::string* out) { out_ = out; }

    void message_start(const canonical::MessageStart& start) override;
    void choice(size_t index) override { choice_ = index; }
    void text_delta(std::string_view text) override;
    void text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs>) override {
        text_delta(text);
    }
    void reasoning_delta(std::string_view text) override;
    void reasoning_state(std::string_view) override {}
    void refusal_delta(std::string_view text) override { text_delta(text); }
    void tool_call_start(size_t index, std::string_view id, std::string_view name,
                         std::string_view arguments) override;
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override;
    void image(std::string_view, std::string_view) override {}
    void usage(const canonical::UsageReport& usage) override;
    void finish(canonical::FinishReason reason) override;
    void error(const canonical::ErrorReport& error) override;
    void keep_alive() override;

    // The tokens reported so far, in the gateway's accounting shape (prompt incl. cached).
    const Usage& usage() const { return usage_; }
    bool complete() const { return complete_; }
    bool saw_error() const { return error_; }
    bool ended() const { return complete_ || error_; }
    // A content-bearing event went by (text, reasoning, a tool call or the finish).
    bool content_started() const { return content_started_; }

private:
    enum class BlockType : unsigned char { text, thinking, tool_use };
    struct Block {
        BlockType type = BlockType::text;
        std::string text;      // text / thinking; a tool call's input JSON
        std::string id, name;  // tool_use
        size_t tool_index = 0;
    };

    bool skip() const { return ended() || choice_ != 0; }
    void ensure_started();
    Block& open_block(BlockType type);
    void close_block();
    void event(std::string_view name, std::string_view data);
    void append_usage(std::string& out, bool with_output) const;
    void write_message();

    AnthropicAnswerWriterOptions options_;
    std::string* out_ = nullptr;
    std::string id_, model_;
    size_t choice_ = 0;
    bool started_ = false;
    bool open_ = false;           // streams: the last block's content_block_stop is not written yet
    bool complete_ = false;
    bool error_ = false;
    bool content_started_ = false;
    canonical::FinishReason stop_ = canonical::FinishReason::stop;
    canonical::UsageReport tokens_;
    Usage usage_;
    std::vector<Block> blocks_;   // streams keep only their metadata (text stays empty)
    std::string scratch_;
};

}  // namespace routeshift
