// A small blocking HTTP/1.1 client for the module's admin API (docs/design.md §5).
//
// Targets:  http://127.0.0.1:8081/admin      (loopback only: 127.0.0.0/8, ::1, localhost)
//           unix:/run/routeshift/admin.sock:/admin
// The path is the admin location prefix ("/admin" when omitted). Requests made:
//   PUT  <prefix>/snapshot                    body = snapshot JSON  -> 200 {"generation":N,"keys":K}
//   GET  <prefix>/snapshot/generation                     -> {"generation":N,"epoch":E,"digest":D}
//   POST <prefix>/model-aliases/invalidate                          -> {"invalidated":true,...}
// One connection per request (Connection: close); the timeout bounds the whole exchange (connect,
// send, every read), answers are parsed incrementally with bounded sizes (http_response_reader).
// A unix-socket peer must run as root or as this process's user (SO_PEERCRED, checked before
// anything is sent). With a shared admin token (--admin-token-file) every request is signed and
// every answer must carry nginx's proof (core/util/admin_auth.hpp); a snapshot PUT first proves the
// peer with a GET on the same connection, so secrets never reach a peer that could not prove
// itself. Never logs bodies.
#pragma once
#include "http_response_reader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsync {

struct AdminTarget {
    std::string spec;         // as configured (for log messages)
    bool unix_socket = false;
    std::string socket_path;  // unix
    std::string host;         // tcp: literal address or "localhost"
    unsigned port = 80;
    std::string prefix;       // "/admin" (no trailing slash)
    std::string host_header;
    std::string token;        // shared admin token ("" = none)
};

// Parses a target; refuses anything that is not loopback or a unix socket (secrets travel in
// plaintext). Returns nullopt and sets `error`.
std::optional<AdminTarget> parse_admin_target(std::string_view spec, std::string* error);

// Parses a complete raw HTTP/1.x response (Content-Length, chunked, or read-until-close).
// False when it is malformed or incomplete.
bool parse_http_response(std::string_view raw, HttpResponse* out, std::string* error);
// Same; `framed` tells whether the length was known (Content-Length or chunked), i.e. whether a
// successful parse means the response is complete before the peer closes.
bool parse_http_response_framed(std::string_view raw, HttpResponse* out, std::string* error, bool* framed);

// One request. False on a connection/protocol error or timeout (`error` set); otherwise the
// response (any status).
bool http_request(const AdminTarget& t, const char* method, const std::string& path, std::string_view body,
                  int timeout_ms, HttpResponse* out, std::string* error);

struct GenerationInfo {
    int64_t generation = 0;
    std::optional<int64_t> epoch;
    std::string digest;  // hex SHA-256 of the snapshot nginx holds ("" = none, or an older module)
};

// GET <prefix>/snapshot/generation. nullopt with `error` on failure.
std::optional<GenerationInfo> admin_get_generation(const AdminTarget& t, int timeout_ms, std::string* error);

struct PushResult {
    enum Kind { accepted, rejected, failed } kind = failed;
    int status = 0;
    int64_t generation = 0;  // as reported by nginx on success
    int64_t keys = -1;
    std::string message;     // nginx's error message (400) or the transport error
};

// PUT <prefix>/snapshot.
PushResult admin_push_snapshot(const AdminTarget& t, std::string_view json, int timeout_ms);

// POST <prefix>/model-aliases/invalidate. Returns the response; false on transport errors.
bool admin_invalidate(const AdminTarget& t, int timeout_ms, HttpResponse* out, std::string* error);

// Makes every request in flight (and every later one) fail within ~100 ms: serve's shutdown, so a
// hung nginx cannot hold SIGTERM up for a whole timeout.
void abort_admin_requests();

// The "message" of an {"error":{"message":...}} body, or a shortened body.
std::string admin_error_message(const std::string& body);

}  // namespace rsync
