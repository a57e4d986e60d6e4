#include "serve.hpp"

#include "config_reader.hpp"
#include "last_good_snapshot.hpp"
#include "log.hpp"
#include "log_shipper.hpp"
#include "master_key_check.hpp"
#include "migrations.hpp"
#include "pg_connection.hpp"
#include "snapshot_builder.hpp"
#include "spend_push.hpp"
#include "target_pusher.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <poll.h>
#include <unistd.h>

namespace rsync {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_hup = 0;
int g_sigpipe[2] = {-1, -1};

void on_signal(int sig) {
    int saved = errno;
    if (sig == SIGHUP) g_hup = 1;
    else g_stop = sig;
    if (g_sigpipe[1] >= 0) {
        char c = 1;
        ssize_t n = ::write(g_sigpipe[1], &c, 1);
        (void)n;
    }
    errno = saved;
}

void install_signals() {
    if (::pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) g_sigpipe[0] = g_sigpipe[1] = -1;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

class Server {
public:
    Server(const ServeOptions& o, const SecretBox& box) : opts_(o), box_(box) {
        PushTiming timing;
        timing.poll_interval_ms = o.poll_interval_ms;
        timing.http_timeout_ms = o.http_timeout_ms;
        for (const auto& t : o.targets) pushers_.push_back(std::make_unique<TargetPusher>(t, board_, timing));
        backoff_ms_ = o.backoff_initial_ms;
    }

    int run() {
        LOG_INFO("serve: %zu nginx target(s), poll every %d ms", opts_.targets.size(), opts_.poll_interval_ms);
        for (const auto& t : opts_.targets) LOG_INFO("nginx target %s", t.spec.c_str());
        if (!restore_last_good()) return 2;
        for (auto& p : pushers_) p->start();
        spend_ = std::make_unique<SpendPusher>(opts_);  // budgets: spent amounts to every nginx (§13)
        while (!g_stop && exit_code_ < 0) {
            try {
                step();
            } catch (const std::exception& e) {
                // Nothing a peer or a row sends may end the service: log and go on.
                LOG_ERROR("serve: %s (continuing)", e.what());
                retry_build_at_ = Clock::now() + milliseconds(opts_.poll_interval_ms);
            }
        }
        board_.stop();
        abort_admin_requests();
        for (auto& p : pushers_) p->join();
        spend_.reset();
        db_.reset();
        if (exit_code_ >= 0) return exit_code_;
        LOG_INFO("received %s, exiting", g_stop == SIGINT ? "SIGINT" : "SIGTERM");
        return 0;
    }

private:
    void step() {
        auto now = Clock::now();
        if (!db_ && now >= next_connect_) connect_db();
        if (exit_code_ >= 0) return;
        if (g_hup) {
            g_hup = 0;
            LOG_INFO("SIGHUP: rebuilding and re-pushing to every target");
            dirty_ = true;
            force_rebuild_ = true;
            board_.push_again_everywhere();
        }
        if (board_.take_newer_generation() && db_) {
            dirty_ = true;  // someone pushed something newer: make sure we are not stale
            force_rebuild_ = true;
        }
        if (db_ && now >= next_generation_check_) {
            // Any notification this loop still fails to see costs one poll interval at most: the
            // generation is re-read that often (one single-row query).
            next_generation_check_ = now + milliseconds(opts_.poll_interval_ms);
            if (!dirty_) periodic_check_ = true;
            dirty_ = true;
        }
        if (db_ && dirty_ && Clock::now() >= retry_build_at_) rebuild();
        wait_events();
    }

    // The snapshot persisted by an earlier run is served until Postgres gives a fresh one. A file
    // that does not open with this master key means the key is wrong (exit 2, no restart loop).
    bool restore_last_good() {
        if (opts_.last_good_path.empty()) return true;
        auto snap = std::make_shared<Snapshot>();
        std::string err;
        switch (load_last_good_snapshot(opts_.last_good_path, box_, snap.get(), &err)) {
        case LastGoodLoad::loaded:
            LOG_INFO("loaded the last good snapshot (generation %lld) from %s", static_cast<long long>(snap->generation),
                     opts_.last_good_path.c_str());
            desired_ = snap;
            board_.publish(std::move(snap));
            return true;
        case LastGoodLoad::absent: return true;
        case LastGoodLoad::unreadable:
            LOG_WARN("ignoring the last good snapshot: %s", err.c_str());
            return true;
        case LastGoodLoad::not_authentic:
            LOG_ERROR("wrong master secret: %s; fix PROVIDER_KEY_SECRET (or delete the file if the master key was "
                      "replaced on purpose)",
                      err.c_str());
            return false;
        }
        return true;
    }

    void drop_db(const std::string& why) {
        LOG_WARN("lost the Postgres connection: %s; nginx keeps its current snapshot, reconnecting", why.c_str());
        db_.reset();
        dirty_ = true;
        backoff_ms_ = opts_.backoff_initial_ms;
        next_connect_ = Clock::now() + milliseconds(backoff_ms_);
    }

    void connect_db() {
        std::string err;
        auto c = PgConnection::connect(opts_.conninfo, &err);
        if (c) {
            try {
                std::string problem = schema_problem(*c);
                if (!problem.empty()) throw PgError(problem, "", false);
                c->exec("LISTEN routeshift_config");
                if (!master_key_checked_) {
                    MasterKeyVerdict v = check_master_key(*c, box_);
                    if (v.kind == MasterKeyVerdict::mismatch) {
                        LOG_ERROR("wrong master secret: %s; exiting with status 2", v.message.c_str());
                        exit_code_ = 2;
                        return;
                    }
                    master_key_checked_ = true;
                }
            } catch (const PgError& e) {
                err = e.what();
                c.reset();
            }
        }
        if (!c) {
            // Short, capped backoff (default 250 ms -> 1 s): a change committed after an outage is
            // live about a second after Postgres is back. Loud once, then every ~minute.
            if (connect_failures_ % 60 == 0)
                LOG_WARN("cannot use Postgres: %s (retrying every %d ms at most)", err.c_str(), opts_.backoff_max_ms);
            else
                LOG_DEBUG("cannot use Postgres: %s (retrying in %d ms)", err.c_str(), backoff_ms_);
            ++connect_failures_;
            next_connect_ = Clock::now() + milliseconds(backoff_ms_);
            backoff_ms_ = std::min(backoff_ms_ * 2, opts_.backoff_max_ms);
            return;
        }
        LOG_INFO("connected to Postgres%s, listening on routeshift_config", connect_failures_ ? " again" : "");
        connect_failures_ = 0;
        backoff_ms_ = opts_.backoff_initial_ms;
        db_ = std::move(c);
        dirty_ = true;  // whatever was committed while not listening: the generation is read now
        periodic_check_ = false;
    }

    void rebuild() {
        dirty_ = false;
        bool periodic = periodic_check_;
        periodic_check_ = false;
        try {
            int64_t gen = read_generation(*db_);
            if (!force_rebuild_ && gen == built_generation_) return;  // nothing committed since
            // its notification may still be on the way (committed just now) or was lost: worth a line
            if (periodic && !force_rebuild_ && built_generation_ != 0)
                LOG_INFO("config generation %lld found by the periodic check before any notification of it "
                         "(built %lld)",
                         static_cast<long long>(gen), static_cast<long long>(built_generation_));
            force_rebuild_ = false;
            ConfigRows rows = read_config(*db_);
            built_generation_ = rows.generation;
            auto snap = std::make_shared<Snapshot>();
            std::vector<std::string> errors;
            BuildOptions bo;
            bo.box = &box_;
            bo.quarantine = true;
            bo.previous_json = desired_ ? &desired_->json : nullptr;
            if (!build_snapshot(rows, bo, snap.get(), &errors)) {
                std::string keeping = desired_ ? "generation " + std::to_string(desired_->generation)
                                               : std::string("whatever nginx has now");
                for (const auto& e : errors)
                    LOG_ERROR("config generation %lld is invalid and NOT pushed (keeping %s): %s",
                              static_cast<long long>(rows.generation), keeping.c_str(), e.c_str());
                return;
            }
            for (const auto& q : snap->quarantined)
                LOG_ERROR("config generation %lld: QUARANTINED %s id %lld (%s): %s",
                          static_cast<long long>(rows.generation), q.table.c_str(), static_cast<long long>(q.id),
                          q.kept_previous ? "its last good version is served" : "left out", q.reason.c_str());
            LOG_INFO("built snapshot generation %lld (%zu provider keys shipped%s)",
                     static_cast<long long>(snap->generation), snap->provider_keys,
                     snap->quarantined.empty() ? "" : ", some rows quarantined");
            desired_ = snap;
            board_.publish(snap);
            persist(*snap);
        } catch (const PgError& e) {
            if (e.connection_lost || !db_->ok()) {
                drop_db(e.what());
            } else {
                LOG_ERROR("reading the config failed: %s (retrying)", e.what());
                dirty_ = true;
                retry_build_at_ = Clock::now() + milliseconds(opts_.poll_interval_ms);
            }
        }
    }

    void persist(const Snapshot& snap) {
        if (opts_.last_good_path.empty()) return;
        std::string err;
        if (!save_last_good_snapshot(opts_.last_good_path, snap, box_, &err))
            LOG_WARN("cannot keep the last good snapshot: %s", err.c_str());
    }

    void wait_events() {
        // libpq reads a NOTIFY that arrives during a query (the spend read, a rebuild) together
        // with that query's answer and keeps it: the socket never turns readable for it, so what
        // libpq already holds is taken before sleeping.
        if (db_ && take_notifications()) return;
        auto now = Clock::now();
        auto until = now + milliseconds(opts_.poll_interval_ms);  // to notice newer generations
        if (!db_) until = std::min(until, next_connect_);
        if (db_ && dirty_) until = std::min(until, retry_build_at_);
        int timeout = static_cast<int>(
            std::max<long long>(0, std::chrono::duration_cast<milliseconds>(until - now).count()));
        pollfd fds[2];
        nfds_t n = 0;
        fds[n++] = {g_sigpipe[0], POLLIN, 0};
        int dbfd = db_ ? db_->socket() : -1;
        if (dbfd >= 0) fds[n++] = {dbfd, POLLIN, 0};
        int rc = ::poll(fds, n, timeout);
        if (rc < 0) return;  // EINTR: the loop re-checks the signal flags
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (::read(g_sigpipe[0], buf, sizeof buf) > 0) {
            }
        }
        if (dbfd >= 0 && n > 1 && fds[1].revents) {
            if (!db_->consume_input()) {
                drop_db(db_->error_message());
                return;
            }
            take_notifications();
        }
    }

    bool take_notifications() {
        auto notes = db_->take_notifications();
        if (notes.empty()) return false;
        LOG_DEBUG("%zu change notification(s), first from table %s", notes.size(), notes.front().payload.c_str());
        dirty_ = true;
        periodic_check_ = false;
        return true;
    }

    const ServeOptions& opts_;
    const SecretBox& box_;
    SnapshotBoard board_;
    std::vector<std::unique_ptr<TargetPusher>> pushers_;
    std::unique_ptr<PgConnection> db_;
    Clock::time_point next_connect_{};
    Clock::time_point retry_build_at_{};
    Clock::time_point next_generation_check_{};
    int backoff_ms_ = 250;
    int connect_failures_ = 0;
    bool dirty_ = true;
    bool force_rebuild_ = false;
    bool periodic_check_ = false;  // dirty_ only because the periodic generation check is due
    bool master_key_checked_ = false;
    int exit_code_ = -1;  // >= 0: stop with this status (a fatal startup problem)
    int64_t built_generation_ = 0;
    std::shared_ptr<const Snapshot> desired_;
    std::unique_ptr<SpendPusher> spend_;  // own thread and connection: never holds up this loop
};

}  // namespace

int run_serve(const ServeOptions& opts, const SecretBox& box) {
    auto log_shipper = start_log_shipper(opts.conninfo, opts.log_spool_dir);  // own thread and connection
    install_signals();
    Server s(opts, box);
    return s.run();
}

}  // namespace rsync
