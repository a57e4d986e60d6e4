// Answers of the relayed endpoints (see relay_answer.hpp).
#include "egress/openai/relay_answer.hpp"

#include "util/json_scan.hpp"
#include "util/json_util.hpp"
#include "util/sse_parser.hpp"

namespace routeshift {
namespace {

// The largest JSON answer read whole (as the held answers of chat, docs/design.md §10).
constexpr size_t kMaxJsonAnswer = 64u << 20;

bool media_type_is(std::string_view content_type, std::string_view type) {
    size_t semi = content_type.find(';');
    std::string_view media = content_type.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (media.size() != type.size()) return false;
    for (size_t i = 0; i < media.size(); i++)
        if (std::tolower((unsigned char)media[i]) != type[i]) return false;
    return true;
}

void encode_member(json_t* obj, const char* key, ProviderObjectKind kind, const ProviderObjectIdEncoder& encode) {
    json_t* v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) == 0) return;
    std::string client_id = encode(kind, std::string_view(json_string_value(v), json_string_length(v)));
    json_object_set_new(obj, key, json_stringn(client_id.data(), client_id.size()));
}

void rewrite_object(json_t* obj, ProviderObjectKind kind, const ProviderObjectIdEncoder& encode) {
    if (!json_is_object(obj)) return;
    std::string_view object = json_string_view(obj, "object");
    if (object == "list") {
        json_t* data = json_object_get(obj, "data");
        size_t i;
        json_t* item;
        json_array_foreach(data, i, item) rewrite_object(item, kind, encode);
        encode_member(obj, "first_id", kind, encode);
        encode_member(obj, "last_id", kind, encode);
        return;
    }
    if (object == "file") kind = ProviderObjectKind::file;
    else if (object == "batch") kind = ProviderObjectKind::batch;
    else if (object == "response") kind = ProviderObjectKind::response;
    encode_member(obj, "id", kind, encode);
    if (kind == ProviderObjectKind::batch) {
        for (const char* file_key : {"input_file_id", "output_file_id", "error_file_id"})
            encode_member(obj, file_key, ProviderObjectKind::file, encode);
    }
    if (kind == ProviderObjectKind::response) encode_member(obj, "previous_response_id", kind, encode);
}

class RelayAnswer final : public ResponseTranslator {
public:
    explicit RelayAnswer(RelayAnswerOptions options) : options_(std::move(options)) {
        if (media_type_is(options_.content_type, "text/event-stream")) shape_ = Shape::sse;
        else if (media_type_is(options_.content_type, "application/json")) shape_ = Shape::json;
        else shape_ = Shape::bytes;
    }

    bool feed(std::string_view bytes, std::string* out) override {
        if (broken_) return false;
        switch (shape_) {
        case Shape::json:
            if (json_.size() + bytes.size() > kMaxJsonAnswer) return give_up(out, "answer_too_large");
            json_.append(bytes);
            return true;
        case Shape::bytes:
            // held whole until complete when not a stream (docs/design.md §10): bounded like JSON
            bytes_ += bytes.size();
            if (!options_.stream && bytes_ > kMaxJsonAnswer) return give_up(out, "answer_too_large");
            if (!bytes.empty()) started_ = true;
            out->append(bytes);
            return true;
        case Shape::sse:
            if (!parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); }))
                return give_up(out, "stream_event_too_large");
            return true;
        }
        return true;
    }

    bool finish(std::string* out) override {
        if (broken_) return false;
        switch (shape_) {
        case Shape::bytes:
            complete_ = true;
            return true;
        case Shape::sse:
            parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
            if (complete_) return true;
            if (!error_) out->append(OpenAIStreamRelay::error_event("upstream stream ended before completion",
                                                                    "stream_truncated"));
            return false;
        case Shape::json: break;
        }
        JsonValue root;
        JsonMembers top;
        if (!json_scan(json_, &root, &top, nullptr) || !root.is(JsonType::object)) return false;
        if (!options_.required_array.empty() && !json_find(top, options_.required_array).is(JsonType::array))
            return false;
        usage_ = relay_usage(json_find(top, "usage"));
        if (options_.pages) {
            if (!take_list_page()) return false;
            if (!options_.pages->wants_next_page())
                out->append(client_list_page(*options_.pages, false, options_.kind, options_.encode));
        } else if (options_.rewrite_ids) {
            std::string rewritten;
            if (!rewrite_answer_object_ids(json_, options_.kind, options_.encode,
                                           options_.owner ? &*options_.owner : nullptr, &rewritten))
                return false;
            out->append(rewritten);
        } else {
            out->append(json_);
        }
        started_ = true;
        complete_ = true;
        return true;
    }

    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }
    void observe_session(SessionInference*) override {}
    bool content_started() const override { return started_; }

private:
    enum class Shape : uint8_t { json, sse, bytes };

    bool take_list_page() {
        std::string error;
        JsonPtr page = json_parse(json_, &error);
        return page && options_.pages->add_page(page.get());
    }

    bool give_up(std::string* out, std::string_view code) {
        broken_ = true;
        if (shape_ == Shape::sse) {
            error_ = true;
            out->append(OpenAIStreamRelay::error_event("upstream sent more than the gateway accepts", code));
        }
        return false;
    }

    // One event: its usage and completion read, a stored response's id rewritten, then relayed.
    void on_event(const SseEvent& ev, std::string* out) {
        std::string_view data = ev.data;
        while (!data.empty() && (data.front() == ' ' || data.front() == '\t')) data.remove_prefix(1);
        if (data == "[DONE]") {
            complete_ = true;
        } else if (!data.empty()) {
            read_event(data);
        }
        if (!data.empty()) started_ = true;
        if (!options_.rewrite_ids || provider_response_id_.empty()) {
            out->append(ev.raw);
            out->append(sse_event_terminator(ev.raw));  // the last event may lack its blank line
            return;
        }
        std::string_view raw = ev.raw;
        std::string quoted = "\"" + provider_response_id_ + "\"";
        std::string replacement = "\"" + client_response_id_ + "\"";
        for (size_t at; (at = raw.find(quoted)) != std::string_view::npos;) {
            out->append(raw.substr(0, at));
            out->append(replacement);
            raw.remove_prefix(at + quoted.size());
        }
        out->append(raw);
        out->append(sse_event_terminator(ev.raw));
    }

    void read_event(std::string_view data) {
        JsonValue root;
        JsonMembers top;
        if (!json_scan(data, &root, &top, nullptr) || !root.is(JsonType::object)) return;
        if (json_find(top, "error").is(JsonType::object)) error_ = true;
        JsonValue usage = json_find(top, "usage");  // completions chunks, transcript.text.done
        JsonValue response = json_find(top, "response");  // Responses API lifecycle events
        if (response.is(JsonType::object)) {
            JsonValue inner = json_object_find(response, "usage");
            if (inner.is(JsonType::object)) usage = inner;
            std::string id;
            if (options_.rewrite_ids && provider_response_id_.empty() &&
                json_string_decode(json_object_find(response, "id"), &id) && !id.empty() &&
                id.find('"') == std::string::npos && id.find('\\') == std::string::npos) {
                provider_response_id_ = id;
                client_response_id_ = options_.encode(ProviderObjectKind::response, id);
            }
        }
        if (usage.is(JsonType::object)) usage_ = relay_usage(usage);
        std::string type;
        if (json_string_decode(json_find(top, "type"), &type)) {
            if (type == "response.completed" || type == "response.incomplete" || type == "transcript.text.done") {
                complete_ = true;
            } else if (type == "response.failed" || type == "error") {
                complete_ = true;
                error_ = true;
            }
        }
    }

    RelayAnswerOptions options_;
    Shape shape_;
    std::string json_;
    size_t bytes_ = 0;  // of a binary answer so far
    SseParser parser_;
    Usage usage_;
    std::string provider_response_id_;  // of a streamed stored response, once seen
    std::string client_response_id_;
    bool started_ = false;
    bool complete_ = false;
    bool error_ = false;
    bool broken_ = false;
};

}  // namespace

std::unique_ptr<ResponseTranslator> relay_answer_translator(RelayAnswerOptions options) {
    return std::make_unique<RelayAnswer>(std::move(options));
}

Usage relay_usage(JsonValue usage) {
    Usage u;
    if (!usage.is(JsonType::object)) return u;
    int64_t v;
    JsonValue prompt = json_object_find(usage, "prompt_tokens");
    if (!prompt) prompt = json_object_find(usage, "input_tokens");
    JsonValue completion = json_object_find(usage, "completion_tokens");
    if (!completion) completion = json_object_find(usage, "output_tokens");
    if (json_read_int(prompt, &v)) u.prompt_tokens = v;
    if (json_read_int(completion, &v)) u.completion_tokens = v;
    if (json_read_int(json_object_find(usage, "total_tokens"), &v)) u.total_tokens = v;
    else if (u.prompt_tokens >= 0) u.total_tokens = u.prompt_tokens + std::max<int64_t>(u.completion_tokens, 0);
    JsonValue details = json_object_find(usage, "prompt_tokens_details");
    if (!details) details = json_object_find(usage, "input_tokens_details");
    if (json_read_int(json_object_find(details, "cached_tokens"), &v)) u.cached_tokens = v;
    return u;
}

std::string client_list_page(const OwnerListPager& pages, bool interrupted, ProviderObjectKind kind,
                             const ProviderObjectIdEncoder& encode) {
    JsonPtr answer = pages.answer(interrupted);
    if (!answer) return {};
    rewrite_object(answer.get(), kind, encode);
    return json_dump_compact(answer.get());
}

bool rewrite_answer_object_ids(std::string_view json, ProviderObjectKind kind, const ProviderObjectIdEncoder& encode,
                               const ObjectOwnerScope* owner, std::string* out) {
    std::string error;
    JsonPtr root = json_parse(json, &error);
    if (!root || !json_is_object(root.get())) return false;
    if (owner) scope_answer_to_owner(root.get(), *owner);
    rewrite_object(root.get(), kind, encode);
    *out = json_dump_compact(root.get());
    return true;
}

}  // namespace routeshift
