// Gemini response decoder: GenerateContentResponse JSON or `alt=sse` events -> canonical events,
// one upstream event at a time. Finish reasons, usage fields and the candidate / part structure
// are mapped here; the OpenAI chat writer does usage sums and chunk writing.
#include "egress/gemini/gemini_internal.hpp"

#include "egress/response_decoder.hpp"
#include "util/hex.hpp"
#include "util/sse_parser.hpp"

#include <vector>

namespace routeshift {

using namespace gemini_internal;

namespace {

// Per-request budget of a non-streaming answer (it may carry generated images), checked before a
// byte is buffered; the parsed DOM costs about twice the text on top. Stream events: SseParser's
// 4 MiB default per event.
constexpr size_t kMaxJsonBody = 16u << 20;
constexpr size_t kMaxChoices = 16;          // candidateCount is at most 8
constexpr string_view kFallbackId = "chatcmpl-gemini";  // neither the gateway nor Gemini named the answer

// FNV-1a 64 + the splitmix64 finalizer (full avalanche), for deterministic synthesized tool-call ids.
uint64_t fnv1a(string_view s, uint64_t h) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

// Gemini finishReason -> canonical. RECITATION withholds the rest of the answer because of a
// citation filter, so it is content_filter ("stop" would make a cut answer look complete).
canonical::FinishReason map_finish(string_view reason) {
    if (reason == "MAX_TOKENS") return canonical::FinishReason::length;
    static const char* const filtered[] = {"SAFETY",      "BLOCKLIST",         "PROHIBITED_CONTENT",
                                           "SPII",        "IMAGE_SAFETY",      "IMAGE_PROHIBITED_CONTENT",
                                           "LANGUAGE",    "RECITATION",        "IMAGE_RECITATION",
                                           "MODEL_ARMOR", "JAILBREAK"};
    for (const char* name : filtered) {
        if (reason == name) return canonical::FinishReason::content_filter;
    }
    return canonical::FinishReason::stop;  // STOP, OTHER, IMAGE_OTHER, NO_IMAGE, MALFORMED_FUNCTION_CALL, ...
}

// usageMetadata: proto3 omits zero counts, so every report states every field. promptTokenCount
// includes the cached tokens; tool-use prompt tokens are prompt tokens; thoughts are output.
canonical::UsageReport usage_report(const json_t* metadata) {
    auto count = [&](const char* key) -> int64_t {
        const json_t* v = json_object_get(metadata, key);
        return json_is_integer(v) ? static_cast<int64_t>(json_integer_value(v)) : 0;
    };
    int64_t prompt = count("promptTokenCount") + count("toolUsePromptTokenCount");
    int64_t cached = count("cachedContentTokenCount");
    int64_t thoughts = count("thoughtsTokenCount");
    canonical::UsageReport report;
    report.input_tokens = std::max<int64_t>(prompt - cached, 0);
    report.cache_read_tokens = cached;
    report.output_tokens = count("candidatesTokenCount") + thoughts;
    report.reasoning_tokens = thoughts;
    return report;
}

canonical::ErrorReport invalid_upstream(string_view message) {
    return stream_error_report(message, "invalid_upstream_response");
}

class GeminiDecoder final : public ResponseDecoder {
public:
    GeminiDecoder(bool stream, string gateway_id) : stream_(stream), gateway_id_(std::move(gateway_id)) {}

    bool feed(string_view bytes, canonical::EventSink& sink) override;
    void finish(canonical::EventSink& sink) override;

private:
    struct Choice {
        bool seen = false;  // a candidate with this index arrived
        string finish;      // last Gemini finishReason ("" = none yet)
        size_t tool_calls = 0;
    };

    void on_event(const SseEvent& event, canonical::EventSink& sink);
    void process(const json_t* response, canonical::EventSink& sink);
    void process_candidate(const json_t* candidate, canonical::EventSink& sink);
    void tool_call(size_t index, Choice& choice, const json_t* part, canonical::EventSink& sink);
    void read_logprobs(const json_t* result);
    void start(const json_t* response, canonical::EventSink& sink);
    void fail(canonical::EventSink& sink, const canonical::ErrorReport& report);
    void fail_truncated(canonical::EventSink& sink, string_view message);
    void finish_choices(canonical::EventSink& sink);
    bool signalled_complete() const;
    bool blocked() const { return !block_reason_.empty() || (feedback_only_ && !any_seen()); }
    bool any_seen() const {
        for (const auto& c : choices_) {
            if (c.seen) return true;
        }
        return false;
    }
    canonical::FinishReason finish_of(const Choice& c) const {
        // Gemini sends function calls whole, so a choice that made calls is answered by them.
        if (c.tool_calls > 0) return canonical::FinishReason::tool_calls;
        if (c.finish.empty()) return blocked() ? canonical::FinishReason::content_filter : canonical::FinishReason::stop;
        return map_finish(c.finish);
    }

    bool stream_;
    string gateway_id_;            // the id the gateway gives the answer ("" = the provider's)
    SseParser parser_;
    string body_;                  // non-streaming answer
    std::vector<Choice> choices_;
    string block_reason_;
    bool feedback_only_ = false;   // a promptFeedback arrived in an event without candidates
    bool started_ = false;         // message_start was sent
    string id_;                    // the answer's id as the client sees it (seeds tool-call ids)
    bool broken_ = false;          // no more input is accepted
    // truncation tracking (streams): position after the last non-blank byte fed, and the number
    // of bytes the SSE parser delivered as events
    uint64_t fed_ = 0, last_text_end_ = 0, dispatched_ = 0;
    // logprobsResult of the current candidate, in the canonical shape (views into the DOM and
    // logprob_numbers_)
    std::vector<canonical::TokenLogprobs> logprob_tokens_;
    std::vector<canonical::TokenLogprob> logprob_alternatives_;
    string logprob_numbers_;
    string run_;
};

void GeminiDecoder::fail(canonical::EventSink& sink, const canonical::ErrorReport& report) {
    sink.error(report);
    broken_ = true;
}

void GeminiDecoder::fail_truncated(canonical::EventSink& sink, string_view message) {
    fail(sink, stream_error_report(message, stream_ ? "stream_truncated" : "invalid_upstream_response"));
}

// The first response fixes id and model. The id the client sees is the gateway's, else
// "chatcmpl-<responseId>", else the writer's fallback -- the same rule the writer applies, needed
// here because synthesized tool-call ids derive from it.
void GeminiDecoder::start(const json_t* response, canonical::EventSink& sink) {
    if (started_) return;
    started_ = true;
    string_view response_id = json_string_view(response, "responseId");
    string provider_id = response_id.empty() ? string() : "chatcmpl-" + string(response_id);
    id_ = !gateway_id_.empty() ? gateway_id_ : !provider_id.empty() ? provider_id : string(kFallbackId);
    sink.message_start({provider_id, json_string_view(response, "modelVersion")});
}

// logprobsResult -> one TokenLogprobs per chosen token, paired with topCandidates at the same
// position.
void GeminiDecoder::read_logprobs(const json_t* result) {
    const json_t* chosen = json_object_get(result, "chosenCandidates");
    const json_t* top = json_object_get(result, "topCandidates");
    logprob_tokens_.clear();
    logprob_alternatives_.clear();
    logprob_numbers_.clear();
    // Numbers are dumped into one buffer first and viewed after, as appending may move it.
    std::vector<std::pair<size_t, size_t>> number_ranges;
    auto number = [&](const json_t* token) {
        const json_t* value = json_object_get(token, "logProbability");
        size_t begin = logprob_numbers_.size();
        if (json_is_number(value)) json_dump_append(logprob_numbers_, value);
        else logprob_numbers_ += '0';
        number_ranges.emplace_back(begin, logprob_numbers_.size() - begin);
    };
    std::vector<std::pair<size_t, size_t>> alternative_ranges;
    size_t i;
    json_t* token;
    json_array_foreach(chosen, i, token) {
        logprob_tokens_.push_back({{json_string_view(token, "token"), {}}, {}});
        number(token);
        const json_t* alternatives = json_object_get(json_array_get(top, i), "candidates");
        size_t begin = logprob_alternatives_.size(), k;
        json_t* alternative;
        json_array_foreach(alternatives, k, alternative) {
            logprob_alternatives_.push_back({json_string_view(alternative, "token"), {}});
            number(alternative);
        }
        alternative_ranges.emplace_back(begin, logprob_alternatives_.size() - begin);
    }
    // number_ranges holds each chosen token followed by its alternatives, in order
    string_view numbers(logprob_numbers_);
    size_t next = 0;
    for (size_t t = 0; t < logprob_tokens_.size(); ++t) {
        logprob_tokens_[t].chosen.logprob = numbers.substr(number_ranges[next].first, number_ranges[next].second);
        ++next;
        auto [begin, count] = alternative_ranges[t];
        for (size_t k = begin; k < begin + count; ++k, ++next)
            logprob_alternatives_[k].logprob = numbers.substr(number_ranges[next].first, number_ranges[next].second);
        logprob_tokens_[t].top = std::span<const canonical::TokenLogprob>(logprob_alternatives_.data() + begin, count);
    }
}

void GeminiDecoder::tool_call(size_t index, Choice& choice, const json_t* part, canonical::EventSink& sink) {
    const json_t* call = json_object_get(part, "functionCall");
    const json_t* args = json_object_get(call, "args");
    string arguments;
    if (json_is_object(args)) json_dump_append(arguments, args);
    else arguments = "{}";
    size_t ordinal = choice.tool_calls++;
    string id(json_string_view(call, "id"));
    if (id.empty()) {
        // Gemini usually sends no id: derive one from the answer id, choice and ordinal so it is
        // unique per answer and identical however the stream was split.
        string seed = id_ + "/" + std::to_string(index) + "/" + std::to_string(ordinal);
        uint64_t a = fnv1a(seed, 14695981039346656037ULL), b = fnv1a(seed, 0x9e3779b97f4a7c15ULL);
        id = "call_";
        append_hex_digits(id, a >> 16, 12);  // the top 12 digits of each
        append_hex_digits(id, b >> 16, 12);
    }
    string_view signature = json_string_view(part, "thoughtSignature");
    if (!signature.empty()) {
        id += kThoughtSep;
        id += signature;
    }
    sink.tool_call_start(ordinal, id, json_string_view(call, "name"), arguments);
}

void GeminiDecoder::process_candidate(const json_t* candidate, canonical::EventSink& sink) {
    if (!json_is_object(candidate)) return;
    const json_t* index_value = json_object_get(candidate, "index");
    json_int_t raw_index = json_is_integer(index_value) ? json_integer_value(index_value) : 0;
    if (raw_index < 0 || static_cast<size_t>(raw_index) >= kMaxChoices)
        return fail(sink, invalid_upstream("Gemini sent a candidate index the gateway does not accept"));
    size_t index = static_cast<size_t>(raw_index);
    if (choices_.size() <= index) choices_.resize(index + 1);
    Choice& choice = choices_[index];
    choice.seen = true;
    sink.choice(index);

    // The candidate's log probabilities go with its first text run (else alone, after its parts).
    const json_t* logprobs = json_object_get(candidate, "logprobsResult");
    bool logprobs_pending = json_is_object(logprobs);
    if (logprobs_pending) read_logprobs(logprobs);
    if (logprobs_pending && logprob_tokens_.empty() && stream_) logprobs_pending = false;  // nothing to show

    // Consecutive parts of one kind (text / thought) are sent as one delta.
    enum class Run { none, text, thought } run_kind = Run::none;
    run_.clear();
    auto flush = [&]() {
        if (run_kind == Run::thought) {
            sink.reasoning_delta(run_);
        } else if (run_kind == Run::text) {
            if (logprobs_pending) sink.text_delta_with_logprobs(run_, logprob_tokens_);
            else sink.text_delta(run_);
            logprobs_pending = false;
        }
        run_.clear();
        run_kind = Run::none;
    };
    const json_t* parts = json_object_get(json_object_get(candidate, "content"), "parts");
    size_t i;
    json_t* part;
    json_array_foreach(parts, i, part) {
        if (!json_is_object(part)) continue;
        const json_t* text = json_object_get(part, "text");
        if (json_is_string(text)) {
            if (json_string_length(text) == 0) continue;  // e.g. a bare thoughtSignature carrier
            Run kind = json_is_true(json_object_get(part, "thought")) ? Run::thought : Run::text;
            if (kind != run_kind) flush();
            run_kind = kind;
            run_.append(json_string_view(text));
        } else if (json_is_object(json_object_get(part, "functionCall"))) {
            flush();
            tool_call(index, choice, part, sink);
        } else if (const json_t* inline_data = json_object_get(part, "inlineData"); json_is_object(inline_data)) {
            flush();
            string_view data = json_string_view(inline_data, "data");
            string_view media_type = json_string_view(inline_data, "mimeType");
            if (!json_is_true(json_object_get(part, "thought")) && !data.empty())
                sink.image(media_type.empty() ? string_view("application/octet-stream") : media_type, data);
        }
        // executableCode / codeExecutionResult / fileData: only produced by tools this adapter
        // never enables
    }
    flush();
    if (logprobs_pending) sink.text_delta_with_logprobs({}, logprob_tokens_);
    if (const json_t* reason = json_object_get(candidate, "finishReason"); json_is_string(reason) && json_string_length(reason) > 0)
        choice.finish = json_string_view(reason);
}

void GeminiDecoder::process(const json_t* response, canonical::EventSink& sink) {
    if (json_is_array(response)) {  // a JSON array of responses (streamGenerateContent without alt=sse)
        size_t i;
        json_t* item;
        json_array_foreach(response, i, item) {
            if (broken_) return;
            process(item, sink);
        }
        return;
    }
    if (!json_is_object(response)) return fail(sink, invalid_upstream("Gemini sent an event that is not a JSON object"));
    if (const json_t* error = find_error(response)) return fail(sink, error_report_for(verdict(0, read_google_error(error)).error));
    start(response, sink);
    const json_t* candidates = json_object_get(response, "candidates");
    size_t i;
    json_t* candidate;
    json_array_foreach(candidates, i, candidate) {
        process_candidate(candidate, sink);
        if (broken_) return;
    }
    if (const json_t* feedback = json_object_get(response, "promptFeedback"); json_is_object(feedback)) {
        string_view reason = json_string_view(feedback, "blockReason");
        if (!reason.empty() && reason != "BLOCKED_REASON_UNSPECIFIED") block_reason_ = reason;
        if (json_array_size(candidates) == 0) feedback_only_ = true;
    }
    if (const json_t* metadata = json_object_get(response, "usageMetadata"); json_is_object(metadata))
        sink.usage(usage_report(metadata));
}

// One SSE event. Gemini sends `data: <GenerateContentResponse>`; an error may also arrive as a raw
// JSON object outside any data: field (recorded: firebase-vertexai_streaming-failure-error-mid-
// stream.sse), which the SSE parser sees as lines of unknown fields.
void GeminiDecoder::on_event(const SseEvent& event, canonical::EventSink& sink) {
    dispatched_ += event.raw.size();
    if (broken_) return;
    // the first line that is not an SSE field (data/event/id/retry) or comment
    size_t foreign = string_view::npos;
    {
        string_view raw = event.raw;
        size_t p = 0;
        while (p < raw.size()) {
            size_t e = raw.find_first_of("\r\n", p);
            if (e == string_view::npos) e = raw.size();
            string_view line = raw.substr(p, e - p);
            if (!line.empty() && line.front() != ':') {
                string_view field = line.substr(0, line.find(':'));
                if (field.starts_with("\xEF\xBB\xBF")) field.remove_prefix(3);
                if (field != "data" && field != "event" && field != "id" && field != "retry") {
                    foreign = p;
                    break;
                }
            }
            p = e;
            if (p < raw.size() && raw[p] == '\r') ++p;
            if (p < raw.size() && raw[p] == '\n') ++p;
        }
    }
    string_view data = trim(event.data);
    if (!data.empty()) {
        JsonPtr json = json_parse(data, nullptr);
        if (!json) return fail(sink, invalid_upstream("Gemini sent a stream event that is not valid JSON"));
        process(json.get(), sink);
        if (broken_) return;
    }
    if (foreign != string_view::npos) {
        JsonPtr json = json_parse(trim(event.raw.substr(foreign)), nullptr);
        const json_t* error = json ? find_error(json.get()) : nullptr;
        if (error) fail(sink, error_report_for(verdict(0, read_google_error(error)).error));
        else fail(sink, invalid_upstream("Gemini sent data outside the SSE framing"));
    }
}

bool GeminiDecoder::feed(string_view bytes, canonical::EventSink& sink) {
    if (broken_) return false;
    if (!stream_) {
        if (body_.size() + bytes.size() > kMaxJsonBody) {
            fail(sink, stream_error_report("Gemini answer is larger than the gateway accepts", "upstream_response_too_large"));
            return false;
        }
        body_.append(bytes);
        return true;
    }
    for (size_t i = bytes.size(); i > 0; --i) {
        if (!is_ws(bytes[i - 1])) {
            last_text_end_ = fed_ + i;
            break;
        }
    }
    fed_ += bytes.size();
    if (!parser_.feed(bytes, [this, &sink](const SseEvent& event) { on_event(event, sink); }) && !broken_)
        fail(sink, stream_error_report("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
    return !broken_;
}

// Gemini's only end-of-answer signal is a finishReason on every candidate *plus* the clean end of
// the body (a finishReason may be followed by more data or an error, as recorded), so choices
// finish only here.
bool GeminiDecoder::signalled_complete() const {
    if (blocked()) return true;
    bool any = false;
    for (const auto& c : choices_) {
        if (!c.seen) continue;
        any = true;
        if (c.finish.empty()) return false;
    }
    return any;
}

// Choice 0 always (the writer began it), then every other candidate seen, in index order.
void GeminiDecoder::finish_choices(canonical::EventSink& sink) {
    if (choices_.empty()) choices_.resize(1);
    for (size_t i = 0; i < choices_.size(); ++i) {
        if (i > 0 && !choices_[i].seen) continue;
        sink.choice(i);
        sink.finish(finish_of(choices_[i]));
    }
}

void GeminiDecoder::finish(canonical::EventSink& sink) {
    if (broken_) return;
    if (!stream_) {
        string_view body = trim(body_);
        JsonPtr root = json_parse(body, nullptr);
        if (!root)
            return fail_truncated(sink, body.empty() ? "Gemini sent an empty answer" : "Gemini sent an answer that is not valid JSON");
        process(root.get(), sink);
        if (broken_) return;
        if (!started_ || (!any_seen() && !blocked())) return fail_truncated(sink, "Gemini sent an answer without candidates");
        // A unary answer is complete by construction (the HTTP body ended cleanly); a candidate
        // without finishReason is reported as "stop".
        return finish_choices(sink);
    }
    parser_.flush([this, &sink](const SseEvent& event) { on_event(event, sink); });
    if (broken_) return;
    if (last_text_end_ > dispatched_) return fail_truncated(sink, "upstream stream ended in the middle of an event");
    if (!signalled_complete()) return fail_truncated(sink, "upstream stream ended before completion");
    finish_choices(sink);
}

}  // namespace

std::unique_ptr<ResponseDecoder> gemini_response_decoder(bool stream, std::string gateway_id) {
    return std::make_unique<GeminiDecoder>(stream, std::move(gateway_id));
}

std::unique_ptr<ResponseTranslator> gemini_translator(const TranslatorOptions& opt) {
    return std::make_unique<DecodedResponseTranslator>(gemini_response_decoder(opt.stream, opt.id),
                                                       writer_options(opt, kFallbackId));
}

}  // namespace routeshift
