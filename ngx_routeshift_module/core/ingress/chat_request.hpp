// Parsing and validation of an OpenAI chat-completions request body.
#pragma once
#include "canonical/prompt_size_value.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"
#include "dialect/openai_error.hpp"
#include <optional>
#include <string>
#include <string_view>

namespace routeshift {

struct ChatRequest {
    std::string model;          // body.model as sent
    std::string route_hint;     // metadata.route_hint ("" if absent)
    std::string session_id;     // metadata.session_id ("" if absent)
    bool stream = false;
    bool include_usage = false; // stream_options.include_usage
    // The legacy function-calling form: `functions` without `tools`. Such a client reads
    // message.function_call and finish_reason "function_call" (translated answers must say so).
    bool legacy_functions = false;
    size_t message_count = 0;

    // Top-level members the check looked up (the last of duplicate keys, as json_find gives; empty
    // when absent), kept so that later readers (rules, prompt size bounds) need not look again.
    struct TopMembers {
        JsonValue messages, tools, functions, metadata;
    };
    TopMembers top;

    // The opening of the conversation: every message up to and including the first assistant
    // message (all of them when there is none), with the members the session digest reads, found
    // by the request check's own pass over the messages (views into `body`). The digest reads
    // them instead of walking the messages again: a 100 KB prompt is skipped once, not twice.
    // `opening_known` is false when the opening has more than kOpeningMessages messages (then
    // readers walk "messages" themselves).
    struct MessageMembers {
        JsonValue role, content, tool_calls;
    };
    static constexpr size_t kOpeningMessages = 6;
    MessageMembers opening[kOpeningMessages];
    size_t opening_count = 0;
    bool opening_known = false;

    // The body exactly as received and its top-level members (views into `body`, document order,
    // duplicates kept). Validated by json_scan: every helper of json_scan.hpp may be used on them.
    // `body` views the request's own copy, or, from parse_chat_request_borrowed, the caller's
    // bytes (nginx's request body buffer: no copy).
    std::string_view body;
    bool body_borrowed() const { return !body.empty() && body.data() != owned_body_.data(); }
    JsonMembers members;
    // A top-level key occurs more than once (or there are too many keys to check cheaply): code
    // that splices `body` falls back to the DOM, which keeps one member per key like jansson.
    bool duplicate_keys = false;
    // Set by a host that sends bodies through WireAdapter::spliced_request (the nginx glue): the
    // build_body of a wire that splices (OpenAI chat) then leaves its bytes empty instead of
    // copying the client's body, and the host builds each attempt from spans of `body`.
    bool host_splices_body = false;
    // The client's Anthropic Messages body when the client spoke Anthropic and this request is its
    // OpenAI-shaped conversion (docs/design.md §18): the Anthropic wire sends it with only the model
    // replaced. Views the client's body buffer, like `body` when borrowed.
    std::string_view anthropic_client_body;
    // The same for a client of the Gemini native paths: a Gemini-wire provider gets this body as
    // it is (the model is in its URL, auth injected by the wire).
    std::string_view gemini_client_body;

    // The jansson DOM of `body`, parsed on first use and cached (null when `body` is not JSON,
    // e.g. a default-constructed request). For code paths that need a tree; the OpenAI-compatible
    // passthrough path never does.
    const json_t* dom() const;

    ChatRequest() = default;
    ChatRequest(ChatRequest&& o) noexcept { *this = std::move(o); }
    ChatRequest& operator=(ChatRequest&& o) noexcept;
    ChatRequest(const ChatRequest&) = delete;
    ChatRequest& operator=(const ChatRequest&) = delete;

private:
    friend bool parse_chat_request_in_place(std::string_view, bool, ChatRequest*, ApiError*);
    friend const PromptSize& measure_prompt(const ChatRequest&);
    mutable std::optional<PromptSize> prompt_size_;  // measure_prompt's, filled on first use
    std::string owned_body_;
    mutable JsonPtr dom_;
};

// The longest model name a client may send (bytes, after JSON unescaping).
inline constexpr size_t kMaxModelNameBytes = 256;

// Whether `model` is acceptable as a client's model name: at most kMaxModelNameBytes, not "." or
// "..", no CR or LF (it is echoed in X-RouteShift-Resolved-Model). Fills `err` (400, param "model")
// when not. Checked after every other field, so their errors keep their precedence.
bool valid_model_name(std::string_view model, ApiError* err);

// Returns the request, or fills `err` (status 400, type invalid_request_error, param set to the
// offending field, e.g. "model", "messages", "messages[2].role", "stream") and returns nullopt.
// Checks: body is a JSON object; model is a non-empty string (valid_model_name); messages is a non-empty array of
// objects each with a string role in {system, developer, user, assistant, tool, function};
// stream (if present) is a boolean; stream_options (if present) is an object and only allowed with
// stream=true; metadata (if present) is an object whose route_hint/session_id are strings.
// JSON acceptance is jansson's (json_parse): see json_scan.hpp. No DOM is built.
std::optional<ChatRequest> parse_chat_request(std::string_view body, ApiError* err);

// The same, without copying the body: the request's views point into `body`, which must stay
// valid and unchanged as long as the request (and anything built from its views) is used.
std::optional<ChatRequest> parse_chat_request_borrowed(std::string_view body, ApiError* err);

// The borrowed form parsed into a default-constructed `*out` (a host's own storage: no move of the
// request afterwards). On failure `*out` is default-constructed again and `err` filled.
bool parse_chat_request_borrowed(std::string_view body, ChatRequest* out, ApiError* err);

// Shared implementation (copy = own the bytes): parses into a default-constructed `*out`, which is
// left partly filled when it returns false.
std::optional<ChatRequest> parse_chat_request_into(std::string_view body, bool copy, ApiError* err);
bool parse_chat_request_in_place(std::string_view body, bool copy, ChatRequest* out, ApiError* err);

}  // namespace routeshift
