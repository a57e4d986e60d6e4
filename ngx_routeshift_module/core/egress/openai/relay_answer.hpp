// The 2xx answer of a relayed OpenAI endpoint (docs/design.md §21), through the ResponseTranslator
// interface the transport already drives: JSON answers are read whole (bounded) so their usage is
// known and the ids of provider objects (files, batches, stored responses) become the client ids
// that lead back to the key; SSE streams (completions, responses, transcriptions) pass event by
// event with their usage read and a stored response's id rewritten; anything else (audio bytes,
// file contents) passes as it comes.
#pragma once
#include "egress/openai/object_owner.hpp"
#include "egress/openai/owner_list_pages.hpp"
#include "egress/provider_adapter.hpp"
#include "ingress/provider_object_id.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace routeshift {

// How a provider id becomes the client's (encode_provider_object_id bound to the key and team).
using ProviderObjectIdEncoder = std::function<std::string(ProviderObjectKind kind, std::string_view provider_id)>;

struct RelayAnswerOptions {
    std::string_view content_type;  // the provider's Content-Type
    bool stream = false;            // the client asked for a stream
    bool rewrite_ids = false;       // the endpoint hands out provider objects
    ProviderObjectKind kind = ProviderObjectKind::file;  // of the answer's objects (lists: of their items)
    ProviderObjectIdEncoder encode;
    std::optional<ObjectOwnerScope> owner;  // files and batches: marks removed (object_owner.hpp)
    // A files/batches list (owner_list_pages.hpp): each answer is one provider page for the pager
    // (the call's, outliving the translator). While it wants another page the translator writes
    // nothing; then the client's page, ids rewritten.
    OwnerListPager* pages = nullptr;
    // A JSON answer without this top-level array member is not the endpoint's answer (an
    // embeddings answer without "data"): the attempt fails like a malformed chat answer.
    std::string_view required_array;
};

std::unique_ptr<ResponseTranslator> relay_answer_translator(RelayAnswerOptions options);

// Usage from the top-level "usage" of a relayed answer: chat/completions names (prompt_tokens,
// completion_tokens), Responses names (input_tokens, output_tokens, input_tokens_details.
// cached_tokens), embeddings-like (prompt_tokens only); -1 where absent.
Usage relay_usage(JsonValue usage);

// The client's page of a paged list (OwnerListPager::answer), ids rewritten; "" before any page.
std::string client_list_page(const OwnerListPager& pages, bool interrupted, ProviderObjectKind kind,
                             const ProviderObjectIdEncoder& encode);

// The ids of provider objects in a JSON answer (a file, batch or response object, a deleted
// object, or a list of them) replaced by client ids; batches' input/output/error file ids and a
// response's previous_response_id too; with `owner`, the owner's mark removed first
// (scope_answer_to_owner). False when `json` is not a JSON object.
bool rewrite_answer_object_ids(std::string_view json, ProviderObjectKind kind, const ProviderObjectIdEncoder& encode,
                               const ObjectOwnerScope* owner, std::string* out);

}  // namespace routeshift
