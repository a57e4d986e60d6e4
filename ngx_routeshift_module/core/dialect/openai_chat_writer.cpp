#include "dialect/openai_chat_writer.hpp"

#include "dialect/openai_error.hpp"
#include "util/json_util.hpp"

#include <algorithm>
#include <ctime>

namespace routeshift {

namespace {

void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

std::string count_text(int64_t v) { return std::to_string(v < 0 ? 0 : v); }

}  // namespace

void OpenAIChatWriter::ensure_prefix(std::string_view upstream_id, std::string_view upstream_model) {
    if (!prefix_.empty()) return;
    std::string_view id = !options_.id.empty() ? std::string_view(options_.id)
                          : !upstream_id.empty() ? upstream_id
                                                 : std::string_view(options_.fallback_id);
    std::string_view model = !options_.model.empty() ? std::string_view(options_.model) : upstream_model;
    if (options_.created == 0) options_.created = static_cast<int64_t>(std::time(nullptr));
    prefix_ = "{\"id\":";
    append_quoted(prefix_, id);
    prefix_ += ",\"object\":\"";
    prefix_ += options_.stream ? "chat.completion.chunk" : "chat.completion";
    prefix_ += "\",\"created\":" + std::to_string(options_.created) + ",\"model\":";
    append_quoted(prefix_, model);
    prefix_ += ',';
}

void OpenAIChatWriter::chunk(std::string_view delta, std::string_view finish_reason) {
    std::string& out = *out_;
    out.append("data: ");
    out.append(prefix_);
    out.append("\"choices\":[{\"index\":0,\"delta\":");
    out.append(delta);
    out.append(",\"logprobs\":null,\"finish_reason\":");
    if (finish_reason.empty()) {
        out.append("null");
    } else {
        out.push_back('"');
        out.append(finish_reason);
        out.push_back('"');
    }
    out.append("}]");
    if (options_.include_usage) out.append(",\"usage\":null");
    out.append("}\n\n");
}

// The first chunk of a stream carries the role (what OpenAI sends before any content).
void OpenAIChatWriter::ensure_started() {
    ensure_prefix({}, {});
    if (started_ || !options_.stream) return;
    started_ = true;
    chunk("{\"role\":\"assistant\",\"content\":\"\"}");
}

OpenAIChatWriter::ToolCall& OpenAIChatWriter::call_at(size_t index) {
    if (index >= calls_.size()) calls_.resize(index + 1);
    return calls_[index];
}

void OpenAIChatWriter::message_start(const canonical::MessageStart& start) {
    if (ended()) return;
    ensure_prefix(start.id, start.model);
    ensure_started();
}

void OpenAIChatWriter::text_delta(std::string_view text) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        text_.append(text);
        return;
    }
    scratch_ = "{\"content\":";
    append_quoted(scratch_, text);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::reasoning_delta(std::string_view text) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        reasoning_.append(text);
        return;
    }
    scratch_ = "{\"reasoning_content\":";
    append_quoted(scratch_, text);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::reasoning_state(std::string_view blocks_json) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        // Arrays arriving one after the other are joined into one thinking_blocks array.
        if (blocks_json.size() < 2) return;
        if (reasoning_blocks_.empty()) {
            reasoning_blocks_.assign(blocks_json);
        } else {
            reasoning_blocks_.pop_back();
            reasoning_blocks_ += ',';
            reasoning_blocks_.append(blocks_json.substr(1));
        }
        return;
    }
    scratch_ = "{\"thinking_blocks\":";
    scratch_.append(blocks_json);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::refusal_delta(std::string_view text) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        refusal_.append(text);
        return;
    }
    scratch_ = "{\"refusal\":";
    append_quoted(scratch_, text);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                       std::string_view arguments) {
    if (ended()) return;
    ensure_started();
    tool_calls_ = std::max(tool_calls_, index + 1);
    if (!options_.stream) {
        ToolCall& call = call_at(index);
        call.id.assign(id);
        call.name.assign(name);
        call.arguments.assign(arguments);
        return;
    }
    scratch_ = "{\"tool_calls\":[{\"index\":" + std::to_string(index) + ",\"id\":";
    append_quoted(scratch_, id);
    scratch_ += ",\"type\":\"function\",\"function\":{\"name\":";
    append_quoted(scratch_, name);
    scratch_ += ",\"arguments\":";
    append_quoted(scratch_, arguments);
    scratch_ += "}}]}";
    chunk(scratch_);
}

void OpenAIChatWriter::tool_call_arguments_delta(size_t index, std::string_view arguments) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        call_at(index).arguments.append(arguments);
        return;
    }
    scratch_ = "{\"tool_calls\":[{\"index\":" + std::to_string(index) + ",\"function\":{\"arguments\":";
    append_quoted(scratch_, arguments);
    scratch_ += "}}]}";
    chunk(scratch_);
}

void OpenAIChatWriter::usage(const canonical::UsageReport& report) {
    if (ended()) return;
    auto take = [](int64_t v, int64_t* dst) {
        if (v >= 0) *dst = v;
    };
    take(report.input_tokens, &tokens_.input_tokens);
    take(report.cache_read_tokens, &tokens_.cache_read_tokens);
    take(report.cache_write_tokens, &tokens_.cache_write_tokens);
    take(report.output_tokens, &tokens_.output_tokens);
    take(report.reasoning_tokens, &tokens_.reasoning_tokens);
    if (tokens_.input_tokens < 0 && tokens_.output_tokens < 0) return;  // nothing billable known yet
    // OpenAI's prompt_tokens include the cached tokens; completion_tokens include reasoning.
    usage_.prompt_tokens = std::max<int64_t>(tokens_.input_tokens, 0) + std::max<int64_t>(tokens_.cache_read_tokens, 0) +
                           std::max<int64_t>(tokens_.cache_write_tokens, 0);
    usage_.completion_tokens = std::max<int64_t>(tokens_.output_tokens, 0);
    usage_.total_tokens = usage_.prompt_tokens + usage_.completion_tokens;
    usage_.cached_tokens = std::max<int64_t>(tokens_.cache_read_tokens, 0);
}

void OpenAIChatWriter::append_usage_json(std::string& out) const {
    out += "{\"prompt_tokens\":" + count_text(usage_.prompt_tokens) +
           ",\"completion_tokens\":" + count_text(usage_.completion_tokens) +
           ",\"total_tokens\":" + count_text(usage_.total_tokens) +
           ",\"prompt_tokens_details\":{\"cached_tokens\":" + count_text(usage_.cached_tokens);
    if (tokens_.cache_write_tokens >= 0) out += ",\"cache_write_tokens\":" + count_text(tokens_.cache_write_tokens);
    out += "}";
    if (tokens_.reasoning_tokens >= 0)
        out += ",\"completion_tokens_details\":{\"reasoning_tokens\":" + count_text(tokens_.reasoning_tokens) + "}";
    out += "}";
}

// An answer with tool calls finishes with tool_calls -- unless it was cut short (length: the
// arguments of the last call are truncated JSON) or refused (content_filter).
std::string_view OpenAIChatWriter::finish_reason_text(canonical::FinishReason reason) const {
    switch (reason) {
    case canonical::FinishReason::length: return "length";
    case canonical::FinishReason::content_filter: return "content_filter";
    case canonical::FinishReason::tool_calls: return "tool_calls";
    case canonical::FinishReason::stop: break;
    }
    return tool_calls_ > 0 ? "tool_calls" : "stop";
}

void OpenAIChatWriter::write_completion(canonical::FinishReason reason) {
    std::string& out = *out_;
    out.append(prefix_);
    out.append("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (!text_.empty()) append_quoted(out, text_);
    else if (!calls_.empty() || !refusal_.empty()) out.append("null");
    else out.append("\"\"");
    out.append(",\"refusal\":");
    if (refusal_.empty()) out.append("null");
    else append_quoted(out, refusal_);
    if (!reasoning_.empty()) {
        out.append(",\"reasoning_content\":");
        append_quoted(out, reasoning_);
    }
    if (!reasoning_blocks_.empty()) {
        out.append(",\"thinking_blocks\":");
        out.append(reasoning_blocks_);
    }
    if (!calls_.empty()) {
        out.append(",\"tool_calls\":[");
        for (size_t i = 0; i < calls_.size(); ++i) {
            if (i) out.push_back(',');
            out.append("{\"id\":");
            append_quoted(out, calls_[i].id);
            out.append(",\"type\":\"function\",\"function\":{\"name\":");
            append_quoted(out, calls_[i].name);
            out.append(",\"arguments\":");
            append_quoted(out, calls_[i].arguments);
            out.append("}}");
        }
        out.push_back(']');
    }
    out.append("},\"logprobs\":null,\"finish_reason\":\"");
    out.append(finish_reason_text(reason));
    out.append("\"}],\"usage\":");
    append_usage_json(out);
    out.push_back('}');
}

void OpenAIChatWriter::finish(canonical::FinishReason reason) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        write_completion(reason);
        complete_ = true;
        return;
    }
    chunk("{}", finish_reason_text(reason));
    if (options_.include_usage) {
        out_->append("data: ");
        out_->append(prefix_);
        out_->append("\"choices\":[],\"usage\":");
        append_usage_json(*out_);
        out_->append("}\n\n");
    }
    out_->append("data: [DONE]\n\n");
    complete_ = true;
}

void OpenAIChatWriter::error(const canonical::ErrorReport& report) {
    if (ended()) return;
    error_ = true;
    ApiError api;
    api.status = report.status;
    api.type.assign(report.type);
    api.message.assign(report.message);
    api.param.assign(report.param);
    api.code.assign(report.code);
    out_->append(options_.stream ? openai_error_event(api) : openai_error_body(api));
}

void OpenAIChatWriter::keep_alive() {
    if (ended() || !options_.stream) return;
    out_->append(": ping\n\n");  // an SSE comment: keeps idle client connections and proxies alive
}

}  // namespace routeshift
