#include "dialect/google_error.hpp"

#include "util/json_util.hpp"
#include "util/utf8_text.hpp"

namespace routeshift {

std::string_view google_status_for_http(int status) {
    switch (status) {
    case 400: case 413: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 405: return "UNIMPLEMENTED";
    case 408: case 504: return "DEADLINE_EXCEEDED";
    case 409: return "ABORTED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 501: return "UNIMPLEMENTED";
    case 503: return "UNAVAILABLE";
    default: break;
    }
    return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
}

std::string google_error_body(const ApiError& error) {
    std::string out = "{\"error\":{\"code\":" + std::to_string(error.status) + ",\"message\":";
    json_quoted_append(out, valid_utf8(error.message) ? std::string_view(error.message) : sanitize_utf8(error.message));
    out += ",\"status\":\"";
    out += google_status_for_http(error.status);
    out += "\"}}";
    return out;
}

}  // namespace routeshift
