// Bedrock error classification: x-amzn-ErrorType / body (or a stream exception) -> retry/park
// verdict and the OpenAI-shaped error the client gets.
#include "egress/bedrock/bedrock_internal.hpp"
#include "egress/error_class.hpp"

namespace routeshift {

using namespace bedrock_internal;

namespace {

// Provider text made safe for an error message: valid UTF-8 kept, control bytes and invalid
// sequences become spaces, at most kMaxErrorMessage bytes (never cutting a character).
std::string printable_message(std::string_view s) {
    std::string out;
    out.reserve(std::min(s.size(), kMaxErrorMessage));
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size() && !(len == 2 && c < 0xC2) && !(len == 4 && c > 0xF4);
        for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok && len == 3) {
            const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) ok = false;  // overlong, surrogate
        }
        if (ok && len == 4) {
            const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) ok = false;
        }
        if (!ok) len = 1;
        if (out.size() + (ok ? len : 1) > kMaxErrorMessage) break;
        if (!ok || (len == 1 && (c < 0x20 || c == 0x7f))) out += ' ';
        else out.append(s.data() + i, len);
        i += len;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool is_credential_error(std::string_view t) {
    return t == "UnrecognizedClientException" || t == "InvalidSignatureException" ||
           t == "IncompleteSignatureException" || t == "MissingAuthenticationTokenException" ||
           t == "ExpiredTokenException" || t == "InvalidClientTokenId" || t == "SignatureDoesNotMatch" ||
           t == "MissingAuthenticationToken" || t == "ExpiredToken";
}

}  // namespace

namespace bedrock_internal {

// "ThrottlingException:http://internal.amazon.com/..." / "com.amazon.coral.validate#ValidationException"
// -> "ThrottlingException"; a camelCase stream exception type ("throttlingException") is capitalised.
std::string normalize_error_type(std::string_view t) {
    size_t hash = t.rfind('#');
    if (hash != std::string_view::npos) t = t.substr(hash + 1);
    size_t colon = t.find(':');
    if (colon != std::string_view::npos) t = t.substr(0, colon);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    // The type is echoed into the client's message: an AWS type name is an identifier, so any
    // other byte (control, non-ASCII, quote) is dropped and the length is bounded.
    std::string out;
    for (char c : t) {
        bool word = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
        if (word && out.size() < kMaxErrorTypeName) out += c;
    }
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

// The shared mapping: AWS error type (normalised), HTTP status (0 = unknown, e.g. a stream
// exception) and the provider's message -> verdict.
ErrorVerdict classify(std::string_view type, int status, std::string_view raw_message) {
    ErrorVerdict v;
    ApiError& a = v.error;
    std::string msg = printable_message(raw_message);
    // AWS signature errors echo the canonical request, which holds the session token: never relay.
    if (type == "InvalidSignatureException" || type == "SignatureDoesNotMatch" || contains_ignoring_case(msg, "canonical string") ||
        contains_ignoring_case(msg, "string-to-sign"))
        msg = "Bedrock rejected the request signature of the configured credentials";
    auto set = [&](int st, const char* t, const char* code, bool retry, bool park, int64_t park_ms = -1) {
        a.status = st;
        a.type = t;
        a.code = code ? code : "";
        v.retry = retry;
        v.park_key = park;
        v.park_ms = park ? park_ms : -1;
    };
    if (type == "ThrottlingException") {
        set(429, "rate_limit_error", "rate_limit_exceeded", true, true);
    } else if (type == "ServiceUnavailableException") {
        set(503, "server_error", "overloaded", true, true);
    } else if (type == "ModelNotReadyException") {
        set(503, "server_error", "model_not_ready", true, true);
    } else if (type == "InternalServerException" || type == "InternalFailure") {
        set(status >= 500 && status <= 599 ? status : 500, "server_error", nullptr, true, true);
    } else if (type == "ServiceQuotaExceededException") {
        // "You can resubmit your request later": this key's account quota is used up for now.
        set(429, "rate_limit_error", "quota_exceeded", true, true);
    } else if (type == "ModelTimeoutException") {
        set(504, "timeout_error", "model_timeout", true, false);
    } else if (type == "ModelStreamErrorException") {
        set(502, "server_error", "model_stream_error", true, false);
    } else if (type == "ModelErrorException") {
        // the model failed on this input: another key runs the same model, so no retry
        set(502, "server_error", "model_error", false, false);
    } else if (type == "ValidationException") {
        set(400, "invalid_request_error", says_context_length_exceeded(msg) ? "context_length_exceeded" : nullptr, false, false);
    } else if (type == "AccessDeniedException") {
        // this account cannot use the model (or the key is revoked): another key may serve it
        set(403, "permission_error", "access_denied", true, true, kLongParkMs);
    } else if (is_credential_error(type)) {
        set(401, "authentication_error", "invalid_credentials", true, true, kLongParkMs);
    } else if (type == "ResourceNotFoundException") {
        set(404, "not_found_error", contains_ignoring_case(msg, "model") ? "model_not_found" : nullptr, false, false);
    } else if (type == "ConflictException") {
        set(409, "conflict_error", nullptr, true, false);
    } else if (status == 429) {
        set(429, "rate_limit_error", "rate_limit_exceeded", true, true);
    } else if (status >= 500) {
        set(status <= 599 ? status : 500, "server_error", nullptr, true, true);
    } else if (status == 408) {
        set(504, "timeout_error", nullptr, true, false);
    } else if (status == 401 || status == 403) {
        set(status, status == 401 ? "authentication_error" : "permission_error", nullptr, true, true, kLongParkMs);
    } else if (status >= 400) {
        set(status, std::string(openai_error_type_for_status(status)).c_str(), nullptr, false, false);
        if (status == 400 && says_context_length_exceeded(msg)) a.code = "context_length_exceeded";
    } else {
        set(502, "server_error", nullptr, true, true);  // an unnamed error signalled with a 2xx
    }
    if (msg.empty()) {
        a.message = "Bedrock request failed";
        if (!type.empty()) a.message += " (" + std::string(type) + ")";
        else if (status) a.message += " with HTTP status " + std::to_string(status);
    } else {
        a.message = msg;
        if (!type.empty() && msg.find(type) == std::string::npos) a.message += " (" + std::string(type) + ")";
    }
    return v;
}


}  // namespace bedrock_internal

ErrorVerdict bedrock_classify_error(int status, std::string_view body, std::string_view amzn_error_type) {
    try {
        std::string type = normalize_error_type(amzn_error_type);
        std::string message;
        JsonPtr root = json_parse(body, nullptr);
        if (json_is_object(root.get())) {
            message = json_string_view(root.get(), "message");
            if (message.empty()) message = json_string_view(root.get(), "Message");
            if (message.empty()) message = json_string_view(json_object_get(root.get(), "error"), "message");
            if (type.empty()) type = normalize_error_type(json_string_view(root.get(), "__type"));
            if (type.empty()) type = normalize_error_type(json_string_view(root.get(), "code"));
        } else {
            std::string_view b = body.substr(0, 512);
            for (unsigned char c : b) message += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
            while (!message.empty() && message.back() == ' ') message.pop_back();
            size_t s = message.find_first_not_of(' ');
            message = s == std::string::npos ? std::string() : message.substr(s);
        }
        return classify(type, status, message);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        ErrorVerdict v;
        v.retry = status >= 500 || status == 429;
        v.park_key = v.retry;
        v.error.status = status >= 400 ? status : 502;
        v.error.type = std::string(openai_error_type_for_status(v.error.status));
        v.error.message = "Bedrock request failed with HTTP status " + std::to_string(status);
        return v;
    }
}

}  // namespace routeshift
