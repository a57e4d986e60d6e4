// A client error found while converting another dialect's body (Anthropic Messages, Gemini
// GenerateContentRequest) into the OpenAI chat shape: thrown where it is found, with the field it
// names, and turned into the one 400 where the conversion started.
#pragma once
#include "dialect/openai_error.hpp"

#include <string>

namespace routeshift {

struct InvalidRequest {
    std::string message;
    std::string param;
};

// Throws InvalidRequest: "<param>: <what>" (just `what` for the body as a whole).
[[noreturn]] inline void invalid(std::string param, std::string what) {
    std::string message = param.empty() ? what : param + ": " + what;
    throw InvalidRequest{std::move(message), std::move(param)};
}

// `e` as the 400 invalid_request_error in `err`; false, for `return refuse(e, err);`.
inline bool refuse(InvalidRequest& e, ApiError* err) {
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = std::move(e.message);
    err->param = std::move(e.param);
    err->code.clear();
    return false;
}

}  // namespace routeshift
