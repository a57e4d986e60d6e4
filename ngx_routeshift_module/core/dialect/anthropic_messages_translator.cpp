#include "dialect/anthropic_messages_translator.hpp"

#include "dialect/answer_writer_translator.hpp"

namespace routeshift {

std::unique_ptr<ResponseTranslator> anthropic_messages_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                                  AnthropicAnswerWriterOptions options, bool relay) {
    return std::make_unique<AnswerWriterTranslator<AnthropicMessagesAnswerWriter>>(std::move(decoder),
                                                                                    std::move(options), relay);
}

}  // namespace routeshift
