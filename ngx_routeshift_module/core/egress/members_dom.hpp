// The jansson DOM of a request's top-level members except "messages": the Gemini and Bedrock
// builders read their small fields (tools, tool_choice, sampling, response_format) from it, while
// the conversation is written from the canonical request without a DOM (the prompt is never
// parsed into a tree).
#pragma once
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

namespace routeshift {

// An object holding every top-level member but "messages" (the last of duplicate keys wins, as in
// jansson's DOM of the whole body). The members come from a body json_scan() accepted.
JsonPtr dom_without_messages(const JsonMembers& members);

}  // namespace routeshift
