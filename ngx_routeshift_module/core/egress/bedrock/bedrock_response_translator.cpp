// Bedrock Converse response translator: Converse JSON -> chat.completion; ConverseStream binary
// event-stream frames (aws_eventstream.*) -> chat.completion.chunk SSE, one frame at a time.
#include "egress/bedrock/bedrock_internal.hpp"

#include "egress/bedrock/aws_eventstream.hpp"

#include <ctime>
#include <vector>

namespace routeshift {

using namespace bedrock_internal;

namespace {

struct UsageAcc {
    int64_t input = -1, output = -1, cache_read = -1, cache_write = -1, total = -1;

    void read(const json_t* u) {
        if (!json_is_object(u)) return;
        auto take = [&](const char* k, const char* alt, int64_t* dst) {
            const json_t* v = json_object_get(u, k);
            if (!json_is_integer(v) && alt) v = json_object_get(u, alt);
            if (json_is_integer(v)) *dst = json_integer_value(v);
        };
        take("inputTokens", nullptr, &input);
        take("outputTokens", nullptr, &output);
        take("totalTokens", nullptr, &total);
        take("cacheReadInputTokens", "cacheReadInputTokenCount", &cache_read);
        take("cacheWriteInputTokens", "cacheWriteInputTokenCount", &cache_write);
    }
    bool known() const { return input >= 0 || output >= 0; }
    // OpenAI usage: prompt = input + cacheRead + cacheWrite (inputTokens excludes both), completion = output.
    Usage usage() const {
        Usage u;
        if (!known()) return u;
        u.prompt_tokens = std::max<int64_t>(input, 0) + std::max<int64_t>(cache_read, 0) + std::max<int64_t>(cache_write, 0);
        u.completion_tokens = std::max<int64_t>(output, 0);
        u.total_tokens = u.prompt_tokens + u.completion_tokens;
        u.cached_tokens = std::max<int64_t>(cache_read, 0);
        return u;
    }
    void append_json(std::string& out) const {
        Usage u = usage();
        auto n = [](int64_t v) { return std::to_string(v < 0 ? 0 : v); };
        out += "{\"prompt_tokens\":" + n(u.prompt_tokens) + ",\"completion_tokens\":" + n(u.completion_tokens) +
               ",\"total_tokens\":" + n(u.total_tokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":" +
               n(u.cached_tokens);
        if (cache_write >= 0) out += ",\"cache_write_tokens\":" + n(cache_write);
        out += "}}";
    }
};

std::string_view map_stop_reason(std::string_view r) {
    if (r == "tool_use") return "tool_calls";
    if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
    if (r == "guardrail_intervened" || r == "content_filtered") return "content_filter";
    return "stop";  // end_turn, stop_sequence, malformed_model_output, malformed_tool_use, unknown
}

// A message with tool calls finishes with tool_calls -- unless it was cut short (length:
// the last call's arguments are truncated JSON) or filtered (content_filter).
std::string_view finish_reason(std::string_view stop_reason, size_t tool_calls) {
    std::string_view f = map_stop_reason(stop_reason);
    if (tool_calls > 0 && f == "stop") return "tool_calls";
    return f;
}

class BedrockTranslator final : public ResponseTranslator {
public:
    explicit BedrockTranslator(const TranslatorOptions& opt) : opt_(opt), dec_(kMaxStreamMessage) {
        if (opt_.created == 0) opt_.created = static_cast<int64_t>(std::time(nullptr));
        if (opt_.id.empty()) opt_.id = "chatcmpl-bedrock";
        prefix_ = "{\"id\":";
        append_quoted(prefix_, opt_.id);
        prefix_ += ",\"object\":\"";
        prefix_ += opt_.stream ? "chat.completion.chunk" : "chat.completion";
        prefix_ += "\",\"created\":" + std::to_string(opt_.created) + ",\"model\":";
        append_quoted(prefix_, opt_.model);
        prefix_ += ',';
    }

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }

private:
    struct Block {
        int64_t index;
        bool tool;
        size_t ordinal;      // tool-call index (tools only)
        bool args_sent;
    };

    void on_message(const EsMessage& m, std::string* out);
    void handle(std::string_view type, const json_t* d, std::string* out);
    void chunk(std::string* out, std::string_view delta, std::string_view finish = {});
    void ensure_started(std::string* out);
    void end_stream(std::string* out);
    void fail(std::string* out, const std::string& event);
    Block* block(int64_t index);
    bool finish_json(std::string* out);

    TranslatorOptions opt_;
    std::string prefix_;
    EventStreamDecoder dec_;
    std::string json_;  // non-streaming body
    bool started_ = false, stop_seen_ = false, meta_seen_ = false;
    bool complete_ = false, error_ = false, broken_ = false, done_ = false;
    std::string stop_reason_;
    std::vector<Block> blocks_;
    size_t tool_calls_ = 0;
    UsageAcc acc_;
    Usage usage_;
    std::string tmp_;
};

void BedrockTranslator::chunk(std::string* out, std::string_view delta, std::string_view finish) {
    out->append("data: ");
    out->append(prefix_);
    out->append("\"choices\":[{\"index\":0,\"delta\":");
    out->append(delta);
    out->append(",\"logprobs\":null,\"finish_reason\":");
    if (finish.empty()) {
        out->append("null");
    } else {
        out->push_back('"');
        out->append(finish);
        out->push_back('"');
    }
    out->append("}]");
    if (opt_.include_usage) out->append(",\"usage\":null");
    out->append("}\n\n");
}

void BedrockTranslator::ensure_started(std::string* out) {
    if (started_) return;
    started_ = true;
    chunk(out, "{\"role\":\"assistant\",\"content\":\"\"}");
}

void BedrockTranslator::fail(std::string* out, const std::string& event) {
    if (!error_ && !done_) out->append(event);
    error_ = true;
    broken_ = true;
}

void BedrockTranslator::end_stream(std::string* out) {
    ensure_started(out);
    chunk(out, "{}", finish_reason(stop_reason_, tool_calls_));
    usage_ = acc_.usage();
    if (opt_.include_usage) {
        out->append("data: ");
        out->append(prefix_);
        out->append("\"choices\":[],\"usage\":");
        acc_.append_json(*out);
        out->append("}\n\n");
    }
    out->append("data: [DONE]\n\n");
    done_ = complete_ = true;
}

BedrockTranslator::Block* BedrockTranslator::block(int64_t index) {
    for (auto& b : blocks_)
        if (b.index == index) return &b;
    return nullptr;
}

void BedrockTranslator::handle(std::string_view type, const json_t* d, std::string* out) {
    if (type == "messageStart") {
        ensure_started(out);
    } else if (type == "contentBlockStart") {
        const json_t* idx = jget(d, "contentBlockIndex");
        const json_t* tu = jget(jget(d, "start"), "toolUse");
        if (!json_is_object(tu)) return;  // text / other blocks need no announcement
        if (!json_is_integer(idx)) return fail(out, stream_error_event("malformed contentBlockStart", "upstream_protocol_error"));
        if (block(json_integer_value(idx))) return;  // duplicate start: keep the first
        ensure_started(out);
        Block b{json_integer_value(idx), true, tool_calls_++, false};
        blocks_.push_back(b);
        tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b.ordinal) + ",\"id\":";
        append_quoted(tmp_, sv(jget(tu, "toolUseId")));
        tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
        append_quoted(tmp_, sv(jget(tu, "name")));
        tmp_ += ",\"arguments\":\"\"}}]}";
        chunk(out, tmp_);
    } else if (type == "contentBlockDelta") {
        const json_t* delta = jget(d, "delta");
        const json_t* idx = jget(d, "contentBlockIndex");
        if (const json_t* text = jget(delta, "text"); json_is_string(text)) {
            if (json_string_length(text) == 0) return;
            ensure_started(out);
            tmp_ = "{\"content\":";
            append_quoted(tmp_, sv(text));
            tmp_ += '}';
            chunk(out, tmp_);
        } else if (const json_t* tu = jget(delta, "toolUse"); json_is_object(tu)) {
            Block* b = json_is_integer(idx) ? block(json_integer_value(idx)) : nullptr;
            if (!b || !b->tool)
                return fail(out, stream_error_event("upstream sent tool input for a block that is not a tool call",
                                                    "upstream_protocol_error"));
            std::string_view in = sv(jget(tu, "input"));
            if (in.empty()) return;
            b->args_sent = true;
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, in);
            tmp_ += "}}]}";
            chunk(out, tmp_);
        } else if (const json_t* rc = jget(delta, "reasoningContent"); json_is_object(rc)) {
            // text -> reasoning_content; signature / redactedContent are opaque and dropped
            std::string_view t = sv(jget(rc, "text"));
            if (t.empty()) return;
            ensure_started(out);
            tmp_ = "{\"reasoning_content\":";
            append_quoted(tmp_, t);
            tmp_ += '}';
            chunk(out, tmp_);
        }
        // citation, image, toolResult deltas: nothing in the OpenAI chunk shape
    } else if (type == "contentBlockStop") {
        const json_t* idx = jget(d, "contentBlockIndex");
        Block* b = json_is_integer(idx) ? block(json_integer_value(idx)) : nullptr;
        if (b && b->tool && !b->args_sent) {  // a call without arguments still gets valid JSON
            b->args_sent = true;
            chunk(out, "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":\"{}\"}}]}");
        }
    } else if (type == "messageStop") {
        stop_reason_ = sv(jget(d, "stopReason"));
        stop_seen_ = true;
        if (meta_seen_) end_stream(out);
    } else if (type == "metadata") {
        acc_.read(jget(d, "usage"));
        usage_ = acc_.usage();
        meta_seen_ = true;
        if (stop_seen_) end_stream(out);
    }
    // unknown event types are ignored (forward compatibility)
}

void BedrockTranslator::on_message(const EsMessage& m, std::string* out) {
    if (broken_ || done_) return;
    std::string_view mtype = m.string_header(":message-type");
    if (mtype == "exception") {
        std::string_view etype = m.string_header(":exception-type");
        JsonPtr p = json_parse(m.payload, nullptr);
        std::string_view msg = sv(jget(p.get(), "message"));
        if (msg.empty()) msg = sv(jget(p.get(), "Message"));
        ErrorVerdict v = classify(normalize_error_type(etype), 0, msg);
        return fail(out, error_event(v.error));
    }
    if (mtype == "error") {
        std::string code = normalize_error_type(m.string_header(":error-code"));
        ErrorVerdict v = classify(code, 0, m.string_header(":error-message"));
        return fail(out, error_event(v.error));
    }
    if (mtype != "event") return;  // unknown message types are ignored
    std::string_view etype = m.string_header(":event-type");
    std::string perr;
    JsonPtr d = json_parse(m.payload, &perr);
    if (!json_is_object(d.get()))
        return fail(out, stream_error_event("upstream sent an event whose payload is not a JSON object",
                                            "upstream_protocol_error"));
    handle(etype, d.get(), out);
}

bool BedrockTranslator::feed(std::string_view bytes, std::string* out) {
    if (broken_) return false;
    try {
        if (!opt_.stream) {
            if (json_.size() + bytes.size() > kMaxJsonAnswer) {
                broken_ = error_ = true;
                ApiError a;
                a.status = 502;
                a.type = "server_error";
                a.code = "upstream_response_too_large";
                a.message = "upstream answer too large";
                out->append(openai_error_body(a));
                json_.clear();
                return false;
            }
            json_.append(bytes);
            return true;
        }
        if (done_) return true;  // trailing bytes after a complete answer are ignored
        bool ok = dec_.feed(bytes, [this, out](const EsMessage& m) { on_message(m, out); });
        if (!ok) {
            const bool too_large = dec_.error().find("exceeds the limit") != std::string::npos;
            fail(out, stream_error_event(too_large ? "upstream sent an event larger than the gateway accepts"
                                                   : "upstream sent a corrupt event stream: " + dec_.error(),
                                         too_large ? "stream_event_too_large" : "upstream_protocol_error"));
            return false;
        }
        return !broken_;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

bool BedrockTranslator::finish_json(std::string* out) {
    JsonPtr root = json_parse(json_, nullptr);
    json_.clear();
    json_.shrink_to_fit();
    const json_t* msg = jget(jget(root.get(), "output"), "message");
    if (!json_is_object(msg)) {
        ApiError a;
        a.status = 502;
        a.type = "server_error";
        a.code = "upstream_protocol_error";
        a.message = root ? "upstream answer has no output.message" : "upstream answer is not valid JSON";
        out->append(openai_error_body(a));
        error_ = true;
        return false;
    }
    std::string text, reasoning, calls;
    size_t ncalls = 0;
    const json_t* content = jget(msg, "content");
    size_t i;
    const json_t* b;
    json_array_foreach(content, i, b) {
        if (const json_t* t = jget(b, "text"); json_is_string(t)) {
            text += sv(t);
        } else if (const json_t* tu = jget(b, "toolUse"); json_is_object(tu)) {
            calls += ncalls ? "," : "";
            calls += "{\"id\":";
            append_quoted(calls, sv(jget(tu, "toolUseId")));
            calls += ",\"type\":\"function\",\"function\":{\"name\":";
            append_quoted(calls, sv(jget(tu, "name")));
            calls += ",\"arguments\":";
            std::string args;
            const json_t* input = jget(tu, "input");
            if (present(input)) json_dump_append(args, input);
            else args = "{}";
            append_quoted(calls, args);
            calls += "}}";
            ++ncalls;
        } else if (const json_t* rc = jget(b, "reasoningContent"); json_is_object(rc)) {
            reasoning += sv(jget(jget(rc, "reasoningText"), "text"));
        }
    }
    acc_.read(jget(root.get(), "usage"));
    usage_ = acc_.usage();
    std::string& o = *out;
    o += prefix_;
    o += "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
    if (text.empty() && ncalls) o += "null";
    else append_quoted(o, text);
    if (!reasoning.empty()) {
        o += ",\"reasoning_content\":";
        append_quoted(o, reasoning);
    }
    if (ncalls) o += ",\"tool_calls\":[" + calls + "]";
    o += ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"";
    o += finish_reason(sv(jget(root.get(), "stopReason")), ncalls);
    o += "\"}]";
    if (acc_.known()) {
        o += ",\"usage\":";
        acc_.append_json(o);
    }
    o += '}';
    complete_ = true;
    return true;
}

bool BedrockTranslator::finish(std::string* out) {
    if (broken_) return false;
    try {
        if (!opt_.stream) return finish_json(out);
        if (done_) return true;
        if (dec_.pending() > 0)
            fail(out, stream_error_event("upstream stream ended in the middle of an event", "stream_truncated"));
        else
            fail(out, stream_error_event(stop_seen_ ? "upstream stream ended before its metadata event"
                                                    : "upstream stream ended before messageStop",
                                         "stream_truncated"));
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

}  // namespace

std::unique_ptr<ResponseTranslator> bedrock_translator(const TranslatorOptions& opt) {
    return std::make_unique<BedrockTranslator>(opt);
}

}  // namespace routeshift
