// What budgeted callers spent, pushed to every nginx (docs/design.md §13). `serve` runs one
// SpendPusher: its own thread and its own Postgres connection, so neither a slow spend query nor a
// hung nginx ever holds up the config loop (a new generation waits for nothing of this). Every
// poll interval it reads, from request_logs, today's and this month's spend (UTC) of each virtual
// key and team that has a budget, and PUTs it to <prefix>/spend on every target. Nothing is pushed
// while no caller has a budget (one empty report clears what a target holds once the last budget
// is removed).
#pragma once
#include "pg_connection.hpp"
#include "serve.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rsync {

// Builds the PUT …/spend document from the sums (one query); throws PgError.
// `budgeted` gets how many callers it lists.
std::string read_spend_report(PgConnection& db, size_t* budgeted);

class SpendPusher {
public:
    explicit SpendPusher(const ServeOptions& opts);  // starts the thread
    ~SpendPusher();                                   // stops it and waits for it
    SpendPusher(const SpendPusher&) = delete;
    SpendPusher& operator=(const SpendPusher&) = delete;

private:
    using Clock = std::chrono::steady_clock;
    struct Target {
        AdminTarget target;
        bool holds_amounts = false;  // the last push it accepted listed callers
        bool failing = false;        // the last push failed (logged once until it works again)
        Clock::time_point retry_at{};
    };
    void run() noexcept;
    bool stopping();
    void read_and_push(PgConnection& db);  // throws PgError when Postgres fails
    void push(Target& t, const std::string& report, size_t budgeted);

    const ServeOptions& opts_;
    std::vector<Target> targets_;
    bool read_failing_ = false;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace rsync
