// The content digest of a snapshot (docs/design.md §15): nginx reports the digest of the text it
// holds (GET …/snapshot/generation, /status) and routeshift-sync compares it with the digest of
// what it pushed, so a snapshot someone else pushed is corrected even under the same generation.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

inline constexpr size_t kSnapshotDigestHexChars = 64;

// Lower-case hex SHA-256 of the exact snapshot bytes (kSnapshotDigestHexChars characters).
std::string snapshot_digest(std::string_view snapshot_text);

}  // namespace routeshift
