#include "target_pusher.hpp"

#include "config/snapshot_digest.hpp"  // module core
#include "log.hpp"

#include <algorithm>
#include <exception>

namespace rsync {

using std::chrono::milliseconds;

void SnapshotBoard::publish(std::shared_ptr<const Snapshot> snapshot) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        view_.desired = std::move(snapshot);
        ++view_.version;
    }
    changed_.notify_all();
}

void SnapshotBoard::push_again_everywhere() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++view_.push_round;
    }
    changed_.notify_all();
}

void SnapshotBoard::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        view_.stopping = true;
    }
    changed_.notify_all();
}

SnapshotBoard::View SnapshotBoard::current() {
    std::lock_guard<std::mutex> lock(mutex_);
    return view_;
}

void SnapshotBoard::wait(uint64_t seen_version, uint64_t seen_push_round, Clock::time_point until) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_until(lock, until, [&] {
        return view_.stopping || view_.version != seen_version || view_.push_round != seen_push_round;
    });
}

TargetPusher::TargetPusher(AdminTarget target, SnapshotBoard& board, PushTiming timing)
    : target_(std::move(target)), board_(board), timing_(timing) {}

TargetPusher::~TargetPusher() { join(); }

void TargetPusher::start() { thread_ = std::thread([this] { run(); }); }

void TargetPusher::join() {
    if (thread_.joinable()) thread_.join();
}

void TargetPusher::run() noexcept {
    uint64_t seen_push_round = 0;
    Clock::time_point next_poll{};
    for (;;) {
        SnapshotBoard::View view;
        try {
            view = board_.current();
            if (view.stopping) return;
            if (view.push_round != seen_push_round) {
                seen_push_round = view.push_round;
                must_push_ = true;
                rejected_.clear();
            }
            desired_ = view.desired;
            if (Clock::now() >= next_poll) {
                poll();
                int every = reachable_ ? timing_.poll_interval_ms
                                       : std::min(timing_.poll_interval_ms, timing_.unreachable_poll_ms);
                next_poll = Clock::now() + milliseconds(every);
            }
            auto now = Clock::now();
            if (reachable_ && polled_ && now >= retry_at_) push_if_needed(view.desired);
            auto until = next_poll;
            if (reachable_ && polled_ && retry_at_ > Clock::now()) until = std::min(until, retry_at_);
            board_.wait(view.version, seen_push_round, until);
        } catch (const std::exception& e) {
            // Never lose a target to one bad answer: log, back off one interval, carry on.
            LOG_ERROR("nginx target %s: %s (retrying)", target_.spec.c_str(), e.what());
            next_poll = Clock::now() + milliseconds(timing_.poll_interval_ms);
            try {
                board_.wait(view.version, seen_push_round, next_poll);
            } catch (...) {
            }
        } catch (...) {
            LOG_ERROR("nginx target %s: unexpected failure (retrying)", target_.spec.c_str());
            next_poll = Clock::now() + milliseconds(timing_.poll_interval_ms);
        }
    }
}

void TargetPusher::poll() {
    std::string err;
    auto info = admin_get_generation(target_, timing_.http_timeout_ms, &err);
    if (!info) {
        if (reachable_) LOG_WARN("nginx target %s: %s", target_.spec.c_str(), err.c_str());
        reachable_ = false;  // known_ stays: coming back with another generation is reported as a restart
        return;
    }
    if (!polled_) {
        LOG_INFO("nginx target %s reports generation %lld", target_.spec.c_str(),
                 static_cast<long long>(info->generation));
    } else if (!reachable_) {
        LOG_INFO("nginx target %s is reachable again (generation %lld)", target_.spec.c_str(),
                 static_cast<long long>(info->generation));
        must_push_ = true;  // it may have restarted (or been upgraded) meanwhile
        rejected_.clear();
    }
    polled_ = true;
    reachable_ = true;
    bool new_zone = epoch_ && info->epoch && *info->epoch < *epoch_;
    if (info->epoch) epoch_ = info->epoch;
    if (known_ >= 0 && (new_zone || info->generation != known_)) {
        LOG_WARN("nginx target %s reports generation %lld, expected %lld%s: re-pushing", target_.spec.c_str(),
                 static_cast<long long>(info->generation), static_cast<long long>(known_),
                 info->generation == 0 ? " (nginx restarted)" : new_zone ? " (new shared zone)" : "");
        rejected_.clear();  // a restarted nginx may be a different build: try again
        retry_at_ = {};
        if (new_zone) must_push_ = true;
        if (desired_ && info->generation > desired_->generation) board_.note_newer_generation();
    }
    known_ = info->generation;
    check_digest(*info);
}

// Someone else pushed under the generation we pushed (a stale sync, a hand-made PUT, a local
// impostor): same number, other content. The digest tells; the pushed snapshot goes back.
void TargetPusher::check_digest(const GenerationInfo& info) {
    if (info.digest.empty() || held_digest_.empty() || info.generation != held_generation_ ||
        info.digest == held_digest_)
        return;
    ++foreign_snapshots_;
    LOG_WARN("nginx target %s holds a snapshot this sync did not push (generation %lld, digest %.12s, pushed "
             "%.12s): re-pushing (foreign snapshot %llu on this target)",
             target_.spec.c_str(), static_cast<long long>(info.generation), info.digest.c_str(),
             held_digest_.c_str(), static_cast<unsigned long long>(foreign_snapshots_));
    held_digest_.clear();
    must_push_ = true;
    rejected_.clear();
    retry_at_ = {};
}

void TargetPusher::push_if_needed(const std::shared_ptr<const Snapshot>& desired) {
    std::shared_ptr<const Snapshot> snap;
    if (desired && !rejected_.count(desired->generation)) {
        if (must_push_ || known_ != desired->generation) snap = desired;
    } else if (last_accepted_ && (must_push_ || known_ != last_accepted_->generation) &&
               !rejected_.count(last_accepted_->generation)) {
        snap = last_accepted_;  // it refused the newest one and lost the old one: restore that
    }
    if (!snap) return;
    PushResult r = admin_push_snapshot(target_, snap->json, timing_.http_timeout_ms);
    switch (r.kind) {
    case PushResult::accepted:
        known_ = snap->generation;
        held_generation_ = snap->generation;
        held_digest_ = routeshift::snapshot_digest(snap->json);
        must_push_ = false;
        last_accepted_ = snap;
        LOG_INFO("pushed generation %lld to %s (nginx: generation %lld, %lld keys)",
                 static_cast<long long>(snap->generation), target_.spec.c_str(), static_cast<long long>(r.generation),
                 static_cast<long long>(r.keys));
        break;
    case PushResult::rejected:
        // Applied whole or not at all: it still serves what it had (known_ unchanged).
        rejected_.insert(snap->generation);
        must_push_ = false;
        LOG_ERROR("nginx target %s rejected generation %lld (HTTP %d): %s; its previous snapshot stays active",
                  target_.spec.c_str(), static_cast<long long>(snap->generation), r.status,
                  snap->redact(r.message).c_str());
        break;
    case PushResult::failed:
        retry_at_ = Clock::now() + milliseconds(timing_.poll_interval_ms);
        LOG_WARN("pushing generation %lld to %s failed: %s (will retry)", static_cast<long long>(snap->generation),
                 target_.spec.c_str(), snap->redact(r.message).c_str());
        break;
    }
}

}  // namespace rsync
