#include "log_shipper.hpp"

#include "log.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rsync {
namespace {

constexpr size_t kBatchLines = 1000;
constexpr size_t kBatchBytes = 4 * 1024 * 1024;
constexpr const char* kPartSuffix = ".part";
constexpr const char* kStateName = ".shipped";

// Every column the record carries (docs/design.md §11); one row per element of $1.
constexpr const char* kInsert = R"SQL(
INSERT INTO request_logs (ts, request_id, node, virtual_key_id, team_id, session_id, requested_model,
    resolved_model, provider, provider_key_id, status, attempts, attempt_statuses, stream, prompt_tokens,
    completion_tokens, cached_tokens, cost_microcents, latency_ms, ttfb_ms, error, metadata, tags,
    matched_rules, attempt_details, usage_estimated, endpoint)
SELECT (r->>'ts')::timestamptz, r->>'request_id', coalesce(r->>'node', ''), (r->>'virtual_key_id')::bigint,
    (r->>'team_id')::bigint, r->>'session_id', r->>'requested_model', r->>'resolved_model', r->>'provider',
    (r->>'provider_key_id')::bigint, (r->>'status')::smallint, coalesce((r->>'attempts')::smallint, 0),
    coalesce(ARRAY(SELECT jsonb_array_elements_text(r->'attempt_statuses'))::smallint[], '{}'),
    coalesce((r->>'stream')::boolean, false), (r->>'prompt_tokens')::integer,
    (r->>'completion_tokens')::integer, (r->>'cached_tokens')::integer, (r->>'cost_microcents')::bigint,
    (r->>'latency_ms')::integer, (r->>'ttfb_ms')::integer, r->>'error', coalesce(r->'metadata', '{}'),
    coalesce(ARRAY(SELECT jsonb_array_elements_text(r->'tags')), '{}'),
    coalesce(ARRAY(SELECT jsonb_array_elements_text(r->'matched_rules'))::bigint[], '{}'),
    coalesce(r->'attempt_details', '[]'), coalesce((r->>'usage_estimated')::boolean, false), r->>'endpoint'
FROM jsonb_array_elements($1::jsonb) AS r
ON CONFLICT (request_id, ts) DO NOTHING
)SQL";

struct SpoolFile {
    std::string name;  // as on disk
    std::string key;   // without ".part": the name it keeps after rotation
    bool open = false; // ".part": its worker may still append
};

using Offsets = std::map<std::string, uint64_t>;

bool is_spool_name(std::string_view name) {
    return name.starts_with("rs-") && (name.ends_with(".jsonl") || name.ends_with(".jsonl.part"));
}

std::vector<SpoolFile> list_spool(const std::string& dir) {
    std::vector<SpoolFile> files;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) throw std::runtime_error("cannot read the log spool directory " + dir + ": " + std::strerror(errno));
    while (struct dirent* entry = ::readdir(d)) {
        std::string_view name = entry->d_name;
        if (!is_spool_name(name)) continue;
        SpoolFile f;
        f.name = std::string(name);
        f.open = name.ends_with(kPartSuffix);
        f.key = f.open ? f.name.substr(0, f.name.size() - std::strlen(kPartSuffix)) : f.name;
        files.push_back(std::move(f));
    }
    ::closedir(d);
    std::sort(files.begin(), files.end(), [](const SpoolFile& a, const SpoolFile& b) { return a.key < b.key; });
    return files;
}

Offsets load_offsets(const std::string& dir) {
    Offsets offsets;
    FILE* f = std::fopen((dir + "/" + kStateName).c_str(), "re");
    if (f == nullptr) return offsets;
    char name[256];
    unsigned long long offset = 0;
    while (std::fscanf(f, "%255s %llu", name, &offset) == 2) offsets[name] = offset;
    std::fclose(f);
    return offsets;
}

// Written AFTER the commit of what it records, atomically (temp file, fsync, rename).
void save_offsets(const std::string& dir, const Offsets& offsets) {
    std::string text;
    for (const auto& [name, offset] : offsets) text += name + " " + std::to_string(offset) + "\n";
    std::string tmp = dir + "/" + kStateName + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    bool ok = ::write(fd, text.data(), text.size()) == (ssize_t)text.size() && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), (dir + "/" + kStateName).c_str()) != 0) {
        throw std::runtime_error("cannot write the shipper state in " + dir + ": " + std::strerror(errno));
    }
}

// The pid in rs-<ms>-<pid>-<seq>.jsonl.part; 0 when unreadable.
pid_t writer_pid(const std::string& key) {
    long long ms = 0;
    int pid = 0;
    unsigned seq = 0;
    if (std::sscanf(key.c_str(), "rs-%lld-%d-%u.jsonl", &ms, &pid, &seq) != 3) return 0;
    return pid;
}

bool writer_gone(const SpoolFile& f) {
    pid_t pid = writer_pid(f.key);
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

std::string read_from(const std::string& path, uint64_t offset, uint64_t* size) {
    std::string data;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return data;  // rotated (renamed) or deleted meanwhile: the next pass sees it
    struct stat st;
    if (::fstat(fd, &st) == 0 && (uint64_t)st.st_size > offset) {
        data.resize((size_t)((uint64_t)st.st_size - offset));
        ssize_t n = ::pread(fd, data.data(), data.size(), (off_t)offset);
        data.resize(n > 0 ? (size_t)n : 0);
    }
    *size = ::fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    ::close(fd);
    return data;
}

// Sends `lines` (JSON objects) in one statement; on a refusal that is not a lost connection,
// line by line, skipping (and reporting) the ones still refused.
void send_batch(PgConnection& db, const std::vector<std::string_view>& lines, const std::string& file, ShipResult* result) {
    std::string array = "[";
    for (size_t i = 0; i < lines.size(); i++) {
        if (i) array += ',';
        array += lines[i];
    }
    array += ']';
    try {
        PgResult r = db.exec_params(kInsert, {array});
        result->rows_inserted += std::strtoull(r.command_tuples().c_str(), nullptr, 10);
        result->rows_sent += lines.size();
        return;
    } catch (const PgError& e) {
        if (e.connection_lost || !db.ok()) throw;
        LOG_WARN("log shipper: a batch of %zu records from %s was refused (%s); sending them one by one", lines.size(),
                 file.c_str(), e.what());
    }
    for (std::string_view line : lines) {
        try {
            PgResult r = db.exec_params(kInsert, {"[" + std::string(line) + "]"});
            result->rows_inserted += std::strtoull(r.command_tuples().c_str(), nullptr, 10);
            result->rows_sent++;
        } catch (const PgError& e) {
            if (e.connection_lost || !db.ok()) throw;
            result->rows_rejected++;
            LOG_ERROR("log shipper: record skipped, Postgres refused it (%s): %s: %.200s", e.what(), file.c_str(),
                      std::string(line).c_str());
        }
    }
}

// Ships the complete lines of `f` after its recorded offset.
void ship_file(PgConnection& db, const std::string& dir, const SpoolFile& f, Offsets& offsets, ShipResult* result) {
    uint64_t offset = offsets.count(f.key) ? offsets[f.key] : 0;
    uint64_t size = 0;
    std::string data = read_from(dir + "/" + f.name, offset, &size);
    size_t complete = data.rfind('\n');
    complete = complete == std::string::npos ? 0 : complete + 1;
    size_t pos = 0;
    while (pos < complete) {
        std::vector<std::string_view> lines;
        size_t bytes = 0, end = pos;
        while (end < complete && lines.size() < kBatchLines && bytes < kBatchBytes) {
            size_t newline = data.find('\n', end);
            std::string_view line(data.data() + end, newline - end);
            if (!line.empty()) lines.push_back(line);
            bytes += line.size();
            end = newline + 1;
        }
        if (!lines.empty()) send_batch(db, lines, f.name, result);
        offsets[f.key] = offset + end;
        save_offsets(dir, offsets);  // after the commit: a replay of this batch is a no-op
        pos = end;
    }
    uint64_t shipped = offset + complete;
    if (shipped < size) result->backlog_bytes += size - shipped;
}

// Shipper passes of every process on this spool take turns.
class SpoolLock {
public:
    explicit SpoolLock(const std::string& dir) {
        std::string path = dir + "/.shipper.lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    ~SpoolLock() { ::close(fd_); }
    SpoolLock(const SpoolLock&) = delete;
    SpoolLock& operator=(const SpoolLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace

ShipResult ship_spool_once(PgConnection& db, const std::string& spool_dir) {
    SpoolLock lock(spool_dir);
    ShipResult result;
    Offsets offsets = load_offsets(spool_dir);
    std::vector<SpoolFile> files = list_spool(spool_dir);
    for (const SpoolFile& f : files) {
        bool gone = f.open && writer_gone(f);  // before reading: it appends nothing after
        ship_file(db, spool_dir, f, offsets, &result);
        if (f.open && !gone) continue;  // its worker may still append
        // closed (or its writer died): every complete line is in Postgres
        uint64_t size = 0;
        std::string rest = read_from(spool_dir + "/" + f.name, offsets[f.key], &size);
        if (!rest.empty()) {
            LOG_WARN("log shipper: %s: dropping its torn last %zu bytes (its writer, pid %d, died mid-record)",
                     f.name.c_str(), rest.size(), (int)writer_pid(f.key));
        }
        if (::unlink((spool_dir + "/" + f.name).c_str()) == 0) result.files_deleted++;
        offsets.erase(f.key);
        save_offsets(spool_dir, offsets);
    }
    // offsets of files that no longer exist (deleted before the state was saved)
    bool pruned = false;
    for (auto it = offsets.begin(); it != offsets.end();) {
        bool present = std::any_of(files.begin(), files.end(), [&](const SpoolFile& f) { return f.key == it->first; });
        if (present) {
            ++it;
        } else {
            it = offsets.erase(it);
            pruned = true;
        }
    }
    if (pruned) save_offsets(spool_dir, offsets);
    return result;
}

void maintain_request_log_partitions(PgConnection& db) {
    PgResult created = db.exec("SELECT request_logs_ensure_partitions(2)");
    if (created.rows() == 1 && created.text(0, 0) != "0") {
        LOG_INFO("log shipper: created %s monthly request_logs partition(s)", created.str(0, 0).c_str());
    }
    PgResult dropped = db.exec("SELECT request_logs_apply_retention()");
    if (dropped.rows() == 1 && dropped.text(0, 0) != "0") {
        LOG_INFO("log shipper: retention dropped %s request_logs partition(s)", dropped.str(0, 0).c_str());
    }
}

namespace {

class ShipperThread final : public LogShipperThread {
public:
    ShipperThread(std::string conninfo, std::string dir) : conninfo_(std::move(conninfo)), dir_(std::move(dir)) {
        // signals stay with the main thread (serve's handlers)
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        thread_ = std::thread([this] { run(); });
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    ~ShipperThread() override {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

private:
    using Clock = std::chrono::steady_clock;

    void run() {
        LOG_INFO("log shipper: shipping %s to Postgres", dir_.c_str());
        std::unique_ptr<PgConnection> db;
        int backoff_ms = kBackoffInitialMs;
        Clock::time_point next_maintenance{};
        bool warned = false;
        while (!stopping()) {
            int wait_ms = kPassMs;
            try {
                if (!db) {
                    std::string error;
                    db = PgConnection::connect(conninfo_, &error);
                    if (!db) throw PgError(error, "", true);
                    LOG_INFO("log shipper: connected to Postgres%s", warned ? " again; shipping the backlog" : "");
                    warned = false;
                    backoff_ms = kBackoffInitialMs;
                }
                if (Clock::now() >= next_maintenance) {
                    maintain_request_log_partitions(*db);
                    next_maintenance = Clock::now() + std::chrono::hours(1);
                }
                ShipResult r = ship_spool_once(*db, dir_);
                if (r.rows_sent) {
                    LOG_DEBUG("log shipper: %llu records shipped (%llu new), %llu files deleted",
                              (unsigned long long)r.rows_sent, (unsigned long long)r.rows_inserted,
                              (unsigned long long)r.files_deleted);
                }
            } catch (const PgError& e) {
                if (e.connection_lost || !db || !db->ok()) {
                    if (!warned) LOG_WARN("log shipper: Postgres unavailable (%s); records stay spooled, retrying", e.what());
                    warned = true;
                    db.reset();
                    wait_ms = backoff_ms;
                    backoff_ms = std::min(backoff_ms * 2, kBackoffMaxMs);
                } else {
                    LOG_ERROR("log shipper: %s (retrying)", e.what());
                    wait_ms = kBackoffMaxMs;
                }
            } catch (const std::exception& e) {
                LOG_ERROR("log shipper: %s (retrying)", e.what());
                wait_ms = kBackoffMaxMs;
            }
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stop_; });
        }
    }

    bool stopping() {
        std::lock_guard<std::mutex> guard(mutex_);
        return stop_;
    }

    static constexpr int kPassMs = 200;  // lag target: p99 <= 2 s from the response to the row
    static constexpr int kBackoffInitialMs = 250;
    static constexpr int kBackoffMaxMs = 2000;

    std::string conninfo_, dir_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace

std::unique_ptr<LogShipperThread> start_log_shipper(const std::string& conninfo, const std::string& spool_dir) {
    if (spool_dir.empty()) return nullptr;
    return std::make_unique<ShipperThread>(conninfo, spool_dir);
}

}  // namespace rsync
