// AWS Signature Version 4 (see sigv4.hpp).
#include "egress/bedrock/sigv4.hpp"

#include "util/hex.hpp"
#include "util/percent_encoding.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <utility>

namespace routeshift {

namespace {

void sha256(std::string_view data, unsigned char out[32]) {
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1 || len != 32)
        std::memset(out, 0, 32);  // cannot happen with the default provider; keep output defined
}

void hmac_sha256(const void* key, size_t key_len, std::string_view data, unsigned char out[32]) {
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), out, &len) ||
        len != 32)
        std::memset(out, 0, 32);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool is_tchar(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return true;
    if (c >= 'a' && c <= 'z') return true;
    if (c >= '0' && c <= '9') return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool is_header_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A value is acceptable when every CR/LF belongs to a line folding ("\r\n" or "\n" followed by
// SP/HT) and it has no other control byte but HT.
bool header_value_ok(std::string_view v) {
    for (size_t i = 0; i < v.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(v[i]);
        if (c == '\r') {
            if (i + 1 >= v.size() || v[i + 1] != '\n') return false;
            continue;
        }
        if (c == '\n') {
            if (i + 1 >= v.size() || (v[i + 1] != ' ' && v[i + 1] != '\t')) return false;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

// Trims and collapses every run of whitespace (incl. folded lines) to one space.
void canonical_value_append(std::string& out, std::string_view v) {
    size_t i = 0;
    while (i < v.size() && is_header_ws(v[i])) ++i;
    size_t end = v.size();
    while (end > i && is_header_ws(v[end - 1])) --end;
    bool in_ws = false;
    for (; i < end; ++i) {
        if (is_header_ws(v[i])) {
            in_ws = true;
            continue;
        }
        if (in_ws) out += ' ';
        in_ws = false;
        out += v[i];
    }
}

bool never_signed(std::string_view lname) {
    static constexpr std::string_view kSkip[] = {"authorization", "user-agent", "x-amzn-trace-id", "expect",
                                                 "connection",    "keep-alive", "te",              "trailer",
                                                 "transfer-encoding", "upgrade"};
    for (auto s : kSkip)
        if (lname == s) return true;
    return lname.starts_with("proxy-");
}

bool amz_date_ok(std::string_view d) {
    if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
    for (size_t i = 0; i < 15; ++i) {
        if (i == 8) continue;
        if (d[i] < '0' || d[i] > '9') return false;
    }
    return true;
}

bool scope_part_ok(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c == '/' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
    return true;
}

}  // namespace

void sigv4_uri_encode_append(std::string& out, std::string_view s, bool keep_slash) {
    // SigV4's URI encoding is exactly RFC 3986's: unreserved kept, uppercase %XX for the rest
    percent_encode_append(out, s, keep_slash ? PercentEncode::path : PercentEncode::segment);
}

std::string sigv4_canonical_uri(std::string_view path, bool normalize) {
    std::string p;
    if (path.empty()) {
        p = "/";
    } else if (!normalize) {
        p = path;
    } else {
        // RFC 3986 §5.2.4 dot-segment removal plus removal of empty segments, as every AWS signer
        // does for non-S3 services (botocore remove_dot_segments, aws-c-auth normalize).
        std::vector<std::string_view> segs;
        size_t start = 0;
        while (start <= path.size()) {
            size_t slash = path.find('/', start);
            if (slash == std::string_view::npos) slash = path.size();
            std::string_view seg = path.substr(start, slash - start);
            if (seg == "..") {
                if (!segs.empty()) segs.pop_back();
            } else if (!seg.empty() && seg != ".") {
                segs.push_back(seg);
            }
            start = slash + 1;
        }
        if (path.front() == '/') p += '/';
        for (size_t i = 0; i < segs.size(); ++i) {
            if (i) p += '/';
            p += segs[i];
        }
        if (path.back() == '/' && !segs.empty()) p += '/';
        if (p.empty()) p = "/";
    }
    std::string out;
    out.reserve(p.size() + 16);
    sigv4_uri_encode_append(out, p, true);
    return out;
}

std::string sigv4_canonical_query(std::string_view q) {
    if (q.empty()) return {};
    std::vector<std::pair<std::string, std::string>> pairs;
    size_t start = 0;
    while (start <= q.size()) {
        size_t amp = q.find('&', start);
        if (amp == std::string_view::npos) amp = q.size();
        std::string_view item = q.substr(start, amp - start);
        if (!item.empty()) {
            size_t eq = item.find('=');
            std::string_view k = item.substr(0, eq);
            std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
            std::string ek, ev;
            sigv4_uri_encode_append(ek, percent_decode(k), false);
            sigv4_uri_encode_append(ev, percent_decode(v), false);
            pairs.emplace_back(std::move(ek), std::move(ev));
        }
        start = amp + 1;
    }
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (size_t i = 0; i < pairs.size(); ++i) {
        if (i) out += '&';
        out += pairs[i].first;
        out += '=';
        out += pairs[i].second;
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[32];
    sha256(data, md);
    std::string out;
    out.reserve(64);
    append_hex(out, md, 32);
    return out;
}

void sigv4_signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                       std::string_view service, unsigned char out[32]) {
    std::string k = "AWS4";
    k += secret_key;
    unsigned char a[32], b[32];
    hmac_sha256(k.data(), k.size(), date, a);
    OPENSSL_cleanse(k.data(), k.size());
    hmac_sha256(a, 32, region, b);
    hmac_sha256(b, 32, service, a);
    hmac_sha256(a, 32, "aws4_request", out);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
}

std::string sigv4_amz_date(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

bool sigv4_sign(const SigV4Request& req, SigV4Result* out, std::string* error) {
    auto fail = [error](const char* msg) {
        if (error) *error = msg;
        return false;
    };
    if (!amz_date_ok(req.amz_date)) return fail("sigv4: amz_date must be YYYYMMDDTHHMMSSZ");
    if (!scope_part_ok(req.region)) return fail("sigv4: region is empty or invalid");
    if (!scope_part_ok(req.service)) return fail("sigv4: service is empty or invalid");
    if (!scope_part_ok(req.access_key_id)) return fail("sigv4: access key id is empty or invalid");
    if (req.secret_key.empty()) return fail("sigv4: secret key is empty");
    if (req.method.empty()) return fail("sigv4: method is empty");
    for (char c : req.method)
        if (!is_tchar(static_cast<unsigned char>(c))) return fail("sigv4: invalid method");
    for (char c : req.path)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '?' || c == '#')
            return fail("sigv4: invalid path");
    if (!header_value_ok(req.session_token) || req.session_token.find_first_of("\r\n") != std::string_view::npos)
        return fail("sigv4: session token contains control characters");
    if (!req.host.empty() && (!header_value_ok(req.host) || req.host.find_first_of("\r\n") != std::string_view::npos))
        return fail("sigv4: invalid host");

    SigV4Result r;
    // Headers to send (original case), the replaced ones dropped.
    bool have_host = false;
    for (const SigV4Header& h : req.headers) {
        if (h.name.empty()) return fail("sigv4: empty header name");
        for (char c : h.name)
            if (!is_tchar(static_cast<unsigned char>(c))) return fail("sigv4: header name is not an HTTP token");
        if (!header_value_ok(h.value)) return fail("sigv4: header value contains control characters");
        std::string ln = to_lower(h.name);
        if (ln == "x-amz-date" || ln == "x-amz-security-token" || ln == "authorization") continue;
        if (req.add_content_sha256 && ln == "x-amz-content-sha256") continue;
        if (ln == "host") have_host = true;
        r.headers.push_back(h);
    }
    if (!have_host) {
        if (req.host.empty()) return fail("sigv4: no host");
        r.headers.insert(r.headers.begin(), SigV4Header{"Host", std::string(req.host)});
    }
    const std::string payload_hash = sha256_hex(req.payload);
    r.headers.push_back({"X-Amz-Date", std::string(req.amz_date)});
    if (req.add_content_sha256) r.headers.push_back({"x-amz-content-sha256", payload_hash});
    if (!req.session_token.empty() && req.sign_session_token)
        r.headers.push_back({"X-Amz-Security-Token", std::string(req.session_token)});

    // Canonical headers: lower-case names, sorted (stable: duplicates keep their order), values
    // trimmed/collapsed and joined with ','.
    std::vector<std::pair<std::string, const std::string*>> sig;
    sig.reserve(r.headers.size());
    for (const SigV4Header& h : r.headers) {
        std::string ln = to_lower(h.name);
        if (never_signed(ln)) continue;
        sig.emplace_back(std::move(ln), &h.value);
    }
    std::stable_sort(sig.begin(), sig.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string canon_headers;
    for (size_t i = 0; i < sig.size(); ++i) {
        if (i > 0 && sig[i].first == sig[i - 1].first) {
            canon_headers += ',';
        } else {
            if (i > 0) canon_headers += '\n';
            canon_headers += sig[i].first;
            canon_headers += ':';
            if (!r.signed_headers.empty()) r.signed_headers += ';';
            r.signed_headers += sig[i].first;
        }
        canonical_value_append(canon_headers, *sig[i].second);
    }
    if (!sig.empty()) canon_headers += '\n';

    std::string& cr = r.canonical_request;
    cr.reserve(256 + canon_headers.size() + req.path.size() * 2);
    cr += req.method;
    cr += '\n';
    cr += sigv4_canonical_uri(req.path, req.normalize_path);
    cr += '\n';
    cr += sigv4_canonical_query(req.query);
    cr += '\n';
    cr += canon_headers;
    cr += '\n';
    cr += r.signed_headers;
    cr += '\n';
    cr += payload_hash;

    const std::string_view date = req.amz_date.substr(0, 8);
    r.credential_scope.append(date).append("/").append(req.region).append("/").append(req.service).append(
        "/aws4_request");
    r.string_to_sign = "AWS4-HMAC-SHA256\n";
    r.string_to_sign.append(req.amz_date).append("\n").append(r.credential_scope).append("\n");
    r.string_to_sign += sha256_hex(cr);

    unsigned char key[32], sigbin[32];
    sigv4_signing_key(req.secret_key, date, req.region, req.service, key);
    hmac_sha256(key, 32, r.string_to_sign, sigbin);
    OPENSSL_cleanse(key, sizeof key);
    append_hex(r.signature, sigbin, 32);

    r.authorization = "AWS4-HMAC-SHA256 Credential=";
    r.authorization.append(req.access_key_id).append("/").append(r.credential_scope);
    r.authorization.append(", SignedHeaders=").append(r.signed_headers);
    r.authorization.append(", Signature=").append(r.signature);

    if (!req.session_token.empty() && !req.sign_session_token)
        r.headers.push_back({"X-Amz-Security-Token", std::string(req.session_token)});
    r.headers.push_back({"Authorization", r.authorization});
    *out = std::move(r);
    return true;
}

}  // namespace routeshift
