#include "dialect/dialect_error.hpp"

#include "dialect/anthropic_error.hpp"
#include "dialect/google_error.hpp"
#include "util/json_util.hpp"

namespace routeshift {

std::string dialect_error_body(Dialect dialect, const ApiError& error) {
    switch (dialect) {
    case Dialect::anthropic: return anthropic_error_body(error);
    case Dialect::google: return google_error_body(error);
    case Dialect::openai: break;
    }
    return openai_error_body(error);
}

std::string dialect_error_event(Dialect dialect, const ApiError& error) {
    switch (dialect) {
    case Dialect::anthropic: return anthropic_error_event(error);
    case Dialect::google: return "data: " + google_error_body(error) + "\n\n";
    case Dialect::openai: break;
    }
    return openai_error_event(error);
}

std::string dialect_error_from_openai_body(Dialect dialect, int status, std::string openai_body) {
    if (dialect == Dialect::openai) return openai_body;
    ApiError error;
    error.status = status;
    JsonPtr root = json_parse(openai_body, nullptr);
    const json_t* inner = root ? json_object_get(root.get(), "error") : nullptr;
    error.message = json_string_view(inner, "message");
    if (error.message.empty()) error.message = "The provider answered with HTTP status " + std::to_string(status) + ".";
    return dialect_error_body(dialect, error);
}

}  // namespace routeshift
