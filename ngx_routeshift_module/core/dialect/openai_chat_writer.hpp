// The OpenAI chat dialect writer: canonical events -> `chat.completion.chunk` SSE (streaming
// requests) or one `chat.completion` object (non-streaming requests). Every wire decoder feeds this
// one writer, so usage accounting, finish reasons and chunk shapes are written in one place.
#pragma once
#include "canonical/canonical_event.hpp"
#include "egress/openai/stream_relay.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct OpenAIChatWriterOptions {
    bool stream = false;          // the client asked for SSE
    bool include_usage = false;   // stream_options.include_usage: a usage chunk before [DONE]
    std::string model;            // "model" of the objects ("" -> the provider's model)
    std::string id;               // "id" of the objects ("" -> the provider's id, else fallback_id)
    std::string fallback_id = "chatcmpl-gateway";
    int64_t created = 0;          // unix seconds (0 -> now)
};

class OpenAIChatWriter final : public canonical::EventSink {
public:
    explicit OpenAIChatWriter(OpenAIChatWriterOptions options) : options_(std::move(options)) {}

    // Where the following events are written (the caller's output buffer for this feed).
    void bind(std::string* out) { out_ = out; }

    void message_start(const canonical::MessageStart& start) override;
    void text_delta(std::string_view text) override;
    void reasoning_delta(std::string_view text) override;
    void reasoning_state(std::string_view blocks_json) override;
    void refusal_delta(std::string_view text) override;
    void tool_call_start(size_t index, std::string_view id, std::string_view name,
                         std::string_view arguments) override;
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override;
    void usage(const canonical::UsageReport& usage) override;
    void finish(canonical::FinishReason reason) override;
    void error(const canonical::ErrorReport& error) override;
    void keep_alive() override;

    const Usage& usage() const { return usage_; }
    bool complete() const { return complete_; }    // finish() was written
    bool saw_error() const { return error_; }      // an error was written
    bool ended() const { return complete_ || error_; }

private:
    struct ToolCall {
        std::string id, name, arguments;
    };

    void ensure_prefix(std::string_view upstream_id, std::string_view upstream_model);
    void ensure_started();
    void chunk(std::string_view delta, std::string_view finish_reason = {});
    void append_usage_json(std::string& out) const;
    std::string_view finish_reason_text(canonical::FinishReason reason) const;
    void write_completion(canonical::FinishReason reason);
    ToolCall& call_at(size_t index);

    OpenAIChatWriterOptions options_;
    std::string* out_ = nullptr;
    std::string prefix_;   // `{"id":..,"object":..,"created":..,"model":..,`
    bool started_ = false; // the role chunk was written
    bool complete_ = false;
    bool error_ = false;
    size_t tool_calls_ = 0;
    canonical::UsageReport tokens_;
    Usage usage_;
    std::string scratch_;
    // Non-streaming answers: the message collected until finish().
    std::string text_, reasoning_, refusal_, reasoning_blocks_;
    std::vector<ToolCall> calls_;
};

}  // namespace routeshift
