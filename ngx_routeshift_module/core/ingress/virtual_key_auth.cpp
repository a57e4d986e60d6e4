// Virtual-key authentication (see virtual_key_auth.hpp).
#include "ingress/virtual_key_auth.hpp"
#include "util/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <optional>

namespace routeshift {

namespace {

bool deny(ApiError* err, std::string message, const char* code) {
    if (err) {
        err->status = 401;
        err->type = "authentication_error";
        err->message = std::move(message);
        err->param.clear();
        err->code = code;
    }
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

void hash_virtual_key(std::string_view key, unsigned char out[32]) {
    unsigned int len = 0;
    // OpenSSL 3 looks the algorithm up (under a lock) on every EVP_sha256() use; fetch it once
    static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (EVP_Digest(key.data(), key.size(), out, &len, sha256 ? sha256 : EVP_sha256(), nullptr) != 1 || len != 32) {
        // Only fails when the crypto library is unusable; make sure nothing can match.
        std::memset(out, 0, 32);
    }
}

std::string hash_virtual_key_hex(std::string_view key) {
    unsigned char d[32];
    hash_virtual_key(key, d);
    std::string out;
    append_hex(out, d, sizeof d);
    return out;
}

std::string_view presented_key(std::string_view authorization, std::string_view x_api_key, std::string_view api_key) {
    std::string_view a = trim(authorization);
    if (!a.empty()) {
        constexpr std::string_view scheme = "bearer";
        bool is_bearer = a.size() > scheme.size() && (a[scheme.size()] == ' ' || a[scheme.size()] == '\t');
        for (size_t i = 0; is_bearer && i < scheme.size(); ++i) {
            char c = a[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != scheme[i]) is_bearer = false;
        }
        if (is_bearer) {
            std::string_view k = trim(a.substr(scheme.size()));
            if (!k.empty()) return k;
        }
    }
    std::string_view k = trim(x_api_key);
    return k.empty() ? trim(api_key) : k;
}

std::string_view query_api_key(std::string_view args) {
    while (!args.empty()) {
        size_t amp = args.find('&');
        std::string_view pair = args.substr(0, amp);
        if (pair.starts_with("key=")) return pair.substr(4);
        if (amp == std::string_view::npos) break;
        args.remove_prefix(amp + 1);
    }
    return {};
}

const VirtualKey* authenticate(const Config& cfg, std::string_view key, int64_t now_unix, ApiError* err) {
    if (key.empty()) {
        deny(err,
             "You didn't provide an API key. Send it as 'Authorization: Bearer sk-proxy-...' "
             "or in an 'x-api-key' header.",
             "invalid_api_key");
        return nullptr;
    }
    // A key that matched before skips the SHA-256 (cached per worker and config, successes
    // only); enabled/expires_at are still checked below on every request.
    std::optional<size_t> index = cfg.virtual_key_cache.find(key);
    if (!index || *index >= cfg.virtual_keys.size()) {
        unsigned char digest[32];
        hash_virtual_key(key, digest);
        auto it = cfg.virtual_key_by_hash.find(std::string(reinterpret_cast<const char*>(digest), 32));
        if (it == cfg.virtual_key_by_hash.end() || it->second >= cfg.virtual_keys.size() ||
            CRYPTO_memcmp(cfg.virtual_keys[it->second].hash, digest, 32) != 0) {
            deny(err, "Incorrect API key provided.", "invalid_api_key");
            return nullptr;
        }
        index = it->second;
        cfg.virtual_key_cache.remember(key, *index);
    }
    const VirtualKey& vk = cfg.virtual_keys[*index];
    if (!vk.enabled) {
        deny(err, "This API key has been disabled.", "key_disabled");
        return nullptr;
    }
    if (vk.expires_at != 0 && now_unix >= vk.expires_at) {
        deny(err, "This API key has expired.", "key_expired");
        return nullptr;
    }
    return &vk;
}

}  // namespace routeshift
