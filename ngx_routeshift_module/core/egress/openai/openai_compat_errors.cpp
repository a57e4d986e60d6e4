#include "egress/openai/openai_compat_errors.hpp"
#include "egress/error_class.hpp"
#include "routing/cooldown.hpp"
#include "util/json_util.hpp"

namespace routeshift {
namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// Billing / spend-cap signals seen in the wild (docs/wire-formats.md: Errors and statuses, Error normalisation, Provider catalog).
bool says_out_of_money(std::string_view body) {
    return contains(body, "insufficient_quota") || contains(body, "\"1113\"") ||
           contains(body, "\"code\":1113") || contains(body, "\"code\": 1113") ||
           contains(body, "\"1008\"") || contains(body, "\"status_code\":1008") ||
           contains(body, "Insufficient Balance") || contains(body, "insufficient balance") ||
           contains(body, "insufficient_balance") || contains(body, "Insufficient credits") ||
           contains(body, "billing_hard_limit_reached") || contains(body, "spend_limit");
}

// An error code as text: `"code":"x"` or `"code":1301` (Zhipu), else "".
std::string code_text(const json_t* obj, const char* key) {
    const json_t* v = json_object_get(obj, key);
    if (json_is_string(v)) return std::string(json_string_view(v));
    if (json_is_integer(v)) return std::to_string(json_integer_value(v));
    return {};
}

// The two request errors the transport routes differently (docs/design.md §20), from the
// OpenAI envelope {"error":{"code","message","innererror":{"code"}}} or the flat shape of vLLM and
// Mistral ({"object":"error","message","code"}). Sets the class's code; "" for other errors.
std::string_view request_error_code(std::string_view body) {
    JsonPtr root = json_parse(body, nullptr);
    const json_t* err = json_object_get(root.get(), "error");
    const json_t* obj = json_is_object(err) ? err : root.get();
    if (!json_is_object(obj)) return {};
    std::string code = code_text(obj, "code");
    if (code == kContextLengthCode || says_context_length_exceeded(json_string_view(obj, "message")) ||
        (json_is_string(err) && says_context_length_exceeded(json_string_view(err))))
        return kContextLengthCode;
    if (is_content_policy_code(code) || is_content_policy_code(code_text(json_object_get(obj, "innererror"), "code")))
        return kContentPolicyCode;
    return {};
}

}  // namespace

ErrorVerdict openai_classify_error(int status, std::string_view body) {
    ErrorVerdict v;
    v.error.status = status;
    v.error.type = std::string(openai_error_type_for_status(status));
    if ((status == 429 || status == 402 || status == 403) && says_out_of_money(body)) {
        v.retry = false;
        v.park_key = true;
        v.park_ms = kQuotaParkMs;
        v.error.code = "insufficient_quota";
        return v;
    }
    if (status == 401 || status == 403) {
        // the credential is broken or revoked: another key can serve this request, and this
        // one fails every request until someone fixes it
        v.retry = true;
        v.park_key = true;
        return v;
    }
    if (status_is_retryable(status) || status == 498) {
        v.retry = true;
        v.park_key = true;
        return v;
    }
    if (status >= 400 && status < 500) v.error.code = std::string(request_error_code(body));
    return v;
}

}  // namespace routeshift
