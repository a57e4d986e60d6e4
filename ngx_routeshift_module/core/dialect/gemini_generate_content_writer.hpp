// The Google (Gemini native) dialect writer: canonical events -> one GenerateContentResponse
// (`candidates`, `usageMetadata`, `modelVersion`, `responseId`) for :generateContent, or the SSE
// stream of GenerateContentResponse chunks (`data: {...}\r\n\r\n`, no end marker) that
// @google/genai reads for :streamGenerateContent?alt=sse. Choices are candidates; text runs are
// text parts, reasoning is `thought: true` text, tool calls are whole `functionCall` parts (a
// stream sends them with the candidate's last chunk, once their arguments are complete); the
// finish reason is STOP / MAX_TOKENS / SAFETY; errors are google.rpc.Status bodies (streams: one
// `data: {"error":...}` event). Log probabilities, refusal state and keep-alives have no place.
#pragma once
#include "canonical/canonical_event.hpp"
#include "egress/openai/stream_relay.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct GeminiAnswerWriterOptions {
    bool stream = false;
    std::string model;  // "modelVersion" ("" -> the provider's)
    std::string id;     // "responseId" ("" -> the provider's)
};

class GeminiGenerateContentWriter final : public canonical::EventSink {
public:
    explicit GeminiGenerateContentWriter(GeminiAnswerWriterOptions options) : options_(std::move(options)) {}

    // Where the following events are written (the caller's output buffer for this feed).
    void bind(std::string* out) { out_ = out; }

    void message_start(const canonical::MessageStart& start) override;
    void choice(size_t index) override;
    void text_delta(std::string_view text) override { add_text(text, false); }
    void text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs>) override {
        add_text(text, false);
    }
    void reasoning_delta(std::string_view text) override { add_text(text, true); }
    void reasoning_state(std::string_view) override {}
    void refusal_delta(std::string_view text) override { add_text(text, false); }
    void tool_call_start(size_t index, std::string_view id, std::string_view name,
                         std::string_view arguments) override;
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override;
    void image(std::string_view media_type, std::string_view base64_data) override;
    void usage(const canonical::UsageReport& usage) override;
    void finish(canonical::FinishReason reason) override;
    void error(const canonical::ErrorReport& error) override;
    void keep_alive() override {}

    // The tokens reported so far, in the gateway's accounting shape (prompt incl. cached).
    const Usage& usage() const { return usage_; }
    bool complete() const { return complete_; }
    bool saw_error() const { return error_; }
    bool ended() const { return complete_ || error_; }
    bool content_started() const { return content_started_; }

private:
    enum class PartType : unsigned char { text, thought, function_call, image };
    struct Part {
        PartType type = PartType::text;
        std::string text;      // text / thought; a call's arguments; an image's base64 bytes
        std::string id, name;  // function_call: id and name; image: mime type in `name`
        size_t tool_index = 0;
    };
    struct Candidate {
        std::vector<Part> parts;  // streams keep only the pending function calls
        bool begun = false;
        bool finished = false;
        canonical::FinishReason reason = canonical::FinishReason::stop;
    };

    Candidate& current();
    void add_text(std::string_view text, bool thought);
    void begin_chunk(std::string& out) const;
    void append_candidate(std::string& out, size_t index, const Candidate& c, bool with_finish) const;
    void append_usage(std::string& out) const;
    void write_chunk(size_t index, const Part* part, bool final_chunk);

    GeminiAnswerWriterOptions options_;
    std::string* out_ = nullptr;
    std::string id_, model_;
    size_t choice_ = 0;
    std::vector<Candidate> candidates_{1};
    bool complete_ = false;
    bool error_ = false;
    bool content_started_ = false;
    bool usage_seen_ = false;
    canonical::UsageReport tokens_;
    Usage usage_;
    std::string scratch_;
};

}  // namespace routeshift
