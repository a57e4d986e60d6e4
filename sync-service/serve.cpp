#include "serve.hpp"

#include "config_reader.hpp"
#include "log.hpp"
#include "log_shipper.hpp"
#include "migrations.hpp"
#include "pg_connection.hpp"
#include "snapshot_builder.hpp"
#include "spend_push.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <set>
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

struct TargetState {
    AdminTarget target;
    int64_t known = -1;                      // generation it serves (accepted or observed); -1 = unknown
    bool must_push = true;                   // push even if `known` matches: first contact, back from
                                             // unreachable (it may have restarted), SIGHUP
    std::optional<int64_t> epoch;            // last epoch seen
    bool reachable = true;                   // last poll succeeded
    bool polled = false;                     // at least one poll answered
    std::set<int64_t> rejected;              // generations it refused (not retried until it restarts)
    std::shared_ptr<const Snapshot> last_accepted;
    Clock::time_point retry_at{};            // after a failed push
};

class Server {
public:
    Server(const ServeOptions& o, const SecretBox& box) : opts_(o), box_(box) {
        for (const auto& t : o.targets) {
            TargetState ts;
            ts.target = t;
            targets_.push_back(std::move(ts));
        }
        backoff_ms_ = o.backoff_initial_ms;
    }

    int run() {
        LOG_INFO("serve: %zu nginx target(s), poll every %d ms", targets_.size(), opts_.poll_interval_ms);
        for (const auto& t : targets_) LOG_INFO("nginx target %s", t.target.spec.c_str());
        while (!g_stop) {
            auto now = Clock::now();
            if (!db_ && now >= next_connect_) connect_db();
            if (g_hup) {
                g_hup = 0;
                LOG_INFO("SIGHUP: rebuilding and re-pushing to every target");
                dirty_ = true;
                force_rebuild_ = true;
                for (auto& t : targets_) {
                    t.must_push = true;
                    t.rejected.clear();
                }
            }
            if (now >= next_poll_) {
                next_poll_ = now + milliseconds(opts_.poll_interval_ms);
                poll_targets();
            }
            if (db_ && dirty_ && now >= retry_build_at_) rebuild();
            push_all();
            spend_.tick(db_.get());  // budgets: spent amounts to every nginx (docs/design.md §13)
            wait_events();
        }
        LOG_INFO("received %s, exiting", g_stop == SIGINT ? "SIGINT" : "SIGTERM");
        db_.reset();
        return 0;
    }

private:
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
            } catch (const PgError& e) {
                err = e.what();
                c.reset();
            }
        }
        if (!c) {
            if (connect_failures_ == 0 || backoff_ms_ >= opts_.backoff_max_ms)
                LOG_WARN("cannot use Postgres: %s (retrying in %d ms)", err.c_str(), backoff_ms_);
            else
                LOG_DEBUG("cannot use Postgres: %s (retrying in %d ms)", err.c_str(), backoff_ms_);
            ++connect_failures_;
            next_connect_ = Clock::now() + milliseconds(backoff_ms_);
            backoff_ms_ = std::min(backoff_ms_ * 2, opts_.backoff_max_ms);
            return;
        }
        LOG_INFO("connected to Postgres%s, listening on routeshift_config",
                 connect_failures_ ? " again" : "");
        connect_failures_ = 0;
        backoff_ms_ = opts_.backoff_initial_ms;
        db_ = std::move(c);
        dirty_ = true;
    }

    void rebuild() {
        dirty_ = false;
        try {
            int64_t gen = read_generation(*db_);
            if (!force_rebuild_ && gen == built_generation_) return;  // nothing committed since
            force_rebuild_ = false;
            ConfigRows rows = read_config(*db_);
            built_generation_ = rows.generation;
            auto snap = std::make_shared<Snapshot>();
            std::vector<std::string> errors;
            BuildOptions bo;
            bo.box = &box_;
            if (!build_snapshot(rows, bo, snap.get(), &errors)) {
                std::string keeping = desired_ ? "generation " + std::to_string(desired_->generation)
                                               : std::string("whatever nginx has now");
                for (const auto& e : errors)
                    LOG_ERROR("config generation %lld is invalid and NOT pushed (keeping %s): %s",
                              static_cast<long long>(rows.generation), keeping.c_str(), e.c_str());
                return;
            }
            LOG_INFO("built snapshot generation %lld (%zu provider keys shipped)",
                     static_cast<long long>(snap->generation), snap->provider_keys);
            desired_ = std::move(snap);
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

    void poll_targets() {
        for (auto& t : targets_) {
            std::string err;
            auto info = admin_get_generation(t.target, opts_.http_timeout_ms, &err);
            if (!info) {
                if (t.reachable) LOG_WARN("nginx target %s: %s", t.target.spec.c_str(), err.c_str());
                t.reachable = false;
                t.known = -1;
                continue;
            }
            if (!t.polled) {
                LOG_INFO("nginx target %s reports generation %lld", t.target.spec.c_str(),
                         static_cast<long long>(info->generation));
            } else if (!t.reachable) {
                LOG_INFO("nginx target %s is reachable again (generation %lld)", t.target.spec.c_str(),
                         static_cast<long long>(info->generation));
                t.must_push = true;  // it may have restarted (or been upgraded) meanwhile
                t.rejected.clear();
            }
            t.polled = true;
            t.reachable = true;
            bool new_zone = t.epoch && info->epoch && *info->epoch < *t.epoch;
            if (info->epoch) t.epoch = info->epoch;
            if (t.known >= 0 && (new_zone || info->generation != t.known)) {
                LOG_WARN("nginx target %s reports generation %lld, expected %lld%s: re-pushing",
                         t.target.spec.c_str(), static_cast<long long>(info->generation),
                         static_cast<long long>(t.known),
                         info->generation == 0 ? " (nginx restarted)" : new_zone ? " (new shared zone)" : "");
                t.rejected.clear();  // a restarted nginx may be a different build: try again
                t.retry_at = {};
                if (new_zone) t.must_push = true;
                if (desired_ && info->generation > desired_->generation && db_) {
                    dirty_ = true;  // someone pushed something newer: make sure we are not stale
                    force_rebuild_ = true;
                }
            }
            t.known = info->generation;
        }
        if (dirty_ && db_ && Clock::now() >= retry_build_at_) rebuild();
    }

    void push_all() {
        auto now = Clock::now();
        for (auto& t : targets_) {
            if (!t.reachable || !t.polled || now < t.retry_at) continue;
            std::shared_ptr<const Snapshot> snap;
            if (desired_ && !t.rejected.count(desired_->generation)) {
                if (t.must_push || t.known != desired_->generation) snap = desired_;
            } else if (t.last_accepted && (t.must_push || t.known != t.last_accepted->generation) &&
                       !t.rejected.count(t.last_accepted->generation)) {
                snap = t.last_accepted;  // it refused the newest one and lost the old one: restore that
            }
            if (!snap) continue;
            PushResult r = admin_push_snapshot(t.target, snap->json, opts_.http_timeout_ms);
            switch (r.kind) {
            case PushResult::accepted:
                t.known = snap->generation;
                t.must_push = false;
                t.last_accepted = snap;
                LOG_INFO("pushed generation %lld to %s (nginx: generation %lld, %lld keys)",
                         static_cast<long long>(snap->generation), t.target.spec.c_str(),
                         static_cast<long long>(r.generation), static_cast<long long>(r.keys));
                break;
            case PushResult::rejected:
                // Applied whole or not at all: it still serves what it had (t.known unchanged).
                t.rejected.insert(snap->generation);
                t.must_push = false;
                LOG_ERROR("nginx target %s rejected generation %lld (HTTP %d): %s; its previous snapshot stays "
                          "active",
                          t.target.spec.c_str(), static_cast<long long>(snap->generation), r.status,
                          snap->redact(r.message).c_str());
                break;
            case PushResult::failed:
                t.retry_at = now + milliseconds(opts_.poll_interval_ms);
                LOG_WARN("pushing generation %lld to %s failed: %s (will retry)",
                         static_cast<long long>(snap->generation), t.target.spec.c_str(),
                         snap->redact(r.message).c_str());
                break;
            }
        }
    }

    void wait_events() {
        auto now = Clock::now();
        auto until = next_poll_;
        if (!db_) until = std::min(until, next_connect_);
        if (db_ && dirty_) until = std::min(until, retry_build_at_);
        for (const auto& t : targets_) {
            if (t.reachable && t.polled && t.retry_at > now) until = std::min(until, t.retry_at);
        }
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
            auto notes = db_->take_notifications();
            if (!notes.empty()) {
                LOG_DEBUG("%zu change notification(s), first from table %s", notes.size(),
                          notes.front().payload.c_str());
                dirty_ = true;
            }
        }
    }

    const ServeOptions& opts_;
    const SecretBox& box_;
    std::vector<TargetState> targets_;
    std::unique_ptr<PgConnection> db_;
    Clock::time_point next_connect_{};
    Clock::time_point next_poll_{};
    Clock::time_point retry_build_at_{};
    int backoff_ms_ = 250;
    int connect_failures_ = 0;
    bool dirty_ = true;
    bool force_rebuild_ = false;
    int64_t built_generation_ = 0;
    std::shared_ptr<const Snapshot> desired_;
    SpendPusher spend_{opts_};
};

}  // namespace

int run_serve(const ServeOptions& opts, const SecretBox& box) {
    auto log_shipper = start_log_shipper(opts.conninfo, opts.log_spool_dir);  // own thread and connection
    install_signals();
    Server s(opts, box);
    return s.run();
}

}  // namespace rsync
