#include "dialect/gemini_generate_content_translator.hpp"

#include "dialect/answer_writer_translator.hpp"

namespace routeshift {

std::unique_ptr<ResponseTranslator> gemini_generate_content_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                                       GeminiAnswerWriterOptions options, bool relay) {
    return std::make_unique<AnswerWriterTranslator<GeminiGenerateContentWriter>>(std::move(decoder),
                                                                                  std::move(options), relay);
}

}  // namespace routeshift
