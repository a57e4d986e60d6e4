// The answer of any wire for an Anthropic Messages client, behind the ResponseTranslator interface
// the glue relays through (docs/design.md §18).
#pragma once
#include "dialect/anthropic_messages_answer_writer.hpp"
#include "egress/response_decoder.hpp"

#include <memory>

namespace routeshift {

// `decoder` (the provider wire's) -> AnthropicMessagesAnswerWriter. With `relay` (the provider
// speaks Anthropic Messages itself) the provider's bytes reach the client unchanged and the
// decoder and writer run alongside only for usage, completeness and errors; a stream that breaks
// off still ends with the writer's `event: error`.
std::unique_ptr<ResponseTranslator> anthropic_messages_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                                  AnthropicAnswerWriterOptions options, bool relay);

}  // namespace routeshift
