// Anthropic Messages response decoder: Messages JSON or SSE -> canonical events, one upstream event
// at a time. Stop reasons are mapped here; the OpenAI chat writer does usage and chunk writing.
// Both the JSON answer and every stream event are read from the strict scanner's output (json_scan:
// validated once, values read as spans, strings decoded only when they hold escapes), not a DOM; of
// duplicate keys the last counts, as in jansson. Only error payloads and a tool call's non-empty
// input object (re-written compact) still go through jansson.
#include "egress/anthropic/anthropic_internal.hpp"

#include "egress/response_decoder.hpp"
#include "util/json_scan.hpp"
#include "util/sse_parser.hpp"

#include <unordered_map>
#include <utility>

namespace routeshift {

using namespace anthropic_internal;

namespace {

// Whitespace kept before the first byte decides between JSON and SSE: only the current line's
// (earlier blank lines mean nothing in either format), and at most this much of it.
constexpr size_t kMaxLeadingWhitespace = 1024;

canonical::FinishReason map_stop_reason(std::string_view r) {
    if (r == "tool_use") return canonical::FinishReason::tool_calls;
    if (r == "max_tokens" || r == "model_context_window_exceeded") return canonical::FinishReason::length;
    if (r == "refusal") return canonical::FinishReason::content_filter;
    return canonical::FinishReason::stop;  // end_turn, stop_sequence, pause_turn, null, unknown
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

canonical::UsageReport usage_report(JsonValue u) {
    canonical::UsageReport r;
    if (!u.is(JsonType::object)) return r;
    // One pass over the members (a lookup per field walked the object five times); a later
    // duplicate overwrites an earlier one, so the last counts, as in jansson.
    JsonValue input, cache_read, cache_creation, output, details;
    JsonMember m;
    for (JsonObjectReader members(u); members.next(&m);) {
        if (json_key_equals(m, "input_tokens")) input = m.value;
        else if (json_key_equals(m, "cache_read_input_tokens")) cache_read = m.value;
        else if (json_key_equals(m, "cache_creation_input_tokens")) cache_creation = m.value;
        else if (json_key_equals(m, "output_tokens")) output = m.value;
        else if (json_key_equals(m, "output_tokens_details")) details = m.value;
    }
    json_read_int(input, &r.input_tokens);
    json_read_int(cache_read, &r.cache_read_tokens);
    json_read_int(cache_creation, &r.cache_write_tokens);
    json_read_int(output, &r.output_tokens);
    json_read_int(json_object_find(details, "thinking_tokens"), &r.reasoning_tokens);
    return r;
}

// MiniMax's base_resp with a non-zero status_code (a non-integer reads as 0, as jansson's
// json_integer_value does).
bool base_resp_failed(JsonValue base_resp) {
    if (!base_resp.is(JsonType::object)) return false;
    int64_t code = 0;
    json_read_int(json_object_find(base_resp, "status_code"), &code);
    return code != 0;
}

// The top-level members of a Messages object the answer path reads, found in one pass over the
// scanned members (a json_find per member walked them nine times); of duplicate keys the last
// counts, as in jansson.
struct MessageMembers {
    JsonValue type, error, base_resp, id, model, content, stop_reason, stop_details, usage;
};

MessageMembers message_members(const JsonMembers& members) {
    static constexpr std::pair<std::string_view, JsonValue MessageMembers::*> kFields[] = {
        {"id", &MessageMembers::id},           {"type", &MessageMembers::type},
        {"model", &MessageMembers::model},     {"content", &MessageMembers::content},
        {"stop_reason", &MessageMembers::stop_reason}, {"usage", &MessageMembers::usage},
        {"error", &MessageMembers::error},     {"base_resp", &MessageMembers::base_resp},
        {"stop_details", &MessageMembers::stop_details},
    };
    MessageMembers m;
    for (size_t i = 0; i < members.size(); ++i) {
        for (auto [name, field] : kFields) {
            if (json_key_equals(members[i], name)) {
                m.*field = members[i].value;
                break;
            }
        }
    }
    return m;
}

// The members of a content block the answer path reads, in one pass over the block.
struct BlockMembers {
    JsonValue type, text, thinking, signature, data, id, name, input;
};

BlockMembers block_members(JsonValue block) {
    BlockMembers b;
    JsonMember m;
    for (JsonObjectReader members(block); members.next(&m);) {
        if (json_key_equals(m, "type")) b.type = m.value;
        else if (json_key_equals(m, "text")) b.text = m.value;
        else if (json_key_equals(m, "id")) b.id = m.value;
        else if (json_key_equals(m, "name")) b.name = m.value;
        else if (json_key_equals(m, "input")) b.input = m.value;
        else if (json_key_equals(m, "thinking")) b.thinking = m.value;
        else if (json_key_equals(m, "signature")) b.signature = m.value;
        else if (json_key_equals(m, "data")) b.data = m.value;
    }
    return b;
}

class AnthropicDecoder final : public ResponseDecoder {
public:
    explicit AnthropicDecoder(bool stream) : stream_(stream) {}

    bool feed(std::string_view bytes, canonical::EventSink& sink) override;
    void finish(canonical::EventSink& sink) override;

private:
    enum class Mode { undecided, sse, json };

    struct Block {
        std::string type;    // tool_use, text, thinking, ...
        size_t ordinal = 0;  // tool-call ordinal
        bool args_sent = false;
        std::string start_input;  // compact JSON of content_block_start.input
    };

    void on_event(const SseEvent& ev, canonical::EventSink& sink);
    void handle(std::string_view type, std::string_view data, const JsonMembers& event, canonical::EventSink& sink);
    void fail(canonical::EventSink& sink, const canonical::ErrorReport& report);
    void ensure_started(canonical::EventSink& sink);
    bool feed_sse(std::string_view bytes, canonical::EventSink& sink);
    void decode_json(canonical::EventSink& sink);
    void decode_message(const MessageMembers& msg, canonical::EventSink& sink);

    bool stream_;
    Mode mode_ = Mode::undecided;
    SseParser parser_;
    std::string buf_;     // JSON answers; before the mode is known, the current line's whitespace
    bool started_ = false; // message_start was sent to the sink
    bool done_ = false;   // message_stop seen
    bool broken_ = false; // terminal: ignore further input
    size_t tool_calls_ = 0;
    std::unordered_map<int64_t, Block> blocks_;  // open content blocks by index
    std::string stop_reason_;
    std::string scratch_;
    JsonMembers event_;  // the current stream event's members (reused: no allocation per event)
};

// The compact form of a value, as jansson's DOM writes it (of duplicate keys, the last).
std::string compact_json(JsonValue object) {
    JsonPtr dom = json_parse(object.text, nullptr);
    if (!dom) throw std::bad_alloc();  // scanned already: only memory can fail here
    std::string out;
    json_dump_append(out, dom.get());
    return out;
}

// The index member of a content-block event; -1 when absent or not an integer.
int64_t block_index(const JsonMembers& event) {
    int64_t index = -1;
    if (!json_read_int(json_find(event, "index"), &index)) index = -1;
    return index;
}

void AnthropicDecoder::fail(canonical::EventSink& sink, const canonical::ErrorReport& report) {
    sink.error(report);
    broken_ = true;
}

// Content without a message_start before it still starts the answer (with no provider id/model).
void AnthropicDecoder::ensure_started(canonical::EventSink& sink) {
    if (started_) return;
    started_ = true;
    sink.message_start({});
}

void AnthropicDecoder::handle(std::string_view type, std::string_view data, const JsonMembers& d, canonical::EventSink& sink) {
    std::string storage, storage2;
    if (type == "ping") {
        sink.keep_alive();
        return;
    }
    if (type == "error") {
        JsonPtr dom = json_parse(data, nullptr);  // rare: the error readers take the DOM
        if (!dom) throw std::bad_alloc();         // scanned already: only memory can fail here
        ErrorInfo e = error_info(dom.get());
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        fail(sink, error_report_for(a));
        return;
    }
    if (type == "message_start") {
        JsonValue msg = json_find(d, "message");
        started_ = true;
        sink.message_start({json_string_text(json_object_find(msg, "id"), &storage),
                            json_string_text(json_object_find(msg, "model"), &storage2)});
        sink.usage(usage_report(json_object_find(msg, "usage")));
        return;
    }
    if (type == "content_block_start") {
        ensure_started(sink);
        JsonValue cb = json_find(d, "content_block");
        int64_t index = block_index(d);
        Block b;
        b.type = json_string_text(json_object_find(cb, "type"), &storage);
        if (b.type == "tool_use") {
            b.ordinal = tool_calls_++;
            JsonValue in = json_object_find(cb, "input");
            JsonMember first;
            if (JsonObjectReader(in).next(&first)) b.start_input = compact_json(in);  // not empty
            sink.tool_call_start(b.ordinal, json_string_text(json_object_find(cb, "id"), &storage),
                                 json_string_text(json_object_find(cb, "name"), &storage2), {});
        } else if (b.type == "text") {
            std::string_view text = json_string_text(json_object_find(cb, "text"), &storage);
            if (!text.empty()) sink.text_delta(text);
        } else if (b.type == "thinking") {
            std::string_view text = json_string_text(json_object_find(cb, "thinking"), &storage);
            if (!text.empty()) sink.reasoning_delta(text);
        } else if (b.type == "redacted_thinking") {
            scratch_ = "[{\"type\":\"redacted_thinking\",\"data\":";
            json_quoted_append(scratch_, json_string_text(json_object_find(cb, "data"), &storage));
            scratch_ += "}]";
            sink.reasoning_state(scratch_);
        }
        blocks_[index] = std::move(b);
        return;
    }
    if (type == "content_block_delta") {
        ensure_started(sink);
        JsonValue delta = json_find(d, "delta");
        JsonValue delta_type = json_object_find(delta, "type");
        auto it = blocks_.find(block_index(d));
        Block* b = it == blocks_.end() ? nullptr : &it->second;
        if (json_string_equals(delta_type, "text_delta")) {
            std::string_view text = json_string_text(json_object_find(delta, "text"), &storage);
            if (!text.empty()) sink.text_delta(text);
        } else if (json_string_equals(delta_type, "input_json_delta")) {
            std::string_view part = json_string_text(json_object_find(delta, "partial_json"), &storage);
            if (part.empty() || !b || b->type != "tool_use") return;
            b->args_sent = true;
            sink.tool_call_arguments_delta(b->ordinal, part);
        } else if (json_string_equals(delta_type, "thinking_delta")) {
            std::string_view text = json_string_text(json_object_find(delta, "thinking"), &storage);
            if (!text.empty()) sink.reasoning_delta(text);
        } else if (json_string_equals(delta_type, "signature_delta")) {
            std::string_view sig = json_string_text(json_object_find(delta, "signature"), &storage);
            if (sig.empty()) return;
            scratch_ = "[{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":";
            json_quoted_append(scratch_, sig);
            scratch_ += "}]";
            sink.reasoning_state(scratch_);
        }
        // citations_delta and future delta types: ignored
        return;
    }
    if (type == "content_block_stop") {
        auto it = blocks_.find(block_index(d));
        if (it == blocks_.end()) return;
        const Block& b = it->second;
        if (b.type == "tool_use" && !b.args_sent) {
            // No input_json_delta carried anything: the arguments are the start input ("{}").
            sink.tool_call_arguments_delta(b.ordinal, b.start_input.empty() ? std::string_view("{}")
                                                                            : std::string_view(b.start_input));
        }
        blocks_.erase(it);
        return;
    }
    if (type == "message_delta") {
        ensure_started(sink);
        JsonValue delta = json_find(d, "delta");
        JsonValue stop_reason = json_object_find(delta, "stop_reason");
        if (stop_reason.is(JsonType::string)) stop_reason_ = json_string_text(stop_reason, &storage);
        sink.usage(usage_report(json_find(d, "usage")));
        if (stop_reason_ == "refusal") {
            std::string_view explanation =
                json_string_text(json_object_find(json_object_find(delta, "stop_details"), "explanation"), &storage);
            if (!explanation.empty()) sink.refusal_delta(explanation);
        }
        return;
    }
    if (type == "message_stop") {
        done_ = true;
        sink.finish(map_stop_reason(stop_reason_));
        return;
    }
    // unknown event types: ignored (forward compatibility)
}

void AnthropicDecoder::on_event(const SseEvent& ev, canonical::EventSink& sink) {
    if (broken_ || done_) return;
    std::string_view data = ev.data;
    while (!data.empty() && is_space(data.front())) data.remove_prefix(1);
    if (data.empty()) {
        if (ev.event == "ping") handle("ping", {}, event_, sink);
        return;  // comments, keep-alives
    }
    JsonValue root;
    event_.clear();
    if (!json_scan(data, &root, &event_, nullptr) || !root.is(JsonType::object)) {
        fail(sink, stream_error_report("upstream sent an invalid stream event", "upstream_protocol_error"));
        return;
    }
    std::string storage;
    std::string_view type = json_string_text(json_find(event_, "type"), &storage);
    if (type.empty()) type = ev.event;
    if (ev.event == "error") type = "error";
    handle(type, data, event_, sink);
}

bool AnthropicDecoder::feed_sse(std::string_view bytes, canonical::EventSink& sink) {
    if (!parser_.feed(bytes, [this, &sink](const SseEvent& ev) { on_event(ev, sink); })) {
        fail(sink, stream_error_report("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
        return false;
    }
    return !broken_;
}

bool AnthropicDecoder::feed(std::string_view bytes, canonical::EventSink& sink) {
    if (broken_) return false;
    if (done_) return true;  // trailing bytes after message_stop
    if (mode_ == Mode::undecided) {
        size_t i = 0;
        while (i < bytes.size() && is_space(bytes[i])) ++i;
        std::string_view space = bytes.substr(0, i);
        size_t newline = space.rfind('\n');
        if (newline != std::string_view::npos) {
            buf_.clear();
            space.remove_prefix(newline + 1);
        }
        buf_.append(space.substr(0, kMaxLeadingWhitespace - std::min(buf_.size(), kMaxLeadingWhitespace)));
        if (i == bytes.size()) return true;  // whitespace only so far
        bytes.remove_prefix(i);
        mode_ = (!stream_ || bytes[0] == '{' || bytes[0] == '[') ? Mode::json : Mode::sse;
        std::string lead;
        lead.swap(buf_);
        if (mode_ == Mode::sse && !lead.empty() && !feed_sse(lead, sink)) return false;
    }
    if (mode_ == Mode::json) {
        if (buf_.size() + bytes.size() > kMaxJsonAnswer) {
            canonical::ErrorReport r = stream_error_report("upstream answer too large", "upstream_response_too_large");
            fail(sink, r);
            return false;
        }
        buf_.append(bytes);
        return true;
    }
    return feed_sse(bytes, sink);
}

// A whole Messages object (the non-streaming answer, or a JSON answer to a streaming request), in
// the order a stream would have carried it: reasoning, reasoning state, text, tool calls, refusal.
// Read from the scanned text (no DOM: a jansson parse of even a small answer costs more than the
// rest of the answer path); of duplicate keys the last counts, as in jansson.
void AnthropicDecoder::decode_message(const MessageMembers& msg, canonical::EventSink& sink) {
    std::string id_storage, model_storage;
    sink.message_start({json_string_text(msg.id, &id_storage), json_string_text(msg.model, &model_storage)});
    // One text block (the usual answer) goes to the sink as the token's text, uncopied; more are
    // joined.
    JsonValue first_text;
    size_t text_blocks = 0, tool_blocks = 0;
    std::string reasoning, text, blocks, scratch;
    JsonValue block;
    for (JsonArrayReader items(msg.content); items.next(&block);) {
        BlockMembers b = block_members(block);
        if (json_string_equals(b.type, "text")) {
            if (text_blocks++ == 0) {
                first_text = b.text;
                continue;
            }
            if (text_blocks == 2) text = json_string_text(first_text, &scratch);
            text += json_string_text(b.text, &scratch);
        } else if (json_string_equals(b.type, "thinking")) {
            std::string_view thinking = json_string_text(b.thinking, &scratch);
            reasoning += thinking;
            blocks += blocks.empty() ? "[" : ",";
            blocks += "{\"type\":\"thinking\",\"thinking\":";
            json_quoted_append(blocks, thinking);
            blocks += ",\"signature\":";
            json_quoted_append(blocks, json_string_text(b.signature, &scratch));
            blocks += "}";
        } else if (json_string_equals(b.type, "redacted_thinking")) {
            blocks += blocks.empty() ? "[" : ",";
            blocks += "{\"type\":\"redacted_thinking\",\"data\":";
            json_quoted_append(blocks, json_string_text(b.data, &scratch));
            blocks += "}";
        } else if (json_string_equals(b.type, "tool_use")) {
            ++tool_blocks;
        }
    }
    if (!reasoning.empty()) sink.reasoning_delta(reasoning);
    if (!blocks.empty()) {
        blocks += "]";
        sink.reasoning_state(blocks);
    }
    std::string_view all_text = text_blocks == 1 ? json_string_text(first_text, &text) : std::string_view(text);
    if (!all_text.empty()) sink.text_delta(all_text);
    size_t ordinal = 0;
    for (JsonArrayReader items(msg.content); tool_blocks > 0 && items.next(&block);) {
        BlockMembers b = block_members(block);
        if (!json_string_equals(b.type, "tool_use")) continue;
        // server_tool_use, web_search_tool_result, ...: executed by the provider, not client tools
        // compact, as jansson writes it (the arguments string the client always got)
        std::string arguments = b.input.absent_or_null() ? "{}" : compact_json(b.input);
        std::string id_text, name_text;
        sink.tool_call_start(ordinal++, json_string_text(b.id, &id_text), json_string_text(b.name, &name_text), arguments);
    }
    std::string stop_storage;
    std::string_view stop_reason = json_string_text(msg.stop_reason, &stop_storage);
    if (stop_reason == "refusal") {
        std::string_view explanation = json_string_text(json_object_find(msg.stop_details, "explanation"), &scratch);
        if (!explanation.empty()) sink.refusal_delta(explanation);
    }
    sink.usage(usage_report(msg.usage));
    sink.finish(map_stop_reason(stop_reason));
}

void AnthropicDecoder::decode_json(canonical::EventSink& sink) {
    std::string answer;
    answer.swap(buf_);
    JsonValue root;
    JsonMembers members;
    bool valid = json_scan(answer, &root, &members, nullptr);
    bool object = valid && root.is(JsonType::object);
    MessageMembers msg = object ? message_members(members) : MessageMembers{};
    if (object && (json_string_equals(msg.type, "error") || !msg.error.absent_or_null() || base_resp_failed(msg.base_resp))) {
        JsonPtr dom = json_parse(answer, nullptr);  // rare: the error readers take the DOM
        if (!dom) throw std::bad_alloc();           // scanned already: only memory can fail here
        ErrorInfo e = error_info(dom.get());
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        fail(sink, error_report_for(a));
        return;
    }
    if (!object || !msg.content.is(JsonType::array)) {
        canonical::ErrorReport report;
        report.code = "upstream_protocol_error";
        report.message = valid ? "upstream answer is not a Messages API message" : "upstream answer is incomplete or not valid JSON";
        fail(sink, report);
        return;
    }
    done_ = true;
    decode_message(msg, sink);
}

void AnthropicDecoder::finish(canonical::EventSink& sink) {
    if (broken_) return;
    if (mode_ == Mode::undecided) mode_ = stream_ ? Mode::sse : Mode::json;
    if (mode_ == Mode::json) {
        if (!done_) decode_json(sink);
        return;
    }
    parser_.flush([this, &sink](const SseEvent& ev) { on_event(ev, sink); });
    if (done_ || broken_) return;
    fail(sink, stream_error_report("upstream stream ended before message_stop", "stream_truncated"));
}

}  // namespace

std::unique_ptr<ResponseDecoder> anthropic_response_decoder(bool stream) {
    return std::make_unique<AnthropicDecoder>(stream);
}

std::unique_ptr<ResponseTranslator> anthropic_translator(const TranslatorOptions& opt) {
    return std::make_unique<DecodedResponseTranslator>(anthropic_response_decoder(opt.stream), writer_options(opt, "chatcmpl-anthropic"));
}

}  // namespace routeshift
