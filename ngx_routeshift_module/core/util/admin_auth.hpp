// The admin API's optional shared-token handshake (docs/design.md §15), used by the module and by
// routeshift-sync. Both sides hold the token (routeshift_admin_token_file / --admin-token-file);
// it never travels. Per request the client picks a fresh random nonce and sends
//   X-RouteShift-Admin-Auth: <nonce hex>:<HMAC-SHA256(token, "routeshift-admin-request\n" nonce "\n"
//                                          METHOD "\n" path)>
// and the module answers (any status) with
//   X-RouteShift-Admin-Proof: HMAC-SHA256(token, "routeshift-admin-response\n" nonce)
// so the client knows it talks to the real nginx before it sends secrets, and an impostor that
// captured one request can replay neither its method nor its path for anything else.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

inline constexpr size_t kAdminNonceHexChars = 32;   // 128 random bits
inline constexpr size_t kAdminTokenMinChars = 32;

// Lower-case hex HMAC-SHA256 of the request line, and of the nonce for the answer.
std::string admin_request_mac(std::string_view token, std::string_view nonce, std::string_view method,
                              std::string_view path);
std::string admin_response_proof(std::string_view token, std::string_view nonce);

// Equal lengths are compared without data-dependent timing.
bool constant_time_equal(std::string_view a, std::string_view b);

// The token in a token file: surrounding whitespace dropped; false (with `error`, never the
// token) when it is shorter than kAdminTokenMinChars or holds control characters.
bool admin_token_from_file_text(std::string_view text, std::string* token, std::string* error);

}  // namespace routeshift
