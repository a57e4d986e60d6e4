// Command-line and environment handling shared by every command.
//
// Global options (any position) and their environment fallbacks:
//   --db CONNINFO          ROUTESHIFT_DATABASE_URL, else DATABASE_URL, else libpq's PG* variables
//   --nginx TARGET         ROUTESHIFT_NGINX_ADMIN (comma/space separated); repeatable
//   --secret-file PATH     (else PROVIDER_KEY_SECRET / PROVIDER_KEY_SECRET_FILE / systemd credential)
//   --poll-ms N            ROUTESHIFT_POLL_MS (default 1000)
//   --timeout-ms N         ROUTESHIFT_HTTP_TIMEOUT_MS (default 5000)
//   --backoff-max-ms N     ROUTESHIFT_BACKOFF_MAX_MS (default 1000)
//   --last-good-file PATH  ROUTESHIFT_LAST_GOOD_FILE, else $STATE_DIRECTORY/last-good-snapshot (serve)
//   --admin-token-file P   ROUTESHIFT_ADMIN_TOKEN_FILE: the shared admin token (routeshift_admin_token_file)
//   --allow-tcp-without-token  ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN=1: accept a TCP target without a token
//   --log-level L          ROUTESHIFT_LOG_LEVEL (debug, info, warn, error; default info)
//   --log-spool DIR        ROUTESHIFT_LOG_SPOOL (request-log spool shipped by serve and ship)
#pragma once
#include "admin_push.hpp"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rsync {

// Bad usage or configuration: main() prints the message and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A runtime failure of a command: main() prints the message and exits 1.
struct CommandError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Args {
    std::vector<std::string> positional;            // command words
    std::map<std::string, std::vector<std::string>> options;  // "--name" -> values ("" for flags)

    bool has(const std::string& name) const { return options.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;  // last value
    std::string require(const std::string& name) const;             // UsageError if absent/empty
    std::optional<long long> get_int(const std::string& name, long long lo, long long hi) const;
    // UsageError when an option outside `allowed` (plus the global ones) was given.
    void allow_only(std::initializer_list<const char*> allowed) const;
};

// Parses argv (after the program name). Throws UsageError.
Args parse_args(int argc, char** argv);

struct Context {
    Args args;
    std::string conninfo;
    std::vector<std::string> nginx_specs;
    std::string secret_file;
    int poll_ms = 1000;
    int timeout_ms = 5000;
    int backoff_max_ms = 1000;
    std::string log_spool_dir;     // --log-spool / ROUTESHIFT_LOG_SPOOL: the request-log spool to ship
    std::string last_good_file;    // serve: where the sealed last good snapshot is kept ("" = nowhere)
    std::string admin_token_file;  // shared admin token (design.md §15); "" = none
    bool allow_tcp_without_token = false;  // else a TCP target without a token is a UsageError

    // Parsed --nginx/ROUTESHIFT_NGINX_ADMIN targets; UsageError when one is invalid, is TCP without
    // an admin token (unless allow_tcp_without_token) or, if `required`, when none is configured.
    std::vector<AdminTarget> targets(bool required) const;
};

Context make_context(Args args);

}  // namespace rsync
