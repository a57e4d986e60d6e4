// One thread per nginx target (issue 12: one hung nginx must never delay the others).
//
// The serve loop publishes the snapshot every target should serve on a SnapshotBoard; each
// TargetPusher polls its target's generation (GET …/snapshot/generation every poll interval, every
// 100 ms while the target is unreachable so a restarted nginx is configured as soon as it listens)
// and pushes when the target's generation differs from the desired one, it restarted (generation 0,
// a lower epoch), or SIGHUP asked for it. Each exchange is bounded by the HTTP timeout; a failed
// push is retried after a poll interval; a rejected generation is not retried until the target
// restarts. A snapshot someone else pushed (its content digest differs from what was pushed under
// that generation) is counted, logged and replaced. A pusher only ever blocks itself.
#pragma once
#include "admin_push.hpp"
#include "snapshot_builder.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace rsync {

class SnapshotBoard {
public:
    using Clock = std::chrono::steady_clock;
    struct View {
        std::shared_ptr<const Snapshot> desired;
        uint64_t version = 0;      // bumped by publish()
        uint64_t push_round = 0;   // bumped by push_again_everywhere()
        bool stopping = false;
    };

    void publish(std::shared_ptr<const Snapshot> snapshot);
    void push_again_everywhere();
    void stop();
    View current();
    // Returns at `until`, or earlier when something was published, a push round asked for, or stop.
    void wait(uint64_t seen_version, uint64_t seen_push_round, Clock::time_point until);

    // A target serves a generation newer than the desired one (someone else pushed): the serve
    // loop rebuilds to make sure it is not stale.
    void note_newer_generation() { newer_generation_seen_ = true; }
    bool take_newer_generation() { return newer_generation_seen_.exchange(false); }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    View view_;
    std::atomic<bool> newer_generation_seen_{false};
};

struct PushTiming {
    int poll_interval_ms = 1000;
    int http_timeout_ms = 5000;
    int unreachable_poll_ms = 100;
};

class TargetPusher {
public:
    TargetPusher(AdminTarget target, SnapshotBoard& board, PushTiming timing);
    ~TargetPusher();
    TargetPusher(const TargetPusher&) = delete;
    TargetPusher& operator=(const TargetPusher&) = delete;

    void start();
    void join();  // after board.stop()

private:
    using Clock = std::chrono::steady_clock;
    void run() noexcept;
    void poll();
    void push_if_needed(const std::shared_ptr<const Snapshot>& desired);
    void check_digest(const GenerationInfo& info);

    AdminTarget target_;
    SnapshotBoard& board_;
    PushTiming timing_;
    std::thread thread_;
    int64_t known_ = -1;            // generation it serves (accepted or observed); -1 = unknown
    bool must_push_ = true;         // push even if known_ matches: first contact, back from
                                    // unreachable (it may have restarted), SIGHUP
    std::optional<int64_t> epoch_;  // last epoch seen
    bool reachable_ = true;         // last poll succeeded
    bool polled_ = false;           // at least one poll answered
    std::set<int64_t> rejected_;    // generations it refused (not retried until it restarts)
    std::shared_ptr<const Snapshot> last_accepted_;
    std::shared_ptr<const Snapshot> desired_;  // as of the last poll (to spot newer generations)
    Clock::time_point retry_at_{};  // after a failed push
    int64_t held_generation_ = -1;  // generation and content digest of the last accepted push
    std::string held_digest_;
    uint64_t foreign_snapshots_ = 0;  // pushes by someone else that were corrected
};

}  // namespace rsync
