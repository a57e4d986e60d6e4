// Google-shaped (google.rpc.Status) error bodies: {"error":{"code":404,"message":..,"status":"NOT_FOUND"}},
// for clients of the Gemini native paths.
#pragma once
#include "dialect/openai_error.hpp"

#include <string>
#include <string_view>

namespace routeshift {

// The canonical gRPC status name Google uses for an HTTP status (404 NOT_FOUND, 429
// RESOURCE_EXHAUSTED, ...).
std::string_view google_status_for_http(int status);

std::string google_error_body(const ApiError& error);

}  // namespace routeshift
