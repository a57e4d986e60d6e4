#include "dialect/anthropic_error.hpp"

#include "util/json_util.hpp"
#include "util/utf8_text.hpp"

namespace routeshift {

std::string_view anthropic_error_type_for_status(int status) {
    switch (status) {
    case 400: case 405: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 408: case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: break;
    }
    return status >= 500 ? "api_error" : "invalid_request_error";
}

std::string anthropic_error_body(const ApiError& error) {
    std::string out = "{\"type\":\"error\",\"error\":{\"type\":\"";
    out += anthropic_error_type_for_status(error.status);
    out += "\",\"message\":";
    json_quoted_append(out, valid_utf8(error.message) ? std::string_view(error.message) : sanitize_utf8(error.message));
    out += "}}";
    return out;
}

std::string anthropic_error_event(const ApiError& error) {
    return "event: error\ndata: " + anthropic_error_body(error) + "\n\n";
}

}  // namespace routeshift
