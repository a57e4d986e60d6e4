#include "egress/error_class.hpp"
#include "util/ascii_text.hpp"
#include "util/json_util.hpp"

namespace routeshift {

UpstreamErrorClass upstream_error_class(const ErrorVerdict& v) {
    const int status = v.error.status;
    if (v.retry) {
        return (status == 401 || status == 403) && v.park_key ? UpstreamErrorClass::credential
                                                               : UpstreamErrorClass::retryable;
    }
    if (v.park_key) return UpstreamErrorClass::quota;  // not retried, yet the key is to blame
    if (v.error.code == kContextLengthCode) return UpstreamErrorClass::context_length;
    if (is_content_policy_code(v.error.code)) return UpstreamErrorClass::content_policy;
    return UpstreamErrorClass::invalid_request;
}

std::string_view attempt_status_token(UpstreamErrorClass c) {
    switch (c) {
    case UpstreamErrorClass::context_length: return "context";
    case UpstreamErrorClass::content_policy: return "policy";
    default: return {};
    }
}

std::string_view error_class_name(UpstreamErrorClass c) {
    switch (c) {
    case UpstreamErrorClass::retryable: return "retryable";
    case UpstreamErrorClass::credential: return "credential";
    case UpstreamErrorClass::quota: return "quota";
    case UpstreamErrorClass::context_length: return "context_length";
    case UpstreamErrorClass::content_policy: return "content_policy";
    case UpstreamErrorClass::invalid_request: return "invalid_request";
    }
    return "invalid_request";
}

bool says_context_length_exceeded(std::string_view m) {
    static constexpr std::string_view kWordings[] = {
        "context_length_exceeded",      // the code quoted in a message
        "maximum context length",       // OpenAI, Azure, DeepSeek, vLLM, Mistral
        "context length",               // "exceeds the context length"
        "context window",               // Anthropic, Gemini, Bedrock model_context_window_exceeded
        "prompt is too long",           // Anthropic (also through Bedrock)
        "input is too long",            // Bedrock ValidationException
        "too many input tokens",        // Bedrock
        "input token count",            // Gemini "The input token count (N) exceeds the maximum …"
        "exceeds the maximum number of tokens",  // Gemini
        "maximum context",              // "exceeds maximum context"
        "reduce the length of the messages",     // OpenAI, Groq, vLLM
        "too many tokens",              // compatible servers
        "`inputs` tokens + `max_new_tokens`",    // Together / TGI
    };
    for (std::string_view w : kWordings)
        if (contains_ignoring_case(m, w)) return true;
    return false;
}

bool is_content_policy_code(std::string_view code) {
    return code == "content_policy_violation" || code == "content_filter" || code == "content_policy" ||
           code == "ResponsibleAIPolicyViolation" || code == "1301" || code == "1026" || code == "1027";
}

std::string error_body_with_class_code(std::string envelope, UpstreamErrorClass error_class) {
    if (error_class != UpstreamErrorClass::context_length && error_class != UpstreamErrorClass::content_policy)
        return envelope;
    JsonPtr root = json_parse(envelope, nullptr);
    json_t* err = json_object_get(root.get(), "error");
    if (!json_is_object(err)) return envelope;
    std::string_view code = error_class == UpstreamErrorClass::context_length ? kContextLengthCode : kContentPolicyCode;
    if (error_class == UpstreamErrorClass::content_policy && json_is_string(json_object_get(err, "code"))) return envelope;
    if (json_string_view(err, "code") == code) return envelope;
    json_object_set_new(err, "code", json_stringn(code.data(), code.size()));
    std::string out = "{\"error\":";
    json_dump_append(out, err);
    out += '}';
    return out;
}

}  // namespace routeshift
