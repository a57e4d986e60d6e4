// OpenAI chat-completions body -> canonical request (canonical/canonical_request.hpp), without a DOM.
#pragma once
#include "canonical/canonical_request.hpp"
#include "ingress/chat_request.hpp"

namespace routeshift {

// Sorts the top-level members of a body json_scan() accepted (views into that body) into the
// canonical request. Never fails: shapes are checked by the request builders, which know the error
// their provider needs. The body must outlive `out`.
void canonical_from_openai_chat(const JsonMembers& members, CanonicalRequest* out);

// The same for a parsed request (its `members`, views into its body).
inline CanonicalRequest canonical_from_openai_chat(const ChatRequest& req) {
    CanonicalRequest c;
    canonical_from_openai_chat(req.members, &c);
    return c;
}

}  // namespace routeshift
