// Logging to stderr (systemd-friendly). Under systemd (JOURNAL_STREAM set) lines carry sd-daemon
// "<N>" priority prefixes and no timestamp; otherwise an ISO-8601 UTC timestamp and the level.
// Never pass a secret to these functions.
#pragma once

namespace rsync::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
bool set_level(const char* name);  // "debug", "info", "warn", "error"; false if unknown
bool enabled(Level level);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace rsync::log

#define LOG_DEBUG(...) ::rsync::log::write(::rsync::log::Level::debug, __VA_ARGS__)
#define LOG_INFO(...) ::rsync::log::write(::rsync::log::Level::info, __VA_ARGS__)
#define LOG_WARN(...) ::rsync::log::write(::rsync::log::Level::warn, __VA_ARGS__)
#define LOG_ERROR(...) ::rsync::log::write(::rsync::log::Level::error, __VA_ARGS__)
