#include "dialect/anthropic_messages_answer_writer.hpp"

#include "dialect/anthropic_error.hpp"
#include "dialect/usage_accumulation.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

#include <algorithm>

namespace routeshift {
namespace {

std::string_view stop_reason_text(canonical::FinishReason reason) {
    switch (reason) {
    case canonical::FinishReason::length: return "max_tokens";
    case canonical::FinishReason::tool_calls: return "tool_use";
    case canonical::FinishReason::content_filter: return "refusal";
    case canonical::FinishReason::stop: break;
    }
    return "end_turn";
}

std::string_view block_type_text(int type) {
    return type == 0 ? "text" : type == 1 ? "thinking" : "tool_use";
}

// A tool call's arguments as the `input` object: what the provider sent when it is a JSON object,
// else {} (a provider that broke off mid-arguments).
std::string_view input_object(std::string_view arguments) {
    JsonValue root;
    if (json_scan(arguments, &root, nullptr, nullptr) && root.is(JsonType::object)) return arguments;
    return "{}";
}

}  // namespace

AnthropicMessagesAnswerWriter::AnthropicMessagesAnswerWriter(AnthropicAnswerWriterOptions options)
    : options_(std::move(options)) {
    if (!options_.resume || !options_.stream) return;
    // the client has the message_start and blocks 0..resume_blocks-1: only their indexes matter
    ensure_started();
    blocks_.resize(options_.resume_blocks);
    open_ = options_.resume_text_open && !blocks_.empty();
    if (open_) blocks_.back().type = BlockType::text;
}

void AnthropicMessagesAnswerWriter::event(std::string_view name, std::string_view data) {
    out_->append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
}

void AnthropicMessagesAnswerWriter::message_start(const canonical::MessageStart& start) {
    if (started_) return;
    if (id_.empty()) id_.assign(start.id);
    if (model_.empty()) model_.assign(start.model);
}

void AnthropicMessagesAnswerWriter::append_usage(std::string& out, bool with_output) const {
    out += "{\"input_tokens\":" + std::to_string(std::max<int64_t>(tokens_.input_tokens, 0));
    out += ",\"cache_creation_input_tokens\":" + std::to_string(std::max<int64_t>(tokens_.cache_write_tokens, 0));
    out += ",\"cache_read_input_tokens\":" + std::to_string(std::max<int64_t>(tokens_.cache_read_tokens, 0));
    out += ",\"output_tokens\":" + std::to_string(with_output ? std::max<int64_t>(tokens_.output_tokens, 0) : 0);
    out += "}";
}

void AnthropicMessagesAnswerWriter::ensure_started() {
    if (started_) return;
    started_ = true;
    if (!options_.id.empty()) id_ = options_.id;
    else if (id_.empty()) id_ = "msg_gateway";
    if (!options_.model.empty()) model_ = options_.model;
    if (!options_.stream || options_.resume) return;
    scratch_ = "{\"type\":\"message_start\",\"message\":{\"id\":";
    json_quoted_append(scratch_, id_);
    scratch_ += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    json_quoted_append(scratch_, model_);
    scratch_ += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
    append_usage(scratch_, false);
    scratch_ += "}}";
    event("message_start", scratch_);
}

void AnthropicMessagesAnswerWriter::close_block() {
    if (!open_) return;
    open_ = false;
    if (!options_.stream) return;
    event("content_block_stop",
          "{\"type\":\"content_block_stop\",\"index\":" + std::to_string(blocks_.size() - 1) + "}");
}

AnthropicMessagesAnswerWriter::Block& AnthropicMessagesAnswerWriter::open_block(BlockType type) {
    if (open_ && blocks_.back().type == type && type != BlockType::tool_use) return blocks_.back();
    close_block();
    blocks_.emplace_back().type = type;
    open_ = true;
    return blocks_.back();
}

void AnthropicMessagesAnswerWriter::text_delta(std::string_view text) {
    if (skip() || text.empty()) return;
    ensure_started();
    content_started_ = true;
    bool fresh = !open_ || blocks_.back().type != BlockType::text;
    Block& block = open_block(BlockType::text);
    if (!options_.stream) {
        block.text.append(text);
        return;
    }
    std::string index = std::to_string(blocks_.size() - 1);
    if (fresh) {
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index +
                                         ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    }
    scratch_ = "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"text_delta\",\"text\":";
    json_quoted_append(scratch_, text);
    scratch_ += "}}";
    event("content_block_delta", scratch_);
}

void AnthropicMessagesAnswerWriter::reasoning_delta(std::string_view text) {
    if (skip() || text.empty()) return;
    ensure_started();
    content_started_ = true;
    bool fresh = !open_ || blocks_.back().type != BlockType::thinking;
    Block& block = open_block(BlockType::thinking);
    if (!options_.stream) {
        block.text.append(text);
        return;
    }
    std::string index = std::to_string(blocks_.size() - 1);
    if (fresh) {
        event("content_block_start",
              "{\"type\":\"content_block_start\",\"index\":" + index +
                  ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}");
    }
    scratch_ = "{\"type\":\"content_block_delta\",\"index\":" + index +
               ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":";
    json_quoted_append(scratch_, text);
    scratch_ += "}}";
    event("content_block_delta", scratch_);
}

void AnthropicMessagesAnswerWriter::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                                    std::string_view arguments) {
    if (skip()) return;
    ensure_started();
    content_started_ = true;
    Block& block = open_block(BlockType::tool_use);
    block.id.assign(id);
    block.name.assign(name);
    block.tool_index = index;
    if (!options_.stream) {
        block.text.assign(arguments);
        return;
    }
    scratch_ = "{\"type\":\"content_block_start\",\"index\":" + std::to_string(blocks_.size() - 1) +
               ",\"content_block\":{\"type\":\"tool_use\",\"id\":";
    json_quoted_append(scratch_, id);
    scratch_ += ",\"name\":";
    json_quoted_append(scratch_, name);
    scratch_ += ",\"input\":{}}}";
    event("content_block_start", scratch_);
    if (!arguments.empty()) tool_call_arguments_delta(index, arguments);
}

void AnthropicMessagesAnswerWriter::tool_call_arguments_delta(size_t index, std::string_view arguments) {
    if (skip() || arguments.empty()) return;
    // Anthropic streams one block at a time: deltas of a call whose block is closed have no place
    auto it = std::find_if(blocks_.rbegin(), blocks_.rend(),
                           [&](const Block& b) { return b.type == BlockType::tool_use && b.tool_index == index; });
    if (it == blocks_.rend()) return;
    if (!options_.stream) {
        it->text.append(arguments);
        return;
    }
    if (!open_ || &*it != &blocks_.back()) return;
    scratch_ = "{\"type\":\"content_block_delta\",\"index\":" + std::to_string(blocks_.size() - 1) +
               ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":";
    json_quoted_append(scratch_, arguments);
    scratch_ += "}}";
    event("content_block_delta", scratch_);
}

void AnthropicMessagesAnswerWriter::usage(const canonical::UsageReport& report) {
    if (ended()) return;
    accumulate_usage(report, &tokens_, &usage_);
}

void AnthropicMessagesAnswerWriter::write_message() {
    std::string& out = *out_;
    out += "{\"id\":";
    json_quoted_append(out, id_);
    out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    json_quoted_append(out, model_);
    out += ",\"content\":[";
    bool first = true;
    for (const Block& block : blocks_) {
        if (!first) out += ',';
        first = false;
        out += "{\"type\":\"";
        out += block_type_text((int)block.type);
        if (block.type == BlockType::tool_use) {
            out += "\",\"id\":";
            json_quoted_append(out, block.id);
            out += ",\"name\":";
            json_quoted_append(out, block.name);
            out += ",\"input\":";
            out += input_object(block.text);
        } else {
            out += block.type == BlockType::text ? "\",\"text\":" : "\",\"thinking\":";
            json_quoted_append(out, block.text);
            if (block.type == BlockType::thinking) out += ",\"signature\":\"\"";
        }
        out += '}';
    }
    out += "],\"stop_reason\":\"";
    out += stop_reason_text(stop_);
    out += "\",\"stop_sequence\":null,\"usage\":";
    append_usage(out, true);
    out += '}';
}

void AnthropicMessagesAnswerWriter::finish(canonical::FinishReason reason) {
    if (skip()) return;
    ensure_started();
    content_started_ = true;
    stop_ = reason;
    // a call that was made ends the turn with tool_use whatever the provider called its reason
    if (std::any_of(blocks_.begin(), blocks_.end(), [](const Block& b) { return b.type == BlockType::tool_use; })) {
        stop_ = canonical::FinishReason::tool_calls;
    }
    close_block();
    complete_ = true;
    if (!options_.stream) {
        write_message();
        return;
    }
    scratch_ = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"";
    scratch_ += stop_reason_text(stop_);
    scratch_ += "\",\"stop_sequence\":null},\"usage\":";
    append_usage(scratch_, true);
    scratch_ += '}';
    event("message_delta", scratch_);
    event("message_stop", "{\"type\":\"message_stop\"}");
}

void AnthropicMessagesAnswerWriter::error(const canonical::ErrorReport& report) {
    if (ended()) return;
    error_ = true;
    ApiError api;
    api.status = report.status;
    api.message.assign(report.message);
    out_->append(options_.stream ? anthropic_error_event(api) : anthropic_error_body(api));
}

void AnthropicMessagesAnswerWriter::keep_alive() {
    if (ended() || !options_.stream) return;
    ensure_started();
    event("ping", "{\"type\":\"ping\"}");
}

}  // namespace routeshift
