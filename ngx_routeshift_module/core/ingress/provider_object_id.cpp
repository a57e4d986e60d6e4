// Client ids of provider objects (see provider_object_id.hpp).
#include "ingress/provider_object_id.hpp"

#include "util/base64.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace routeshift {
namespace {

constexpr size_t kMacBytes = 16;
constexpr size_t kMacChars = 22;  // base64url of 16 bytes, unpadded
constexpr size_t kMaxKeyIdDigits = 18;

std::string_view prefix_of(ProviderObjectKind kind) {
    switch (kind) {
    case ProviderObjectKind::batch: return "batch_rs1-";
    case ProviderObjectKind::response: return "resp_rs1-";
    case ProviderObjectKind::file: break;
    }
    return "file-rs1-";
}

std::string mac_of(ProviderObjectKind kind, int64_t key_id, std::string_view key_secret, int64_t team_id,
                   std::string_view provider_id) {
    std::string message = "routeshift-object-id\n";
    message += provider_object_kind_name(kind);
    message += '\n';
    message += std::to_string(team_id);
    message += '\n';
    message += std::to_string(key_id);
    message += '\n';
    message += provider_id;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key_secret.data(), static_cast<int>(key_secret.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &len);
    std::string out;
    base64url_append(out, std::string_view(reinterpret_cast<const char*>(digest.data()), kMacBytes));
    return out;
}

}  // namespace

std::string_view provider_object_kind_name(ProviderObjectKind kind) {
    switch (kind) {
    case ProviderObjectKind::batch: return "batch";
    case ProviderObjectKind::response: return "response";
    case ProviderObjectKind::file: break;
    }
    return "file";
}

std::string encode_provider_object_id(ProviderObjectKind kind, int64_t key_id, std::string_view key_secret,
                                      int64_t team_id, std::string_view provider_id) {
    std::string out(prefix_of(kind));
    out += std::to_string(key_id);
    out += '-';
    out += mac_of(kind, key_id, key_secret, team_id, provider_id);
    base64url_append(out, provider_id);
    return out;
}

bool parse_provider_object_id(std::string_view id, ProviderObjectKind kind, ParsedProviderObjectId* out) {
    std::string_view prefix = prefix_of(kind);
    if (id.substr(0, prefix.size()) != prefix) return false;
    id.remove_prefix(prefix.size());
    size_t digits = 0;
    int64_t key_id = 0;
    while (digits < id.size() && id[digits] >= '0' && id[digits] <= '9') {
        if (digits == kMaxKeyIdDigits) return false;
        key_id = key_id * 10 + (id[digits] - '0');
        digits++;
    }
    if (digits == 0 || id[0] == '0' || digits >= id.size() || id[digits] != '-') return false;
    id.remove_prefix(digits + 1);
    if (id.size() <= kMacChars) return false;
    std::string_view mac = id.substr(0, kMacChars);
    for (char c : mac)
        if (!base64url_character(c)) return false;
    std::string provider_id;
    if (!base64url_decode(id.substr(kMacChars), &provider_id)) return false;
    if (provider_id.empty() || provider_id.size() > kMaxProviderObjectIdBytes) return false;
    for (unsigned char c : provider_id)
        if (c < 0x20 || c == 0x7f) return false;
    out->kind = kind;
    out->key_id = key_id;
    out->provider_id = std::move(provider_id);
    out->mac = mac;
    return true;
}

bool provider_object_id_authentic(const ParsedProviderObjectId& parsed, std::string_view key_secret, int64_t team_id) {
    std::string expected = mac_of(parsed.kind, parsed.key_id, key_secret, team_id, parsed.provider_id);
    return parsed.mac.size() == expected.size() && CRYPTO_memcmp(parsed.mac.data(), expected.data(), expected.size()) == 0;
}

}  // namespace routeshift
