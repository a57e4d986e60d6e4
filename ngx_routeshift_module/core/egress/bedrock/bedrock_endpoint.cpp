// Bedrock endpoint: the Converse path, the default regional host, key metadata validation and the
// complete HTTP/1.1 request, SigV4-signed (service "bedrock", sigv4.*) for the time of the attempt,
// or sent with a Bedrock API key (Bearer).
#include "egress/bedrock/bedrock_internal.hpp"

#include "egress/bedrock/sigv4.hpp"
#include "util/percent_encoding.hpp"

namespace routeshift {

using namespace bedrock_internal;

namespace {

bool region_ok(std::string_view r) {
    if (r.empty() || r.size() > 32) return false;
    for (char c : r)
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
            return false;
    return true;
}

}  // namespace

std::string bedrock_path(std::string_view upstream_model, bool stream) {
    std::string p = "/model/";
    percent_encode_append(p, upstream_model, PercentEncode::path_segment);  // the whole id is one segment (':' '/' encoded)
    p += stream ? "/converse-stream" : "/converse";
    return p;
}

std::string bedrock_default_host(const ProviderKey& key) {
    const std::string& region = key.meta.region;
    if (!region_ok(region)) return {};
    return "bedrock-runtime." + std::string(region) + ".amazonaws.com";
}

bool bedrock_validate_key(const ProviderKey& key, std::string* error) {
    auto fail = [error](std::string m) {
        if (error) *error = std::move(m);
        return false;
    };
    // parse_snapshot validated these (types, auth values); checked again as every attempt's
    // defence against a key built another way
    const KeyMetadata& md = key.meta;
    if (md.region.empty()) return fail("bedrock key metadata needs \"region\" (e.g. \"us-east-1\")");
    if (!region_ok(md.region)) return fail("bedrock key metadata \"region\" is not a valid AWS region name");
    if (key.secret.empty()) return fail("bedrock key has an empty secret");
    if (!is_header_safe(key.secret)) return fail("bedrock key secret contains control characters");
    if (md.bedrock_api_key) return true;
    if (md.access_key_id.empty())
        return fail("bedrock key metadata needs \"access_key_id\" (the secret is the secret access key), "
                    "or \"auth\":\"api_key\" for a Bedrock API key");
    for (char c : md.access_key_id)
        if (!std::isalnum(static_cast<unsigned char>(c))) return fail("bedrock key metadata \"access_key_id\" is malformed");
    if (!is_header_safe(md.session_token)) return fail("bedrock key metadata \"session_token\" contains control characters");
    return true;
}

namespace {

// The signed request; `with_body` false stops after the head (the transport sends the body from
// its own buffer).
bool bedrock_request(const std::string& host, const std::string& host_header, const std::string& path,
                     const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix, bool with_body,
                     std::string* out, std::string* error) {
    try {
        if (!bedrock_validate_key(key, error)) return false;
        std::string hh = !host_header.empty() ? host_header : !host.empty() ? host : bedrock_default_host(key);
        if (hh.empty() || !is_header_safe(hh) || hh.find(' ') != std::string::npos) {
            if (error) *error = "bedrock: invalid Host";
            return false;
        }
        if (path.empty() || path[0] != '/' || !is_header_safe(path) || path.find(' ') != std::string::npos) {
            if (error) *error = "bedrock: invalid request path";
            return false;
        }
        const std::string_view accept = stream ? "application/vnd.amazon.eventstream" : "application/json";
        std::string& o = *out;
        o.clear();
        o.reserve(body.size() + 1024);
        o += "POST ";
        o += path;
        o += " HTTP/1.1\r\nHost: ";
        o += hh;
        o += "\r\nContent-Type: application/json\r\nContent-Length: ";
        o += std::to_string(body.size());
        o += "\r\nAccept: ";
        o += accept;
        o += "\r\nUser-Agent: RouteShift/0.1\r\n";
        if (key.meta.bedrock_api_key) {
            o += "Authorization: Bearer ";
            o += key.secret;
            o += "\r\n\r\n";
            if (with_body) o += body;
            return true;
        }
        const std::string amz_date = sigv4_amz_date(now_unix);
        SigV4Request r;
        r.method = "POST";
        r.host = hh;
        std::string_view p = path;
        size_t q = p.find('?');
        r.path = p.substr(0, q);
        if (q != std::string_view::npos) r.query = p.substr(q + 1);
        r.headers = {{"Content-Type", "application/json"}, {"Accept", std::string(accept)}};
        r.payload = body;
        r.region = key.meta.region;
        r.service = "bedrock";
        r.access_key_id = key.meta.access_key_id;
        r.secret_key = key.secret;
        r.session_token = key.meta.session_token;
        r.amz_date = amz_date;
        SigV4Result res;
        std::string serr;
        if (!sigv4_sign(r, &res, &serr)) {
            if (error) *error = "bedrock: " + serr;
            o.clear();
            return false;
        }
        o += "X-Amz-Date: ";
        o += amz_date;
        o += "\r\n";
        if (!r.session_token.empty()) {
            o += "X-Amz-Security-Token: ";
            o += r.session_token;
            o += "\r\n";
        }
        o += "Authorization: ";
        o += res.authorization;
        o += "\r\n\r\n";
        if (with_body) o += body;
        return true;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        if (error) *error = "bedrock: internal error while building the request";
        return false;
    }
}

}  // namespace

bool bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error) {
    return bedrock_request(host, host_header, path, key, stream, body, now_unix, true, out, error);
}

bool bedrock_request_head(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error) {
    return bedrock_request(host, host_header, path, key, stream, body, now_unix, false, out, error);
}

std::string bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                                 const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix) {
    std::string out, err;
    if (!bedrock_http_request(host, host_header, path, key, stream, body, now_unix, &out, &err)) return {};
    return out;
}

}  // namespace routeshift
