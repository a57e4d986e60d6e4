// Internal to the Bedrock Converse adapter: JSON helpers, limits and the error mapping that more
// than one of its files (request builder, response translator, errors, endpoint) needs.
#pragma once
#include "egress/provider_adapter.hpp"

#include "egress/cannot_express.hpp"

#include "util/ascii_text.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cctype>
#include <new>
#include <string>
#include <string_view>

namespace routeshift::bedrock_internal {

// Per-request budgets, checked before a byte is buffered (a hostile provider must not take a worker
// down; the parsed DOM costs about twice the text on top). Converse answers are text and tool calls.
inline constexpr size_t kMaxJsonAnswer = 8u << 20;        // a non-streaming answer larger than this is refused
inline constexpr size_t kMaxStreamMessage = 2u << 20;     // one event-stream message
inline constexpr int64_t kLongParkMs = 60LL * 60 * 1000;  // broken credentials / no access: 1 hour
inline constexpr size_t kMaxErrorMessage = 1024;
inline constexpr size_t kMaxErrorTypeName = 64;           // an AWS error type echoed into a message
inline constexpr std::string_view kDummyToolName = "dummy_tool";

// A request Converse cannot express (or a malformed field): the shared CannotExpress.
[[noreturn]] inline void reject(std::string param, std::string message) {
    cannot_express(std::move(param), std::move(message));
}

inline json_t* share(const json_t* v) { return json_incref(const_cast<json_t*>(v)); }

// {"key": value} with ownership of value.
inline json_t* wrap(const char* key, json_t* value) {
    json_t* o = new_json_object();
    set_json_member(o, key, value);
    return o;
}

// ---- error mapping shared by the classifier and the translator (bedrock_errors.cpp) ------------

// "ThrottlingException:http://internal.amazon.com/..." / "com.amazon.coral.validate#ValidationException"
// -> "ThrottlingException"; a camelCase stream exception type ("throttlingException") is capitalised.
std::string normalize_error_type(std::string_view t);

// The shared mapping: AWS error type (normalised), HTTP status (0 = unknown, e.g. a stream
// exception) and the provider's message -> verdict.
ErrorVerdict classify(std::string_view type, int status, std::string_view raw_message);

}  // namespace routeshift::bedrock_internal
