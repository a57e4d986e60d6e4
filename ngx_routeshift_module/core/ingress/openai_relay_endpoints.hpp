// The OpenAI endpoints other than chat that the gateway relays to OpenAI-wire providers
// (docs/design.md §21): which method + path is which endpoint, what body it carries, whether it
// names a model or a provider object, and the provider path it goes to. Plain C++, no nginx.
#pragma once
#include "ingress/provider_object_id.hpp"

#include <string>
#include <string_view>

namespace routeshift {

enum class RelayEndpoint : uint8_t {
    completions,           // POST /v1/completions
    responses,             // POST /v1/responses
    response_object,       // GET, DELETE /v1/responses/{id}
    response_input_items,  // GET /v1/responses/{id}/input_items
    response_cancel,       // POST /v1/responses/{id}/cancel
    moderations,           // POST /v1/moderations
    images_generations,    // POST /v1/images/generations
    images_edits,          // POST /v1/images/edits (multipart)
    audio_transcriptions,  // POST /v1/audio/transcriptions (multipart)
    audio_speech,          // POST /v1/audio/speech (binary answer)
    rerank,                // POST /v1/rerank (Cohere-compatible)
    files_upload,          // POST /v1/files (multipart)
    files_list,            // GET /v1/files
    file_object,           // GET, DELETE /v1/files/{id}
    file_content,          // GET /v1/files/{id}/content
    batches_create,        // POST /v1/batches
    batches_list,          // GET /v1/batches
    batch_object,          // GET /v1/batches/{id}
    batch_cancel,          // POST /v1/batches/{id}/cancel
};

enum class RelayBody : uint8_t {
    none,       // nothing is read or sent (GET, DELETE, cancel)
    json,       // a JSON object; `model` routes when the endpoint has one
    multipart,  // multipart/form-data; its `model` field routes when the endpoint has one
};

struct RelayRoute {
    RelayEndpoint endpoint = RelayEndpoint::completions;
    bool method_allowed = true;
    std::string_view allow;         // the path's methods, for a 405's Allow header
    RelayBody body = RelayBody::none;
    bool names_model = false;       // the body's `model` picks the provider (else the files provider or the id's key)
    bool model_optional = false;    // a body without `model` goes to the files provider (moderations, images)
    bool has_object = false;        // the path carries an object id (`object_id`, of `object_kind`)
    std::string_view object_id;     // views the path
    ProviderObjectKind object_kind = ProviderObjectKind::file;
    std::string_view upstream;      // provider path after the base ("/files/{id}/content")
};

// The relay endpoint `method` on `path` is (a trailing slash already removed). False: not a relay
// path. A relay path with another method: true with method_allowed false.
bool route_relay(std::string_view method, std::string_view path, RelayRoute* out);

// "completions", "responses", "files_upload", ... (request log, errors).
std::string_view relay_endpoint_name(RelayEndpoint endpoint);

// What kind of object the answer's ids are (files, batches and stored responses are handed out
// under client ids): false when the endpoint's answer carries none (completions, images, ...).
bool relay_answer_object_kind(RelayEndpoint endpoint, ProviderObjectKind* kind);

// The provider URL path of this call for a key whose chat URL path is `chat_path` (from
// chat_endpoint: base path + "/chat/completions" + an Azure query): the base path + the
// endpoint's path (`{id}` = `provider_object_id`, percent-encoded) + the chat path's query, then
// the client's `client_query` (already URL-encoded; "" for none). Calls without a model leave an
// Azure deployment segment out (/openai/files, not /openai/deployments/x/files). False when
// `chat_path` has no "/chat/completions" to replace.
bool relay_upstream_path(std::string_view chat_path, const RelayRoute& route, std::string_view provider_object_id,
                         std::string_view client_query, std::string* out);

}  // namespace routeshift
