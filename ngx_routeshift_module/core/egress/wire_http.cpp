// Endpoint and request-line helpers shared by the wire adapters.
#include "egress/wire_adapters.hpp"

namespace routeshift {

bool endpoint_from_url(std::string_view base, std::string_view path_suffix, UpstreamEndpoint* out,
                       std::string* error) {
    auto url = parse_url(base, error);
    if (!url) return false;
    out->tls = url->tls;
    out->host = url->host;
    out->port = url->port;
    out->host_is_ip = url->host_is_ip;
    out->host_header = url->host_header;
    out->sni = url->host_is_ip ? std::string() : url->host;
    out->path = url->path;
    out->path += path_suffix;
    return true;
}

std::string json_post_head(const UpstreamEndpoint& ep, bool stream, std::string_view body,
                           std::string_view auth_headers) {
    std::string head;
    head.reserve(256 + auth_headers.size());
    head.append("POST ").append(ep.path).append(" HTTP/1.1\r\nHost: ").append(ep.host_header);
    head.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
    head.append(stream ? "\r\nAccept: text/event-stream" : "\r\nAccept: application/json");
    head.append("\r\nUser-Agent: RouteShift/0.1\r\n").append(auth_headers).append("\r\n");
    return head;
}

}  // namespace routeshift
