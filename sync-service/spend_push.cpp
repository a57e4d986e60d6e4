#include "spend_push.hpp"

#include "log.hpp"

#include <algorithm>
#include <csignal>
#include <memory>
#include <pthread.h>

namespace rsync {
namespace {

using std::chrono::milliseconds;

// Today's and this month's spend of every budgeted key and team, with the UTC period bounds the
// amounts belong to (from the database's clock, the same clock request_logs.ts defaults to).
constexpr const char* kSpendQuery = R"SQL(
WITH bounds AS (
    SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'   AS day_start,
           date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month_start),
spent AS (
    SELECT 'k' AS kind, v.id,
           coalesce(sum(l.cost_microcents) FILTER (WHERE l.ts >= b.day_start), 0)::bigint AS day_spent,
           coalesce(sum(l.cost_microcents), 0)::bigint AS month_spent
      FROM virtual_keys v CROSS JOIN bounds b
      LEFT JOIN request_logs l ON l.virtual_key_id = v.id AND l.ts >= b.month_start
     WHERE v.daily_budget_microcents IS NOT NULL OR v.monthly_budget_microcents IS NOT NULL
     GROUP BY v.id
    UNION ALL
    SELECT 't', t.id,
           coalesce(sum(l.cost_microcents) FILTER (WHERE l.ts >= b.day_start), 0)::bigint,
           coalesce(sum(l.cost_microcents), 0)::bigint
      FROM teams t CROSS JOIN bounds b
      LEFT JOIN request_logs l ON l.team_id = t.id AND l.ts >= b.month_start
     WHERE t.daily_budget_microcents IS NOT NULL OR t.monthly_budget_microcents IS NOT NULL
     GROUP BY t.id)
SELECT s.kind, s.id, s.day_spent, s.month_spent,
       extract(epoch FROM b.day_start)::bigint, extract(epoch FROM b.month_start)::bigint,
       floor(extract(epoch FROM now()))::bigint
  FROM bounds b LEFT JOIN spent s ON true
 ORDER BY s.kind, s.id
)SQL";

}  // namespace

std::string read_spend_report(PgConnection& db, size_t* budgeted) {
    PgResult r = db.exec(kSpendQuery);
    if (r.rows() < 1) throw PgError("the spend query returned no bounds", "", false);
    std::string keys, teams;
    *budgeted = 0;
    for (int i = 0; i < r.rows(); ++i) {
        if (r.is_null(i, 0)) continue;  // no budgeted caller: only the bounds row
        std::string& list = r.text(i, 0) == "k" ? keys : teams;
        if (!list.empty()) list += ',';
        list += "{\"id\":" + r.str(i, 1) + ",\"day_microcents\":" + r.str(i, 2) + ",\"month_microcents\":" + r.str(i, 3) + "}";
        ++*budgeted;
    }
    return "{\"day_start\":" + r.str(0, 4) + ",\"month_start\":" + r.str(0, 5) + ",\"as_of\":" + r.str(0, 6) +
           ",\"virtual_keys\":[" + keys + "],\"teams\":[" + teams + "]}";
}

SpendPusher::SpendPusher(const ServeOptions& opts) : opts_(opts) {
    for (const AdminTarget& t : opts.targets) targets_.push_back({t});
    // signals stay with the main thread (serve's handlers)
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

SpendPusher::~SpendPusher() {
    {
        std::lock_guard<std::mutex> guard(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool SpendPusher::stopping() {
    std::lock_guard<std::mutex> guard(mutex_);
    return stop_;
}

void SpendPusher::run() noexcept {
    std::unique_ptr<PgConnection> db;
    bool db_failing = false;
    while (!stopping()) {
        auto next = Clock::now() + milliseconds(opts_.poll_interval_ms);
        try {
            if (!db) {
                std::string error;
                db = PgConnection::connect(opts_.conninfo, &error);
                if (!db) throw PgError(error, "", true);
                if (db_failing) LOG_INFO("spend push: connected to Postgres again");
                db_failing = false;
            }
            read_and_push(*db);
        } catch (const PgError& e) {
            if (e.connection_lost || !db || !db->ok()) {
                // the config loop reports the outage; budgets keep the last pushed amounts
                if (!db_failing) LOG_DEBUG("spend push: Postgres unavailable (%s), retrying", e.what());
                db_failing = true;
                db.reset();
            } else {
                if (!read_failing_)
                    LOG_WARN("reading spent amounts failed: %s (budgets use the last pushed amounts)", e.what());
                read_failing_ = true;
            }
        } catch (const std::exception& e) {
            LOG_ERROR("spend push: %s", e.what());
        } catch (...) {
            LOG_ERROR("spend push: unknown exception");
        }
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_until(lock, next, [this] { return stop_; });
    }
}

void SpendPusher::read_and_push(PgConnection& db) {
    size_t budgeted = 0;
    std::string report = read_spend_report(db, &budgeted);
    if (read_failing_) LOG_INFO("reading spent amounts works again");
    read_failing_ = false;
    auto now = Clock::now();
    for (Target& t : targets_) {
        if (stopping()) return;
        if (budgeted == 0 && !t.holds_amounts) continue;  // nothing to tell, nothing to clear
        if (now < t.retry_at) continue;
        push(t, report, budgeted);
    }
}

void SpendPusher::push(Target& t, const std::string& report, size_t budgeted) {
    HttpResponse response;
    std::string error;
    bool sent = http_request(t.target, "PUT", t.target.prefix + "/spend", report, opts_.http_timeout_ms, &response, &error);
    if (sent && response.status == 200) {
        if (t.failing) LOG_INFO("spent amounts reach nginx target %s again", t.target.spec.c_str());
        t.failing = false;
        t.holds_amounts = budgeted > 0;
        LOG_DEBUG("pushed the spend of %zu budgeted callers to %s", budgeted, t.target.spec.c_str());
        return;
    }
    if (!sent) error = "transport: " + error;
    else error = "HTTP " + std::to_string(response.status) + ": " + admin_error_message(response.body);
    if (!t.failing) LOG_WARN("pushing spent amounts to %s failed: %s (budgets there use the last amounts it got)",
                             t.target.spec.c_str(), error.c_str());
    t.failing = true;
    // an unreachable target costs a timeout per try: back off so the other targets get theirs
    if (!sent) t.retry_at = Clock::now() + milliseconds(std::max(5 * opts_.poll_interval_ms, 5000));
}

}  // namespace rsync
