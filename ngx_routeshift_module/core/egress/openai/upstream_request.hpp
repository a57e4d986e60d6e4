// Builds the HTTP/1.1 request sent to a provider for one attempt: endpoint (URL, Host, SNI),
// auth headers in the provider's shape, and the rewritten body.
#pragma once
#include "ingress/chat_request.hpp"
#include "config/config_snapshot.hpp"
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct UpstreamEndpoint {
    bool tls = false;
    std::string host;        // DNS name or IP literal (connect target)
    unsigned port = 0;
    bool host_is_ip = false;
    std::string host_header; // value of Host:
    std::string sni;         // TLS server name and verify name ("" for IP literals)
    std::string path;        // path + query, e.g. /v1/chat/completions
};

// Endpoint for chat completions on `key` of `provider` (Azure builds its URL from metadata).
bool chat_endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model,
                   UpstreamEndpoint* out, std::string* error);

// A provider body as pieces sent back to back: spans of the client's body and bytes of our own.
// A body that only rewrites a few top-level members goes out without a copy of the client's
// bytes (a compact body the splice leaves unchanged is one span: the client's body itself).
struct SplicedBody {
    struct Piece {
        bool own;       // true: bytes of `own`; false: bytes of the client's body
        size_t offset;  // into `own` or into the client's body
        size_t size;
    };
    std::string own;
    std::vector<Piece> pieces;
    size_t size = 0;  // of the whole body

    std::string_view piece_text(const Piece& p, std::string_view client_body) const {
        return p.own ? std::string_view(own).substr(p.offset, p.size) : client_body.substr(p.offset, p.size);
    }
    std::string flatten(std::string_view client_body) const;
};

// The model an OpenAI-wire body names on `key`: the upstream model, except on Azure v1 keys
// (`/openai/v1/...`), which name the deployment there (key metadata `deployment`, else the
// upstream model). Chat, the relayed endpoints and embeddings alike (docs/design.md §21, §22).
std::string_view provider_body_model(const Config& cfg, const ProviderKey& key, std::string_view upstream_model);

// build_chat_body's body as pieces of `req.body` (see SplicedBody); the same bytes once flattened.
void splice_chat_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                      std::string_view upstream_model, SplicedBody* out);

// Upstream JSON body: the client's body with `model` replaced (Azure v1: the deployment name),
// the gateway's `metadata` members removed (route_hint, session_id; OpenAI and Azure keep the
// client's other members, other providers get no `metadata`), provider quirks applied (zai:
// developer->system role), and, when `req.stream`, `stream_options.include_usage` forced to true
// so usage can be accounted (Azure dated versions before 2024-09-01 reject `stream_options`: they
// get none, and the stream's usage is estimated).
// Built by splicing `req.body` (no DOM): the members are copied byte for byte except the ones
// rewritten, so the output is semantically equal to build_chat_body_dom (not byte-equal: spacing
// between top-level members goes, spacing and escapes inside values stay as the client sent them).
// Bodies with duplicate top-level keys go through build_chat_body_dom.
std::string build_chat_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                            std::string_view upstream_model);

// The same body re-serialised from the request's jansson DOM (req.dom()): the fallback of
// build_chat_body and the reference it is tested against.
std::string build_chat_body_dom(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                                std::string_view upstream_model);

// The full request bytes: request line, Host, Content-Type, Content-Length, Accept
// (text/event-stream when streaming), User-Agent, the auth header(s), provider extras
// (OpenAI-Organization/OpenAI-Project from metadata), blank line, body.
// Nothing from the client's own headers is copied.
std::string build_http_request(const Config& cfg, const ProviderKey& key,
                               const UpstreamEndpoint& ep, bool stream, std::string_view body);

// The same request without its body: everything up to and including the blank line, with
// Content-Length `body_size`. The transport sends it followed by the body buffer shared by the
// request's attempts (no copy of the body per attempt).
std::string build_http_request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                                    bool stream, size_t body_size);

// The key's credential header in its auth shape and the provider's extra headers
// (OpenAI-Organization / OpenAI-Project), each line ending in CRLF: what every request head of the
// OpenAI wire carries (chat, and the relayed endpoints of docs/design.md §21).
void append_provider_auth_headers(const Config& cfg, const ProviderKey& key, std::string* out);

}  // namespace routeshift
