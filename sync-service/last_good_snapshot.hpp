// The last good snapshot, kept on the sync's side (issue 12): a restarted nginx is served at once
// even while Postgres is down or the config cannot be built.
//
// The file holds the snapshot JSON sealed with the master key (AES-256-GCM via SecretBox, associated
// data "routeshift:last-good-snapshot", so no plaintext secret ever reaches the disk):
//   routeshift-last-good-snapshot v1\n<key version>\n<nonce hex>\n<ciphertext+tag hex>\n
// It is written to a temporary file (mode 0600, O_NOFOLLOW), fsync'ed and renamed over the old one,
// so a crash leaves either the old or the new snapshot, never a torn one.
#pragma once
#include "secret_box.hpp"
#include "snapshot_builder.hpp"

#include <string>

namespace rsync {

bool save_last_good_snapshot(const std::string& path, const Snapshot& snapshot, const SecretBox& box,
                             std::string* error);

enum class LastGoodLoad {
    loaded,
    absent,         // no file yet
    unreadable,     // I/O error or not our format (`error` says which)
    not_authentic,  // does not open with this master key: the wrong key, or the file was altered
};

// On `loaded`, `out` holds the snapshot (generation, JSON, secrets for redaction).
LastGoodLoad load_last_good_snapshot(const std::string& path, const SecretBox& box, Snapshot* out,
                                     std::string* error);

}  // namespace rsync
