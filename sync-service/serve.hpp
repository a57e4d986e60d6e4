// `routeshift-sync serve`: keeps every configured nginx admin endpoint on the current snapshot.
//
//   * on start, loads the last good snapshot (--last-good-file, sealed with the master key) and
//     serves it to every target until Postgres gives a fresh one; a file that does not open with
//     the master key is a wrong master secret: exit 2 (as is a key that opens none of the stored
//     provider secrets, checked on the first Postgres connection);
//   * connects to Postgres, LISTENs on channel routeshift_config, builds the snapshot (one
//     REPEATABLE READ transaction; generation = config_state.generation) with bad rows quarantined
//     (snapshot_quarantine.hpp: left out, or served in their last good version, logged as
//     QUARANTINED and listed in the snapshot's "quarantined"), publishes it to the per-target
//     pushers (target_pusher.hpp: concurrent, each with its own timeout and retry) and persists it;
//   * on every NOTIFY rebuilds immediately (skipped when config_state.generation is unchanged); a
//     build that fails as a whole (no row to blame) is logged and NOT pushed;
//   * when Postgres goes away the pushers keep serving the last good snapshot (also to restarted
//     targets) and the service reconnects with a short capped backoff (250 ms -> 1 s by default);
//     after a reconnect it rebuilds (NOTIFYs sent while it was away are lost, the rebuild covers them);
//   * no exception ends the loop; SIGTERM/SIGINT: clean exit 0; SIGHUP: rebuild and re-push everywhere.
#pragma once
#include "admin_push.hpp"
#include "secret_box.hpp"

#include <string>
#include <vector>

namespace rsync {

struct ServeOptions {
    std::string conninfo;
    std::vector<AdminTarget> targets;
    int poll_interval_ms = 1000;
    int http_timeout_ms = 5000;
    int backoff_initial_ms = 250;
    int backoff_max_ms = 1000;
    std::string log_spool_dir;   // non-empty: also ship this request-log spool (log_shipper.hpp)
    std::string last_good_path;  // empty: not persisted
};

// Returns the process exit code (0 after SIGTERM/SIGINT, 2 for a wrong master secret).
int run_serve(const ServeOptions& opts, const SecretBox& box);

}  // namespace rsync
