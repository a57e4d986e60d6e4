// What budgeted callers spent, pushed to every nginx (docs/design.md §13). `serve` calls tick()
// on every turn of its loop (at least once per poll interval); every poll interval tick() reads,
// from request_logs, today's and this month's spend (UTC) of each virtual key and team that has a
// budget, and PUTs it to <prefix>/spend on every target. Nothing is pushed while no caller has a
// budget (one empty report clears what a target holds once the last budget is removed).
#pragma once
#include "pg_connection.hpp"
#include "serve.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace rsync {

// Builds the PUT …/spend document from the sums (one query); throws PgError.
// `budgeted` gets how many callers it lists.
std::string read_spend_report(PgConnection& db, size_t* budgeted);

class SpendPusher {
public:
    explicit SpendPusher(const ServeOptions& opts);
    // Reads and pushes when the interval has passed. Never throws (problems are logged).
    void tick(PgConnection* db) noexcept;

private:
    struct Target {
        AdminTarget target;
        bool holds_amounts = false;  // the last push it accepted listed callers
        bool failing = false;        // the last push failed (logged once until it works again)
        std::chrono::steady_clock::time_point retry_at{};
    };
    void push(Target& t, const std::string& report, size_t budgeted);

    const ServeOptions& opts_;
    std::vector<Target> targets_;
    std::chrono::steady_clock::time_point next_{};
    bool read_failing_ = false;
};

}  // namespace rsync
