// Parsing and validation of an OpenAI chat-completions request body (see chat_request.hpp).
// The body is validated and read with json_scan (no DOM); every check, message and `param` is the
// one the former jansson-based implementation produced, including jansson's semantics for
// duplicate keys (the last one wins).
#include "ingress/chat_request.hpp"

#include <algorithm>
#include <iterator>

namespace routeshift {

namespace {

bool bad(ApiError* err, std::string message, std::string param) {
    if (err) {
        err->status = 400;
        err->type = "invalid_request_error";
        err->message = std::move(message);
        err->param = std::move(param);
        err->code.clear();
    }
    return false;
}

bool valid_role(std::string_view r) {
    return r == "system" || r == "developer" || r == "user" || r == "assistant" || r == "tool" ||
           r == "function";
}

bool valid_role(JsonValue role) {
    std::string_view plain;
    if (json_string_plain(role, &plain)) return valid_role(plain);
    std::string decoded;  // escaped role text: rare
    json_string_decode(role, &decoded);
    return valid_role(decoded);
}

std::string message_where(size_t i) { return "messages[" + std::to_string(i) + "]"; }

// Up to this many top-level members, duplicates are looked for pairwise; past it the request is
// assumed to have some (only costs the DOM fallback when the body is rebuilt).
constexpr size_t kMaxDuplicateCheck = 64;

bool same_key(const JsonMember& a, const JsonMember& b) {
    if (!a.key_escaped && !b.key_escaped) return a.key == b.key;
    if (!a.key_escaped) return json_key_equals(b, a.key);
    if (!b.key_escaped) return json_key_equals(a, b.key);
    return json_key_decode(a) == json_key_decode(b);
}

bool has_duplicate_keys(const JsonMembers& m) {
    if (m.size() > kMaxDuplicateCheck) return true;
    for (size_t i = 0; i < m.size(); ++i)
        for (size_t j = i + 1; j < m.size(); ++j)
            if (same_key(m[i], m[j])) return true;
    return false;
}

}  // namespace

bool valid_model_name(std::string_view model, ApiError* err) {
    // The name reaches upstream paths, request lines and the X-RouteShift-Resolved-Model header
    // (and, through a "*" provider, a per-worker cache): its size is bounded and it can be neither
    // a dot segment nor break a header line (CR, LF).
    if (model.size() > kMaxModelNameBytes)
        return bad(err, "The 'model' parameter must be at most " + std::to_string(kMaxModelNameBytes) + " bytes long.",
                   "model");
    if (model == "." || model == "..") return bad(err, "The 'model' parameter is not a valid model name.", "model");
    for (char c : model)  // a plain loop: find_first_of runs memchr once per character of the set
        if (c == '\r' || c == '\n') return bad(err, "The 'model' parameter must not contain line breaks.", "model");
    return true;
}

const json_t* ChatRequest::dom() const {
    if (!dom_ && !body.empty()) dom_ = json_parse(body, nullptr);
    return dom_.get();
}

ChatRequest& ChatRequest::operator=(ChatRequest&& o) noexcept {
    if (this == &o) return *this;
    model = std::move(o.model);
    route_hint = std::move(o.route_hint);
    session_id = std::move(o.session_id);
    stream = o.stream;
    include_usage = o.include_usage;
    legacy_functions = o.legacy_functions;
    message_count = o.message_count;
    std::copy(std::begin(o.opening), std::end(o.opening), std::begin(opening));
    opening_count = o.opening_count;
    opening_known = o.opening_known;
    top = o.top;
    bool borrowed = o.body_borrowed();
    const char* old_base = o.body.data();
    owned_body_ = std::move(o.owned_body_);
    body = borrowed ? o.body : std::string_view(owned_body_);
    members = std::move(o.members);
    // a short owned body may live in the string object itself, so it moved: follow it
    if (!borrowed && old_base != body.data()) {
        members.rebase(old_base, body.data());
        auto rebase = [&](JsonValue& v) {
            if (v.text.data()) v.text = std::string_view(body.data() + (v.text.data() - old_base), v.text.size());
        };
        rebase(top.messages);
        rebase(top.tools);
        rebase(top.functions);
        rebase(top.metadata);
        for (size_t i = 0; i < opening_count; ++i) {
            rebase(opening[i].role);
            rebase(opening[i].content);
            rebase(opening[i].tool_calls);
        }
    }
    o.body = {};
    o.members.clear();
    o.opening_count = 0;
    o.opening_known = false;
    duplicate_keys = o.duplicate_keys;
    host_splices_body = o.host_splices_body;
    anthropic_client_body = o.anthropic_client_body;
    gemini_client_body = o.gemini_client_body;
    dom_ = std::move(o.dom_);
    prompt_size_ = o.prompt_size_;
    o.prompt_size_.reset();
    return *this;
}

std::optional<ChatRequest> parse_chat_request(std::string_view body, ApiError* err) {
    return parse_chat_request_into(body, true, err);
}

std::optional<ChatRequest> parse_chat_request_borrowed(std::string_view body, ApiError* err) {
    return parse_chat_request_into(body, false, err);
}

std::optional<ChatRequest> parse_chat_request_into(std::string_view body, bool copy, ApiError* err) {
    std::optional<ChatRequest> out(std::in_place);  // every path returns `out`: no extra move
    if (!parse_chat_request_in_place(body, copy, &*out, err)) out.reset();
    return out;
}

bool parse_chat_request_borrowed(std::string_view body, ChatRequest* out, ApiError* err) {
    if (parse_chat_request_in_place(body, false, out, err)) return true;
    *out = ChatRequest();  // as never parsed: nothing half-read is left for the error path
    return false;
}

bool parse_chat_request_in_place(std::string_view body, bool copy, ChatRequest* out, ApiError* err) {
    ChatRequest& req = *out;
    auto reject = [&](std::string message, std::string param) { bad(err, std::move(message), std::move(param)); };

    if (copy) {
        req.owned_body_.assign(body.data(), body.size());
        req.body = req.owned_body_;
    } else {
        req.body = body;
    }
    JsonValue root;
    JsonScanError serr;
    if (!json_scan(req.body, &root, &req.members, &serr)) {
        // Error path only: jansson's own wording (line, column, text) as before.
        std::string perr;
        if (json_parse(body, &perr)) perr = serr.to_string();  // jansson accepts what we refuse
        // (jansson's "near" text may end inside a character: openai_error_body repairs it)
        reject("We could not parse the JSON body of your request (" + perr + ").", "");
        return false;
    }
    if (!root.is(JsonType::object)) {
        reject("The request body must be a JSON object.", "");
        return false;
    }

    // One pass over the top-level members; a later duplicate replaces an earlier one (jansson).
    JsonValue model, messages, stream, stream_options, metadata, tools, functions;
    for (size_t i = 0; i < req.members.size(); ++i) {
        const JsonMember& m = req.members[i];
        if (!m.key_escaped) {
            std::string_view k = m.key;
            switch (k.size()) {
            case 5:
                if (k == "model") model = m.value;
                else if (k == "tools") tools = m.value;
                break;
            case 6:
                if (k == "stream") stream = m.value;
                break;
            case 8:
                if (k == "messages") messages = m.value;
                else if (k == "metadata") metadata = m.value;
                break;
            case 9:
                if (k == "functions") functions = m.value;
                break;
            case 14:
                if (k == "stream_options") stream_options = m.value;
                break;
            default: break;
            }
        } else if (json_key_equals(m, "model")) {
            model = m.value;
        } else if (json_key_equals(m, "stream")) {
            stream = m.value;
        } else if (json_key_equals(m, "messages")) {
            messages = m.value;
        } else if (json_key_equals(m, "metadata")) {
            metadata = m.value;
        } else if (json_key_equals(m, "stream_options")) {
            stream_options = m.value;
        } else if (json_key_equals(m, "tools")) {
            tools = m.value;
        } else if (json_key_equals(m, "functions")) {
            functions = m.value;
        }
    }
    req.legacy_functions = functions.is(JsonType::array) && tools.absent_or_null();

    if (model.absent_or_null()) {
        reject("You must provide a model parameter.", "model");
        return false;
    }
    if (!model.is(JsonType::string) || model.text.size() == 2) {  // "" is the only empty string
        reject("The 'model' parameter must be a non-empty string.", "model");
        return false;
    }
    json_string_decode(model, &req.model);

    if (messages.absent_or_null()) {
        reject("Missing required parameter: 'messages'.", "messages");
        return false;
    }
    if (!messages.is(JsonType::array)) {
        reject("The 'messages' parameter must be an array.", "messages");
        return false;
    }
    size_t n = 0;
    JsonArrayReader msgs(messages, req.members);  // long contents: validated once, not re-read
    // role, content, tool_calls: the check reads the role; the others are kept for the opening
    static constexpr std::string_view kMessageKeys[] = {"role", "content", "tool_calls"};
    JsonValue found[std::size(kMessageKeys)];
    bool opening_ended = false;  // the first assistant message was seen
    req.opening_known = true;
    for (JsonValue m; msgs.next(&m, kMessageKeys, found); ++n) {
        const JsonValue& role = found[0];
        if (!m.is(JsonType::object)) {
            std::string where = message_where(n);
            reject("Invalid type for '" + where + "': expected an object.", where);
            return false;
        }
        if (!role.is(JsonType::string)) {
            std::string where = message_where(n);
            reject("Missing or invalid '" + where + ".role': expected a string.", where + ".role");
            return false;
        }
        if (!valid_role(role)) {
            std::string where = message_where(n);
            reject("Invalid value for '" + where +
                       ".role': supported values are 'system', 'developer', 'user', 'assistant', "
                       "'tool' and 'function'.",
                   where + ".role");
            return false;
        }
        if (!opening_ended && req.opening_known) {
            if (req.opening_count == ChatRequest::kOpeningMessages) {
                req.opening_known = false;
                req.opening_count = 0;
            } else {
                req.opening[req.opening_count++] = {found[0], found[1], found[2]};
                opening_ended = json_string_equals(role, "assistant");
            }
        }
    }
    if (n == 0) {
        reject("The 'messages' array must contain at least one message.", "messages");
        return false;
    }
    req.message_count = n;

    if (!stream.absent_or_null() && !json_read_bool(stream, &req.stream)) {
        reject("Invalid type for 'stream': expected a boolean.", "stream");
        return false;
    }

    if (!stream_options.absent_or_null()) {
        if (!stream_options.is(JsonType::object)) {
            reject("Invalid type for 'stream_options': expected an object.", "stream_options");
            return false;
        }
        if (!req.stream) {
            reject("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
            return false;
        }
        JsonValue iu = json_object_find(stream_options, "include_usage");
        if (!iu.absent_or_null() && !json_read_bool(iu, &req.include_usage)) {
            reject("Invalid type for 'stream_options.include_usage': expected a boolean.",
                   "stream_options.include_usage");
            return false;
        }
    }

    if (!metadata.absent_or_null()) {
        if (!metadata.is(JsonType::object)) {
            reject("Invalid type for 'metadata': expected an object.", "metadata");
            return false;
        }
        JsonValue rh, sid;
        JsonObjectReader mr(metadata);
        for (JsonMember m; mr.next(&m);) {
            if (json_key_equals(m, "route_hint")) rh = m.value;
            else if (json_key_equals(m, "session_id")) sid = m.value;
        }
        if (!rh.absent_or_null()) {
            if (!rh.is(JsonType::string)) {
                reject("Invalid type for 'metadata.route_hint': expected a string.", "metadata.route_hint");
                return false;
            }
            json_string_decode(rh, &req.route_hint);
        }
        if (!sid.absent_or_null()) {
            if (!sid.is(JsonType::string)) {
                reject("Invalid type for 'metadata.session_id': expected a string.", "metadata.session_id");
                return false;
            }
            json_string_decode(sid, &req.session_id);
        }
    }

    // last, so every structural error is reported as before; then what the name may be
    if (!valid_model_name(req.model, err)) return false;
    req.duplicate_keys = has_duplicate_keys(req.members);
    req.top = {messages, tools, functions, metadata};
    return true;
}

}  // namespace routeshift
