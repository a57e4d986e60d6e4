// SigV4 signing over fuzzed requests: no crash; a signed request's headers hold no CR/LF, never the
// secret key; signing is deterministic. Input: fields separated by '\n' (method, host, path, query,
// region, service, access key, secret, session token, date, payload, then "name:value" headers).
#include "fuzz_support.hpp"
#include "egress/bedrock/sigv4.hpp"

namespace {

// The secret may be words of the output itself (an error's text, "host;my-header" in
// SignedHeaders): it leaks only if the output changes when the secret does. Signs `r` again with
// another secret of the same length and returns that output (error or Authorization).
std::string output_with_other_secret(const routeshift::SigV4Request& r, bool error_output) {
    std::string other(r.secret_key.size(), '#');
    routeshift::SigV4Request again = r;
    again.secret_key = other;
    routeshift::SigV4Result result;
    std::string error;
    bool ok = routeshift::sigv4_sign(again, &result, &error);
    return error_output ? error : ok ? result.authorization : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> f;
    while (f.size() < 11) {
        size_t e = in.find('\n');
        f.push_back(in.substr(0, e));
        in = e == std::string_view::npos ? std::string_view() : in.substr(e + 1);
    }
    routeshift::SigV4Request r;
    r.method = f[0];
    r.host = f[1];
    r.path = f[2].empty() ? std::string_view("/") : f[2];
    r.query = f[3];
    r.region = f[4];
    r.service = f[5];
    r.access_key_id = f[6];
    r.secret_key = f[7];
    r.session_token = f[8];
    r.amz_date = f[9];
    r.payload = f[10];
    r.normalize_path = !(size & 1);
    r.add_content_sha256 = size & 2;
    while (!in.empty()) {
        size_t e = in.find('\n');
        std::string_view line = in.substr(0, e);
        in = e == std::string_view::npos ? std::string_view() : in.substr(e + 1);
        size_t colon = line.find(':');
        r.headers.push_back({std::string(line.substr(0, colon)),
                             colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1))});
    }
    routeshift::SigV4Result a, b;
    std::string error;
    if (!routeshift::sigv4_sign(r, &a, &error)) {
        if (r.secret_key.size() >= 8 && error.find(r.secret_key) != std::string::npos)
            fuzz::check(output_with_other_secret(r, true).find(r.secret_key) != std::string::npos,
                        "a signing error quotes the secret key", error);
        return 0;
    }
    fuzz::check(routeshift::sigv4_sign(r, &b, &error) && a.authorization == b.authorization, "signing is not deterministic");
    fuzz::check(a.signature.size() == 64, "signature is not 64 hex digits", a.signature);
    for (const auto& h : a.headers) {
        fuzz::check(h.name.find_first_of("\r\n") == std::string::npos, "CR/LF in a signed header name", h.name);
        // a value may carry an obs-fold continuation ("\r\n " / "\r\n\t") only
        for (size_t p = h.value.find_first_of("\r\n"); p != std::string::npos; p = h.value.find_first_of("\r\n", p + 1)) {
            bool fold = h.value.compare(p, 2, "\r\n") == 0 && p + 2 < h.value.size() &&
                        (h.value[p + 2] == ' ' || h.value[p + 2] == '\t');
            fuzz::check(fold, "bare CR/LF in a signed header value", h.value);
            ++p;
        }
    }
    if (r.secret_key.size() >= 8 && a.authorization.find(r.secret_key) != std::string::npos)
        fuzz::check(output_with_other_secret(r, false).find(r.secret_key) != std::string::npos,
                    "the secret key is in Authorization", a.authorization);
    return 0;
}
