// ship: the request-log shipper by hand (tests, operations); `serve` runs it continuously when
// given --log-spool. See log_shipper.hpp.
#include "cli.hpp"

#include "log.hpp"
#include "log_shipper.hpp"
#include "migrations.hpp"

#include <csignal>
#include <cstdio>
#include <pthread.h>

namespace rsync {

int cmd_ship(Context& ctx) {
    ctx.args.allow_only({"--once"});
    if (ctx.log_spool_dir.empty()) throw UsageError("ship: no spool directory: pass --log-spool DIR or set ROUTESHIFT_LOG_SPOOL");
    if (!ctx.args.has("--once")) {
        // the same loop as `serve` runs, without pushing configs; stops on SIGTERM/SIGINT
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // taken by sigwait below
        auto shipper = start_log_shipper(ctx.conninfo, ctx.log_spool_dir);
        int signal_number = 0;
        sigwait(&stop, &signal_number);
        return 0;
    }
    auto db = open_db(ctx);
    require_schema(*db);
    maintain_request_log_partitions(*db);
    ShipResult r = ship_spool_once(*db, ctx.log_spool_dir);
    std::printf("shipped %llu records (%llu new, %llu refused), deleted %llu files, %llu bytes of unfinished "
                "records left\n",
                (unsigned long long)r.rows_sent, (unsigned long long)r.rows_inserted, (unsigned long long)r.rows_rejected,
                (unsigned long long)r.files_deleted, (unsigned long long)r.backlog_bytes);
    return r.rows_rejected ? 1 : 0;
}

}  // namespace rsync
