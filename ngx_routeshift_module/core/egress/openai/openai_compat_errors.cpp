#include "egress/openai/openai_compat_errors.hpp"
#include "routing/cooldown.hpp"

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
    return v;
}

}  // namespace routeshift
