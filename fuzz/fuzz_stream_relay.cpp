// The OpenAI pass-through relay under arbitrary splits: the client's bytes do not depend on the
// split, [DONE] comes only last and only when the stream completed, and output is valid UTF-8 when
// the input was.
#include "fuzz_support.hpp"
#include "egress/openai/stream_relay.hpp"

namespace {

struct Relayed {
    std::string out;
    bool complete = false;
};

Relayed relay(const std::vector<std::string_view>& pieces, bool usage) {
    Relayed r;
    routeshift::OpenAIStreamRelay relay(usage);
    for (auto p : pieces)
        if (!relay.feed(p, &r.out)) break;
    r.complete = relay.finish(&r.out);
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    bool usage = !in.payload.empty() && (in.payload[0] & 1);
    Relayed whole = relay({in.payload}, usage);
    Relayed split = relay(in.pieces(), usage);
    fuzz::check(whole.out == split.out && whole.complete == split.complete, "relay output depends on the split", in.payload);
    auto events = fuzz::sse_data(whole.out);
    for (size_t i = 0; i < events.size(); ++i)
        if (events[i] == "[DONE]") fuzz::check(i + 1 == events.size() && whole.complete, "[DONE] not last or not complete", whole.out);
    return 0;
}
