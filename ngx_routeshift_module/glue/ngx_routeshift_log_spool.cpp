// The request-log spool (docs/design.md §11): from the log phase, every request of a
// `routeshift_pass` location appends one JSON line (core/accounting/request_record) to a file of
// its worker in the spool directory, the way nginx writes access logs: one write() of the whole
// line with O_APPEND, no fsync, never libpq. routeshift-sync ships the files to Postgres.
//
// Files: <dir>/rs-<unix ms, 13 digits>-<pid>-<seq>.jsonl — names sort by creation time. The file a
// worker is writing carries the suffix ".part"; it is renamed without it when the worker rotates it
// (by size or age, checked at each write and once a second) and when the worker exits, so the
// shipper deletes only closed files. Bounded: the bytes in the directory (the last scan, once a
// second by one worker, plus what was written since) never pass max_size: a record that would is
// dropped and counted; the error log says so at most once a second per worker, and warns once a
// second per worker while the spool is over 80 % of its bound.
#include "ngx_routeshift.hpp"
#include "metrics/prometheus_text.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace routeshift {

// Counters every worker (and the status page) shares, in the spool's own small shared zone.
struct SpoolShared {
    ngx_atomic_t backlog_bytes;    // bytes in spool files: last scan + what was written since
    ngx_atomic_t backlog_files;    // files at the last scan
    ngx_atomic_t dropped_records;  // records not written (bound reached, write failed)
    ngx_atomic_t scan_second;      // ngx_time() of the last directory scan (one worker scans)
};

struct LogSpool {
    std::string dir;
    size_t max_size = 0;       // bound of the directory, bytes
    size_t file_size = 0;      // rotate a file past this size
    ngx_msec_t file_time = 0;  // rotate a file older than this
    ngx_int_t request_id_index = NGX_ERROR;
    ngx_shm_zone_t* shm_zone = nullptr;
    SpoolShared* shared = nullptr;
};

namespace {

constexpr size_t kDefaultMaxSize = 1024ull * 1024 * 1024;
constexpr size_t kDefaultFileSize = 16 * 1024 * 1024;
constexpr ngx_msec_t kDefaultFileTime = 60 * 1000;
constexpr ngx_msec_t kTick = 1000;

// This worker's open spool file.
struct WorkerFile {
    int fd = -1;
    std::string path;            // with ".part"
    size_t bytes = 0;
    ngx_msec_t opened_msec = 0;
    unsigned sequence = 0;
    time_t last_drop_log = 0;    // ngx_time() of the last "dropped" message
    time_t last_fill_log = 0;    // ngx_time() of the last "filling" message
    uint64_t drops_unlogged = 0;
};

LogSpool* g_spool = nullptr;  // this cycle's spool (null when not configured)
WorkerFile g_file;
ngx_event_t g_tick;

LogSpool* spool_of(ngx_cycle_t* cycle) {
    auto* mc = static_cast<MainConf*>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_routeshift_module));
    return mc ? mc->log_spool : nullptr;
}

void close_file(ngx_log_t* log) {
    if (g_file.fd < 0) return;
    ::close(g_file.fd);
    g_file.fd = -1;
    std::string closed = g_file.path.substr(0, g_file.path.size() - std::strlen(".part"));
    if (::rename(g_file.path.c_str(), closed.c_str()) != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, errno, "routeshift: closing log spool file \"%s\" failed", g_file.path.c_str());
    }
}

bool open_file(const LogSpool& spool, ngx_log_t* log) {
    char name[96];
    int64_t now_ms = (int64_t)ngx_time() * 1000 + (int64_t)(ngx_timeofday()->msec);
    std::snprintf(name, sizeof name, "/rs-%013lld-%d-%06u.jsonl.part", (long long)now_ms, (int)ngx_pid,
                  g_file.sequence++ % 1000000);
    g_file.path = spool.dir + name;
    g_file.fd = ::open(g_file.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (g_file.fd < 0) {
        ngx_log_error(NGX_LOG_ALERT, log, errno, "routeshift: cannot open log spool file \"%s\"", g_file.path.c_str());
        return false;
    }
    g_file.bytes = 0;
    g_file.opened_msec = ngx_current_msec;
    return true;
}

void rotate_if_due(const LogSpool& spool, ngx_log_t* log) {
    if (g_file.fd < 0) return;
    if (g_file.bytes >= spool.file_size || ngx_current_msec - g_file.opened_msec >= spool.file_time) close_file(log);
}

// Sums the spool files' sizes into the shared counters.
void scan_backlog(LogSpool& spool, ngx_log_t* log) {
    DIR* dir = ::opendir(spool.dir.c_str());
    if (dir == nullptr) {
        ngx_log_error(NGX_LOG_ERR, log, errno, "routeshift: cannot read log spool directory \"%s\"", spool.dir.c_str());
        return;
    }
    uint64_t bytes = 0, files = 0;
    while (struct dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (!name.starts_with("rs-") || (!name.ends_with(".jsonl") && !name.ends_with(".jsonl.part"))) continue;
        struct stat st;
        if (::fstatat(::dirfd(dir), entry->d_name, &st, 0) != 0) continue;  // shipped and deleted meanwhile
        bytes += (uint64_t)st.st_size;
        files++;
    }
    ::closedir(dir);
    spool.shared->backlog_bytes = (ngx_atomic_uint_t)bytes;
    spool.shared->backlog_files = (ngx_atomic_uint_t)files;
}

void warn_if_filling(const LogSpool& spool, ngx_log_t* log) {
    uint64_t backlog = spool.shared->backlog_bytes;
    if (backlog * 5 < (uint64_t)spool.max_size * 4 || g_file.last_fill_log == ngx_time()) return;
    g_file.last_fill_log = ngx_time();
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "routeshift: log spool \"%s\" is filling: %uL of %uz bytes (over 80%%); records are dropped at "
                  "100%% - is routeshift-sync shipping it (--log-spool) and is Postgres up?",
                  spool.dir.c_str(), backlog, spool.max_size);
}

void count_drop(const LogSpool& spool, ngx_log_t* log, const char* why) {
    ngx_atomic_fetch_add(&spool.shared->dropped_records, 1);
    g_file.drops_unlogged++;
    if (g_file.last_drop_log == ngx_time()) return;
    g_file.last_drop_log = ngx_time();
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "routeshift: log spool \"%s\": %uL request record(s) DROPPED (%s; %uA dropped in all, limit %uz "
                  "bytes)",
                  spool.dir.c_str(), g_file.drops_unlogged, why, spool.shared->dropped_records, spool.max_size);
    g_file.drops_unlogged = 0;
}

void append_line(LogSpool& spool, std::string& line, ngx_log_t* log) {
    line += '\n';
    if (spool.shared->backlog_bytes + line.size() > spool.max_size) {
        count_drop(spool, log, "the spool is full");
        return;
    }
    rotate_if_due(spool, log);
    if (g_file.fd < 0 && !open_file(spool, log)) {
        count_drop(spool, log, "cannot open a spool file");
        return;
    }
    ssize_t written = ::write(g_file.fd, line.data(), line.size());
    if (written != (ssize_t)line.size()) {
        int err = errno;
        // a short write (disk full) leaves a torn line: end it so the next record starts clean
        // (the shipper skips and reports the torn one)
        if (written > 0 && ::write(g_file.fd, "\n", 1) == 1) written++;
        if (written > 0) {
            g_file.bytes += (size_t)written;
            ngx_atomic_fetch_add(&spool.shared->backlog_bytes, (ngx_atomic_int_t)written);
        }
        ngx_log_error(NGX_LOG_ERR, log, written < 0 ? err : 0, "routeshift: writing log spool file \"%s\" failed",
                      g_file.path.c_str());
        count_drop(spool, log, "write failed");
        close_file(log);
        return;
    }
    g_file.bytes += line.size();
    ngx_atomic_fetch_add(&spool.shared->backlog_bytes, (ngx_atomic_int_t)line.size());
    warn_if_filling(spool, log);
}

void tick(ngx_event_t* ev) noexcept {
    LogSpool* spool = g_spool;
    if (spool == nullptr) return;
    try {
        rotate_if_due(*spool, ev->log);
        ngx_atomic_uint_t last = spool->shared->scan_second;
        ngx_atomic_uint_t now = (ngx_atomic_uint_t)ngx_time();
        if (last != now && ngx_atomic_cmp_set(&spool->shared->scan_second, last, now)) {
            scan_backlog(*spool, ev->log);
            warn_if_filling(*spool, ev->log);
        }
    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "routeshift: log spool tick failed");
    }
    if (!ngx_exiting && !ngx_quit && !ngx_terminate) ngx_add_timer(ev, kTick);
}

ngx_int_t log_phase_handler(ngx_http_request_t* r) noexcept {
    LogSpool* spool = g_spool;
    if (spool == nullptr || r != r->main) return NGX_OK;
    auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
    if (lc == nullptr || !lc->pass) return NGX_OK;
    try {
        std::string_view request_id;
        ngx_http_variable_value_t* value = ngx_http_get_indexed_variable(r, spool->request_id_index);
        if (value && !value->not_found) request_id = {reinterpret_cast<const char*>(value->data), value->len};
        std::string line = request_log_line(r, get_ctx(r), request_id);
        append_line(*spool, line, r->connection->log);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: request log record failed: %s", e.what());
        count_drop(*spool, r->connection->log, "the record could not be built");
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: request log record failed");
        count_drop(*spool, r->connection->log, "the record could not be built");
    }
    return NGX_OK;
}

ngx_int_t init_shared(ngx_shm_zone_t* shm_zone, void* old_data) noexcept {
    auto* spool = static_cast<LogSpool*>(shm_zone->data);
    if (old_data) {  // reload: the counters live on
        spool->shared = static_cast<LogSpool*>(old_data)->shared;
        return NGX_OK;
    }
    auto* pool = reinterpret_cast<ngx_slab_pool_t*>(shm_zone->shm.addr);
    void* memory = ngx_slab_calloc(pool, sizeof(SpoolShared));
    if (memory == nullptr) return NGX_ERROR;
    spool->shared = static_cast<SpoolShared*>(memory);
    return NGX_OK;
}

// key=value option of the directive: true when `arg` starts with `key`, `value` gets the rest.
bool option(const ngx_str_t& arg, const char* key, ngx_str_t* value) {
    size_t n = std::strlen(key);
    if (arg.len <= n || ngx_strncmp(arg.data, key, n) != 0) return false;
    value->data = arg.data + n;
    value->len = arg.len - n;
    return true;
}

}  // namespace

bool log_spool_enabled() { return g_spool != nullptr; }

char* log_spool_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mc = static_cast<MainConf*>(conf);
    if (mc->log_spool) return const_cast<char*>("is duplicate");
    try {
        auto* args = static_cast<ngx_str_t*>(cf->args->elts);
        LogSpool* spool = pool_new<LogSpool>(cf->pool);
        if (spool == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
        spool->dir.assign(reinterpret_cast<const char*>(args[1].data), args[1].len);
        while (spool->dir.size() > 1 && spool->dir.back() == '/') spool->dir.pop_back();
        spool->max_size = kDefaultMaxSize;
        spool->file_size = kDefaultFileSize;
        spool->file_time = kDefaultFileTime;
        for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
            ngx_str_t value;
            if (option(args[i], "max_size=", &value) || option(args[i], "file_size=", &value)) {
                ssize_t size = ngx_parse_size(&value);
                if (size == NGX_ERROR || size < 4096) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_log_spool: invalid size \"%V\" (at least 4k)", &args[i]);
                    return static_cast<char*>(NGX_CONF_ERROR);
                }
                (args[i].data[0] == 'm' ? spool->max_size : spool->file_size) = (size_t)size;
            } else if (option(args[i], "file_time=", &value)) {
                ngx_msec_t time = ngx_parse_time(&value, 0);
                if (time == (ngx_msec_t)NGX_ERROR || time == 0) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_log_spool: invalid time \"%V\"", &args[i]);
                    return static_cast<char*>(NGX_CONF_ERROR);
                }
                spool->file_time = time;
            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_log_spool: unknown parameter \"%V\"", &args[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        }
        struct stat st;
        if (::stat(spool->dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, errno, "routeshift_log_spool: \"%s\" is not a directory",
                               spool->dir.c_str());
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_str_t request_id = ngx_string("request_id");
        spool->request_id_index = ngx_http_get_variable_index(cf, &request_id);
        if (spool->request_id_index == NGX_ERROR) return static_cast<char*>(NGX_CONF_ERROR);
        ngx_str_t zone_name = ngx_string("routeshift_log_spool");
        spool->shm_zone = ngx_shared_memory_add(cf, &zone_name, 8 * ngx_pagesize, &ngx_http_routeshift_module);
        if (spool->shm_zone == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
        spool->shm_zone->init = init_shared;
        spool->shm_zone->data = spool;
        mc->log_spool = spool;
        return NGX_CONF_OK;
    } catch (...) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
}

ngx_int_t log_spool_postconfiguration(ngx_conf_t* cf) {
    auto* mc = static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_routeshift_module));
    if (mc == nullptr || mc->log_spool == nullptr) return NGX_OK;
    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* handler = static_cast<ngx_http_handler_pt*>(ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers));
    if (handler == nullptr) return NGX_ERROR;
    *handler = log_phase_handler;
    return NGX_OK;
}

void log_spool_worker_start(ngx_cycle_t* cycle) {
    g_spool = spool_of(cycle);
    if (g_spool == nullptr) return;
    g_file = WorkerFile{};
    ngx_memzero(&g_tick, sizeof(g_tick));
    g_tick.handler = tick;
    g_tick.log = cycle->log;
    g_tick.cancelable = 1;  // never holds up a graceful shutdown
    ngx_add_timer(&g_tick, kTick);
}

void log_spool_worker_exit(ngx_cycle_t* cycle) {
    if (g_spool == nullptr) return;
    close_file(cycle->log);  // every request of this worker is logged: the shipper may delete it
    g_spool = nullptr;
}

std::string log_spool_status_json() {
    if (g_spool == nullptr || g_spool->shared == nullptr) return {};
    std::string out = "\"spool\":{\"dir\":";
    json_quoted_append(out, g_spool->dir);
    out += ",\"backlog_bytes\":" + std::to_string((uint64_t)g_spool->shared->backlog_bytes);
    out += ",\"backlog_files\":" + std::to_string((uint64_t)g_spool->shared->backlog_files);
    out += ",\"limit_bytes\":" + std::to_string(g_spool->max_size);
    out += ",\"dropped_records\":" + std::to_string((uint64_t)g_spool->shared->dropped_records);
    out += "}";
    return out;
}

void write_spool_metrics(PrometheusText& text) {
    if (g_spool == nullptr || g_spool->shared == nullptr) return;
    text.family("routeshift_spool_backlog_bytes", "gauge",
                "Bytes of request-log records in the spool directory, not yet deleted by the shipper.");
    text.sample("routeshift_spool_backlog_bytes", {}, (uint64_t)g_spool->shared->backlog_bytes);
    text.family("routeshift_spool_limit_bytes", "gauge", "The spool's bound (max_size).");
    text.sample("routeshift_spool_limit_bytes", {}, (uint64_t)g_spool->max_size);
    text.family("routeshift_spool_dropped_records_total", "counter",
                "Request-log records dropped (spool full or unwritable).");
    text.sample("routeshift_spool_dropped_records_total", {}, (uint64_t)g_spool->shared->dropped_records);
}

}  // namespace routeshift
