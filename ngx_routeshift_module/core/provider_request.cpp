#include "provider_request.hpp"
#include "provider_adapter.hpp"
#include "url.hpp"

namespace routeshift {
namespace {

bool endpoint_from_url(std::string_view base, std::string path_suffix, UpstreamEndpoint* out,
                       std::string* error) {
    auto url = parse_url(base, error);
    if (!url) return false;
    out->tls = url->tls;
    out->host = url->host;
    out->port = url->port;
    out->host_is_ip = url->host_is_ip;
    out->host_header = url->host_header;
    out->sni = url->host_is_ip ? std::string() : url->host;
    out->path = url->path + path_suffix;
    return true;
}

std::string json_request(const UpstreamEndpoint& ep, bool stream, std::string_view body,
                         std::string_view auth_headers) {
    std::string req;
    req.reserve(256 + auth_headers.size() + body.size());
    req.append("POST ").append(ep.path).append(" HTTP/1.1\r\nHost: ").append(ep.host_header);
    req.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
    req.append(stream ? "\r\nAccept: text/event-stream" : "\r\nAccept: application/json");
    req.append("\r\nUser-Agent: RouteShift/0.1\r\n").append(auth_headers).append("\r\n").append(body);
    return req;
}

}  // namespace

bool provider_endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model,
                       bool stream, UpstreamEndpoint* out, std::string* error) {
    const Provider& prov = cfg.providers[key.provider];
    switch (key.wire) {
    case WireFormat::openai:
        return chat_endpoint(cfg, key, upstream_model, out, error);
    case WireFormat::anthropic: {
        std::string base = prov.base_url_set ? prov.base_url : anthropic_default_base_url(prov.kind, key);
        return endpoint_from_url(base, std::string(kAnthropicMessagesPath), out, error);
    }
    case WireFormat::gemini: {
        std::string base = prov.base_url_set ? prov.base_url : std::string(kGeminiDefaultBaseUrl);
        if (!endpoint_from_url(base, "", out, error)) return false;
        out->path = gemini_request_path(out->path, upstream_model, stream);
        return true;
    }
    case WireFormat::bedrock: {
        std::string base = prov.base_url_set ? prov.base_url : "https://" + bedrock_default_host(key);
        if (!prov.base_url_set && bedrock_default_host(key).empty()) {
            *error = "bedrock key " + std::to_string(key.id) + " has no usable metadata.region";
            return false;
        }
        if (!endpoint_from_url(base, "", out, error)) return false;
        out->path += bedrock_path(upstream_model, stream);
        return true;
    }
    }
    *error = "unknown wire format";
    return false;
}

bool provider_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                   std::string_view upstream_model, std::string* out, ApiError* err) {
    const Provider& prov = cfg.providers[key.provider];
    switch (key.wire) {
    case WireFormat::openai: *out = build_chat_body(cfg, key, req, upstream_model); return true;
    case WireFormat::anthropic: return anthropic_build_body(req, upstream_model, prov.kind, key, out, err);
    case WireFormat::gemini: return gemini_build_body(req, upstream_model, key, out, err);
    case WireFormat::bedrock: return bedrock_build_body(req, upstream_model, key, out, err);
    }
    return false;
}

bool body_depends_on_key(const Config& cfg, const ProviderKey& key) {
    return cfg.providers[key.provider].kind == ProviderKind::azure;
}

bool provider_http_request(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                           bool stream, std::string_view body, int64_t now_unix, std::string* out,
                           std::string* error) {
    const Provider& prov = cfg.providers[key.provider];
    switch (key.wire) {
    case WireFormat::openai:
        *out = build_http_request(cfg, key, ep, stream, body);
        return true;
    case WireFormat::anthropic:
        // secrets and metadata with control characters never get past snapshot validation
        *out = json_request(ep, stream, body, anthropic_request_headers(prov.kind, key));
        return true;
    case WireFormat::gemini:
        *out = json_request(ep, stream, body, gemini_request_headers(key));
        return true;
    case WireFormat::bedrock:
        return bedrock_http_request(ep.host, ep.host_header, ep.path, key, stream, body, now_unix, out, error);
    }
    *error = "unknown wire format";
    return false;
}

}  // namespace routeshift
