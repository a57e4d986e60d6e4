// The continuation attempt's translator (see continuation_translator.hpp).
#include "continuation/continuation_translator.hpp"

#include "continuation/stream_overlap.hpp"
#include "dialect/usage_accumulation.hpp"

#include <algorithm>
#include <new>

namespace routeshift {

ContinuationTranslator::ContinuationTranslator(std::unique_ptr<ResponseDecoder> decoder, ContinuationOptions options)
    : decoder_(std::move(decoder)), options_(std::move(options)), writer_(options_.writer) {
    overlap_done_ = options_.max_overlap == 0;
}

bool ContinuationTranslator::feed(std::string_view bytes, std::string* out) {
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

bool ContinuationTranslator::finish(std::string* out) {
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

void ContinuationTranslator::flush_overlap() {
    if (overlap_done_) return;
    overlap_done_ = true;
    size_t k = overlap_length(options_.delivered_tail, pending_, options_.min_overlap, options_.max_overlap);
    if (pending_.size() > k) writer_.text_delta(std::string_view(pending_).substr(k));
    pending_.clear();
}

void ContinuationTranslator::text_delta(std::string_view text) {
    started_ |= !text.empty();
    if (overlap_done_) {
        writer_.text_delta(text);
        return;
    }
    pending_.append(text);
    if (overlap_may_grow(options_.delivered_tail, pending_, options_.max_overlap)) return;  // wait for more
    flush_overlap();
}

void ContinuationTranslator::refusal_delta(std::string_view text) {
    flush_overlap();
    started_ |= !text.empty();
    writer_.refusal_delta(text);
}

void ContinuationTranslator::tool_call_start(size_t index, std::string_view id, std::string_view name,
                                             std::string_view arguments) {
    flush_overlap();
    started_ = true;
    writer_.tool_call_start(index, id, name, arguments);
}

void ContinuationTranslator::tool_call_arguments_delta(size_t index, std::string_view arguments) {
    writer_.tool_call_arguments_delta(index, arguments);
}

void ContinuationTranslator::image(std::string_view media_type, std::string_view base64_data) {
    flush_overlap();
    started_ = true;
    writer_.image(media_type, base64_data);
}

// The client's usage = the earlier attempts' + this one's (reports are cumulative per field).
void ContinuationTranslator::forward_usage() {
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

void ContinuationTranslator::usage(const canonical::UsageReport& report) {
    accumulate_usage(report, &own_tokens_, &own_usage_);
    if (own_usage_.prompt_tokens >= 0 || own_usage_.completion_tokens >= 0) forward_usage();
}

void ContinuationTranslator::finish(canonical::FinishReason reason) {
    flush_overlap();
    started_ = true;
    if (!usage_forwarded_ && (options_.earlier.prompt_tokens >= 0 || options_.earlier.completion_tokens >= 0)) {
        forward_usage();
    }
    writer_.finish(reason);
}

void ContinuationTranslator::error(const canonical::ErrorReport& error) {
    flush_overlap();
    writer_.error(error);
}

}  // namespace routeshift
