// The SSE parser under arbitrary splits: the events do not depend on where the bytes were cut,
// and the raw bytes of the events followed by what is pending are exactly the input.
#include "fuzz_support.hpp"
#include "util/sse_parser.hpp"

namespace {

struct Collected {
    std::vector<std::string> events;  // event|data|id per event
    std::string raw;
    bool ok = true;
};

Collected collect(const std::vector<std::string_view>& pieces, size_t limit) {
    Collected c;
    routeshift::SseParser parser(limit);
    auto on_event = [&c](const routeshift::SseEvent& e) {
        c.events.push_back(std::string(e.event) + '\x01' + std::string(e.data) + '\x01' + std::string(e.id));
        c.raw.append(e.raw);
    };
    for (auto p : pieces) {
        if (!parser.feed(p, on_event)) {
            c.ok = false;
            return c;
        }
    }
    parser.flush(on_event);
    fuzz::check(parser.pending() == 0, "bytes pending after flush");
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    const size_t limit = 1024;  // small, so the limit path is explored too
    Collected whole = collect({in.payload}, limit);
    Collected split = collect(in.pieces(), limit);
    if (!whole.ok || !split.ok) return 0;  // an oversized event: where it is noticed may differ
    fuzz::check(whole.events == split.events, "events depend on the split", in.payload);
    fuzz::check(in.payload.starts_with(whole.raw), "raw bytes of the events are not the input", in.payload);
    return 0;
}
