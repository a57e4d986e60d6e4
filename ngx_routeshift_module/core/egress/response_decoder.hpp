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

// ResponseTranslator = one decoder + the OpenAI chat writer. Catches every exception of the
// decoder (the glue calls it from nginx callbacks) and reports it as an error event.
class DecodedResponseTranslator final : public ResponseTranslator {
public:
    DecodedResponseTranslator(std::unique_ptr<ResponseDecoder> decoder, OpenAIChatWriterOptions options)
        : decoder_(std::move(decoder)), writer_(std::move(options)) {}

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return writer_.usage(); }
    bool complete() const override { return writer_.complete(); }
    bool saw_error() const override { return writer_.saw_error(); }
    void observe_session(SessionInference* session) override { writer_.observe_session(session); }

private:
    void internal_error();

    std::unique_ptr<ResponseDecoder> decoder_;
    OpenAIChatWriter writer_;
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

}  // namespace routeshift
