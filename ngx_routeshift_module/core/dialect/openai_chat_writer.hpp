// The OpenAI chat dialect writer: canonical events -> `chat.completion.chunk` SSE (streaming
// requests) or one `chat.completion` object (non-streaming requests). Every wire decoder feeds this
// one writer, so usage accounting, finish reasons and chunk shapes are written in one place.
#pragma once
#include "canonical/canonical_event.hpp"
#include "egress/openai/stream_relay.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

class SessionInference;  // accounting/session_inference.hpp

struct OpenAIChatWriterOptions {
    bool stream = false;          // the client asked for SSE
    bool include_usage = false;   // stream_options.include_usage: a usage chunk before [DONE]
    std::string model;            // "model" of the objects ("" -> the provider's model)
    std::string id;               // "id" of the objects ("" -> the provider's id, else fallback_id)
    std::string fallback_id = "chatcmpl-gateway";
    int64_t created = 0;          // unix seconds (0 -> now)
    // The request used the legacy `functions` (no `tools`): the first tool call is written as
    // `function_call` (the legacy form holds one; later calls are dropped) and a choice that calls
    // it finishes with "function_call", as OpenAI answers such a request.
    bool legacy_functions = false;
    // The client already has the start of this answer (mid-stream continuation, docs/design.md
    // §19): choice 0 resumes without a second role chunk.
    bool resume = false;
};

class OpenAIChatWriter final : public canonical::EventSink {
public:
    explicit OpenAIChatWriter(OpenAIChatWriterOptions options) : options_(std::move(options)) {}
    OpenAIChatWriter(const OpenAIChatWriter&) = delete;  // current_ points into the writer
    OpenAIChatWriter& operator=(const OpenAIChatWriter&) = delete;

    // Where the following events are written (the caller's output buffer for this feed).
    void bind(std::string* out) { out_ = out; }

    void message_start(const canonical::MessageStart& start) override;
    void choice(size_t index) override;
    void text_delta(std::string_view text) override;
    void text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs> tokens) override;
    void reasoning_delta(std::string_view text) override;
    void reasoning_state(std::string_view blocks_json) override;
    void refusal_delta(std::string_view text) override;
    void tool_call_start(size_t index, std::string_view id, std::string_view name,
                         std::string_view arguments) override;
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override;
    void image(std::string_view media_type, std::string_view base64_data) override;
    void usage(const canonical::UsageReport& usage) override;
    void finish(canonical::FinishReason reason) override;
    void error(const canonical::ErrorReport& error) override;
    void keep_alive() override;

    const Usage& usage() const { return usage_; }
    bool complete() const { return complete_; }    // finish() was written
    bool saw_error() const { return error_; }      // an error was written
    bool ended() const { return complete_ || error_; }
    // Choice 0's text and tool calls also go to `session` (a first turn's id).
    void observe_session(SessionInference* session) { session_ = session; }

private:
    struct ToolCall {
        std::string id, name, arguments;
    };

    // One choice of the answer (OpenAI `n`; one for most providers).
    struct Choice {
        bool begun = false;     // the role chunk was written (streams) / it is listed (JSON)
        bool finished = false;
        canonical::FinishReason finish_reason = canonical::FinishReason::stop;
        size_t tool_calls = 0;
        size_t images = 0;
        // Non-streaming answers: the message collected until the end.
        std::string text, reasoning, refusal, reasoning_blocks, images_json, logprobs;
        bool has_logprobs = false;
        std::vector<ToolCall> calls;
    };

    void ensure_prefix(std::string_view upstream_id, std::string_view upstream_model);
    void ensure_started();
    void begin(Choice& choice);
    void string_delta(std::string_view opening, std::string_view text, std::string Choice::*field);
    void chunk(std::string_view delta, std::string_view finish_reason = {}, std::string_view logprobs = {});
    void append_usage_json(std::string& out) const;
    void append_logprobs_entries(std::string& out, std::span<const canonical::TokenLogprobs> tokens) const;
    void append_image(std::string& out, std::string_view media_type, std::string_view base64_data) const;
    std::string_view finish_reason_text(const Choice& choice) const;
    void write_completion();
    void write_choice_message(const Choice& choice);
    bool all_finished() const;
    ToolCall& call_at(size_t index);

    OpenAIChatWriterOptions options_;
    std::string* out_ = nullptr;
    std::string prefix_;   // `{"id":..,"object":..,"created":..,"model":..,`
    bool started_ = false; // choice 0 has begun (streams: its role chunk leads)
    bool complete_ = false;
    bool error_ = false;
    canonical::UsageReport tokens_;
    Usage usage_;
    std::string scratch_;
    // Choice 0 lives inline (no allocation for the usual one-choice answer); more in `others_`.
    Choice first_;
    std::vector<Choice> others_;  // choices 1..n
    Choice* current_ = &first_;
    size_t current_index_ = 0;
    SessionInference* session_ = nullptr;
    SessionInference* observing() const { return current_index_ == 0 ? session_ : nullptr; }
};

}  // namespace routeshift
