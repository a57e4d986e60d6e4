// Drives a ResponseTranslator or a ResponseDecoder the way the glue does -- the body fed in pieces
// cut at given offsets, then finish() -- and collects what a test checks. Shared by the tests of
// every wire's answer translation (t/unit/egress/<wire>/).
#pragma once
#include "egress/provider_adapter.hpp"
#include "egress/response_decoder.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "event_recorder.hpp"

namespace test {

// The options the glue passes: a fixed id, model and creation time so outputs can be compared.
inline routeshift::TranslatorOptions translator_options(bool stream, bool include_usage, std::string model,
                                                        std::string id = "chatcmpl-test", int64_t created = 1763700000) {
    routeshift::TranslatorOptions o;
    o.stream = stream;
    o.include_usage = include_usage;
    o.model = std::move(model);
    o.id = std::move(id);
    o.created = created;
    return o;
}

struct TranslatorRun {
    std::string out;
    bool feed_ok = true;    // every feed() returned true
    bool finish_ok = false;
    bool complete = false;
    bool saw_error = false;
    routeshift::Usage usage;
};

// Feeds `in` cut at `cuts` (ascending offsets; out-of-order or out-of-range ones are skipped),
// then finish().
inline TranslatorRun run_translator(routeshift::ResponseTranslator& translator, std::string_view in,
                                    const std::vector<size_t>& cuts = {}) {
    TranslatorRun r;
    size_t prev = 0;
    for (size_t cut : cuts) {
        if (cut < prev || cut > in.size()) continue;
        if (!translator.feed(in.substr(prev, cut - prev), &r.out)) r.feed_ok = false;
        prev = cut;
    }
    if (!translator.feed(in.substr(prev), &r.out)) r.feed_ok = false;
    r.finish_ok = translator.finish(&r.out);
    r.complete = translator.complete();
    r.saw_error = translator.saw_error();
    r.usage = translator.usage();
    return r;
}

// The canonical events a decoder makes of `body` fed in pieces of `step` bytes (0: at once).
inline EventRecorder decode_events(routeshift::ResponseDecoder& decoder, std::string_view body, size_t step = 0) {
    EventRecorder recorder;
    if (step == 0) step = body.size() + 1;
    for (size_t p = 0; p < body.size(); p += step) decoder.feed(body.substr(p, step), recorder);
    decoder.finish(recorder);
    return recorder;
}

}  // namespace test
