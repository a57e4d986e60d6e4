#include "egress/embeddings_answer.hpp"

#include "dialect/dialect_error.hpp"
#include "dialect/gemini_embed_writer.hpp"
#include "dialect/openai_embeddings_writer.hpp"
#include "egress/embeddings_wire.hpp"

namespace routeshift {
namespace {

constexpr size_t kMaxEmbeddingsAnswer = 64u << 20;

class EmbeddingsAnswer final : public ResponseTranslator {
public:
    explicit EmbeddingsAnswer(EmbeddingsAnswerOptions options) : options_(std::move(options)) {}

    bool feed(std::string_view bytes, std::string* out) override {
        if (error_) return false;
        if (json_.size() + bytes.size() > kMaxEmbeddingsAnswer) return fail(out, "the provider's answer is too large");
        json_.append(bytes);
        return true;
    }

    bool finish(std::string* out) override {
        if (error_) return false;
        EmbeddingResult result;
        std::string why;
        if (!embeddings_decode_answer(options_.wire, options_.upstream_model, json_, &result, &why))
            return fail(out, "The provider's embeddings answer could not be read: " + why + ".");
        if (result.vectors.size() != options_.inputs) {
            return fail(out, "The provider returned " + std::to_string(result.vectors.size()) + " embeddings for " +
                                 std::to_string(options_.inputs) + " inputs.");
        }
        usage_estimated_ = result.prompt_tokens < 0;  // Gemini and Cohere report no count
        int64_t tokens = usage_estimated_ ? options_.estimated_tokens : result.prompt_tokens;
        usage_.prompt_tokens = tokens;
        usage_.completion_tokens = 0;
        usage_.total_tokens = tokens;
        if (options_.dialect == Dialect::google) out->append(gemini_embed_answer_body(result, options_.gemini_single));
        else out->append(openai_embeddings_answer_body(result, options_.upstream_model, options_.encoding, tokens));
        complete_ = true;
        return true;
    }

    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }
    void observe_session(SessionInference*) override {}
    bool content_started() const override { return complete_; }
    bool usage_estimated() const override { return usage_estimated_; }

private:
    bool fail(std::string* out, std::string message) {
        error_ = true;
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.message = std::move(message);
        e.code = "invalid_provider_answer";
        out->append(dialect_error_body(options_.dialect, e));
        return false;
    }

    EmbeddingsAnswerOptions options_;
    std::string json_;
    Usage usage_;
    bool complete_ = false;
    bool error_ = false;
    bool usage_estimated_ = false;
};

}  // namespace

std::unique_ptr<ResponseTranslator> embeddings_answer_translator(EmbeddingsAnswerOptions options) {
    return std::make_unique<EmbeddingsAnswer>(std::move(options));
}

}  // namespace routeshift
