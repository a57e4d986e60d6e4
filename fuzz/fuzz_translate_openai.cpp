// The OpenAI-wire stream translator (the relay behind ResponseTranslator) under arbitrary splits;
// see translator_check.hpp. Only streams are translated on this wire (JSON passes through).
#include "translator_check.hpp"
#include "egress/openai/openai_stream_translator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    fuzz::check_translator(
        [](const routeshift::TranslatorOptions& o) { return routeshift::openai_stream_translator(o.include_usage); },
        fuzz::translator_flags(data, size) | 1, {in.payload}, in.pieces());
    return 0;
}
