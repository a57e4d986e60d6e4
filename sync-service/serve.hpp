// `routeshift-sync serve`: keeps every configured nginx admin endpoint on the current snapshot.
//
//   * connects to Postgres, LISTENs on channel routeshift_config, builds the snapshot (one
//     REPEATABLE READ transaction; generation = config_state.generation) and validates it;
//   * pushes it (PUT <prefix>/snapshot) to every target whose reported generation differs;
//   * on every NOTIFY rebuilds immediately (skipped when config_state.generation is unchanged) and
//     pushes a valid result; an invalid result is logged with the offending row and NOT pushed:
//     nginx keeps the last good snapshot, and so does the service (it re-pushes that one to an nginx
//     that restarted meanwhile);
//   * every poll interval (default 1 s) GETs <prefix>/snapshot/generation from each target: a value
//     different from what it last accepted (0 after an nginx restart, or anything else), or an epoch
//     that went backwards (a new shared zone), triggers a re-push; the first contact with a target
//     always pushes once;
//   * when Postgres goes away the service keeps polling nginx (and re-pushing its in-memory last
//     good snapshot to restarted targets) and reconnects with capped exponential backoff; after a
//     reconnect it rebuilds (NOTIFYs sent while it was away are lost, the rebuild covers them);
//   * SIGTERM/SIGINT: clean exit 0; SIGHUP: rebuild and re-push to every target.
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
    int backoff_max_ms = 30000;
    std::string log_spool_dir;  // non-empty: also ship this request-log spool (log_shipper.hpp)
};

// Returns the process exit code (0 after SIGTERM/SIGINT).
int run_serve(const ServeOptions& opts, const SecretBox& box);

}  // namespace rsync
