// The answer of any wire for a Gemini native client (docs/design.md §18 "Gemini native").
#pragma once
#include "dialect/gemini_generate_content_writer.hpp"
#include "egress/response_decoder.hpp"

#include <memory>

namespace routeshift {

// `decoder` (the provider wire's) -> GeminiGenerateContentWriter; with `relay` (a Gemini-wire
// provider) the provider's bytes pass unchanged and the writer only accounts and ends broken streams.
std::unique_ptr<ResponseTranslator> gemini_generate_content_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                                       GeminiAnswerWriterOptions options, bool relay);

}  // namespace routeshift
