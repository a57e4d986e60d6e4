// The relayed OpenAI endpoints (see openai_relay_endpoints.hpp).
#include "ingress/openai_relay_endpoints.hpp"

#include "util/percent_encoding.hpp"

#include <array>

namespace routeshift {
namespace {

// One (path pattern, method) the relay serves. `{id}` in a pattern matches one non-empty segment.
struct RelayRow {
    std::string_view pattern;
    std::string_view method;
    RelayEndpoint endpoint;
    RelayBody body;
    bool names_model;
    bool model_optional;
    std::string_view allow;     // every method of the pattern
    std::string_view upstream;
    ProviderObjectKind object_kind;
};

using K = ProviderObjectKind;
constexpr std::array<RelayRow, 21> kRows{{
    {"/v1/completions", "POST", RelayEndpoint::completions, RelayBody::json, true, false, "POST", "/completions", K::file},
    {"/v1/responses", "POST", RelayEndpoint::responses, RelayBody::json, true, false, "POST", "/responses", K::file},
    {"/v1/responses/{id}", "GET", RelayEndpoint::response_object, RelayBody::none, false, false, "GET, DELETE",
     "/responses/{id}", K::response},
    {"/v1/responses/{id}", "DELETE", RelayEndpoint::response_object, RelayBody::none, false, false, "GET, DELETE",
     "/responses/{id}", K::response},
    {"/v1/responses/{id}/input_items", "GET", RelayEndpoint::response_input_items, RelayBody::none, false, false, "GET",
     "/responses/{id}/input_items", K::response},
    {"/v1/responses/{id}/cancel", "POST", RelayEndpoint::response_cancel, RelayBody::none, false, false, "POST",
     "/responses/{id}/cancel", K::response},
    {"/v1/moderations", "POST", RelayEndpoint::moderations, RelayBody::json, true, true, "POST", "/moderations", K::file},
    {"/v1/images/generations", "POST", RelayEndpoint::images_generations, RelayBody::json, true, true, "POST",
     "/images/generations", K::file},
    {"/v1/images/edits", "POST", RelayEndpoint::images_edits, RelayBody::multipart, true, true, "POST", "/images/edits",
     K::file},
    {"/v1/audio/transcriptions", "POST", RelayEndpoint::audio_transcriptions, RelayBody::multipart, true, false, "POST",
     "/audio/transcriptions", K::file},
    {"/v1/audio/speech", "POST", RelayEndpoint::audio_speech, RelayBody::json, true, false, "POST", "/audio/speech", K::file},
    {"/v1/rerank", "POST", RelayEndpoint::rerank, RelayBody::json, true, false, "POST", "/rerank", K::file},
    {"/v1/files", "POST", RelayEndpoint::files_upload, RelayBody::multipart, false, false, "GET, POST", "/files", K::file},
    {"/v1/files", "GET", RelayEndpoint::files_list, RelayBody::none, false, false, "GET, POST", "/files", K::file},
    {"/v1/files/{id}", "GET", RelayEndpoint::file_object, RelayBody::none, false, false, "GET, DELETE", "/files/{id}", K::file},
    {"/v1/files/{id}", "DELETE", RelayEndpoint::file_object, RelayBody::none, false, false, "GET, DELETE", "/files/{id}",
     K::file},
    {"/v1/files/{id}/content", "GET", RelayEndpoint::file_content, RelayBody::none, false, false, "GET",
     "/files/{id}/content", K::file},
    {"/v1/batches", "POST", RelayEndpoint::batches_create, RelayBody::json, false, false, "GET, POST", "/batches", K::batch},
    {"/v1/batches", "GET", RelayEndpoint::batches_list, RelayBody::none, false, false, "GET, POST", "/batches", K::batch},
    {"/v1/batches/{id}", "GET", RelayEndpoint::batch_object, RelayBody::none, false, false, "GET", "/batches/{id}", K::batch},
    {"/v1/batches/{id}/cancel", "POST", RelayEndpoint::batch_cancel, RelayBody::none, false, false, "POST",
     "/batches/{id}/cancel", K::batch},
}};

// Whether `path` matches `pattern`; `id` gets the segment `{id}` matched.
bool matches(std::string_view pattern, std::string_view path, std::string_view* id) {
    size_t brace = pattern.find("{id}");
    if (brace == std::string_view::npos) return pattern == path;
    if (path.substr(0, brace) != pattern.substr(0, brace)) return false;
    std::string_view tail = pattern.substr(brace + 4);
    std::string_view rest = path.substr(brace);
    if (rest.size() <= tail.size() || rest.substr(rest.size() - tail.size()) != tail) return false;
    std::string_view segment = rest.substr(0, rest.size() - tail.size());
    if (segment.empty() || segment.find('/') != std::string_view::npos) return false;
    *id = segment;
    return true;
}

void fill(const RelayRow& row, std::string_view id, RelayRoute* out) {
    out->endpoint = row.endpoint;
    out->allow = row.allow;
    out->body = row.body;
    out->names_model = row.names_model;
    out->model_optional = row.model_optional;
    out->has_object = !id.empty();
    out->object_id = id;
    out->object_kind = row.object_kind;
    out->upstream = row.upstream;
}

}  // namespace

bool route_relay(std::string_view method, std::string_view path, RelayRoute* out) {
    const RelayRow* path_match = nullptr;
    std::string_view path_id;
    auto consider = [&](const RelayRow& row) {
        std::string_view id;
        if (!matches(row.pattern, path, &id)) return false;
        if (row.method == method) {
            fill(row, id, out);
            out->method_allowed = true;
            return true;
        }
        if (!path_match) {
            path_match = &row;
            path_id = id;
        }
        return false;
    };
    for (const RelayRow& row : kRows)
        if (consider(row)) return true;
    if (!path_match) return false;
    fill(*path_match, path_id, out);
    out->method_allowed = false;
    return true;
}

std::string_view relay_endpoint_name(RelayEndpoint endpoint) {
    switch (endpoint) {
    case RelayEndpoint::completions: return "completions";
    case RelayEndpoint::responses: return "responses";
    case RelayEndpoint::response_object: return "response_object";
    case RelayEndpoint::response_input_items: return "response_input_items";
    case RelayEndpoint::response_cancel: return "response_cancel";
    case RelayEndpoint::moderations: return "moderations";
    case RelayEndpoint::images_generations: return "images_generations";
    case RelayEndpoint::images_edits: return "images_edits";
    case RelayEndpoint::audio_transcriptions: return "audio_transcriptions";
    case RelayEndpoint::audio_speech: return "audio_speech";
    case RelayEndpoint::rerank: return "rerank";
    case RelayEndpoint::files_upload: return "files_upload";
    case RelayEndpoint::files_list: return "files_list";
    case RelayEndpoint::file_object: return "file_object";
    case RelayEndpoint::file_content: return "file_content";
    case RelayEndpoint::batches_create: return "batches_create";
    case RelayEndpoint::batches_list: return "batches_list";
    case RelayEndpoint::batch_object: return "batch_object";
    case RelayEndpoint::batch_cancel: return "batch_cancel";
    }
    return "relay";
}

bool relay_answer_object_kind(RelayEndpoint endpoint, ProviderObjectKind* kind) {
    switch (endpoint) {
    case RelayEndpoint::responses:
    case RelayEndpoint::response_object:
    case RelayEndpoint::response_cancel:
        *kind = ProviderObjectKind::response;
        return true;
    case RelayEndpoint::files_upload:
    case RelayEndpoint::files_list:
    case RelayEndpoint::file_object:
        *kind = ProviderObjectKind::file;
        return true;
    case RelayEndpoint::batches_create:
    case RelayEndpoint::batches_list:
    case RelayEndpoint::batch_object:
    case RelayEndpoint::batch_cancel:
        *kind = ProviderObjectKind::batch;
        return true;
    default: return false;
    }
}

bool relay_upstream_path(std::string_view chat_path, const RelayRoute& route, std::string_view provider_object_id,
                         std::string_view client_query, std::string* out) {
    constexpr std::string_view kChat = "/chat/completions";
    size_t at = chat_path.find(kChat);
    if (at == std::string_view::npos) return false;
    std::string_view base = chat_path.substr(0, at);
    std::string_view query = chat_path.substr(at + kChat.size());
    if (!route.names_model) {
        size_t deployment = base.find("/deployments/");
        if (deployment != std::string_view::npos) base = base.substr(0, deployment);
    }
    out->assign(base);
    std::string_view upstream = route.upstream;
    size_t brace = upstream.find("{id}");
    if (brace == std::string_view::npos) {
        out->append(upstream);
    } else {
        out->append(upstream.substr(0, brace));
        percent_encode_append(*out, provider_object_id, PercentEncode::path_segment);
        out->append(upstream.substr(brace + 4));
    }
    out->append(query);
    if (!client_query.empty()) {
        out->push_back(query.empty() ? '?' : '&');
        out->append(client_query);
    }
    return true;
}

}  // namespace routeshift
