// AWS Signature Version 4 (header signing) for non-S3 services such as Bedrock
// (docs/wire-formats.md, Bedrock Converse → SigV4 signing).
// Pure computation on OpenSSL libcrypto: canonical request, string to sign, derived signing key,
// signature, Authorization header. No nginx headers, no I/O, no clock (the caller passes the time).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct SigV4Header {
    std::string name;   // as sent (any case)
    std::string value;  // as sent
};

struct SigV4Request {
    std::string_view method = "POST";
    // Value of the Host header exactly as sent (with ":port" when it is sent that way). When empty
    // the Host header must be among `headers`. A Host entry in `headers` wins over this field.
    std::string_view host;
    // Path exactly as it appears on the request line (percent-encoded as sent, no query). The
    // canonical URI is this path, dot segments and empty segments removed (normalize_path), URI
    // encoded once more: non-S3 services "double encode" (`%3A` -> `%253A`).
    std::string_view path = "/";
    bool normalize_path = true;  // false only for S3-style signing (the suites' "unnormalized" cases)
    // Raw query string without '?', as sent ("" when none). Each key and value is percent-decoded
    // and re-encoded with the SigV4 rule, then the pairs are sorted.
    std::string_view query;
    // Every other header the request carries, in order, duplicates allowed. All are signed except
    // the ones no AWS signer signs (authorization, user-agent, x-amzn-trace-id, expect, connection,
    // keep-alive, te, trailer, transfer-encoding, upgrade, proxy-*). Existing x-amz-date,
    // x-amz-security-token and authorization entries are replaced by the signer's own.
    std::vector<SigV4Header> headers;
    std::string_view payload;  // exact body bytes

    std::string_view region;
    std::string_view service;        // credential-scope service name ("bedrock")
    std::string_view access_key_id;
    std::string_view secret_key;     // never copied into any output
    std::string_view session_token;  // "" = long-term credentials
    std::string_view amz_date;       // "YYYYMMDDTHHMMSSZ" (UTC)

    bool sign_session_token = true;   // false: X-Amz-Security-Token is added after signing
    bool add_content_sha256 = false;  // add (and sign) x-amz-content-sha256: <payload hash>
};

struct SigV4Result {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers;  // "content-type;host;x-amz-date"
    std::string credential_scope;  // "20150830/us-east-1/service/aws4_request"
    std::string signature;       // lowercase hex
    std::string authorization;   // the Authorization header value
    // The headers to send, in order: the request's headers (minus replaced ones), Host when it was
    // not among them, X-Amz-Date, x-amz-content-sha256 (if asked), X-Amz-Security-Token (if any),
    // Authorization.
    std::vector<SigV4Header> headers;
};

// Signs `req`. Returns false and fills `error` (never containing the secret key or the session
// token) when an input is unusable: bad amz_date, empty region/service/access key/secret, no host,
// header names that are not HTTP tokens, CR/LF in values that is not a header continuation.
bool sigv4_sign(const SigV4Request& req, SigV4Result* out, std::string* error);

// "YYYYMMDDTHHMMSSZ" for a unix time (UTC).
std::string sigv4_amz_date(int64_t unix_seconds);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// The derived signing key kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
// "aws4_request") (32 bytes). `date` is "YYYYMMDD".
void sigv4_signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                       std::string_view service, unsigned char out[32]);

// SigV4 URI encoding: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase hex);
// `keep_slash` leaves '/' as is (paths).
void sigv4_uri_encode_append(std::string& out, std::string_view s, bool keep_slash);

// The canonical URI and canonical query string parts of the algorithm (exposed for tests).
std::string sigv4_canonical_uri(std::string_view wire_path, bool normalize);
std::string sigv4_canonical_query(std::string_view raw_query);

}  // namespace routeshift
