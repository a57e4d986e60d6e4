// The Bedrock answer translator under arbitrary splits; see translator_check.hpp. Stream answers
// are event-stream frames with CRCs a fuzzer cannot guess, so the harness frames them: the payload
// is records "<event type>\n<JSON payload>" separated by "\n\n" (a type starting with '!' is an
// exception), each sent as one valid frame. Bit 2 of the flags feeds the payload raw instead.
#include "translator_check.hpp"
#include "egress/bedrock/aws_eventstream.hpp"

namespace {

std::string header(std::string_view name, std::string_view value) {
    std::string h;
    h += static_cast<char>(name.size());
    h += name;
    h += '\x07';
    value = value.substr(0, 0xFFFF);
    h += static_cast<char>(value.size() >> 8);
    h += static_cast<char>(value.size() & 0xFF);
    h += value;
    return h;
}

std::string frame(std::string_view headers, std::string_view payload) {
    auto put32 = [](std::string& s, uint32_t v) {
        for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    std::string f;
    put32(f, static_cast<uint32_t>(16 + headers.size() + payload.size()));
    put32(f, static_cast<uint32_t>(headers.size()));
    put32(f, routeshift::crc32_ieee(std::string_view(f.data(), 8)));
    f += headers;
    f += payload;
    put32(f, routeshift::crc32_ieee(f));
    return f;
}

std::string frames(std::string_view records) {
    std::string out;
    while (!records.empty()) {
        size_t end = records.find("\n\n");
        std::string_view record = records.substr(0, end);
        records = end == std::string_view::npos ? std::string_view() : records.substr(end + 2);
        size_t nl = record.find('\n');
        std::string_view type = record.substr(0, nl);
        std::string_view payload = nl == std::string_view::npos ? std::string_view() : record.substr(nl + 1);
        if (type.starts_with("!")) {
            out += frame(header(":exception-type", type.substr(1)) + header(":content-type", "application/json") +
                             header(":message-type", "exception"),
                         payload);
        } else {
            out += frame(header(":event-type", type) + header(":content-type", "application/json") +
                             header(":message-type", "event"),
                         payload);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    unsigned flags = fuzz::translator_flags(data, size);
    bool raw = size && (data[0] & 0x20);
    auto make = [](const routeshift::TranslatorOptions& o) { return routeshift::bedrock_translator(o); };
    if (!(flags & 1) || raw) {
        fuzz::check_translator(make, flags, {in.payload}, in.pieces());
        return 0;
    }
    std::string body = frames(in.payload);
    std::vector<std::string_view> pieces;
    std::string_view b(body);
    for (size_t c : in.cuts) {
        size_t at = c % (b.size() + 1);
        pieces.push_back(b.substr(0, at));
        b.remove_prefix(at);
    }
    pieces.push_back(b);
    fuzz::check_translator(make, flags, {std::string_view(body)}, pieces);
    return 0;
}
