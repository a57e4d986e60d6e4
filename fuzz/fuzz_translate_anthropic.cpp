// The Anthropic answer translator (JSON and stream) under arbitrary splits; see translator_check.hpp.
#include "translator_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    fuzz::check_translator([](const routeshift::TranslatorOptions& o) { return routeshift::anthropic_translator(o); },
                           fuzz::translator_flags(data, size), {in.payload}, in.pieces());
    return 0;
}
