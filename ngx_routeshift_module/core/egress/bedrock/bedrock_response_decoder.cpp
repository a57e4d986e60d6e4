// Bedrock Converse response decoder: Converse JSON or ConverseStream binary event-stream frames
// (aws_eventstream.*) -> canonical events, one frame at a time. Stop reasons are mapped here; the
// OpenAI chat writer does usage and chunk writing.
#include "egress/bedrock/bedrock_internal.hpp"

#include "egress/bedrock/aws_eventstream.hpp"
#include "egress/response_decoder.hpp"

#include <unordered_map>

namespace routeshift {

using namespace bedrock_internal;

namespace {

canonical::FinishReason map_stop_reason(std::string_view r) {
    if (r == "tool_use") return canonical::FinishReason::tool_calls;
    if (r == "max_tokens" || r == "model_context_window_exceeded") return canonical::FinishReason::length;
    if (r == "guardrail_intervened" || r == "content_filtered") return canonical::FinishReason::content_filter;
    return canonical::FinishReason::stop;  // end_turn, stop_sequence, malformed_model_output, malformed_tool_use, unknown
}

// Converse usage: inputTokens excludes the cache reads and writes.
canonical::UsageReport usage_report(const json_t* u) {
    canonical::UsageReport r;
    if (!json_is_object(u)) return r;
    auto take = [&](const char* k, const char* alt, int64_t* dst) {
        const json_t* v = json_object_get(u, k);
        if (!json_is_integer(v) && alt) v = json_object_get(u, alt);
        if (json_is_integer(v)) *dst = json_integer_value(v);
    };
    take("inputTokens", nullptr, &r.input_tokens);
    take("outputTokens", nullptr, &r.output_tokens);
    take("cacheReadInputTokens", "cacheReadInputTokenCount", &r.cache_read_tokens);
    take("cacheWriteInputTokens", "cacheWriteInputTokenCount", &r.cache_write_tokens);
    return r;
}

class BedrockDecoder final : public ResponseDecoder {
public:
    explicit BedrockDecoder(bool stream) : stream_(stream), frames_(kMaxStreamMessage) {}

    bool feed(std::string_view bytes, canonical::EventSink& sink) override;
    void finish(canonical::EventSink& sink) override;

private:
    struct Block {
        size_t ordinal = 0;  // tool-call index
        bool args_sent = false;
    };

    void on_message(const EsMessage& m, canonical::EventSink& sink);
    void handle(std::string_view type, const json_t* d, canonical::EventSink& sink);
    void fail(canonical::EventSink& sink, const canonical::ErrorReport& report);
    void decode_json(canonical::EventSink& sink);

    bool stream_;
    EventStreamDecoder frames_;
    std::string json_;  // non-streaming body
    bool stop_seen_ = false, meta_seen_ = false;
    bool broken_ = false, done_ = false;
    std::string stop_reason_;
    std::unordered_map<int64_t, Block> tool_blocks_;  // tool-call content blocks by index
    size_t tool_calls_ = 0;
};

void BedrockDecoder::fail(canonical::EventSink& sink, const canonical::ErrorReport& report) {
    sink.error(report);
    broken_ = true;
}

void BedrockDecoder::handle(std::string_view type, const json_t* d, canonical::EventSink& sink) {
    if (type == "messageStart") {
        sink.message_start({});
    } else if (type == "contentBlockStart") {
        const json_t* idx = json_object_get(d, "contentBlockIndex");
        const json_t* tu = json_object_get(json_object_get(d, "start"), "toolUse");
        if (!json_is_object(tu)) return;  // text / other blocks need no announcement
        if (!json_is_integer(idx)) return fail(sink, stream_error_report("malformed contentBlockStart", "upstream_protocol_error"));
        auto [it, inserted] = tool_blocks_.try_emplace(json_integer_value(idx));
        if (!inserted) return;  // duplicate start: keep the first
        it->second.ordinal = tool_calls_++;
        sink.tool_call_start(it->second.ordinal, json_string_view(tu, "toolUseId"), json_string_view(tu, "name"), {});
    } else if (type == "contentBlockDelta") {
        const json_t* delta = json_object_get(d, "delta");
        const json_t* idx = json_object_get(d, "contentBlockIndex");
        if (const json_t* text = json_object_get(delta, "text"); json_is_string(text)) {
            if (json_string_length(text) > 0) sink.text_delta(json_string_view(text));
        } else if (const json_t* tu = json_object_get(delta, "toolUse"); json_is_object(tu)) {
            auto it = json_is_integer(idx) ? tool_blocks_.find(json_integer_value(idx)) : tool_blocks_.end();
            if (it == tool_blocks_.end())
                return fail(sink, stream_error_report("upstream sent tool input for a block that is not a tool call",
                                               "upstream_protocol_error"));
            std::string_view in = json_string_view(tu, "input");
            if (in.empty()) return;
            it->second.args_sent = true;
            sink.tool_call_arguments_delta(it->second.ordinal, in);
        } else if (const json_t* rc = json_object_get(delta, "reasoningContent"); json_is_object(rc)) {
            // text -> reasoning; signature / redactedContent are opaque and dropped
            std::string_view t = json_string_view(rc, "text");
            if (!t.empty()) sink.reasoning_delta(t);
        }
        // citation, image, toolResult deltas: no canonical event
    } else if (type == "contentBlockStop") {
        const json_t* idx = json_object_get(d, "contentBlockIndex");
        auto it = json_is_integer(idx) ? tool_blocks_.find(json_integer_value(idx)) : tool_blocks_.end();
        if (it != tool_blocks_.end() && !it->second.args_sent) {  // a call without arguments still gets valid JSON
            it->second.args_sent = true;
            sink.tool_call_arguments_delta(it->second.ordinal, "{}");
        }
    } else if (type == "messageStop") {
        stop_reason_ = json_string_view(d, "stopReason");
        stop_seen_ = true;
    } else if (type == "metadata") {
        sink.usage(usage_report(json_object_get(d, "usage")));
        meta_seen_ = true;
    }
    // unknown event types are ignored (forward compatibility)
    if ((type == "messageStop" || type == "metadata") && stop_seen_ && meta_seen_) {
        done_ = true;  // the answer is complete once both the stop reason and the usage arrived
        sink.finish(map_stop_reason(stop_reason_));
    }
}

void BedrockDecoder::on_message(const EsMessage& m, canonical::EventSink& sink) {
    if (broken_ || done_) return;
    std::string_view mtype = m.string_header(":message-type");
    if (mtype == "exception") {
        std::string_view etype = m.string_header(":exception-type");
        JsonPtr p = json_parse(m.payload, nullptr);
        std::string_view msg = json_string_view(p.get(), "message");
        if (msg.empty()) msg = json_string_view(p.get(), "Message");
        ErrorVerdict v = classify(normalize_error_type(etype), 0, msg);
        return fail(sink, error_report_for(v.error));
    }
    if (mtype == "error") {
        std::string code = normalize_error_type(m.string_header(":error-code"));
        ErrorVerdict v = classify(code, 0, m.string_header(":error-message"));
        return fail(sink, error_report_for(v.error));
    }
    if (mtype != "event") return;  // unknown message types are ignored
    std::string_view etype = m.string_header(":event-type");
    JsonPtr d = json_parse(m.payload, nullptr);
    if (!json_is_object(d.get()))
        return fail(sink, stream_error_report("upstream sent an event whose payload is not a JSON object", "upstream_protocol_error"));
    handle(etype, d.get(), sink);
}

bool BedrockDecoder::feed(std::string_view bytes, canonical::EventSink& sink) {
    if (broken_) return false;
    if (!stream_) {
        if (json_.size() + bytes.size() > kMaxJsonAnswer) {
            json_.clear();
            fail(sink, stream_error_report("upstream answer too large", "upstream_response_too_large"));
            return false;
        }
        json_.append(bytes);
        return true;
    }
    if (done_) return true;  // trailing bytes after a complete answer are ignored
    if (!frames_.feed(bytes, [this, &sink](const EsMessage& m) { on_message(m, sink); })) {
        const bool too_large = frames_.error().find("exceeds the limit") != std::string::npos;
        std::string message = too_large ? "upstream sent an event larger than the gateway accepts"
                                        : "upstream sent a corrupt event stream: " + frames_.error();
        fail(sink, stream_error_report(message, too_large ? "stream_event_too_large" : "upstream_protocol_error"));
        return false;
    }
    return !broken_;
}

void BedrockDecoder::decode_json(canonical::EventSink& sink) {
    JsonPtr root = json_parse(json_, nullptr);
    std::string().swap(json_);
    const json_t* msg = json_object_get(json_object_get(root.get(), "output"), "message");
    if (!json_is_object(msg)) {
        canonical::ErrorReport report;
        report.code = "upstream_protocol_error";
        report.message = root ? "upstream answer has no output.message" : "upstream answer is not valid JSON";
        return fail(sink, report);
    }
    sink.message_start({});
    std::string text, reasoning;
    const json_t* content = json_object_get(msg, "content");
    size_t i;
    const json_t* b;
    json_array_foreach(content, i, b) {
        if (const json_t* t = json_object_get(b, "text"); json_is_string(t)) text += json_string_view(t);
        else if (const json_t* rc = json_object_get(b, "reasoningContent"); json_is_object(rc))
            reasoning += json_string_view(json_object_get(rc, "reasoningText"), "text");
    }
    if (!reasoning.empty()) sink.reasoning_delta(reasoning);
    if (!text.empty()) sink.text_delta(text);
    size_t ordinal = 0;
    json_array_foreach(content, i, b) {
        const json_t* tu = json_object_get(b, "toolUse");
        if (json_is_string(json_object_get(b, "text")) || !json_is_object(tu)) continue;
        std::string arguments;
        const json_t* input = json_object_get(tu, "input");
        if (json_present(input)) json_dump_append(arguments, input);
        else arguments = "{}";
        sink.tool_call_start(ordinal++, json_string_view(tu, "toolUseId"), json_string_view(tu, "name"), arguments);
    }
    sink.usage(usage_report(json_object_get(root.get(), "usage")));
    done_ = true;
    sink.finish(map_stop_reason(json_string_view(root.get(), "stopReason")));
}

void BedrockDecoder::finish(canonical::EventSink& sink) {
    if (broken_ || done_) return;
    if (!stream_) return decode_json(sink);
    if (frames_.pending() > 0)
        return fail(sink, stream_error_report("upstream stream ended in the middle of an event", "stream_truncated"));
    fail(sink, stream_error_report(stop_seen_ ? "upstream stream ended before its metadata event"
                                       : "upstream stream ended before messageStop",
                            "stream_truncated"));
}

}  // namespace

std::unique_ptr<ResponseDecoder> bedrock_response_decoder(bool stream) {
    return std::make_unique<BedrockDecoder>(stream);
}

std::unique_ptr<ResponseTranslator> bedrock_translator(const TranslatorOptions& opt) {
    return std::make_unique<DecodedResponseTranslator>(bedrock_response_decoder(opt.stream), writer_options(opt, "chatcmpl-bedrock"));
}

}  // namespace routeshift
