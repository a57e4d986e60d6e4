// Anthropic-shaped error bodies: {"type":"error","error":{"type":..,"message":..}}, and the stream's
// `event: error`. The gateway's own errors and the providers' (already normalised to an ApiError)
// reach an Anthropic client through these.
#pragma once
#include "dialect/openai_error.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// Anthropic's error type for an HTTP status (400 invalid_request_error, 401 authentication_error,
// 402 billing_error, 403 permission_error, 404 not_found_error, 405 invalid_request_error,
// 413 request_too_large, 429 rate_limit_error, 504 timeout_error, 529 overloaded_error, other
// 5xx api_error).
std::string_view anthropic_error_type_for_status(int status);

// The error in Anthropic's envelope. The type comes from the status: OpenAI's types (server_error,
// ...) mean nothing to an Anthropic SDK, which reads the status; the message keeps what the
// gateway or the provider said.
std::string anthropic_error_body(const ApiError& error);

// The same as a stream event: "event: error\ndata: {...}\n\n".
std::string anthropic_error_event(const ApiError& error);

}  // namespace routeshift
