// Is this the master key (PROVIDER_KEY_SECRET) that sealed the stored provider secrets?
//
// A key added under the wrong master secret is unreadable by everyone else, and a `serve` started
// with the wrong one can ship nothing: both are refused up front (issue 12). The verdict looks at
// the secrets sealed under a key version the box holds (other versions belong to a rotation in
// progress and say nothing): none of them opening means the wrong key; any one opening means the
// right key (a single undecryptable row is a damaged row, quarantined at build time).
#pragma once
#include "pg_connection.hpp"
#include "secret_box.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace rsync {

struct StoredSecret {
    int64_t id = 0;
    SealedSecret sealed;
};

struct MasterKeyVerdict {
    enum Kind { matches, nothing_to_check, mismatch } kind = nothing_to_check;
    size_t checked = 0;  // secrets sealed under a version the box holds
    std::string message;  // for `mismatch`: what to do; never contains key material
};

MasterKeyVerdict check_master_key(const std::vector<StoredSecret>& stored, const SecretBox& box);

// Reads the sealed secrets of the provider keys (at most `limit`, newest first; `except_id`, the key
// being rotated, left out) and checks them.
MasterKeyVerdict check_master_key(PgConnection& db, const SecretBox& box, int64_t except_id = 0, size_t limit = 64);

}  // namespace rsync
