// Encryption at rest of provider secrets: AES-256-GCM (OpenSSL EVP) under PROVIDER_KEY_SECRET.
//
// Master key (docs: sync-service/README.md "PROVIDER_KEY_SECRET"):
//   * exactly 64 hex digits            -> those 32 bytes are the AES-256 key;
//   * anything else (>= 32 characters) -> key = HKDF-SHA256(IKM = the string's bytes,
//                                         salt = "routeshift/provider-key-secret",
//                                         info = "routeshift provider_keys aes-256-gcm v1", L = 32).
// Each encryption uses a fresh random 96-bit nonce; the ciphertext is stored with the 16-byte tag
// appended. The associated data is the row identity "provider_keys:<id>", so a ciphertext copied
// to another row, or any flipped byte, fails to decrypt. Every sealed secret records the version of
// the master key that sealed it (PROVIDER_KEY_SECRET_VERSION, default 1) so the master key can be
// rotated: a box can hold several versions and seals with the current one.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rsync {

inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;
inline constexpr size_t kMinPassphraseChars = 32;

struct SealedSecret {
    std::string ciphertext;  // ciphertext || 16-byte tag (binary)
    std::string nonce;       // 12 bytes (binary)
    int key_version = 1;
};

// "provider_keys:<id>": the associated data binding a ciphertext to its row.
std::string provider_key_aad(int64_t id);

using MasterKey = std::array<unsigned char, 32>;

// Turns the PROVIDER_KEY_SECRET value into the AES key as described above. Surrounding whitespace
// (e.g. the newline of a file) is ignored. Returns false with a message that never contains the value.
bool derive_master_key(std::string_view material, MasterKey* out, std::string* error);

class SecretBox {
public:
    SecretBox() = default;
    ~SecretBox();
    SecretBox(const SecretBox&) = delete;
    SecretBox& operator=(const SecretBox&) = delete;
    SecretBox(SecretBox&& other) noexcept;
    SecretBox& operator=(SecretBox&& other) noexcept;

    // Adds a master key for `version` (>= 1). The highest-added `current` one seals new secrets.
    bool add_key(int version, std::string_view material, bool current, std::string* error);

    // Reads the key from the environment: PROVIDER_KEY_SECRET, else the file named by
    // PROVIDER_KEY_SECRET_FILE, else $CREDENTIALS_DIRECTORY/provider_key_secret (systemd
    // LoadCredential=); version from PROVIDER_KEY_SECRET_VERSION (default 1). `file_override`
    // (the --secret-file option) wins over all of these. Fails when none is set.
    static std::optional<SecretBox> from_environment(const std::string& file_override,
                                                     std::string* error);

    // True when any of the sources above is set (so a failure to load it is an error, not "absent").
    static bool configured(const std::string& file_override);

    bool has_key() const { return !keys_.empty(); }
    int current_version() const { return current_; }
    bool holds_version(int version) const { return keys_.count(version) != 0; }

    // Encrypts with a fresh nonce. Returns false only on an OpenSSL failure.
    bool seal(std::string_view plaintext, std::string_view aad, SealedSecret* out,
              std::string* error) const;

    // Decrypts and authenticates. False (plaintext untouched) on a wrong key, a wrong aad, an
    // unknown key version, or any modified byte; the message never contains secret material.
    bool open(const SealedSecret& sealed, std::string_view aad, std::string* plaintext,
              std::string* error) const;

private:
    std::map<int, MasterKey> keys_;
    int current_ = 0;
};

// Overwrites a string's bytes before it is released (best effort against core dumps / reuse).
void wipe(std::string& s);

// Lower-case hex encoding and decoding of binary strings.
std::string hex_encode(std::string_view bytes);
bool hex_decode(std::string_view hex, std::string* out);

}  // namespace rsync
