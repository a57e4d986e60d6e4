// A wire's response decoder: provider answer bytes (JSON or stream) -> canonical events. Paired with
// the client dialect's writer by DecodedResponseTranslator, which is what the glue sees.
#pragma once
#include "canonical/canonical_event.hpp"
#include "dialect/openai_chat_writer.hpp"
#include "egress/provider_adapter.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace routeshift {

class ResponseDecoder {
public:
    virtual ~ResponseDecoder() = default;

    // De-framed upstream body bytes, in any split. Returns false when the input is broken beyond
    // repair (an error event has then been sent to `sink`).
    virtual bool feed(std::string_view bytes, canonical::EventSink& sink) = 0;

    // The upstream body ended: sends what is left (a wire whose only completion signal is the
    // clean end of the body finishes its choices here). An answer the provider did not complete ends
    // with an error event (a truncated answer must never look complete).
    virtual void finish(canonical::EventSink& sink) = 0;
};

// Passes every event to the writer and notes when the first content-bearing one went by (the glue
// holds a stream's headers until then).
class ContentObserver final : public canonical::EventSink {
public:
    explicit ContentObserver(canonical::EventSink& next) : next_(next) {}
    bool content_started() const { return started_; }

    void message_start(const canonical::MessageStart& start) override { next_.message_start(start); }
    void choice(size_t index) override { next_.choice(index); }
    void text_delta(std::string_view text) override {
        started_ |= !text.empty();
        next_.text_delta(text);
    }
    void text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs> tokens) override {
        started_ |= !text.empty() || !tokens.empty();
        next_.text_delta_with_logprobs(text, tokens);
    }
    void reasoning_delta(std::string_view text) override {
        started_ |= !text.empty();
        next_.reasoning_delta(text);
    }
    void reasoning_state(std::string_view blocks_json) override { next_.reasoning_state(blocks_json); }
    void refusal_delta(std::string_view text) override {
        started_ |= !text.empty();
        next_.refusal_delta(text);
    }
    void tool_call_start(size_t index, std::string_view id, std::string_view name,
                         std::string_view arguments) override {
        started_ = true;
        next_.tool_call_start(index, id, name, arguments);
    }
    void tool_call_arguments_delta(size_t index, std::string_view arguments) override {
        next_.tool_call_arguments_delta(index, arguments);
    }
    void image(std::string_view media_type, std::string_view base64_data) override {
        started_ = true;
        next_.image(media_type, base64_data);
    }
    void usage(const canonical::UsageReport& usage) override { next_.usage(usage); }
    void finish(canonical::FinishReason reason) override {
        started_ = true;
        next_.finish(reason);
    }
    void error(const canonical::ErrorReport& error) override { next_.error(error); }
    void keep_alive() override { next_.keep_alive(); }

private:
    canonical::EventSink& next_;
    bool started_ = false;
};

// ResponseTranslator = one decoder + the OpenAI chat writer. Catches every exception of the
// decoder (the glue calls it from nginx callbacks) and reports it as an error event.
class DecodedResponseTranslator final : public ResponseTranslator {
public:
    DecodedResponseTranslator(std::unique_ptr<ResponseDecoder> decoder, OpenAIChatWriterOptions options)
        : decoder_(std::move(decoder)), writer_(std::move(options)), observer_(writer_) {}

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return writer_.usage(); }
    bool complete() const override { return writer_.complete(); }
    bool saw_error() const override { return writer_.saw_error(); }
    void observe_session(SessionInference* session) override { writer_.observe_session(session); }
    bool content_started() const override { return observer_.content_started(); }

private:
    void internal_error();

    std::unique_ptr<ResponseDecoder> decoder_;
    OpenAIChatWriter writer_;
    ContentObserver observer_;  // between the decoder and writer_
    bool finished_ = false;
};

// The writer options for a translator: the glue's TranslatorOptions plus the id used when neither
// the gateway nor the provider gives one.
OpenAIChatWriterOptions writer_options(const TranslatorOptions& options, std::string_view fallback_id);

// The canonical error event for an error already in the OpenAI shape (status, type, message,
// param, code), e.g. what a wire's error classifier produced from the provider's error body.
canonical::ErrorReport error_report_for(const ApiError& error);

// The canonical error event for a stream that broke mid-answer: no HTTP status (the client already
// has its 200), just what went wrong and a machine-readable code.
canonical::ErrorReport stream_error_report(std::string_view message, std::string_view code);

// The decoders of the non-OpenAI wires (each wire's *_response_decoder.cpp). `stream`: the client
// asked for a stream (the provider was asked for one too).
std::unique_ptr<ResponseDecoder> anthropic_response_decoder(bool stream);
std::unique_ptr<ResponseDecoder> bedrock_response_decoder(bool stream);
// `gateway_id`: the id the client will see ("" = the provider's); Gemini's synthesized tool-call
// ids derive from it.
std::unique_ptr<ResponseDecoder> gemini_response_decoder(bool stream, std::string gateway_id);
// OpenAI chat answers, for clients of another dialect (egress/openai/openai_response_decoder.cpp).
std::unique_ptr<ResponseDecoder> openai_response_decoder(bool stream);

}  // namespace routeshift
