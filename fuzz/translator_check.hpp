// The checks every response translator passes under fuzzing (one target per wire): the answer is
// fed whole and cut into pieces; both runs agree, and the client gets valid JSON: a stream of
// JSON events with [DONE] only last and only on success, or one JSON document.
#pragma once
#include "fuzz_support.hpp"
#include "egress/provider_adapter.hpp"

#include <functional>

namespace fuzz {

struct Translated {
    std::string out;
    bool finish_ok = false;
    bool complete = false;
};

using MakeTranslator = std::function<std::unique_ptr<routeshift::ResponseTranslator>(const routeshift::TranslatorOptions&)>;

inline Translated translate(const MakeTranslator& make, const routeshift::TranslatorOptions& opt,
                            const std::vector<std::string_view>& pieces) {
    Translated t;
    auto translator = make(opt);
    for (auto p : pieces)
        if (!translator->feed(p, &t.out)) break;
    t.finish_ok = translator->finish(&t.out);
    t.complete = translator->complete();
    return t;
}

// `flags`: bit 0 stream, bit 1 include_usage.
inline void check_translator(const MakeTranslator& make, unsigned flags, const std::vector<std::string_view>& whole,
                             const std::vector<std::string_view>& split) {
    routeshift::TranslatorOptions opt;
    opt.stream = flags & 1;
    opt.include_usage = flags & 2;
    opt.model = "fuzz-model";
    opt.id = "chatcmpl-fuzz";
    opt.created = 1763700000;
    Translated a = translate(make, opt, whole);
    Translated b = translate(make, opt, split);
    std::string joined;
    for (auto p : whole) joined.append(p);
    check(a.finish_ok == b.finish_ok, "success depends on the split", joined);
    check(a.out == b.out, "client output depends on the split", joined);
    if (opt.stream) {
        check_client_stream(a.out, a.finish_ok);
    } else {
        check(valid_json_document(a.out), "a JSON answer is not one valid JSON document", a.out);
    }
}

// The split input's flags (bits 3-4 of the first byte; bits 0-2 count the cuts).
inline unsigned translator_flags(const uint8_t* data, size_t size) { return size ? (data[0] >> 3) & 3 : 0; }

}  // namespace fuzz
