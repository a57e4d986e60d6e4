// Mid-stream continuation (docs/design.md §19): every wire's decoder -> overlap removal -> every
// client dialect's writer in resume mode, under arbitrary splits; the client's output is read back
// by the DeliveredStream reader of its dialect, and the overlap functions are checked against
// their definition.
//
// Input = [1 byte: wire (mod 4), client dialect (/4 mod 3), overlap style (/12 mod 3)]
//         [1 byte: delivered tail length L (mod 65)] [L bytes: delivered tail] [split input].
#include "continuation/continuation_translator.hpp"
#include "continuation/delivered_stream.hpp"
#include "continuation/stream_overlap.hpp"
#include "egress/wire_adapter.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace routeshift;

// overlap_length's answer is an overlap within the bounds, and no longer one exists.
void check_overlap(std::string_view delivered, std::string_view continuation, size_t min_length, size_t max_length) {
    size_t k = overlap_length(delivered, continuation, min_length, max_length);
    if (k == 0) return;
    fuzz::check(k >= min_length && k <= max_length && k <= delivered.size() && k <= continuation.size(),
                "overlap_length out of bounds");
    fuzz::check(delivered.substr(delivered.size() - k) == continuation.substr(0, k), "overlap_length is no overlap");
    size_t longest = std::min({delivered.size(), continuation.size(), max_length});
    for (size_t longer = k + 1; longer <= longest; ++longer) {
        fuzz::check(delivered.substr(delivered.size() - longer) != continuation.substr(0, longer),
                    "overlap_length missed a longer overlap");
    }
}

std::unique_ptr<ResponseTranslator> translator(WireFormat wire, Dialect dialect, ContinuationOptions options) {
    switch (dialect) {
    case Dialect::anthropic: {
        AnthropicAnswerWriterOptions w;
        w.stream = true;
        w.id = "msg_first";
        w.model = "first";
        w.resume_blocks = options.delivered_tail.size() % 3;
        w.resume_text_open = options.delivered_tail.size() % 2;
        return continuation_translator(wire_response_decoder(wire, true, w.id), std::move(options), std::move(w));
    }
    case Dialect::google: {
        GeminiAnswerWriterOptions w;
        w.stream = true;
        w.id = "resp-first";
        w.model = "first";
        return continuation_translator(wire_response_decoder(wire, true, w.id), std::move(options), std::move(w));
    }
    case Dialect::openai: break;
    }
    OpenAIChatWriterOptions w;
    w.stream = true;
    w.include_usage = true;
    w.id = "chatcmpl-first";
    w.model = "first";
    w.created = 1700000000;
    return continuation_translator(wire_response_decoder(wire, true, w.id), std::move(options), std::move(w));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    static constexpr WireFormat kWires[] = {WireFormat::openai, WireFormat::anthropic, WireFormat::bedrock,
                                            WireFormat::gemini};
    static constexpr Dialect kDialects[] = {Dialect::openai, Dialect::anthropic, Dialect::google};
    WireFormat wire = kWires[data[0] % 4];
    Dialect dialect = kDialects[(data[0] / 4) % 3];
    unsigned style = (data[0] / 12) % 3;
    size_t tail_length = std::min<size_t>(data[1] % 65, size - 2);
    std::string_view tail(reinterpret_cast<const char*>(data) + 2, tail_length);
    fuzz::SplitInput in = fuzz::split_input(data + 2 + tail_length, size - 2 - tail_length);

    ContinuationOptions options;
    options.delivered_tail.assign(tail);
    if (style == 1) {  // prefill: the whitespace the prefill lost
        options.min_overlap = 1;
        options.max_overlap = 1 + tail_length % 3;
    } else if (style == 2) {  // instruction
        options.min_overlap = 4;
        options.max_overlap = 256;
    }
    options.earlier.prompt_tokens = 9;
    options.earlier.completion_tokens = 4;
    check_overlap(tail, in.payload, options.min_overlap, options.max_overlap);

    auto t = translator(wire, dialect, std::move(options));
    std::string out;
    bool ok = true;
    for (std::string_view piece : in.pieces()) {
        if (!t->feed(piece, &out)) {
            ok = false;
            break;
        }
    }
    bool complete = t->finish(&out) && ok;
    fuzz::check(!(t->complete() && t->saw_error()), "a continuation both completed and failed", out);
    if (dialect == Dialect::openai) {
        fuzz::check_client_stream(out, t->complete());
        // choice 0 resumes: its role chunk went out with the first attempt (other choices get theirs)
        fuzz::check(out.find("\"index\":0,\"delta\":{\"role\"") == std::string::npos,
                    "a resumed OpenAI stream sent choice 0 a second role chunk", out);
    } else {
        fuzz::check(routeshift::valid_utf8(out), "stream output is not valid UTF-8", out);
        for (const std::string& event : fuzz::sse_data(out)) {
            fuzz::check(fuzz::valid_json_document(event), "a stream event is not valid JSON", event);
        }
        // (text may say "message_start": only an event of that name is a restart)
        fuzz::check(out.rfind("event: message_start", 0) == std::string::npos &&
                        out.find("\nevent: message_start") == std::string::npos,
                    "a resumed Anthropic stream restarted its message", out);
    }
    (void)complete;
    // what the client got reads back as the continuation of an answer of its dialect
    DeliveredStream delivered(dialect);
    size_t error_at = delivered.observe(out);
    fuzz::check(error_at <= out.size(), "DeliveredStream's error offset is outside its input");
    fuzz::check(delivered.text().size() <= DeliveredStream::kMaxText, "DeliveredStream kept too much text");
    return 0;
}
