// Anthropic error classification: status + Anthropic (or compatible provider's) error body ->
// retry/park verdict and the OpenAI-shaped error the client gets.
#include "egress/anthropic/anthropic_internal.hpp"

#include "egress/error_class.hpp"
#include "util/redaction.hpp"
#include "util/sse_parser.hpp"

namespace routeshift {

using namespace anthropic_internal;

namespace {

// Masks what looks like a provider credential ("sk-...", "sk-ant-...", "tp-..." with a long tail)
// in a message taken from an upstream body: providers echo keys the gateway does not know (another
// tenant's, a key pasted into a prompt), which redact_secrets cannot match.
std::string mask_credential_tokens(std::string_view s) {
    auto is_key_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        bool boundary = i == 0 || !is_key_char(s[i - 1]);
        std::string_view rest(s.data() + i, s.size() - i);
        if (boundary && (starts_with(rest, "sk-") || starts_with(rest, "tp-"))) {
            size_t j = i + 3;
            while (j < s.size() && is_key_char(s[j])) ++j;
            if (j - i >= 20) {
                out.append(s, i, 3);
                out += "[redacted]";
                i = j;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

std::string scalar_text(const json_t* v) {
    if (json_is_string(v)) return std::string(json_string_view(v));
    if (json_is_integer(v)) return std::to_string(json_integer_value(v));
    return {};
}

// The first error object of an SSE body (a 2xx stream that failed before anything was relayed).
JsonPtr first_sse_error(std::string_view body) {
    SseParser p;
    JsonPtr found;
    auto cb = [&](const SseEvent& ev) {
        if (found) return;
        JsonPtr d = json_parse(ev.data, nullptr);
        if (json_is_object(d.get()) && (ev.event == "error" || json_string_view(json_object_get(d.get(), "type")) == "error" || json_present(json_object_get(d.get(), "error"))))
            found = std::move(d);
    };
    p.feed(body, cb);
    p.flush(cb);
    return found;
}

}  // namespace

namespace anthropic_internal {

int status_for_error_type(std::string_view t) {
    if (t == "invalid_request_error") return 400;
    if (t == "authentication_error") return 401;
    if (t == "billing_error") return 402;
    if (t == "permission_error") return 403;
    if (t == "not_found_error") return 404;
    if (t == "request_too_large") return 413;
    if (t == "rate_limit_error") return 429;
    if (t == "timeout_error") return 504;
    if (t == "overloaded_error") return 529;
    return 500;  // api_error and anything unknown
}

ErrorInfo error_info(const json_t* root) {
    ErrorInfo e;
    const json_t* err = json_object_get(root, "error");
    if (json_is_object(err)) {
        e.type = json_string_view(json_object_get(err, "type"));
        e.message = json_string_view(json_object_get(err, "message"));
        e.detail_code = scalar_text(json_object_get(json_object_get(err, "details"), "error_code"));
        e.code = scalar_text(json_object_get(err, "code"));
    } else if (json_is_string(err)) {
        e.message = json_string_view(err);
    }
    if (e.message.empty()) e.message = json_string_view(json_object_get(root, "message"));
    if (e.type.empty() && json_string_view(json_object_get(root, "type")) != "error") e.type = json_string_view(json_object_get(root, "type"));
    const json_t* br = json_object_get(root, "base_resp");  // MiniMax native shape
    if (json_is_object(br) && json_is_integer(json_object_get(br, "status_code")) && json_integer_value(json_object_get(br, "status_code")) != 0) {
        if (e.code.empty()) e.code = scalar_text(json_object_get(br, "status_code"));
        if (e.message.empty()) e.message = json_string_view(json_object_get(br, "status_msg"));
    }
    return e;
}

ErrorClass classify_info(int status, const ErrorInfo& e) {
    const std::string& t = e.type;
    const std::string& c = e.code;
    bool billing = status == 402 || t == "billing_error" || e.detail_code == "enforced_spend_limit_reached" ||
                   t == "insufficient_quota" || c == "insufficient_quota" || t == "exceeded_current_quota_error" ||
                   c == "1113" || c == "1008" || contains_ignoring_case(e.message, "credit balance") ||
                   contains_ignoring_case(e.message, "spend limit") || contains_ignoring_case(e.message, "insufficient balance") ||
                   contains_ignoring_case(e.message, "insufficient_quota");
    if (billing) return ErrorClass::billing;
    if (status == 529 || t == "overloaded_error" || t == "engine_overloaded_error") return ErrorClass::overloaded;
    if (c == "1301" || c == "1026" || c == "1027") return ErrorClass::content_filter;
    if (status == 429 || t == "rate_limit_error" || t == "rate_limit_reached_error" || c == "1302" || c == "1303" ||
        c == "1002" || c == "1039")
        return ErrorClass::rate_limit;
    if (status == 401 || t == "authentication_error" || c == "1004") return ErrorClass::auth;
    if (status == 403 || t == "permission_error") return ErrorClass::permission;
    if (status >= 500 || t == "api_error" || t == "timeout_error") return ErrorClass::server;
    if (status == 408 || status == 409) return ErrorClass::timeout_retry;
    return ErrorClass::invalid;
}

namespace {

// The fixed status, type, code (may be empty) and message for when the provider gave none.
void describe(ApiError& a, int status, std::string_view type, std::string_view code, std::string_view fallback_message = {}) {
    a.status = status;
    a.type.assign(type);
    a.code.assign(code);
    if (a.message.empty()) a.message.assign(fallback_message);
}

}  // namespace

// The OpenAI-shaped error for a classified upstream error.
ApiError openai_error_for(int status, ErrorClass cls, const ErrorInfo& e, std::span<const std::string_view> secrets) {
    ApiError a;
    a.message = mask_credential_tokens(redact_secrets(e.message, secrets));
    switch (cls) {
    case ErrorClass::billing:
        describe(a, 429, "insufficient_quota", "insufficient_quota", "The provider account's credit or spend limit is exhausted.");
        break;
    case ErrorClass::overloaded:
        describe(a, 503, "server_error", "overloaded", "The provider is overloaded.");
        break;
    case ErrorClass::rate_limit:
        describe(a, 429, "rate_limit_error", "rate_limit_exceeded");
        break;
    case ErrorClass::auth:
        describe(a, 401, "authentication_error", {});
        break;
    case ErrorClass::permission:
        describe(a, 403, "permission_error", {});
        break;
    case ErrorClass::server:
        a.status = status >= 500 && status <= 599 && status != 529 ? status : 500;
        if (e.type == "timeout_error" && status < 500) a.status = 504;
        a.type = std::string(openai_error_type_for_status(a.status));
        break;
    case ErrorClass::timeout_retry:
        a.status = status;
        a.type = std::string(openai_error_type_for_status(status));
        break;
    case ErrorClass::content_filter:
        describe(a, 400, "invalid_request_error", "content_filter");
        break;
    case ErrorClass::invalid:
        a.status = status >= 400 && status <= 499 ? status : 400;
        a.type = std::string(openai_error_type_for_status(a.status));
        if (a.status == 400 && says_context_length_exceeded(e.message)) a.code = "context_length_exceeded";
        else if (a.status == 413 || e.type == "request_too_large") a.code = "request_too_large";
        else if (a.status == 404 && contains_ignoring_case(e.message, "model")) a.code = "model_not_found";
        break;
    }
    if (a.message.empty()) a.message = "upstream request failed with HTTP status " + std::to_string(status);
    return a;
}


}  // namespace anthropic_internal

ErrorVerdict anthropic_classify_error(int status, std::string_view body, std::span<const std::string_view> secrets) {
    ErrorVerdict v;
    try {
        std::string_view trimmed = body;
        while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\r' || trimmed.front() == '\n' ||
                                    trimmed.front() == '\t'))
            trimmed.remove_prefix(1);
        JsonPtr root;
        if (starts_with(trimmed, "event:") || starts_with(trimmed, "data:")) root = first_sse_error(trimmed);
        else root = json_parse(trimmed, nullptr);
        ErrorInfo e = error_info(root.get());
        if (!root && !trimmed.empty()) {
            std::string text(trimmed.substr(0, 512));
            e.message = text;
        }
        int eff = status;
        if (eff < 400) eff = status_for_error_type(e.type);  // an error signalled inside a 2xx body
        ErrorClass cls = classify_info(eff, e);
        switch (cls) {
        case ErrorClass::billing:
            v.retry = false;
            v.park_key = true;
            v.park_ms = kLongParkMs;
            break;
        case ErrorClass::auth:
        case ErrorClass::permission:
            // The credential is broken or lacks access: another key can serve this request (the
            // gateway-wide policy for provider 401/403), and this one is parked for long.
            v.retry = true;
            v.park_key = true;
            v.park_ms = kLongParkMs;
            break;
        case ErrorClass::overloaded:
        case ErrorClass::rate_limit:
        case ErrorClass::server:
        case ErrorClass::timeout_retry:
            v.retry = true;
            v.park_key = true;
            v.park_ms = -1;
            break;
        case ErrorClass::content_filter:
        case ErrorClass::invalid:
            v.retry = false;
            v.park_key = false;
            break;
        }
        v.error = openai_error_for(eff, cls, e, secrets);
        // Make sure no invalid UTF-8 from a non-JSON body breaks the envelope: json_escape_append
        // copies bytes; keep only printable ASCII and valid JSON-parsed text.
        if (!root) {
            std::string clean;
            for (unsigned char c : v.error.message) clean += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
            v.error.message = clean;
        }
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        v = ErrorVerdict{};
        v.retry = status >= 500 || status == 429;
        v.park_key = v.retry;
        v.error.status = status >= 400 ? status : 502;
        v.error.type = std::string(openai_error_type_for_status(v.error.status));
        v.error.message = "upstream request failed with HTTP status " + std::to_string(status);
    }
    return v;
}

ErrorVerdict anthropic_classify_error(int status, std::string_view body) {
    return anthropic_classify_error(status, body, std::span<const std::string_view>{});
}

}  // namespace routeshift
