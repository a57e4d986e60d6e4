#include "ingress/endpoint_route.hpp"

#include "ingress/openai_relay_endpoints.hpp"
#include "ingress/gemini_native_path.hpp"

#include <array>

namespace routeshift {
namespace {

struct ServedPath {
    std::string_view path;
    Endpoint endpoint;
    Dialect dialect;
};

constexpr std::array<ServedPath, 4> kServed{{
    {"/v1/chat/completions", Endpoint::chat_completions, Dialect::openai},
    {"/v1/embeddings", Endpoint::embeddings, Dialect::openai},
    {"/v1/messages", Endpoint::messages, Dialect::anthropic},
    {"/v1/messages/count_tokens", Endpoint::messages_count_tokens, Dialect::anthropic},
}};

// Paths of the whole API surface (issue 10, product docs 003/004) that are not served yet: a clear
// "not served" 404 instead of the generic one. Exact paths, then prefixes of their sub-paths.
constexpr std::array<std::string_view, 8> kNotServedExact{
    "/v1/batch", "/v1/threads", "/v1/assistants", "/v1/midjourney/imagine",
    "/v1/suno/generate", "/v1/chat/completions/async", "/v1/messages/batches", "/v1/embed",
};
constexpr std::array<std::string_view, 5> kNotServedPrefixes{
    "/v1/threads/", "/v1/assistants/", "/v1/chat/completions/async/", "/v1/messages/batches/",
    "/openai/deployments/",
};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

Dialect dialect_of(std::string_view path) {
    if (starts_with(path, "/v1beta/") || path == "/v1beta" || starts_with(path, "/v1/models/gemini/")) {
        return Dialect::google;
    }
    if (path == "/v1/messages" || starts_with(path, "/v1/messages/")) return Dialect::anthropic;
    return Dialect::openai;
}

// The Gemini native model methods served (docs/design.md §18 "Gemini native"); other methods of
// a model path are not served.
Endpoint gemini_endpoint(std::string_view path) {
    GeminiNativePath native;
    if (!parse_gemini_native_path(path, &native)) return Endpoint::unknown;
    if (native.method == "generateContent") return Endpoint::gemini_generate_content;
    if (native.method == "streamGenerateContent") return Endpoint::gemini_stream_generate_content;
    if (native.method == "countTokens") return Endpoint::gemini_count_tokens;
    if (native.method == "embedContent" || native.method == "batchEmbedContents") return Endpoint::embeddings;
    return Endpoint::unknown;
}

bool not_served(std::string_view path, Dialect dialect) {
    if (dialect == Dialect::google) return starts_with(path, "/v1beta/models/") || starts_with(path, "/v1/models/gemini/");
    for (std::string_view p : kNotServedExact) {
        if (path == p) return true;
    }
    for (std::string_view p : kNotServedPrefixes) {
        if (starts_with(path, p) && path.size() > p.size()) return true;
    }
    return false;
}

// GET /v1/models and /v1/models/{id} (an id may hold '/': "openai/gpt-4o"); /v1/models/gemini/...
// is the Google dialect's (dialect_of), never a model id here.
bool route_models(std::string_view method, std::string_view path, EndpointRoute* route) {
    constexpr std::string_view kModels = "/v1/models";
    if (route->dialect != Dialect::openai || !starts_with(path, kModels)) return false;
    std::string_view rest = path.substr(kModels.size());
    if (!rest.empty() && (rest[0] != '/' || rest.size() == 1)) return false;
    route->endpoint = rest.empty() ? Endpoint::models_list : Endpoint::models_retrieve;
    route->path_model = rest.empty() ? std::string_view() : rest.substr(1);
    route->allow = "GET";
    route->method_allowed = method == "GET";
    return true;
}

// /openai/deployments/{name}/chat/completions and .../embeddings: the Azure OpenAI path shape, {name} = the model.
bool route_azure_deployment(std::string_view method, std::string_view path, EndpointRoute* route) {
    constexpr std::string_view kDeployments = "/openai/deployments/";
    if (!starts_with(path, kDeployments)) return false;
    std::string_view rest = path.substr(kDeployments.size());
    size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) return false;
    std::string_view operation = rest.substr(slash);
    if (operation == "/chat/completions") route->endpoint = Endpoint::chat_completions;
    else if (operation == "/embeddings") route->endpoint = Endpoint::embeddings;
    else return false;  // other operations: "not served"
    route->path_model = rest.substr(0, slash);
    route->allow = "POST";
    route->method_allowed = method == "POST";
    return true;
}

}  // namespace

EndpointRoute route_endpoint(std::string_view method, std::string_view path) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    EndpointRoute route;
    route.dialect = dialect_of(path);
    if (route_models(method, path, &route) || route_azure_deployment(method, path, &route)) return route;
    for (const ServedPath& served : kServed) {
        if (path != served.path) continue;
        route.endpoint = served.endpoint;
        route.dialect = served.dialect;
        route.allow = "POST";
        route.method_allowed = method == "POST";
        return route;
    }
    if (RelayRoute relay; route.dialect == Dialect::openai && route_relay(method, path, &relay)) {
        route.endpoint = Endpoint::openai_relay;
        route.allow = relay.allow;
        route.method_allowed = relay.method_allowed;
        return route;
    }
    if (route.dialect == Dialect::google) {
        if (Endpoint gemini = gemini_endpoint(path); gemini != Endpoint::unknown) {
            route.endpoint = gemini;
            route.allow = "POST";
            route.method_allowed = method == "POST";
            return route;
        }
    }
    route.endpoint = not_served(path, route.dialect) ? Endpoint::not_served : Endpoint::unknown;
    return route;
}

std::string_view dialect_name(Dialect dialect) {
    switch (dialect) {
    case Dialect::anthropic: return "anthropic";
    case Dialect::google: return "google";
    case Dialect::openai: break;
    }
    return "openai";
}

std::string_view endpoint_name(Endpoint endpoint) {
    switch (endpoint) {
    case Endpoint::chat_completions: return "chat_completions";
    case Endpoint::messages: return "messages";
    case Endpoint::messages_count_tokens: return "messages_count_tokens";
    case Endpoint::openai_relay: return "openai_relay";
    case Endpoint::gemini_generate_content: return "gemini_generate_content";
    case Endpoint::gemini_stream_generate_content: return "gemini_stream_generate_content";
    case Endpoint::gemini_count_tokens: return "gemini_count_tokens";
    case Endpoint::embeddings: return "embeddings";
    case Endpoint::models_list: return "models_list";
    case Endpoint::models_retrieve: return "models_retrieve";
    case Endpoint::not_served: return "not_served";
    case Endpoint::unknown: break;
    }
    return "unknown";
}

}  // namespace routeshift
