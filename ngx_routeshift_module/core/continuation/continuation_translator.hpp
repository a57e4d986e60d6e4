// The translator of a continuation attempt's stream (docs/design.md §19): the target's decoder
// (any wire), the overlap with the delivered text removed, then the client dialect's writer in its
// resume mode: OpenAI chat (same id, created, model and index, no second role chunk), Anthropic
// Messages (no second message_start, same id, the open text block or the next index), Gemini (same
// responseId and modelVersion). The usage the client sees is the sum over every attempt; usage()
// is this attempt's own (its accounting).
#pragma once
#include "dialect/anthropic_messages_answer_writer.hpp"
#include "dialect/gemini_generate_content_writer.hpp"
#include "egress/response_decoder.hpp"

#include <memory>
#include <string>

namespace routeshift {

struct ContinuationOptions {
    std::string delivered_tail;      // the end of the delivered text (at most max_overlap bytes)
    size_t min_overlap = 0;          // overlap shorter than this is kept (chance repetition)
    size_t max_overlap = 0;          // 0: the target continues exactly (prefix styles)
    Usage earlier;                   // what the earlier attempts reported (-1: unknown)
};

// `Writer`: OpenAIChatWriter, AnthropicMessagesAnswerWriter or GeminiGenerateContentWriter (the
// instantiations continuation_translator.cpp provides), built in its resume mode.
template <typename Writer>
class ContinuationTranslator final : public ResponseTranslator, private canonical::EventSink {
public:
    // `writer_options`: the Writer's options, its resume mode set
    template <typename WriterOptions>
    ContinuationTranslator(std::unique_ptr<ResponseDecoder> decoder, ContinuationOptions options,
                           WriterOptions writer_options)
        : decoder_(std::move(decoder)), options_(std::move(options)), writer_(std::move(writer_options)) {
        overlap_done_ = options_.max_overlap == 0;
    }

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return own_usage_; }
    bool complete() const override { return writer_.complete(); }
    bool saw_error() const override { return writer_.saw_error(); }
    void observe_session(SessionInference*) override {}  // the session was decided by the first attempt
    bool content_started() const override { return started_; }

private:
    void message_start(const canonical::MessageStart&) override {}
    void choice(size_t index) override { writer_.choice(index); }
    void text_delta(std::string_view text) override;
    void text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs>) override {
        text_delta(text);
    }
    // a continuation's reasoning would arrive after the answer's content: the client does not get it
    void reasoning_delta(std::string_view) override {}
    void reasoning_state(std::string_view) override {}
    void refusal_delta(std::string_view text) override;
    void tool_call_start(size_t index, std::string_view id, std::string_view name, std::string_view arguments) override;
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override;
    void image(std::string_view media_type, std::string_view base64_data) override;
    void usage(const canonical::UsageReport& usage) override;
    void finish(canonical::FinishReason reason) override;
    void error(const canonical::ErrorReport& error) override;
    void keep_alive() override { writer_.keep_alive(); }

    void flush_overlap();
    void forward_usage();

    std::unique_ptr<ResponseDecoder> decoder_;
    ContinuationOptions options_;
    Writer writer_;
    std::string pending_;         // the continuation's first text, until its overlap is known
    bool overlap_done_ = false;
    bool started_ = false;
    bool finished_ = false;
    bool usage_forwarded_ = false;
    canonical::UsageReport own_tokens_;
    Usage own_usage_;
};

// The continuation translator for the client's dialect, its writer resuming with `writer` (whose
// resume / id / model / created name what the client already has).
std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options, OpenAIChatWriterOptions writer);
std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options,
                                                            AnthropicAnswerWriterOptions writer);
std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options, GeminiAnswerWriterOptions writer);

}  // namespace routeshift
