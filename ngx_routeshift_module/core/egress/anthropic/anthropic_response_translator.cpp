// Anthropic Messages response translator: Messages JSON or SSE -> chat.completion /
// chat.completion.chunk, incrementally, one upstream event at a time.
#include "egress/anthropic/anthropic_internal.hpp"

#include "util/sse_parser.hpp"

#include <ctime>
#include <vector>

namespace routeshift {

using namespace anthropic_internal;

namespace {

struct UsageAcc {
    int64_t input = -1, cache_read = -1, cache_creation = -1, output = -1, thinking = -1;

    // Non-null integer fields override (message_delta.usage is cumulative).
    void merge(const json_t* u) {
        if (!json_is_object(u)) return;
        auto take = [&](const char* k, int64_t* dst) {
            const json_t* v = json_object_get(u, k);
            if (json_is_integer(v)) *dst = json_integer_value(v);
        };
        take("input_tokens", &input);
        take("cache_read_input_tokens", &cache_read);
        take("cache_creation_input_tokens", &cache_creation);
        take("output_tokens", &output);
        const json_t* d = json_object_get(u, "output_tokens_details");
        if (json_is_integer(jget(d, "thinking_tokens"))) thinking = json_integer_value(jget(d, "thinking_tokens"));
    }
    bool known() const { return input >= 0 || output >= 0; }
    Usage usage() const {
        Usage u;
        if (!known()) return u;
        u.prompt_tokens = std::max<int64_t>(input, 0) + std::max<int64_t>(cache_read, 0) + std::max<int64_t>(cache_creation, 0);
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
        if (cache_creation >= 0) out += ",\"cache_write_tokens\":" + n(cache_creation);
        out += "}";
        if (thinking >= 0) out += ",\"completion_tokens_details\":{\"reasoning_tokens\":" + n(thinking) + "}";
        out += "}";
    }
};

std::string_view map_stop_reason(std::string_view r) {
    if (r == "tool_use") return "tool_calls";
    if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
    if (r == "refusal") return "content_filter";
    return "stop";  // end_turn, stop_sequence, pause_turn, null, unknown
}

// A message with tool calls finishes with tool_calls -- unless it was cut short (length: the
// arguments of the last call are truncated JSON) or refused (content_filter).
std::string_view finish_reason(std::string_view stop_reason, size_t tool_calls) {
    std::string_view f = map_stop_reason(stop_reason);
    if (tool_calls > 0 && f == "stop") return "tool_calls";
    return f;
}

// A whole Messages object, as collected for the non-streaming answer (or a JSON answer to a
// streaming request).
struct Collected {
    std::string id, model, text, reasoning, stop_reason, refusal;
    struct Call {
        std::string id, name, args;
    };
    std::vector<Call> calls;
    std::string thinking_blocks;  // JSON array text ("" if none)
    UsageAcc usage;
};

Collected collect(const json_t* msg) {
    Collected c;
    c.id = sv(jget(msg, "id"));
    c.model = sv(jget(msg, "model"));
    c.stop_reason = sv(jget(msg, "stop_reason"));
    c.usage.merge(jget(msg, "usage"));
    if (c.stop_reason == "refusal") c.refusal = sv(jget(jget(msg, "stop_details"), "explanation"));
    const json_t* content = jget(msg, "content");
    std::string tb;
    for (size_t i = 0; json_is_array(content) && i < json_array_size(content); ++i) {
        const json_t* b = json_array_get(content, i);
        std::string_view type = sv(jget(b, "type"));
        if (type == "text") {
            c.text += sv(jget(b, "text"));
        } else if (type == "thinking") {
            c.reasoning += sv(jget(b, "thinking"));
            tb += tb.empty() ? "[" : ",";
            tb += "{\"type\":\"thinking\",\"thinking\":";
            append_quoted(tb, sv(jget(b, "thinking")));
            tb += ",\"signature\":";
            append_quoted(tb, sv(jget(b, "signature")));
            tb += "}";
        } else if (type == "redacted_thinking") {
            tb += tb.empty() ? "[" : ",";
            tb += "{\"type\":\"redacted_thinking\",\"data\":";
            append_quoted(tb, sv(jget(b, "data")));
            tb += "}";
        } else if (type == "tool_use") {
            Collected::Call call;
            call.id = sv(jget(b, "id"));
            call.name = sv(jget(b, "name"));
            const json_t* in = jget(b, "input");
            if (present(in)) json_dump_append(call.args, in);
            else call.args = "{}";
            c.calls.push_back(std::move(call));
        }
        // server_tool_use, web_search_tool_result, ...: executed by the provider, not client tools
    }
    if (!tb.empty()) c.thinking_blocks = tb + "]";
    return c;
}

class AnthropicTranslator final : public ResponseTranslator {
public:
    explicit AnthropicTranslator(const TranslatorOptions& opt) : opt_(opt) {}

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }

private:
    enum class Mode { undecided, sse, json };

    struct Block {
        int64_t index = 0;
        std::string type;   // tool_use, text, thinking, ...
        size_t ordinal = 0; // tool-call ordinal
        bool args_sent = false;
        std::string start_input;  // compact JSON of content_block_start.input
    };

    void on_event(const SseEvent& ev, std::string* out);
    void handle(std::string_view type, const json_t* data, std::string* out);
    void ensure_prefix(std::string_view upstream_id, std::string_view upstream_model);
    void ensure_started(std::string* out);
    void chunk(std::string* out, std::string_view delta, std::string_view finish = {});
    void end_stream(std::string* out);
    void fail(std::string* out, const std::string& event);
    bool finish_json(std::string* out);
    void render_completion(const Collected& c, std::string* out);
    void render_as_stream(const Collected& c, std::string* out);
    Block* block(int64_t index);

    TranslatorOptions opt_;
    Mode mode_ = Mode::undecided;
    SseParser parser_;
    std::string buf_;        // JSON answers
    std::string prefix_;     // `{"id":..,"object":"chat.completion.chunk","created":..,"model":..,`
    bool started_ = false;
    bool done_ = false;      // message_stop seen (stream) / whole answer rendered
    bool complete_ = false;
    bool error_ = false;
    bool broken_ = false;    // terminal: ignore further input
    size_t tool_calls_ = 0;
    std::vector<Block> blocks_;
    std::string stop_reason_;
    UsageAcc acc_;
    Usage usage_;
    std::string tmp_;
};

void AnthropicTranslator::ensure_prefix(std::string_view upstream_id, std::string_view upstream_model) {
    if (!prefix_.empty()) return;
    std::string id = !opt_.id.empty() ? opt_.id : !upstream_id.empty() ? std::string(upstream_id) : "chatcmpl-anthropic";
    std::string model = !opt_.model.empty() ? opt_.model : std::string(upstream_model);
    if (opt_.created == 0) opt_.created = static_cast<int64_t>(std::time(nullptr));
    prefix_ = "{\"id\":";
    append_quoted(prefix_, id);
    prefix_ += ",\"object\":\"";
    prefix_ += opt_.stream ? "chat.completion.chunk" : "chat.completion";
    prefix_ += "\",\"created\":" + std::to_string(opt_.created) + ",\"model\":";
    append_quoted(prefix_, model);
    prefix_ += ',';
}

void AnthropicTranslator::chunk(std::string* out, std::string_view delta, std::string_view finish) {
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

void AnthropicTranslator::ensure_started(std::string* out) {
    if (started_) return;
    ensure_prefix({}, {});
    started_ = true;
    chunk(out, "{\"role\":\"assistant\",\"content\":\"\"}");
}

AnthropicTranslator::Block* AnthropicTranslator::block(int64_t index) {
    for (auto& b : blocks_)
        if (b.index == index) return &b;
    return nullptr;
}

void AnthropicTranslator::fail(std::string* out, const std::string& event) {
    if (!error_) out->append(event);
    error_ = true;
    broken_ = true;
}

void AnthropicTranslator::end_stream(std::string* out) {
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

void AnthropicTranslator::handle(std::string_view type, const json_t* d, std::string* out) {
    if (type == "ping") {
        out->append(": ping\n\n");  // keeps idle client connections and proxies alive
        return;
    }
    if (type == "error") {
        ErrorInfo e = error_info(d);
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        fail(out, error_event(a));
        return;
    }
    if (type == "message_start") {
        const json_t* msg = jget(d, "message");
        ensure_prefix(sv(jget(msg, "id")), sv(jget(msg, "model")));
        acc_.merge(jget(msg, "usage"));
        ensure_started(out);
        return;
    }
    if (type == "content_block_start") {
        ensure_started(out);
        const json_t* cb = jget(d, "content_block");
        const json_t* idx = jget(d, "index");
        Block b;
        b.index = json_is_integer(idx) ? json_integer_value(idx) : -1;
        b.type = sv(jget(cb, "type"));
        tmp_.clear();
        if (b.type == "tool_use") {
            b.ordinal = tool_calls_++;
            const json_t* in = jget(cb, "input");
            if (json_is_object(in) && json_object_size(in) > 0) json_dump_append(b.start_input, in);
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b.ordinal) + ",\"id\":";
            append_quoted(tmp_, sv(jget(cb, "id")));
            tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
            append_quoted(tmp_, sv(jget(cb, "name")));
            tmp_ += ",\"arguments\":\"\"}}]}";
            chunk(out, tmp_);
        } else if (b.type == "text") {
            std::string_view text = sv(jget(cb, "text"));
            if (!text.empty()) {
                tmp_ = "{\"content\":";
                append_quoted(tmp_, text);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        } else if (b.type == "thinking") {
            std::string_view text = sv(jget(cb, "thinking"));
            if (!text.empty()) {
                tmp_ = "{\"reasoning_content\":";
                append_quoted(tmp_, text);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        } else if (b.type == "redacted_thinking") {
            tmp_ = "{\"thinking_blocks\":[{\"type\":\"redacted_thinking\",\"data\":";
            append_quoted(tmp_, sv(jget(cb, "data")));
            tmp_ += "}]}";
            chunk(out, tmp_);
        }
        if (Block* old = block(b.index)) *old = std::move(b);
        else blocks_.push_back(std::move(b));
        return;
    }
    if (type == "content_block_delta") {
        ensure_started(out);
        const json_t* delta = jget(d, "delta");
        std::string_view dt = sv(jget(delta, "type"));
        const json_t* idx = jget(d, "index");
        Block* b = block(json_is_integer(idx) ? json_integer_value(idx) : -1);
        tmp_.clear();
        if (dt == "text_delta") {
            std::string_view text = sv(jget(delta, "text"));
            if (text.empty()) return;
            tmp_ = "{\"content\":";
            append_quoted(tmp_, text);
            tmp_ += "}";
        } else if (dt == "input_json_delta") {
            std::string_view part = sv(jget(delta, "partial_json"));
            if (part.empty() || !b || b->type != "tool_use") return;
            b->args_sent = true;
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, part);
            tmp_ += "}}]}";
        } else if (dt == "thinking_delta") {
            std::string_view text = sv(jget(delta, "thinking"));
            if (text.empty()) return;
            tmp_ = "{\"reasoning_content\":";
            append_quoted(tmp_, text);
            tmp_ += "}";
        } else if (dt == "signature_delta") {
            std::string_view sig = sv(jget(delta, "signature"));
            if (sig.empty()) return;
            tmp_ = "{\"thinking_blocks\":[{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":";
            append_quoted(tmp_, sig);
            tmp_ += "}]}";
        } else {
            return;  // citations_delta and future delta types
        }
        chunk(out, tmp_);
        return;
    }
    if (type == "content_block_stop") {
        const json_t* idx = jget(d, "index");
        int64_t index = json_is_integer(idx) ? json_integer_value(idx) : -1;
        Block* b = block(index);
        if (b && b->type == "tool_use" && !b->args_sent) {
            // No input_json_delta carried anything: the arguments are the start input ("{}").
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, b->start_input.empty() ? std::string_view("{}") : std::string_view(b->start_input));
            tmp_ += "}}]}";
            chunk(out, tmp_);
        }
        blocks_.erase(std::remove_if(blocks_.begin(), blocks_.end(), [&](const Block& x) { return x.index == index; }),
                      blocks_.end());
        return;
    }
    if (type == "message_delta") {
        ensure_started(out);
        const json_t* delta = jget(d, "delta");
        if (json_is_string(jget(delta, "stop_reason"))) stop_reason_ = sv(jget(delta, "stop_reason"));
        acc_.merge(jget(d, "usage"));
        usage_ = acc_.usage();
        if (stop_reason_ == "refusal") {
            std::string_view expl = sv(jget(jget(delta, "stop_details"), "explanation"));
            if (!expl.empty()) {
                tmp_ = "{\"refusal\":";
                append_quoted(tmp_, expl);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        }
        return;
    }
    if (type == "message_stop") {
        end_stream(out);
        return;
    }
    // unknown event types: ignored (forward compatibility)
}

void AnthropicTranslator::on_event(const SseEvent& ev, std::string* out) {
    if (broken_ || done_) return;
    std::string_view data = ev.data;
    while (!data.empty() && (data.front() == ' ' || data.front() == '\t' || data.front() == '\r' || data.front() == '\n'))
        data.remove_prefix(1);
    if (data.empty()) {
        if (ev.event == "ping") handle("ping", nullptr, out);
        return;  // comments, keep-alives
    }
    std::string perr;
    JsonPtr d = json_parse(data, &perr);
    if (!d || !json_is_object(d.get())) {
        fail(out, stream_error_event("upstream sent an invalid stream event", "upstream_protocol_error"));
        return;
    }
    std::string_view type = sv(jget(d.get(), "type"));
    if (type.empty()) type = ev.event;
    if (ev.event == "error") type = "error";
    handle(type, d.get(), out);
}

bool AnthropicTranslator::feed(std::string_view bytes, std::string* out) {
    try {
        if (broken_) return false;
        if (done_) return true;  // trailing bytes after message_stop / after the answer
        if (mode_ == Mode::undecided) {
            size_t i = 0;
            while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
            if (i == bytes.size()) {
                buf_.append(bytes);  // whitespace only so far
                return true;
            }
            mode_ = (!opt_.stream || bytes[i] == '{' || bytes[i] == '[') ? Mode::json : Mode::sse;
            if (mode_ == Mode::sse && !buf_.empty()) {
                std::string lead;
                lead.swap(buf_);
                if (!parser_.feed(lead, [this, out](const SseEvent& ev) { on_event(ev, out); })) {
                    fail(out, stream_error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
                    return false;
                }
            }
        }
        if (mode_ == Mode::json) {
            if (buf_.size() + bytes.size() > kMaxJsonAnswer) {
                broken_ = true;
                error_ = true;
                if (opt_.stream) {
                    out->append(stream_error_event("upstream answer too large", "upstream_response_too_large"));
                } else {
                    ApiError a;
                    a.status = 502;
                    a.type = "server_error";
                    a.code = "upstream_response_too_large";
                    a.message = "upstream answer too large";
                    out->append(openai_error_body(a));
                }
                return false;
            }
            buf_.append(bytes);
            return true;
        }
        if (!parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); })) {
            fail(out, stream_error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
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

void AnthropicTranslator::render_completion(const Collected& c, std::string* out) {
    ensure_prefix(c.id, c.model);
    out->append(prefix_);
    out->append("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (!c.text.empty()) append_quoted(*out, c.text);
    else if (!c.calls.empty() || !c.refusal.empty()) out->append("null");
    else out->append("\"\"");
    out->append(",\"refusal\":");
    if (c.refusal.empty()) out->append("null");
    else append_quoted(*out, c.refusal);
    if (!c.reasoning.empty()) {
        out->append(",\"reasoning_content\":");
        append_quoted(*out, c.reasoning);
    }
    if (!c.thinking_blocks.empty()) {
        out->append(",\"thinking_blocks\":");
        out->append(c.thinking_blocks);
    }
    if (!c.calls.empty()) {
        out->append(",\"tool_calls\":[");
        for (size_t i = 0; i < c.calls.size(); ++i) {
            if (i) out->push_back(',');
            out->append("{\"id\":");
            append_quoted(*out, c.calls[i].id);
            out->append(",\"type\":\"function\",\"function\":{\"name\":");
            append_quoted(*out, c.calls[i].name);
            out->append(",\"arguments\":");
            append_quoted(*out, c.calls[i].args);
            out->append("}}");
        }
        out->push_back(']');
    }
    out->append("},\"logprobs\":null,\"finish_reason\":\"");
    out->append(finish_reason(c.stop_reason, c.calls.size()));
    out->append("\"}],\"usage\":");
    c.usage.append_json(*out);
    out->push_back('}');
}

void AnthropicTranslator::render_as_stream(const Collected& c, std::string* out) {
    ensure_prefix(c.id, c.model);
    ensure_started(out);
    if (!c.reasoning.empty()) {
        tmp_ = "{\"reasoning_content\":";
        append_quoted(tmp_, c.reasoning);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    if (!c.thinking_blocks.empty()) chunk(out, "{\"thinking_blocks\":" + c.thinking_blocks + "}");
    if (!c.text.empty()) {
        tmp_ = "{\"content\":";
        append_quoted(tmp_, c.text);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    for (const auto& call : c.calls) {
        tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(tool_calls_++) + ",\"id\":";
        append_quoted(tmp_, call.id);
        tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
        append_quoted(tmp_, call.name);
        tmp_ += ",\"arguments\":";
        append_quoted(tmp_, call.args);
        tmp_ += "}}]}";
        chunk(out, tmp_);
    }
    if (!c.refusal.empty()) {
        tmp_ = "{\"refusal\":";
        append_quoted(tmp_, c.refusal);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    stop_reason_ = c.stop_reason;
    acc_ = c.usage;
    end_stream(out);
}

bool AnthropicTranslator::finish_json(std::string* out) {
    std::string perr;
    JsonPtr root = json_parse(buf_, &perr);
    std::string().swap(buf_);
    const json_t* r = root.get();
    if (json_is_object(r) && (sv(jget(r, "type")) == "error" || present(jget(r, "error")) ||
                              (json_is_object(jget(r, "base_resp")) && json_integer_value(jget(jget(r, "base_resp"), "status_code")) != 0))) {
        ErrorInfo e = error_info(r);
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        error_ = broken_ = true;
        out->append(opt_.stream ? error_event(a) : openai_error_body(a));
        return false;
    }
    if (!json_is_object(r) || !json_is_array(jget(r, "content"))) {
        error_ = broken_ = true;
        ApiError a;
        a.status = 502;
        a.type = "server_error";
        a.code = "upstream_protocol_error";
        a.message = r ? "upstream answer is not a Messages API message" : "upstream answer is incomplete or not valid JSON";
        out->append(opt_.stream ? error_event(a) : openai_error_body(a));
        return false;
    }
    Collected c = collect(r);
    if (opt_.stream) {
        render_as_stream(c, out);
    } else {
        render_completion(c, out);
        usage_ = c.usage.usage();
        done_ = complete_ = true;
    }
    return true;
}

bool AnthropicTranslator::finish(std::string* out) {
    try {
        if (broken_) return false;
        if (mode_ == Mode::undecided) mode_ = opt_.stream ? Mode::sse : Mode::json;
        if (mode_ == Mode::json) {
            if (done_) return complete_;
            return finish_json(out);
        }
        parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
        if (done_) return true;
        if (!error_) {
            out->append(stream_error_event("upstream stream ended before message_stop", "stream_truncated"));
            error_ = true;
        }
        broken_ = true;
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

}  // namespace

std::unique_ptr<ResponseTranslator> anthropic_translator(const TranslatorOptions& opt) {
    return std::make_unique<AnthropicTranslator>(opt);
}

}  // namespace routeshift
