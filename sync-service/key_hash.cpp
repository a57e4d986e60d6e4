#include "key_hash.hpp"

#include "secret_box.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace rsync {
namespace {
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
}

std::string generate_virtual_key() {
    std::string key(kVirtualKeyPrefix);
    unsigned char buf[64];
    while (key.size() < kVirtualKeyPrefix.size() + kVirtualKeyRandomChars) {
        if (RAND_bytes(buf, sizeof buf) != 1) return "";
        for (unsigned char b : buf) {
            if (b >= 248) continue;  // 248 = 4 * 62: keeps the distribution uniform
            key.push_back(kBase62[b % 62]);
            if (key.size() == kVirtualKeyPrefix.size() + kVirtualKeyRandomChars) break;
        }
    }
    return key;
}

std::string virtual_key_hash_hex(std::string_view key) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
    return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

bool looks_like_virtual_key(std::string_view key) {
    if (key.substr(0, kVirtualKeyPrefix.size()) != kVirtualKeyPrefix) return false;
    std::string_view rest = key.substr(kVirtualKeyPrefix.size());
    if (rest.size() < 32) return false;
    for (char c : rest) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!ok) return false;
    }
    return true;
}

}  // namespace rsync
