// Ids of objects a provider key holds (files, batches, stored responses), as the gateway hands
// them to clients (docs/design.md §21). A file or batch lives on one provider account: every later
// call about it must reach the same key, on whichever gateway node it arrives. The id itself says
// which key (stateless: nothing to share across a fleet), and carries a MAC so that a client cannot
// point it at another key or use another team's object:
//
//   <prefix>rs1-<key id>-<mac><provider id, base64url>
//   prefix: "file-", "batch_", "resp_" (the shapes clients expect); mac: 22 base64url characters =
//   the first 16 bytes of HMAC-SHA256(key secret, "routeshift-object-id\n" kind "\n" team "\n"
//   key id "\n" provider id).
//
// The MAC is keyed by the provider key's secret (shared by every node through the snapshot, never
// by clients); a key whose secret changes invalidates the ids it handed out (its objects may live
// on another account by then anyway).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace routeshift {

enum class ProviderObjectKind : uint8_t { file, batch, response };

// "file", "batch", "response" (error messages, the MAC's input).
std::string_view provider_object_kind_name(ProviderObjectKind kind);

// The client's id of provider object `provider_id` held by key `key_id` for `team_id`.
std::string encode_provider_object_id(ProviderObjectKind kind, int64_t key_id, std::string_view key_secret,
                                      int64_t team_id, std::string_view provider_id);

// A client's id taken apart, before the key is known. `mac` views the id.
struct ParsedProviderObjectId {
    ProviderObjectKind kind = ProviderObjectKind::file;
    int64_t key_id = 0;
    std::string provider_id;  // decoded; 1..kMaxProviderObjectIdBytes bytes, no control characters
    std::string_view mac;
};

inline constexpr size_t kMaxProviderObjectIdBytes = 256;

// Parses an id of `kind`. False for anything that is not exactly such an id (another kind, a
// provider's raw id, bad base64url, a key id that is not a positive decimal).
bool parse_provider_object_id(std::string_view id, ProviderObjectKind kind, ParsedProviderObjectId* out);

// Whether `parsed` was issued for `team_id` by the key with `key_secret` (constant-time compare).
bool provider_object_id_authentic(const ParsedProviderObjectId& parsed, std::string_view key_secret,
                                  int64_t team_id);

}  // namespace routeshift
