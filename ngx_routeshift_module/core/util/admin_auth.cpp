#include "util/admin_auth.hpp"
#include "util/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace routeshift {
namespace {

std::string hmac_hex(std::string_view token, std::string_view message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), token.data(), static_cast<int>(token.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    std::string out;
    append_hex(out, digest, length);
    OPENSSL_cleanse(digest, sizeof digest);
    return out;
}

}  // namespace

std::string admin_request_mac(std::string_view token, std::string_view nonce, std::string_view method,
                              std::string_view path) {
    std::string message = "routeshift-admin-request\n";
    message.append(nonce).append("\n").append(method).append("\n").append(path);
    return hmac_hex(token, message);
}

std::string admin_response_proof(std::string_view token, std::string_view nonce) {
    std::string message = "routeshift-admin-response\n";
    message.append(nonce);
    return hmac_hex(token, message);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool admin_token_from_file_text(std::string_view text, std::string* token, std::string* error) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' || text.front() == '\r'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            *error = "the admin token holds control characters";
            return false;
        }
    }
    if (text.size() < kAdminTokenMinChars) {
        *error = "the admin token must be at least " + std::to_string(kAdminTokenMinChars) + " characters";
        return false;
    }
    token->assign(text);
    return true;
}

}  // namespace routeshift
