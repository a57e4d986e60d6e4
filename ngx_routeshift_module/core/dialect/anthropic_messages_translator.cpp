#include "dialect/anthropic_messages_translator.hpp"

#include <new>

namespace routeshift {
namespace {

class AnthropicMessagesTranslator final : public ResponseTranslator {
public:
    AnthropicMessagesTranslator(std::unique_ptr<ResponseDecoder> decoder, AnthropicAnswerWriterOptions options,
                                bool relay)
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
    AnthropicMessagesAnswerWriter writer_;
    bool relay_;
    bool finished_ = false;
    std::string discarded_;  // relay: what the writer would have written
};

}  // namespace

std::unique_ptr<ResponseTranslator> anthropic_messages_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                                  AnthropicAnswerWriterOptions options, bool relay) {
    return std::make_unique<AnthropicMessagesTranslator>(std::move(decoder), std::move(options), relay);
}

}  // namespace routeshift
