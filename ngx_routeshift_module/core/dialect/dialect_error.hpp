// The gateway's errors in the client's dialect (docs/design.md §18): one ApiError per meaning, one
// writer per dialect (openai_error, anthropic_error, google_error); this picks the writer.
#pragma once
#include "dialect/openai_error.hpp"
#include "ingress/endpoint_route.hpp"

#include <string>
#include <string_view>

namespace routeshift {

std::string dialect_error_body(Dialect dialect, const ApiError& error);

// A stream that already started reports a failure with this event.
std::string dialect_error_event(Dialect dialect, const ApiError& error);

// An error body the gateway already normalised into OpenAI's envelope (a provider's last error,
// secrets masked), rewritten for `dialect` with `status`; OpenAI clients get it unchanged.
std::string dialect_error_from_openai_body(Dialect dialect, int status, std::string openai_body);

}  // namespace routeshift
