// OpenAI-shaped error bodies: {"error":{"message","type","param","code"}}.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace routeshift {

struct ApiError {
    int status = 500;
    std::string message;
    std::string type;   // invalid_request_error, authentication_error, permission_error,
                        // not_found_error, rate_limit_error, server_error, ...
    std::string param;  // empty -> null
    std::string code;   // empty -> null
};

// Serialises an ApiError into the OpenAI envelope.
std::string openai_error_body(const ApiError& e);

// The error as an SSE event (`data: {"error":{...}}` + blank line): how a stream that already
// started reports a failure.
std::string openai_error_event(const ApiError& e);

// Default OpenAI `type` for an HTTP status (400 invalid_request_error, 401 authentication_error,
// 403 permission_error, 404 not_found_error, 408/504 timeout_error, 409 conflict_error,
// 413 invalid_request_error, 422 invalid_request_error, 429 rate_limit_error, 5xx server_error).
std::string_view openai_error_type_for_status(int status);

// Turns an upstream error response body into an OpenAI-shaped body for the client.
// Keeps an already OpenAI-shaped `error` object (adding missing type/param/code keys), wraps
// `{"error":"text"}`, `{"message":...}`, `{"object":"error","message":...}` and non-JSON text.
// Every occurrence of any string in `secrets` (and of its first 12 characters when the secret is
// longer than 16) is replaced by "[redacted]" so provider keys never reach the client.
std::string normalize_upstream_error(int status, std::string_view body,
                                     std::span<const std::string_view> secrets);

}  // namespace routeshift
