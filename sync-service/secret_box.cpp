#include "secret_box.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace rsync {
namespace {

constexpr char kHkdfSalt[] = "routeshift/provider-key-secret";
constexpr char kHkdfInfo[] = "routeshift provider_keys aes-256-gcm v1";

struct CipherCtx {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool hkdf_sha256(std::string_view ikm, MasterKey* out) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (!kdf) return false;
    EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kctx) return false;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                          ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kHkdfSalt),
                                          sizeof kHkdfSalt - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kHkdfInfo),
                                          sizeof kHkdfInfo - 1),
        OSSL_PARAM_construct_end(),
    };
    bool ok = EVP_KDF_derive(kctx, out->data(), out->size(), params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok;
}

bool read_secret_file(const std::string& path, std::string* out, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = "cannot read the PROVIDER_KEY_SECRET file " + path;
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

}  // namespace

std::string provider_key_aad(int64_t id) { return "provider_keys:" + std::to_string(id); }

void wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

std::string hex_encode(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

bool hex_decode(std::string_view hex, std::string* out) {
    if (hex.size() % 2 != 0) return false;
    std::string bytes;
    bytes.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes.push_back(static_cast<char>(hi * 16 + lo));
    }
    *out = std::move(bytes);
    return true;
}

bool derive_master_key(std::string_view material, MasterKey* out, std::string* error) {
    std::string_view m = trim(material);
    if (m.size() == 64) {
        bool all_hex = true;
        for (char c : m) all_hex = all_hex && hex_value(c) >= 0;
        if (all_hex) {
            for (size_t i = 0; i < 32; ++i) {
                (*out)[i] = static_cast<unsigned char>(hex_value(m[2 * i]) * 16 + hex_value(m[2 * i + 1]));
            }
            return true;
        }
    }
    if (m.size() < kMinPassphraseChars) {
        *error = "PROVIDER_KEY_SECRET is too short: use 64 hex digits (openssl rand -hex 32) or a "
                 "random string of at least " + std::to_string(kMinPassphraseChars) + " characters";
        return false;
    }
    if (!hkdf_sha256(m, out)) {
        *error = "HKDF-SHA256 key derivation failed (OpenSSL)";
        return false;
    }
    return true;
}

SecretBox::~SecretBox() {
    for (auto& [v, k] : keys_) OPENSSL_cleanse(k.data(), k.size());
}

SecretBox::SecretBox(SecretBox&& other) noexcept : keys_(std::move(other.keys_)), current_(other.current_) {
    other.keys_.clear();
    other.current_ = 0;
}

SecretBox& SecretBox::operator=(SecretBox&& other) noexcept {
    if (this != &other) {
        for (auto& [v, k] : keys_) OPENSSL_cleanse(k.data(), k.size());
        keys_ = std::move(other.keys_);
        current_ = other.current_;
        other.keys_.clear();
        other.current_ = 0;
    }
    return *this;
}

bool SecretBox::add_key(int version, std::string_view material, bool current, std::string* error) {
    if (version < 1) {
        *error = "key version must be >= 1";
        return false;
    }
    MasterKey key;
    if (!derive_master_key(material, &key, error)) return false;
    keys_[version] = key;
    OPENSSL_cleanse(key.data(), key.size());
    if (current || current_ == 0) current_ = version;
    return true;
}

bool SecretBox::configured(const std::string& file_override) {
    auto set = [](const char* name) {
        const char* v = std::getenv(name);
        return v && *v;
    };
    if (!file_override.empty() || set("PROVIDER_KEY_SECRET") || set("PROVIDER_KEY_SECRET_FILE")) return true;
    const char* cred_dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!cred_dir || !*cred_dir) return false;
    std::ifstream probe(std::string(cred_dir) + "/provider_key_secret");
    return static_cast<bool>(probe);
}

std::optional<SecretBox> SecretBox::from_environment(const std::string& file_override,
                                                     std::string* error) {
    std::string material;
    std::string source;
    const char* env = std::getenv("PROVIDER_KEY_SECRET");
    const char* env_file = std::getenv("PROVIDER_KEY_SECRET_FILE");
    const char* cred_dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!file_override.empty()) {
        if (!read_secret_file(file_override, &material, error)) return std::nullopt;
        source = file_override;
    } else if (env && *env) {
        material = env;
        source = "PROVIDER_KEY_SECRET";
    } else if (env_file && *env_file) {
        if (!read_secret_file(env_file, &material, error)) return std::nullopt;
        source = env_file;
    } else if (cred_dir && *cred_dir) {
        std::string path = std::string(cred_dir) + "/provider_key_secret";
        if (!read_secret_file(path, &material, error)) return std::nullopt;
        source = path;
    } else {
        *error = "PROVIDER_KEY_SECRET is not set (set it, or PROVIDER_KEY_SECRET_FILE, or "
                 "--secret-file, or a systemd credential named provider_key_secret)";
        return std::nullopt;
    }
    int version = 1;
    if (const char* v = std::getenv("PROVIDER_KEY_SECRET_VERSION"); v && *v) {
        char* end = nullptr;
        long n = std::strtol(v, &end, 10);
        if (*end != '\0' || n < 1 || n > 1000000) {
            *error = "PROVIDER_KEY_SECRET_VERSION must be a positive integer";
            wipe(material);
            return std::nullopt;
        }
        version = static_cast<int>(n);
    }
    SecretBox box;
    std::string err;
    bool ok = box.add_key(version, material, true, &err);
    wipe(material);
    if (!ok) {
        *error = err + " (from " + source + ")";
        return std::nullopt;
    }
    return box;
}

bool SecretBox::seal(std::string_view plaintext, std::string_view aad, SealedSecret* out,
                     std::string* error) const {
    auto it = keys_.find(current_);
    if (it == keys_.end()) {
        *error = "no master key loaded";
        return false;
    }
    unsigned char nonce[kGcmNonceBytes];
    if (RAND_bytes(nonce, sizeof nonce) != 1) {
        *error = "RAND_bytes failed";
        return false;
    }
    CipherCtx c;
    std::string ct(plaintext.size() + kGcmTagBytes, '\0');
    int len = 0, fin = 0;
    auto* ctp = reinterpret_cast<unsigned char*>(ct.data());
    bool ok = c.ctx &&
              EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) == 1 &&
              EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, it->second.data(), nonce) == 1 &&
              EVP_EncryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                static_cast<int>(aad.size())) == 1 &&
              EVP_EncryptUpdate(c.ctx, ctp, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                                static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(c.ctx, ctp + len, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                                  ctp + plaintext.size()) == 1;
    if (!ok || static_cast<size_t>(len + fin) != plaintext.size()) {
        wipe(ct);
        *error = "AES-256-GCM encryption failed (OpenSSL)";
        return false;
    }
    out->ciphertext = std::move(ct);
    out->nonce.assign(reinterpret_cast<const char*>(nonce), sizeof nonce);
    out->key_version = current_;
    return true;
}

bool SecretBox::open(const SealedSecret& sealed, std::string_view aad, std::string* plaintext,
                     std::string* error) const {
    auto it = keys_.find(sealed.key_version);
    if (it == keys_.end()) {
        *error = "sealed with master key version " + std::to_string(sealed.key_version) +
                 ", which is not loaded (current version " + std::to_string(current_) + ")";
        return false;
    }
    if (sealed.nonce.size() != kGcmNonceBytes || sealed.ciphertext.size() < kGcmTagBytes) {
        *error = "malformed ciphertext or nonce";
        return false;
    }
    size_t n = sealed.ciphertext.size() - kGcmTagBytes;
    std::string pt(n, '\0');
    CipherCtx c;
    int len = 0, fin = 0;
    auto* ptp = reinterpret_cast<unsigned char*>(pt.data());
    const auto* ctp = reinterpret_cast<const unsigned char*>(sealed.ciphertext.data());
    unsigned char tag[kGcmTagBytes];
    std::copy(ctp + n, ctp + n + kGcmTagBytes, tag);
    bool ok = c.ctx &&
              EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) == 1 &&
              EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, it->second.data(),
                                 reinterpret_cast<const unsigned char*>(sealed.nonce.data())) == 1 &&
              EVP_DecryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                static_cast<int>(aad.size())) == 1 &&
              EVP_DecryptUpdate(c.ctx, ptp, &len, ctp, static_cast<int>(n)) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag) == 1 &&
              EVP_DecryptFinal_ex(c.ctx, ptp + len, &fin) == 1;
    if (!ok) {
        wipe(pt);
        *error = "authentication failed (wrong PROVIDER_KEY_SECRET, or the ciphertext, nonce or row id "
                 "was changed)";
        return false;
    }
    wipe(*plaintext);
    plaintext->assign(pt.data(), static_cast<size_t>(len + fin));
    wipe(pt);
    return true;
}

}  // namespace rsync
