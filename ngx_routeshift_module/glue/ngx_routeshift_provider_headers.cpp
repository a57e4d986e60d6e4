// Which provider response headers reach the client (docs/design.md §10.5): an allow-list of
// known-safe ones (content headers, rate-limit headers, request ids, Retry-After), with the key's
// secret masked in their values. Every other header is hidden: a provider that echoes the key in
// Location, WWW-Authenticate or a custom header must not hand it to the client.
#include "ngx_routeshift_response.hpp"

#include "util/redaction.hpp"

namespace routeshift {
namespace {

constexpr std::string_view kAllowedNames[] = {
    "content-type", "content-length", "content-language", "cache-control", "retry-after", "retry-after-ms",
    "x-request-id", "request-id", "x-amzn-requestid", "openai-processing-ms", "openai-version",
};
constexpr std::string_view kAllowedPrefixes[] = {"x-ratelimit-", "anthropic-ratelimit-", "ratelimit-"};

bool allowed(std::string_view lowcase_name) {
    for (std::string_view name : kAllowedNames) {
        if (lowcase_name == name) return true;
    }
    for (std::string_view prefix : kAllowedPrefixes) {
        if (lowcase_name.starts_with(prefix)) return true;
    }
    return false;
}

}  // namespace

ngx_int_t filter_provider_headers(ngx_http_request_t* r, const RequestCtx& ctx) {
    if (ctx.current < 0) return NGX_OK;
    std::string_view secret = ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key].secret;
    std::span<const std::string_view> secrets(&secret, 1);
    for (ngx_list_part_t* part = &r->upstream->headers_in.headers.part; part; part = part->next) {
        auto* h = static_cast<ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0) continue;
            std::string_view name(reinterpret_cast<const char*>(h[i].lowcase_key), h[i].key.len);
            if (!allowed(name)) {
                h[i].hash = 0;  // skipped when nginx copies the headers to the client's
                continue;
            }
            std::string_view value = string_view_of(h[i].value);
            if (secret.empty() || value.find(secret) == std::string_view::npos) continue;
            std::string masked = redact_secrets(value, secrets);
            auto* data = static_cast<u_char*>(ngx_pnalloc(r->pool, masked.size()));
            if (data == nullptr) return NGX_ERROR;
            ngx_memcpy(data, masked.data(), masked.size());
            h[i].value.data = data;
            h[i].value.len = masked.size();
        }
    }
    return NGX_OK;
}

}  // namespace routeshift
