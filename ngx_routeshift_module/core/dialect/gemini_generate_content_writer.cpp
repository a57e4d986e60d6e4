#include "dialect/gemini_generate_content_writer.hpp"

#include "dialect/google_error.hpp"
#include "dialect/usage_accumulation.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

#include <algorithm>

namespace routeshift {
namespace {

std::string_view finish_reason_text(canonical::FinishReason reason) {
    switch (reason) {
    case canonical::FinishReason::length: return "MAX_TOKENS";
    case canonical::FinishReason::content_filter: return "SAFETY";
    case canonical::FinishReason::tool_calls:  // Gemini ends a turn that calls functions with STOP
    case canonical::FinishReason::stop: break;
    }
    return "STOP";
}

// A call's arguments as the `args` Struct: the provider's JSON object, else {} (a provider that
// broke off mid-arguments).
std::string_view args_object(std::string_view arguments) {
    JsonValue root;
    if (json_scan(arguments, &root, nullptr, nullptr) && root.is(JsonType::object)) return arguments;
    return "{}";
}

int64_t at_least_zero(int64_t v) { return std::max<int64_t>(v, 0); }

}  // namespace

void GeminiGenerateContentWriter::message_start(const canonical::MessageStart& start) {
    if (id_.empty()) id_.assign(start.id);
    if (model_.empty()) model_.assign(start.model);
}

void GeminiGenerateContentWriter::choice(size_t index) {
    choice_ = index;
    if (candidates_.size() <= index) candidates_.resize(index + 1);
}

GeminiGenerateContentWriter::Candidate& GeminiGenerateContentWriter::current() {
    Candidate& c = candidates_[choice_];
    c.begun = true;
    return c;
}

void GeminiGenerateContentWriter::begin_chunk(std::string& out) const {
    out += "{\"candidates\":[";
}

void GeminiGenerateContentWriter::append_usage(std::string& out) const {
    if (!usage_seen_) return;
    // Gemini counts cached tokens inside promptTokenCount and thoughts apart from the candidates
    int64_t prompt = at_least_zero(tokens_.input_tokens) + at_least_zero(tokens_.cache_read_tokens) +
                     at_least_zero(tokens_.cache_write_tokens);
    int64_t thoughts = at_least_zero(tokens_.reasoning_tokens);
    int64_t output = at_least_zero(tokens_.output_tokens);
    int64_t candidates = output > thoughts ? output - thoughts : output;
    if (output <= thoughts) thoughts = 0;
    out += ",\"usageMetadata\":{\"promptTokenCount\":" + std::to_string(prompt);
    out += ",\"candidatesTokenCount\":" + std::to_string(candidates);
    if (tokens_.cache_read_tokens > 0) out += ",\"cachedContentTokenCount\":" + std::to_string(tokens_.cache_read_tokens);
    if (thoughts > 0) out += ",\"thoughtsTokenCount\":" + std::to_string(thoughts);
    out += ",\"totalTokenCount\":" + std::to_string(prompt + candidates + thoughts) + "}";
}

void GeminiGenerateContentWriter::append_candidate(std::string& out, size_t index, const Candidate& c,
                                                   bool with_finish) const {
    out += "{\"content\":{\"parts\":[";
    bool first = true;
    for (const Part& part : c.parts) {
        if (!first) out += ',';
        first = false;
        switch (part.type) {
        case PartType::text:
        case PartType::thought:
            out += "{\"text\":";
            json_quoted_append(out, part.text);
            if (part.type == PartType::thought) out += ",\"thought\":true";
            out += '}';
            break;
        case PartType::function_call:
            out += "{\"functionCall\":{";
            if (!part.id.empty()) {
                out += "\"id\":";
                json_quoted_append(out, part.id);
                out += ',';
            }
            out += "\"name\":";
            json_quoted_append(out, part.name);
            out += ",\"args\":";
            out += args_object(part.text);
            out += "}}";
            break;
        case PartType::image:
            out += "{\"inlineData\":{\"mimeType\":";
            json_quoted_append(out, part.name);
            out += ",\"data\":";
            json_quoted_append(out, part.text);
            out += "}}";
            break;
        }
    }
    if (first && with_finish) out += "{\"text\":\"\"}";  // Google's last chunk carries an empty text part
    out += "],\"role\":\"model\"}";
    if (with_finish) {
        out += ",\"finishReason\":\"";
        out += finish_reason_text(c.reason);
        out += '"';
    }
    out += ",\"index\":" + std::to_string(index) + "}";
}

void GeminiGenerateContentWriter::write_chunk(size_t index, const Part* part, bool final_chunk) {
    scratch_.clear();
    begin_chunk(scratch_);
    if (part != nullptr) {
        Candidate one;
        one.parts.push_back(*part);
        append_candidate(scratch_, index, one, false);
    } else {
        append_candidate(scratch_, index, candidates_[index], true);
    }
    scratch_ += ']';
    if (final_chunk) append_usage(scratch_);
    scratch_ += ",\"modelVersion\":";
    json_quoted_append(scratch_, options_.model.empty() ? model_ : options_.model);
    scratch_ += ",\"responseId\":";
    json_quoted_append(scratch_, options_.id.empty() ? id_ : options_.id);
    scratch_ += '}';
    out_->append("data: ").append(scratch_).append("\r\n\r\n");
}

void GeminiGenerateContentWriter::add_text(std::string_view text, bool thought) {
    if (ended() || text.empty()) return;
    content_started_ = true;
    Candidate& c = current();
    PartType type = thought ? PartType::thought : PartType::text;
    if (options_.stream) {
        Part part;
        part.type = type;
        part.text.assign(text);
        write_chunk(choice_, &part, false);
        return;
    }
    if (c.parts.empty() || c.parts.back().type != type) c.parts.emplace_back().type = type;
    c.parts.back().text.append(text);
}

void GeminiGenerateContentWriter::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                                  std::string_view arguments) {
    if (ended()) return;
    content_started_ = true;
    Part& part = current().parts.emplace_back();
    part.type = PartType::function_call;
    part.id.assign(id);
    part.name.assign(name);
    part.text.assign(arguments);
    part.tool_index = index;
}

void GeminiGenerateContentWriter::tool_call_arguments_delta(size_t index, std::string_view arguments) {
    if (ended()) return;
    Candidate& c = current();
    auto it = std::find_if(c.parts.rbegin(), c.parts.rend(), [&](const Part& p) {
        return p.type == PartType::function_call && p.tool_index == index;
    });
    if (it != c.parts.rend()) it->text.append(arguments);
}

void GeminiGenerateContentWriter::image(std::string_view media_type, std::string_view base64_data) {
    if (ended()) return;
    content_started_ = true;
    Part part;
    part.type = PartType::image;
    part.name.assign(media_type);
    part.text.assign(base64_data);
    if (options_.stream) {
        current();
        write_chunk(choice_, &part, false);
        return;
    }
    current().parts.push_back(std::move(part));
}

void GeminiGenerateContentWriter::usage(const canonical::UsageReport& report) {
    if (ended()) return;
    usage_seen_ = true;
    accumulate_usage(report, &tokens_, &usage_);
}

void GeminiGenerateContentWriter::finish(canonical::FinishReason reason) {
    if (ended()) return;
    content_started_ = true;
    Candidate& c = current();
    if (c.finished) return;
    c.finished = true;
    c.reason = reason;
    candidates_[0].begun = true;  // candidate 0 always exists
    bool all = std::all_of(candidates_.begin(), candidates_.end(), [](const Candidate& k) { return !k.begun || k.finished; });
    if (options_.stream) write_chunk(choice_, nullptr, all);
    if (!all) return;
    complete_ = true;
    if (options_.stream) return;
    std::string& out = *out_;
    begin_chunk(out);
    bool first = true;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        if (!candidates_[i].begun) continue;
        if (!first) out += ',';
        first = false;
        append_candidate(out, i, candidates_[i], true);
    }
    out += ']';
    append_usage(out);
    out += ",\"modelVersion\":";
    json_quoted_append(out, options_.model.empty() ? model_ : options_.model);
    out += ",\"responseId\":";
    json_quoted_append(out, options_.id.empty() ? id_ : options_.id);
    out += '}';
}

void GeminiGenerateContentWriter::error(const canonical::ErrorReport& report) {
    if (ended()) return;
    error_ = true;
    ApiError api;
    api.status = report.status;
    api.message.assign(report.message);
    std::string body = google_error_body(api);
    if (options_.stream) out_->append("data: ").append(body).append("\r\n\r\n");
    else out_->append(body);
}

}  // namespace routeshift
