// Parsing and validation of an OpenAI chat-completions request body (see chat_request.hpp).
#include "chat_request.hpp"

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

// `null` is treated as "not given" for optional fields, as the OpenAI API does.
const json_t* optional_field(const json_t* obj, const char* key) {
    const json_t* v = json_object_get(obj, key);
    return (v && !json_is_null(v)) ? v : nullptr;
}

}  // namespace

std::optional<ChatRequest> parse_chat_request(std::string_view body, ApiError* err) {
    std::string perr;
    JsonPtr root = json_parse(body, &perr);
    if (!root) {
        bad(err, "We could not parse the JSON body of your request (" + perr + ").", "");
        return std::nullopt;
    }
    const json_t* r = root.get();
    if (!json_is_object(r)) {
        bad(err, "The request body must be a JSON object.", "");
        return std::nullopt;
    }

    ChatRequest req;

    const json_t* model = json_object_get(r, "model");
    if (!model || json_is_null(model)) {
        bad(err, "You must provide a model parameter.", "model");
        return std::nullopt;
    }
    if (!json_is_string(model) || json_string_length(model) == 0) {
        bad(err, "The 'model' parameter must be a non-empty string.", "model");
        return std::nullopt;
    }
    req.model.assign(json_string_value(model), json_string_length(model));

    const json_t* messages = json_object_get(r, "messages");
    if (!messages || json_is_null(messages)) {
        bad(err, "Missing required parameter: 'messages'.", "messages");
        return std::nullopt;
    }
    if (!json_is_array(messages)) {
        bad(err, "The 'messages' parameter must be an array.", "messages");
        return std::nullopt;
    }
    size_t n = json_array_size(messages);
    if (n == 0) {
        bad(err, "The 'messages' array must contain at least one message.", "messages");
        return std::nullopt;
    }
    for (size_t i = 0; i < n; ++i) {
        const json_t* m = json_array_get(messages, i);
        std::string where = "messages[" + std::to_string(i) + "]";
        if (!json_is_object(m)) {
            bad(err, "Invalid type for '" + where + "': expected an object.", where);
            return std::nullopt;
        }
        const json_t* role = json_object_get(m, "role");
        if (!role || !json_is_string(role)) {
            bad(err, "Missing or invalid '" + where + ".role': expected a string.", where + ".role");
            return std::nullopt;
        }
        std::string_view rv(json_string_value(role), json_string_length(role));
        if (!valid_role(rv)) {
            bad(err,
                "Invalid value for '" + where +
                    ".role': supported values are 'system', 'developer', 'user', 'assistant', "
                    "'tool' and 'function'.",
                where + ".role");
            return std::nullopt;
        }
    }
    req.message_count = n;

    if (const json_t* stream = optional_field(r, "stream")) {
        if (!json_is_boolean(stream)) {
            bad(err, "Invalid type for 'stream': expected a boolean.", "stream");
            return std::nullopt;
        }
        req.stream = json_is_true(stream);
    }

    if (const json_t* so = optional_field(r, "stream_options")) {
        if (!json_is_object(so)) {
            bad(err, "Invalid type for 'stream_options': expected an object.", "stream_options");
            return std::nullopt;
        }
        if (!req.stream) {
            bad(err, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options");
            return std::nullopt;
        }
        if (const json_t* iu = optional_field(so, "include_usage")) {
            if (!json_is_boolean(iu)) {
                bad(err, "Invalid type for 'stream_options.include_usage': expected a boolean.",
                    "stream_options.include_usage");
                return std::nullopt;
            }
            req.include_usage = json_is_true(iu);
        }
    }

    if (const json_t* md = optional_field(r, "metadata")) {
        if (!json_is_object(md)) {
            bad(err, "Invalid type for 'metadata': expected an object.", "metadata");
            return std::nullopt;
        }
        if (const json_t* rh = optional_field(md, "route_hint")) {
            if (!json_is_string(rh)) {
                bad(err, "Invalid type for 'metadata.route_hint': expected a string.",
                    "metadata.route_hint");
                return std::nullopt;
            }
            req.route_hint.assign(json_string_value(rh), json_string_length(rh));
        }
        if (const json_t* sid = optional_field(md, "session_id")) {
            if (!json_is_string(sid)) {
                bad(err, "Invalid type for 'metadata.session_id': expected a string.",
                    "metadata.session_id");
                return std::nullopt;
            }
            req.session_id.assign(json_string_value(sid), json_string_length(sid));
        }
    }

    req.root = std::move(root);
    return req;
}

}  // namespace routeshift
