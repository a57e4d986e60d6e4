// The continuation attempt's translator (see continuation_translator.hpp).
#include "continuation/continuation_translator.hpp"

#include "continuation/stream_overlap.hpp"
#include "dialect/usage_accumulation.hpp"

#include <algorithm>
#include <new>

namespace routeshift {

template <typename Writer>
bool ContinuationTranslator<Writer>::feed(std::string_view bytes, std::string* out) {
    writer_.bind(out);
    try {
        if (writer_.saw_error() || finished_) return false;
        if (writer_.complete()) return true;
        bool ok = decoder_->feed(bytes, *this);
        return ok && !writer_.saw_error();
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        writer_.error(stream_error_report("internal error while translating the continuation", "translation_error"));
        return false;
    }
}

template <typename Writer>
bool ContinuationTranslator<Writer>::finish(std::string* out) {
    writer_.bind(out);
    try {
        bool first_call = !finished_;
        finished_ = true;
        if (first_call && !writer_.ended()) decoder_->finish(*this);
        return writer_.complete();
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        writer_.error(stream_error_report("internal error while translating the continuation", "translation_error"));
        return false;
    }
}

template <typename Writer>
void ContinuationTranslator<Writer>::flush_overlap() {
    if (overlap_done_) return;
    overlap_done_ = true;
    size_t k = overlap_length(options_.delivered_tail, pending_, options_.min_overlap, options_.max_overlap);
    if (pending_.size() > k) writer_.text_delta(std::string_view(pending_).substr(k));
    pending_.clear();
}

template <typename Writer>
void ContinuationTranslator<Writer>::text_delta(std::string_view text) {
    started_ |= !text.empty();
    if (overlap_done_) {
        writer_.text_delta(text);
        return;
    }
    pending_.append(text);
    if (overlap_may_grow(options_.delivered_tail, pending_, options_.max_overlap)) return;  // wait for more
    flush_overlap();
}

template <typename Writer>
void ContinuationTranslator<Writer>::refusal_delta(std::string_view text) {
    flush_overlap();
    started_ |= !text.empty();
    writer_.refusal_delta(text);
}

template <typename Writer>
void ContinuationTranslator<Writer>::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                             std::string_view arguments) {
    flush_overlap();
    started_ = true;
    writer_.tool_call_start(index, id, name, arguments);
}

template <typename Writer>
void ContinuationTranslator<Writer>::tool_call_arguments_delta(size_t index, std::string_view arguments) {
    writer_.tool_call_arguments_delta(index, arguments);
}

template <typename Writer>
void ContinuationTranslator<Writer>::image(std::string_view media_type, std::string_view base64_data) {
    flush_overlap();
    started_ = true;
    writer_.image(media_type, base64_data);
}

// The client's usage = the earlier attempts' + this one's (reports are cumulative per field).
template <typename Writer>
void ContinuationTranslator<Writer>::forward_usage() {
    const Usage& e = options_.earlier;
    int64_t earlier_cached = std::max<int64_t>(e.cached_tokens, 0);
    canonical::UsageReport sum;
    sum.input_tokens = std::max<int64_t>(own_tokens_.input_tokens, 0) +
                       std::max<int64_t>(std::max<int64_t>(e.prompt_tokens, 0) - earlier_cached, 0);
    sum.cache_read_tokens = std::max<int64_t>(own_tokens_.cache_read_tokens, 0) + earlier_cached;
    sum.cache_write_tokens = own_tokens_.cache_write_tokens;
    sum.output_tokens = std::max<int64_t>(own_tokens_.output_tokens, 0) + std::max<int64_t>(e.completion_tokens, 0);
    sum.reasoning_tokens = own_tokens_.reasoning_tokens;
    writer_.usage(sum);
    usage_forwarded_ = true;
}

template <typename Writer>
void ContinuationTranslator<Writer>::usage(const canonical::UsageReport& report) {
    accumulate_usage(report, &own_tokens_, &own_usage_);
    if (own_usage_.prompt_tokens >= 0 || own_usage_.completion_tokens >= 0) forward_usage();
}

template <typename Writer>
void ContinuationTranslator<Writer>::finish(canonical::FinishReason reason) {
    flush_overlap();
    started_ = true;
    if (!usage_forwarded_ && (options_.earlier.prompt_tokens >= 0 || options_.earlier.completion_tokens >= 0)) {
        forward_usage();
    }
    writer_.finish(reason);
}

template <typename Writer>
void ContinuationTranslator<Writer>::error(const canonical::ErrorReport& error) {
    flush_overlap();
    writer_.error(error);
}

template class ContinuationTranslator<OpenAIChatWriter>;
template class ContinuationTranslator<AnthropicMessagesAnswerWriter>;
template class ContinuationTranslator<GeminiGenerateContentWriter>;

std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options, OpenAIChatWriterOptions writer) {
    writer.resume = true;
    return std::make_unique<ContinuationTranslator<OpenAIChatWriter>>(std::move(decoder), std::move(options),
                                                                      std::move(writer));
}

std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options,
                                                            AnthropicAnswerWriterOptions writer) {
    writer.resume = true;
    return std::make_unique<ContinuationTranslator<AnthropicMessagesAnswerWriter>>(
        std::move(decoder), std::move(options), std::move(writer));
}

std::unique_ptr<ResponseTranslator> continuation_translator(std::unique_ptr<ResponseDecoder> decoder,
                                                            ContinuationOptions options, GeminiAnswerWriterOptions writer) {
    return std::make_unique<ContinuationTranslator<GeminiGenerateContentWriter>>(
        std::move(decoder), std::move(options), std::move(writer));
}

}  // namespace routeshift
