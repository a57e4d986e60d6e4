#include "egress/openai/openai_stream_translator.hpp"

namespace routeshift {
namespace {

class OpenAIStreamTranslator final : public ResponseTranslator {
public:
    explicit OpenAIStreamTranslator(bool include_usage) : relay_(include_usage) {}
    bool feed(std::string_view bytes, std::string* out) override { return relay_.feed(bytes, out); }
    bool finish(std::string* out) override { return relay_.finish(out); }
    const Usage& usage() const override { return relay_.usage(); }
    bool complete() const override { return relay_.saw_done(); }
    bool saw_error() const override { return relay_.saw_error(); }
    void observe_session(SessionInference* session) override { relay_.observe_session(session); }
    uint64_t skipped_events() const override { return relay_.malformed_events(); }
    bool content_started() const override { return relay_.content_started(); }

private:
    OpenAIStreamRelay relay_;
};

}  // namespace

std::unique_ptr<ResponseTranslator> openai_stream_translator(bool include_usage) {
    return std::make_unique<OpenAIStreamTranslator>(include_usage);
}

}  // namespace routeshift
