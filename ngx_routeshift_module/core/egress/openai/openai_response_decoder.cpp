// OpenAI chat answer decoder: a `chat.completion` JSON or `chat.completion.chunk` SSE -> canonical
// events, for clients of another dialect served by an OpenAI-wire provider (OpenAI clients get
// OpenAI answers relayed, never decoded). Usage is reported before the finish of a choice: the
// finish of a stream waits for its usage chunk (the splice asks for one) or its end.
#include "egress/response_decoder.hpp"
#include "util/json_util.hpp"
#include "util/sse_parser.hpp"

#include <optional>
#include <vector>

namespace routeshift {
namespace {

constexpr size_t kMaxJsonBody = 64u << 20;  // the held-answer bound
constexpr size_t kMaxChoices = 16;

canonical::FinishReason map_finish(std::string_view reason) {
    if (reason == "length") return canonical::FinishReason::length;
    if (reason == "tool_calls" || reason == "function_call") return canonical::FinishReason::tool_calls;
    if (reason == "content_filter") return canonical::FinishReason::content_filter;
    return canonical::FinishReason::stop;
}

// OpenAI's prompt_tokens include the cached ones; the canonical input_tokens do not.
canonical::UsageReport usage_report(const json_t* usage) {
    canonical::UsageReport report;
    long long prompt = 0, completion = 0, cached = 0, reasoning = 0;
    json_get_int(usage, "prompt_tokens", &prompt);
    json_get_int(usage, "completion_tokens", &completion);
    json_get_int(json_object_get(usage, "prompt_tokens_details"), "cached_tokens", &cached);
    json_get_int(json_object_get(usage, "completion_tokens_details"), "reasoning_tokens", &reasoning);
    report.input_tokens = prompt > cached ? prompt - cached : 0;
    report.cache_read_tokens = cached;
    report.output_tokens = completion;
    report.reasoning_tokens = reasoning;
    return report;
}

class OpenAIDecoder final : public ResponseDecoder {
public:
    explicit OpenAIDecoder(bool stream) : stream_(stream) {}

    bool feed(std::string_view bytes, canonical::EventSink& sink) override {
        if (broken_) return false;
        if (!stream_) {
            if (json_.size() + bytes.size() > kMaxJsonBody) return fail(sink, "the provider's answer is too large");
            json_.append(bytes);
            return true;
        }
        bool ok = parser_.feed(bytes, [&](const SseEvent& e) { on_event(e, sink); });
        if (!ok) return fail(sink, "a stream event of the provider is too large");
        return !broken_;
    }

    void finish(canonical::EventSink& sink) override {
        if (broken_) return;
        if (!stream_) return decode_json(sink);
        parser_.flush([&](const SseEvent& e) { on_event(e, sink); });
        if (broken_) return;
        // a stream is complete on [DONE], or when every choice that began has its finish reason
        bool all_finished = !choices_.empty();
        for (const ChoiceState& c : choices_) all_finished &= c.finish_reason.has_value() || !c.begun;
        if (!done_ && !all_finished) {
            fail(sink, "the provider's stream ended before completion");
            return;
        }
        flush_finishes(sink);
    }

private:
    struct ChoiceState {
        bool begun = false;
        std::optional<canonical::FinishReason> finish_reason;
        std::vector<bool> calls;  // which tool-call indexes have started
    };

    bool fail(canonical::EventSink& sink, std::string_view message) {
        broken_ = true;
        sink.error(stream_error_report(message, "invalid_upstream_response"));
        return false;
    }

    void start(const json_t* root, canonical::EventSink& sink) {
        if (started_) return;
        started_ = true;
        canonical::MessageStart start;
        start.id = json_string_view(root, "id");
        start.model = json_string_view(root, "model");
        sink.message_start(start);
    }

    ChoiceState& choice_state(size_t index) {
        if (choices_.size() <= index) choices_.resize(index + 1);
        return choices_[index];
    }

    void tool_call(ChoiceState& state, size_t index, const json_t* call, bool whole, canonical::EventSink& sink) {
        const json_t* function = json_object_get(call, "function");
        std::string_view arguments = json_string_view(function, "arguments");
        if (state.calls.size() <= index) state.calls.resize(index + 1, false);
        if (!state.calls[index]) {
            state.calls[index] = true;
            sink.tool_call_start(index, json_string_view(call, "id"), json_string_view(function, "name"),
                                 whole ? arguments : std::string_view{});
            if (whole) return;
        }
        if (!arguments.empty()) sink.tool_call_arguments_delta(index, arguments);
    }

    // A message (JSON) or a delta (stream) of choice `index`.
    void content(size_t index, const json_t* message, bool whole, canonical::EventSink& sink) {
        ChoiceState& state = choice_state(index);
        sink.choice(index);
        state.begun = true;
        if (std::string_view r = json_string_view(message, "reasoning_content"); !r.empty()) sink.reasoning_delta(r);
        else if (std::string_view r2 = json_string_view(message, "reasoning"); !r2.empty()) sink.reasoning_delta(r2);
        if (std::string_view t = json_string_view(message, "content"); !t.empty()) sink.text_delta(t);
        if (std::string_view t = json_string_view(message, "refusal"); !t.empty()) sink.refusal_delta(t);
        const json_t* calls = json_object_get(message, "tool_calls");
        size_t i;
        const json_t* call;
        json_array_foreach(calls, i, call) {
            long long at = (long long)i;
            if (!whole) json_get_int(call, "index", &at);
            if (at < 0 || at > 1024) continue;
            tool_call(state, (size_t)at, call, whole, sink);
        }
    }

    void flush_finishes(canonical::EventSink& sink) {
        if (usage_) sink.usage(*usage_);
        usage_.reset();
        for (size_t i = 0; i < choices_.size(); ++i) {
            if (!choices_[i].begun) continue;
            sink.choice(i);
            sink.finish(choices_[i].finish_reason.value_or(canonical::FinishReason::stop));
        }
    }

    bool upstream_error(const json_t* root, canonical::EventSink& sink) {
        const json_t* error = json_object_get(root, "error");
        if (!error) return false;
        broken_ = true;
        std::string_view message = json_is_string(error) ? json_string_view(error) : json_string_view(error, "message");
        canonical::ErrorReport report = stream_error_report(message.empty() ? "the provider reported an error" : message,
                                                            "upstream_error");
        sink.error(report);
        return true;
    }

    void on_event(const SseEvent& e, canonical::EventSink& sink) {
        if (broken_ || done_ || e.data.empty()) return;
        if (e.data == "[DONE]") {
            done_ = true;
            return;
        }
        JsonPtr root = json_parse(e.data, nullptr);
        if (!json_is_object(root.get())) return;  // skipped, as the OpenAI relay does
        if (upstream_error(root.get(), sink)) return;
        start(root.get(), sink);
        if (const json_t* usage = json_object_get(root.get(), "usage"); json_is_object(usage)) {
            usage_ = usage_report(usage);
        }
        size_t i;
        const json_t* choice;
        json_array_foreach(json_object_get(root.get(), "choices"), i, choice) {
            long long index = 0;
            json_get_int(choice, "index", &index);
            if (index < 0 || (size_t)index >= kMaxChoices) continue;
            if (const json_t* delta = json_object_get(choice, "delta"); json_is_object(delta)) {
                content((size_t)index, delta, false, sink);
            }
            if (std::string_view reason = json_string_view(choice, "finish_reason"); !reason.empty()) {
                choice_state((size_t)index).begun = true;
                choice_state((size_t)index).finish_reason = map_finish(reason);
            }
        }
    }

    void decode_json(canonical::EventSink& sink) {
        JsonPtr root = json_parse(json_, nullptr);
        if (!json_is_object(root.get())) {
            fail(sink, "the provider's answer is not a JSON object");
            return;
        }
        if (upstream_error(root.get(), sink)) return;
        const json_t* choices = json_object_get(root.get(), "choices");
        if (!json_is_array(choices) || json_array_size(choices) == 0) {
            fail(sink, "the provider's answer has no choices");
            return;
        }
        start(root.get(), sink);
        if (const json_t* usage = json_object_get(root.get(), "usage"); json_is_object(usage)) {
            usage_ = usage_report(usage);
        }
        size_t i;
        const json_t* choice;
        json_array_foreach(choices, i, choice) {
            long long index = (long long)i;
            json_get_int(choice, "index", &index);
            if (index < 0 || (size_t)index >= kMaxChoices) continue;
            content((size_t)index, json_object_get(choice, "message"), true, sink);
            choice_state((size_t)index).finish_reason = map_finish(json_string_view(choice, "finish_reason"));
        }
        flush_finishes(sink);
    }

    bool stream_;
    bool started_ = false;
    bool done_ = false;
    bool broken_ = false;
    std::string json_;
    SseParser parser_;
    std::vector<ChoiceState> choices_;
    std::optional<canonical::UsageReport> usage_;
};

}  // namespace

std::unique_ptr<ResponseDecoder> openai_response_decoder(bool stream) { return std::make_unique<OpenAIDecoder>(stream); }

}  // namespace routeshift
