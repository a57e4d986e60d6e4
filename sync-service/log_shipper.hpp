// The request-log shipper (docs/design.md §11): moves the records the nginx module spools (one JSON
// line per client request, files rs-<ms>-<pid>-<seq>.jsonl[.part] in the spool directory) into
// Postgres' request_logs.
//
//   * files are read in name order (= creation order), each from the offset already shipped, up to
//     its last complete line; lines go in batches (<= 1000 lines / 4 MiB) through one
//     INSERT ... SELECT FROM jsonb_array_elements($1) ON CONFLICT (request_id, ts) DO NOTHING;
//   * after each batch commits, the offsets are written to <dir>/.shipped (temp file, fsync,
//     rename): a crash between the commit and that write replays the batch, which the key makes a
//     no-op, so kill -9 loses and duplicates nothing;
//   * a batch Postgres refuses for a reason other than a lost connection is retried line by line;
//     a line still refused (torn by a full disk, a bad value) is logged and skipped;
//   * closed files (no ".part": the worker rotated them or exited) are deleted once fully shipped;
//     a ".part" file whose writer pid no longer exists is treated as closed (a worker killed
//     with -9), its torn last line (if any) is reported and dropped;
//   * passes are serialised across processes by flock(<dir>/.shipper.lock), so `ship --once` may
//     run beside `serve`;
//   * at start and hourly: request_logs_ensure_partitions(2) and request_logs_apply_retention().
#pragma once
#include "pg_connection.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace rsync {

struct ShipResult {
    uint64_t rows_sent = 0;      // records sent to Postgres (inserted or already there)
    uint64_t rows_inserted = 0;  // new rows
    uint64_t rows_rejected = 0;  // lines Postgres refused (logged and skipped)
    uint64_t files_deleted = 0;
    uint64_t backlog_bytes = 0;  // bytes left after the pass: unfinished last lines of files
};

// One pass over the spool directory (throws PgError when Postgres fails; what was committed
// before stays recorded).
ShipResult ship_spool_once(PgConnection& db, const std::string& spool_dir);

// Partition upkeep: monthly partitions two months ahead and the retention setting.
void maintain_request_log_partitions(PgConnection& db);

// The shipping loop of `serve`, in its own thread with its own connection: a pass every 200 ms,
// Postgres down → records stay spooled, reconnect with backoff 250 ms .. 2 s. Stops (and joins)
// when destroyed.
class LogShipperThread {
public:
    virtual ~LogShipperThread() = default;
};
// Null when `spool_dir` is empty (no shipping configured).
std::unique_ptr<LogShipperThread> start_log_shipper(const std::string& conninfo, const std::string& spool_dir);

}  // namespace rsync
