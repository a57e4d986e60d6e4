// The canonical response events: what every provider wire answer is decoded into before a
// client-dialect writer renders it. One decoder per wire format turns provider bytes into these
// events; one writer per client dialect turns them into bytes (dialect/openai_chat_writer.hpp
// today). Events carry string_views into the decoder's buffers: a sink copies what it keeps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace routeshift::canonical {

// Why the answer ended, in the gateway's terms; each decoder maps its wire's stop reasons here.
enum class FinishReason { stop, length, tool_calls, content_filter };

// The provider's own id and model of the answer (used when the gateway does not fix them).
struct MessageStart {
    std::string_view id;
    std::string_view model;
};

// Token counts, cumulative: a field >= 0 replaces the value reported before, -1 means "not
// reported here". input_tokens excludes the cached ones (cache_read / cache_write).
struct UsageReport {
    int64_t input_tokens = -1;
    int64_t cache_read_tokens = -1;
    int64_t cache_write_tokens = -1;
    int64_t output_tokens = -1;
    int64_t reasoning_tokens = -1;
};

// One output token and its log probability, the number as JSON text (e.g. "-0.1") so a writer
// repeats exactly what the provider said. `token`: the token's text, unescaped.
struct TokenLogprob {
    std::string_view token;
    std::string_view logprob;
};

// One output token's log probability and the most likely tokens at its position (may be empty).
struct TokenLogprobs {
    TokenLogprob chosen;
    std::span<const TokenLogprob> top;
};

// A failure of the answer (an error signalled by the provider, a broken or truncated stream).
// Terminal: nothing follows it.
struct ErrorReport {
    int status = 502;
    std::string_view type = "server_error";
    std::string_view message;
    std::string_view param;  // empty: none
    std::string_view code;   // empty: none
};

class EventSink {
public:
    virtual ~EventSink() = default;

    virtual void message_start(const MessageStart& start) = 0;
    // Answers with several candidates: the events that follow belong to choice `index` (until the
    // next call). Without a call every event belongs to choice 0, which always exists.
    virtual void choice(size_t index) = 0;
    virtual void text_delta(std::string_view text) = 0;
    // A text delta with the log probabilities of its tokens. `text` may be empty: log
    // probabilities of output without text in this piece; with no tokens either it only says the
    // provider answered with log probabilities (a non-streaming writer shows an empty list).
    virtual void text_delta_with_logprobs(std::string_view text, std::span<const TokenLogprobs> tokens) = 0;
    virtual void reasoning_delta(std::string_view text) = 0;
    // Opaque reasoning state the client must send back for the next turn (thinking signatures,
    // redacted thinking): a JSON array of blocks, passed through as the dialect allows.
    virtual void reasoning_state(std::string_view blocks_json) = 0;
    virtual void refusal_delta(std::string_view text) = 0;
    // `index` counts the tool calls of the current choice from 0, in order of their start. `arguments`:
    // the whole arguments when the provider sends the call in one piece, else empty (deltas follow).
    virtual void tool_call_start(size_t index, std::string_view id, std::string_view name,
                                 std::string_view arguments) = 0;
    virtual void tool_call_arguments_delta(size_t index, std::string_view arguments) = 0;
    // A generated image of the current choice, inline (`base64_data` in `media_type`).
    virtual void image(std::string_view media_type, std::string_view base64_data) = 0;
    virtual void usage(const UsageReport& usage) = 0;
    // The provider signalled that the current choice is complete. The answer is complete (and
    // this terminal) once every choice that has begun has finished; one-choice answers: at once.
    virtual void finish(FinishReason reason) = 0;
    virtual void error(const ErrorReport& error) = 0;
    // The provider sent a keep-alive (a writer may forward one to keep idle proxies open).
    virtual void keep_alive() = 0;
};

}  // namespace routeshift::canonical
