// The AWS event-stream decoder under arbitrary splits: the same messages (and the same failure)
// whatever the split; every delivered message decodes alone with decode_frame.
#include "fuzz_support.hpp"
#include "egress/bedrock/aws_eventstream.hpp"

namespace {

struct Decoded {
    std::vector<std::string> messages;
    bool failed = false;
};

Decoded decode(const std::vector<std::string_view>& pieces) {
    Decoded d;
    routeshift::EventStreamDecoder decoder(4096);
    for (auto p : pieces) {
        bool ok = decoder.feed(p, [&d](const routeshift::EsMessage& m) {
            std::string s;
            for (const auto& h : m.headers) {
                s.append(h.name);
                s += '=';
                s.append(h.bytes);
                s += std::to_string(h.int_value);
                s += ';';
            }
            s += '|';
            s.append(m.payload);
            d.messages.push_back(std::move(s));
        });
        if (!ok) {
            d.failed = true;
            break;
        }
    }
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    Decoded whole = decode({in.payload});
    Decoded split = decode(in.pieces());
    fuzz::check(whole.messages == split.messages && whole.failed == split.failed, "messages depend on the split",
                in.payload);
    routeshift::EsMessage m;
    std::string error;
    routeshift::EventStreamDecoder::decode_frame(in.payload, &m, &error);  // any bytes: no crash
    return 0;
}
