#include "log.hpp"

#include <cstdarg>
#include <initializer_list>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/time.h>
#include <unistd.h>

namespace rsync::log {
namespace {

Level g_level = Level::info;

const char* level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "?";
}

int sd_priority(Level l) {  // syslog priorities: err=3 warning=4 info=6 debug=7
    switch (l) {
        case Level::debug: return 7;
        case Level::info: return 6;
        case Level::warn: return 4;
        case Level::error: return 3;
    }
    return 6;
}

}  // namespace

void set_level(Level level) { g_level = level; }

bool set_level(const char* name) {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (std::strcmp(name, level_name(l)) == 0) {
            g_level = l;
            return true;
        }
    }
    if (std::strcmp(name, "warning") == 0) {
        g_level = Level::warn;
        return true;
    }
    return false;
}

bool enabled(Level level) { return static_cast<int>(level) >= static_cast<int>(g_level); }

void write(Level level, const char* fmt, ...) {
    if (!enabled(level)) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    // One line per message: fold embedded newlines so log lines stay parseable.
    for (char* p = msg; *p; ++p) {
        if (*p == '\n' || *p == '\r') *p = ' ';
    }
    char line[4300];
    static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
    if (journal) {
        std::snprintf(line, sizeof line, "<%d>%s\n", sd_priority(level), msg);
    } else {
        struct timeval tv;
        gettimeofday(&tv, nullptr);
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        char ts[32];
        std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        std::snprintf(line, sizeof line, "%s.%03dZ routeshift-sync[%d] %s: %s\n", ts,
                      static_cast<int>(tv.tv_usec / 1000), static_cast<int>(getpid()),
                      level_name(level), msg);
    }
    // A single write() so concurrent lines from other processes do not interleave mid-line.
    size_t len = std::strlen(line);
    const char* p = line;
    while (len > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, len);
        if (n <= 0) break;
        p += n;
        len -= static_cast<size_t>(n);
    }
}

}  // namespace rsync::log
