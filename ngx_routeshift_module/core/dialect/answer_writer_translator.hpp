// The answer of any wire for a client of another dialect, behind the ResponseTranslator interface
// the glue relays through (docs/design.md §18): the wire's decoder feeds the dialect's writer
// (AnthropicMessagesAnswerWriter, GeminiGenerateContentWriter). One template, so every dialect
// relays, guards and ends its answers the same way.
#pragma once
#include "egress/response_decoder.hpp"

#include <memory>
#include <new>
#include <string>

namespace routeshift {

// `Writer`: a canonical::EventSink with bind(out), usage(), complete(), saw_error(), ended() and
// content_started(). With `relay` (the provider speaks the client's dialect itself) the provider's
// bytes reach the client unchanged and the decoder and writer run alongside only for usage,
// completeness and errors; a stream that breaks off still ends with the writer's error event.
template <typename Writer>
class AnswerWriterTranslator final : public ResponseTranslator {
public:
    template <typename Options>
    AnswerWriterTranslator(std::unique_ptr<ResponseDecoder> decoder, Options options, bool relay)
        : decoder_(std::move(decoder)), writer_(std::move(options)), relay_(relay) {}

    bool feed(std::string_view bytes, std::string* out) override {
        if (writer_.saw_error() || finished_) return false;
        if (relay_) out->append(bytes);
        if (writer_.complete()) return true;  // trailing bytes after the end of the answer
        writer_.bind(relay_ ? &discarded_ : out);
        bool ok = guarded([&] { return decoder_->feed(bytes, writer_); }, out);
        discarded_.clear();
        return ok && !writer_.saw_error();
    }

    bool finish(std::string* out) override {
        bool first_call = !finished_;
        finished_ = true;
        if (!first_call || writer_.ended()) return writer_.complete();
        writer_.bind(relay_ ? &discarded_ : out);
        guarded([&] {
            decoder_->finish(writer_);
            return true;
        }, out);
        // relayed: the provider's own bytes are the answer, but an end the provider did not
        // complete is the writer's error event
        if (relay_ && writer_.saw_error()) out->append(discarded_);
        discarded_.clear();
        return writer_.complete();
    }

    const Usage& usage() const override { return writer_.usage(); }
    bool complete() const override { return writer_.complete(); }
    bool saw_error() const override { return writer_.saw_error(); }
    void observe_session(SessionInference*) override {}
    bool content_started() const override { return writer_.content_started(); }

private:
    template <typename Step>
    bool guarded(Step step, std::string* out) {
        try {
            return step();
        } catch (const std::bad_alloc&) {
            throw;
        } catch (...) {
            writer_.bind(out);
            writer_.error(stream_error_report("internal error while translating the upstream answer", "translation_error"));
            return false;
        }
    }

    std::unique_ptr<ResponseDecoder> decoder_;
    Writer writer_;
    bool relay_;
    bool finished_ = false;
    std::string discarded_;  // relay: what the writer would have written
};

}  // namespace routeshift
