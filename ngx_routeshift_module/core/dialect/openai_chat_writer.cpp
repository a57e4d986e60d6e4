#include "dialect/openai_chat_writer.hpp"
#include "dialect/usage_accumulation.hpp"

#include "accounting/session_inference.hpp"
#include "dialect/openai_error.hpp"
#include "util/json_util.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace routeshift {

namespace {

void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

// A decimal integer, written in place (std::to_string + concatenation made a temporary string per
// number of every answer).
void append_integer(std::string& out, int64_t v) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out.append(digits, static_cast<size_t>(end - digits));
}

// A token count: unknown (-1) is written as 0.
void append_count(std::string& out, int64_t v) { append_integer(out, v < 0 ? 0 : v); }

// Choice indexes are small (a provider's candidate count); 0 is by far the most common.
void append_index(std::string& out, size_t index) {
    if (index == 0) out.push_back('0');
    else append_integer(out, static_cast<int64_t>(index));
}

}  // namespace

void OpenAIChatWriter::ensure_prefix(std::string_view upstream_id, std::string_view upstream_model) {
    if (!prefix_.empty()) return;
    std::string_view id = !options_.id.empty() ? std::string_view(options_.id)
                          : !upstream_id.empty() ? upstream_id
                                                 : std::string_view(options_.fallback_id);
    std::string_view model = !options_.model.empty() ? std::string_view(options_.model) : upstream_model;
    if (options_.created == 0) options_.created = static_cast<int64_t>(std::time(nullptr));
    prefix_.reserve(96 + id.size() + model.size());  // one allocation unless they need escapes
    prefix_ = "{\"id\":";
    append_quoted(prefix_, id);
    prefix_ += ",\"object\":\"";
    prefix_ += options_.stream ? "chat.completion.chunk" : "chat.completion";
    prefix_ += "\",\"created\":";
    append_integer(prefix_, options_.created);
    prefix_ += ",\"model\":";
    append_quoted(prefix_, model);
    prefix_ += ',';
}

// One chunk of the current choice. `logprobs`: the rendered logprobs object, empty = null.
void OpenAIChatWriter::chunk(std::string_view delta, std::string_view finish_reason, std::string_view logprobs) {
    std::string& out = *out_;
    out.append("data: ");
    out.append(prefix_);
    out.append("\"choices\":[{\"index\":");
    append_index(out, current_index_);
    out.append(",\"delta\":");
    out.append(delta);
    out.append(",\"logprobs\":");
    out.append(logprobs.empty() ? std::string_view("null") : logprobs);
    out.append(",\"finish_reason\":");
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

// A choice's first chunk in a stream carries the role (what OpenAI sends before any content).
void OpenAIChatWriter::begin(Choice& choice) {
    if (choice.begun) return;
    choice.begun = true;
    if (options_.stream && !(options_.resume && &choice == &first_)) chunk("{\"role\":\"assistant\",\"content\":\"\"}");
}

// Choice 0 begins with the answer, whatever choice its first event is for.
void OpenAIChatWriter::ensure_started() {
    ensure_prefix({}, {});
    if (started_) {
        if (!current_->begun) begin(*current_);
        return;
    }
    started_ = true;
    Choice* current = current_;
    size_t current_index = current_index_;
    current_ = &first_;
    current_index_ = 0;
    begin(first_);
    current_ = current;
    current_index_ = current_index;
    begin(*current_);
}

OpenAIChatWriter::ToolCall& OpenAIChatWriter::call_at(size_t index) {
    std::vector<ToolCall>& calls = current_->calls;
    if (index >= calls.size()) calls.resize(index + 1);
    return calls[index];
}

void OpenAIChatWriter::message_start(const canonical::MessageStart& start) {
    if (ended()) return;
    ensure_prefix(start.id, start.model);
    ensure_started();
}

void OpenAIChatWriter::choice(size_t index) {
    if (ended()) return;
    if (index == 0) {
        current_ = &first_;
    } else {
        if (index > others_.size()) others_.resize(index);
        current_ = &others_[index - 1];
    }
    current_index_ = index;
    ensure_started();
}

// A text-like delta of the current choice: in a stream one chunk `<opening>"<text>"}` (opening:
// `{"content":`), else appended to the message's field.
void OpenAIChatWriter::string_delta(std::string_view opening, std::string_view text, std::string Choice::*field) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        (current_->*field).append(text);
        return;
    }
    scratch_.assign(opening);
    append_quoted(scratch_, text);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::text_delta(std::string_view text) {
    if (SessionInference* session = observing(); session && !ended()) session->answer_text(text);
    string_delta("{\"content\":", text, &Choice::text);
}

// OpenAI `logprobs.content` entries: token, logprob, UTF-8 bytes and the top alternatives.
void OpenAIChatWriter::append_logprobs_entries(std::string& out, std::span<const canonical::TokenLogprobs> tokens) const {
    auto append_token = [&out](const canonical::TokenLogprob& token) {
        out.append("{\"token\":");
        append_quoted(out, token.token);
        out.append(",\"logprob\":");
        out.append(token.logprob.empty() ? std::string_view("0") : token.logprob);
        out.append(",\"bytes\":[");
        for (size_t i = 0; i < token.token.size(); ++i) {
            if (i) out.push_back(',');
            append_integer(out, static_cast<unsigned char>(token.token[i]));
        }
        out.push_back(']');
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (i) out.push_back(',');
        append_token(tokens[i].chosen);
        out.append(",\"top_logprobs\":[");
        for (size_t k = 0; k < tokens[i].top.size(); ++k) {
            if (k) out.push_back(',');
            append_token(tokens[i].top[k]);
            out.push_back('}');
        }
        out.append("]}");
    }
}

void OpenAIChatWriter::text_delta_with_logprobs(std::string_view text, std::span<const canonical::TokenLogprobs> tokens) {
    if (ended()) return;
    if (SessionInference* session = observing()) session->answer_text(text);
    ensure_started();
    if (!options_.stream) {
        current_->text.append(text);
        if (!tokens.empty() && !current_->logprobs.empty()) current_->logprobs.push_back(',');
        append_logprobs_entries(current_->logprobs, tokens);
        current_->has_logprobs = true;
        return;
    }
    if (text.empty() && tokens.empty()) return;  // nothing a chunk could say
    scratch_ = "{\"content\":[";
    append_logprobs_entries(scratch_, tokens);
    scratch_ += "],\"refusal\":null}";
    size_t logprobs_end = scratch_.size();
    if (text.empty()) {
        scratch_ += "{}";
    } else {
        scratch_ += "{\"content\":";
        append_quoted(scratch_, text);
        scratch_ += "}";
    }
    std::string_view all(scratch_);
    chunk(all.substr(logprobs_end), {}, all.substr(0, logprobs_end));
}

void OpenAIChatWriter::reasoning_delta(std::string_view text) { string_delta("{\"reasoning_content\":", text, &Choice::reasoning); }

void OpenAIChatWriter::reasoning_state(std::string_view blocks_json) {
    if (ended()) return;
    ensure_started();
    if (!options_.stream) {
        // Arrays arriving one after the other are joined into one thinking_blocks array.
        if (blocks_json.size() < 2) return;
        std::string& blocks = current_->reasoning_blocks;
        if (blocks.empty()) {
            blocks.assign(blocks_json);
        } else {
            blocks.pop_back();
            blocks += ',';
            blocks.append(blocks_json.substr(1));
        }
        return;
    }
    scratch_ = "{\"thinking_blocks\":";
    scratch_.append(blocks_json);
    scratch_ += "}";
    chunk(scratch_);
}

void OpenAIChatWriter::refusal_delta(std::string_view text) { string_delta("{\"refusal\":", text, &Choice::refusal); }

void OpenAIChatWriter::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                       std::string_view arguments) {
    if (ended()) return;
    if (SessionInference* session = observing()) session->answer_tool_call(index, name, arguments);
    ensure_started();
    if (options_.legacy_functions && index > 0) return;  // the legacy form holds one call
    current_->tool_calls = std::max(current_->tool_calls, index + 1);
    if (!options_.stream) {
        ToolCall& call = call_at(index);
        call.id.assign(id);
        call.name.assign(name);
        call.arguments.assign(arguments);
        return;
    }
    if (options_.legacy_functions) {
        scratch_ = "{\"function_call\":{\"name\":";
        append_quoted(scratch_, name);
        scratch_ += ",\"arguments\":";
        append_quoted(scratch_, arguments);
        scratch_ += "}}";
        chunk(scratch_);
        return;
    }
    scratch_ = "{\"tool_calls\":[{\"index\":";
    append_index(scratch_, index);
    scratch_ += ",\"id\":";
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
    if (SessionInference* session = observing()) session->answer_tool_arguments(index, arguments);
    ensure_started();
    if (options_.legacy_functions && index > 0) return;
    if (!options_.stream) {
        call_at(index).arguments.append(arguments);
        return;
    }
    if (options_.legacy_functions) {
        scratch_ = "{\"function_call\":{\"arguments\":";
        append_quoted(scratch_, arguments);
        scratch_ += "}}";
        chunk(scratch_);
        return;
    }
    scratch_ = "{\"tool_calls\":[{\"index\":";
    append_index(scratch_, index);
    scratch_ += ",\"function\":{\"arguments\":";
    append_quoted(scratch_, arguments);
    scratch_ += "}}]}";
    chunk(scratch_);
}

// Generated images: OpenRouter's convention, `images: [{type:"image_url", image_url:{url:"data:..."}}]`
// on the message / delta (OpenAI chat has no field for them; clients that know it show them).
void OpenAIChatWriter::append_image(std::string& out, std::string_view media_type, std::string_view base64_data) const {
    out.append("\"type\":\"image_url\",\"image_url\":{\"url\":\"data:");
    json_escape_append(out, media_type);
    out.append(";base64,");
    json_escape_append(out, base64_data);
    out.append("\"}}");
}

void OpenAIChatWriter::image(std::string_view media_type, std::string_view base64_data) {
    if (ended()) return;
    ensure_started();
    size_t ordinal = current_->images++;
    if (!options_.stream) {
        std::string& images = current_->images_json;
        if (!images.empty()) images.push_back(',');
        images.push_back('{');
        append_image(images, media_type, base64_data);
        return;
    }
    scratch_ = "{\"images\":[{\"index\":";
    append_index(scratch_, ordinal);
    scratch_ += ",";
    append_image(scratch_, media_type, base64_data);
    scratch_ += "]}";
    chunk(scratch_);
}

void OpenAIChatWriter::usage(const canonical::UsageReport& report) {
    if (ended()) return;
    accumulate_usage(report, &tokens_, &usage_);
}

void OpenAIChatWriter::append_usage_json(std::string& out) const {
    out += "{\"prompt_tokens\":";
    append_count(out, usage_.prompt_tokens);
    out += ",\"completion_tokens\":";
    append_count(out, usage_.completion_tokens);
    out += ",\"total_tokens\":";
    append_count(out, usage_.total_tokens);
    out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
    append_count(out, usage_.cached_tokens);
    if (tokens_.cache_write_tokens >= 0) {
        out += ",\"cache_write_tokens\":";
        append_count(out, tokens_.cache_write_tokens);
    }
    out += "}";
    if (tokens_.reasoning_tokens >= 0) {
        out += ",\"completion_tokens_details\":{\"reasoning_tokens\":";
        append_count(out, tokens_.reasoning_tokens);
        out += "}";
    }
    out += "}";
}

// A choice with tool calls finishes with tool_calls -- unless it was cut short (length: the
// arguments of the last call are truncated JSON) or refused (content_filter).
std::string_view OpenAIChatWriter::finish_reason_text(const Choice& choice) const {
    switch (choice.finish_reason) {
    case canonical::FinishReason::length: return "length";
    case canonical::FinishReason::content_filter: return "content_filter";
    case canonical::FinishReason::tool_calls: return options_.legacy_functions ? "function_call" : "tool_calls";
    case canonical::FinishReason::stop: break;
    }
    if (choice.tool_calls == 0) return "stop";
    return options_.legacy_functions ? "function_call" : "tool_calls";
}

void OpenAIChatWriter::write_choice_message(const Choice& c) {
    std::string& out = *out_;
    out.append(",\"message\":{\"role\":\"assistant\",\"content\":");
    if (!c.text.empty()) append_quoted(out, c.text);
    else if (!c.calls.empty() || !c.refusal.empty()) out.append("null");
    else out.append("\"\"");
    out.append(",\"refusal\":");
    if (c.refusal.empty()) out.append("null");
    else append_quoted(out, c.refusal);
    if (!c.reasoning.empty()) {
        out.append(",\"reasoning_content\":");
        append_quoted(out, c.reasoning);
    }
    if (!c.reasoning_blocks.empty()) {
        out.append(",\"thinking_blocks\":");
        out.append(c.reasoning_blocks);
    }
    if (!c.calls.empty() && options_.legacy_functions) {
        out.append(",\"function_call\":{\"name\":");
        append_quoted(out, c.calls[0].name);
        out.append(",\"arguments\":");
        append_quoted(out, c.calls[0].arguments);
        out.append("}");
    } else if (!c.calls.empty()) {
        out.append(",\"tool_calls\":[");
        for (size_t i = 0; i < c.calls.size(); ++i) {
            if (i) out.push_back(',');
            out.append("{\"id\":");
            append_quoted(out, c.calls[i].id);
            out.append(",\"type\":\"function\",\"function\":{\"name\":");
            append_quoted(out, c.calls[i].name);
            out.append(",\"arguments\":");
            append_quoted(out, c.calls[i].arguments);
            out.append("}}");
        }
        out.push_back(']');
    }
    if (!c.images_json.empty()) {
        out.append(",\"images\":[");
        out.append(c.images_json);
        out.push_back(']');
    }
    out.append("},\"logprobs\":");
    if (c.has_logprobs) {
        out.append("{\"content\":[");
        out.append(c.logprobs);
        out.append("],\"refusal\":null}");
    } else {
        out.append("null");
    }
    out.append(",\"finish_reason\":\"");
    out.append(finish_reason_text(c));
    out.append("\"}");
}

void OpenAIChatWriter::write_completion() {
    std::string& out = *out_;
    // Reserved once: the prefix, the usage and each choice's markup (~300 bytes) and text, unless
    // escapes lengthen them.
    size_t estimate = prefix_.size() + 256;
    for (size_t i = 0; i <= others_.size(); ++i) {
        const Choice& c = i == 0 ? first_ : others_[i - 1];
        estimate += 320 + c.text.size() + c.reasoning.size() + c.refusal.size() + c.reasoning_blocks.size() +
                    c.images_json.size() + c.logprobs.size();
        for (const ToolCall& call : c.calls) estimate += 64 + call.id.size() + call.name.size() + call.arguments.size();
    }
    out.reserve(out.size() + estimate);
    out.append(prefix_);
    out.append("\"choices\":[");
    bool first = true;
    for (size_t i = 0; i <= others_.size(); ++i) {
        const Choice& c = i == 0 ? first_ : others_[i - 1];
        if (!c.begun) continue;
        if (!first) out.push_back(',');
        first = false;
        out.append("{\"index\":");
        append_index(out, i);
        write_choice_message(c);
    }
    out.append("],\"usage\":");
    append_usage_json(out);
    out.push_back('}');
}

bool OpenAIChatWriter::all_finished() const {
    if (!first_.finished) return false;
    for (const Choice& c : others_) {
        if (c.begun && !c.finished) return false;
    }
    return true;
}

void OpenAIChatWriter::finish(canonical::FinishReason reason) {
    if (ended()) return;
    ensure_started();
    if (current_->finished) return;
    current_->finished = true;
    current_->finish_reason = reason;
    if (options_.stream) chunk("{}", finish_reason_text(*current_));
    if (!all_finished()) return;
    complete_ = true;
    if (!options_.stream) {
        write_completion();
        return;
    }
    if (options_.include_usage) {
        out_->append("data: ");
        out_->append(prefix_);
        out_->append("\"choices\":[],\"usage\":");
        append_usage_json(*out_);
        out_->append("}\n\n");
    }
    out_->append("data: [DONE]\n\n");
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
