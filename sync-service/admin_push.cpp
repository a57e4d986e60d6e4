#include "admin_push.hpp"

#include "secret_box.hpp"  // hex_encode
#include "config/snapshot_digest.hpp"  // module core
#include "util/admin_auth.hpp"  // module core

#include <jansson.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <cerrno>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace rsync {
namespace {

using Clock = std::chrono::steady_clock;

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    in_addr a4;
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    in6_addr a6;
    if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

std::string normalize_prefix(std::string_view p) {
    std::string s(p);
    while (!s.empty() && s.back() == '/') s.pop_back();
    if (s.empty()) s = "/admin";
    if (s.front() != '/') s.insert(s.begin(), '/');
    return s;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

std::atomic<bool> g_abort{false};

// Waits in slices so that abort_admin_requests() (shutdown) ends even a hung exchange promptly.
bool wait_fd(int fd, short events, Clock::time_point deadline, std::string* error) {
    for (;;) {
        if (g_abort.load(std::memory_order_relaxed)) {
            *error = "aborted (shutting down)";
            return false;
        }
        int ms = remaining_ms(deadline);
        if (ms == 0) {
            *error = "timed out";
            return false;
        }
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, std::min(ms, 100));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) {
            *error = std::string("poll: ") + std::strerror(errno);
            return false;
        }
    }
}

int connect_to(const AdminTarget& t, Clock::time_point deadline, std::string* error) {
    if (t.unix_socket) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        if (t.socket_path.size() >= sizeof sa.sun_path) {
            *error = "unix socket path too long";
            return -1;
        }
        std::memcpy(sa.sun_path, t.socket_path.c_str(), t.socket_path.size() + 1);
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            *error = std::string("socket: ") + std::strerror(errno);
            return -1;
        }
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS &&
            errno != EAGAIN) {
            *error = "connect " + t.socket_path + ": " + std::strerror(errno);
            ::close(fd);
            return -1;
        }
        return fd;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(t.port);
    int rc = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        *error = "resolve " + t.host + ": " + gai_strerror(rc);
        return -1;
    }
    std::string last = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last = std::strerror(errno);
            continue;
        }
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last = std::strerror(errno);
                ::close(fd);
                continue;
            }
            std::string werr;
            if (!wait_fd(fd, POLLOUT, deadline, &werr)) {
                last = "connect " + werr;
                ::close(fd);
                continue;
            }
            int soerr = 0;
            socklen_t len = sizeof soerr;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            if (soerr != 0) {
                last = std::strerror(soerr);
                ::close(fd);
                continue;
            }
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::freeaddrinfo(res);
        return fd;
    }
    ::freeaddrinfo(res);
    *error = "connect " + t.host + ":" + port + ": " + last;
    return -1;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string* error) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline, error)) return false;
            continue;
        }
        *error = std::string("send: ") + (n < 0 ? std::strerror(errno) : "connection closed");
        return false;
    }
    return true;
}

// The process listening on a unix socket: nginx's master (root) or, unprivileged, our own user.
// Anyone else (e.g. `nobody` binding the path while nginx is down) must not receive secrets.
bool peer_is_trusted(int fd, const AdminTarget& t, std::string* error) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        *error = "connect " + t.socket_path + ": cannot read the peer's credentials: " + std::strerror(errno);
        return false;
    }
    if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
    *error = "connect " + t.socket_path + ": the socket is served by uid " + std::to_string(cred.uid) +
             " (pid " + std::to_string(cred.pid) + "), neither root nor this service's user: refusing to talk to it";
    return false;
}

}  // namespace

void abort_admin_requests() { g_abort = true; }

std::optional<AdminTarget> parse_admin_target(std::string_view spec, std::string* error) {
    AdminTarget t;
    t.spec = std::string(spec);
    if (spec.substr(0, 5) == "unix:") {
        std::string_view rest = spec.substr(5);
        // "unix:/path.sock:/admin": the prefix follows the last ":/".
        size_t sep = rest.rfind(":/");
        std::string_view path = rest, prefix;
        if (sep != std::string_view::npos && sep > 0) {
            path = rest.substr(0, sep);
            prefix = rest.substr(sep + 1);
        } else if (!rest.empty() && rest.back() == ':') {
            path = rest.substr(0, rest.size() - 1);
        }
        if (path.empty() || path.front() != '/') {
            *error = "admin target " + t.spec + ": unix socket path must be absolute (unix:/path.sock:/admin)";
            return std::nullopt;
        }
        t.unix_socket = true;
        t.socket_path = std::string(path);
        t.prefix = normalize_prefix(prefix);
        t.host_header = "localhost";
        return t;
    }
    if (spec.substr(0, 7) != "http://") {
        *error = "admin target " + t.spec + ": must start with http:// or unix: (https is not supported; "
                 "the admin API is loopback/unix-socket only)";
        return std::nullopt;
    }
    std::string_view rest = spec.substr(7);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos) {
        *error = "admin target " + t.spec + ": no query or fragment allowed";
        return std::nullopt;
    }
    if (authority.find('@') != std::string_view::npos) {
        *error = "admin target " + t.spec + ": no userinfo allowed";
        return std::nullopt;
    }
    std::string_view host = authority, port;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            *error = "admin target " + t.spec + ": bad IPv6 literal";
            return std::nullopt;
        }
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                *error = "admin target " + t.spec + ": bad authority";
                return std::nullopt;
            }
            port = after.substr(1);
        }
    } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        *error = "admin target " + t.spec + ": missing host";
        return std::nullopt;
    }
    t.host = std::string(host);
    if (!port.empty()) {
        unsigned p = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || p > 65535) {
                *error = "admin target " + t.spec + ": bad port";
                return std::nullopt;
            }
            p = p * 10 + static_cast<unsigned>(c - '0');
        }
        if (p == 0 || p > 65535) {
            *error = "admin target " + t.spec + ": bad port";
            return std::nullopt;
        }
        t.port = p;
    }
    if (!is_loopback_host(t.host)) {
        *error = "admin target " + t.spec + ": only loopback addresses (127.0.0.0/8, ::1, localhost) or "
                 "unix sockets are allowed (snapshots carry provider secrets in plaintext)";
        return std::nullopt;
    }
    t.prefix = normalize_prefix(path);
    bool v6 = t.host.find(':') != std::string::npos;
    t.host_header = (v6 ? "[" + t.host + "]" : t.host) + (t.port == 80 ? "" : ":" + std::to_string(t.port));
    return t;
}

bool parse_http_response(std::string_view raw, HttpResponse* out, std::string* error) {
    bool framed = false;
    return parse_http_response_framed(raw, out, error, &framed);
}

bool parse_http_response_framed(std::string_view raw, HttpResponse* out, std::string* error, bool* framed) {
    HttpResponseReader reader;
    if (reader.feed(raw) == HttpResponseReader::State::need_more) reader.finish();
    *framed = reader.framed();
    if (reader.state() != HttpResponseReader::State::complete) {
        *error = reader.error();
        return false;
    }
    *out = std::move(reader.response());
    return true;
}

namespace {

std::string random_nonce() {
    unsigned char bytes[routeshift::kAdminNonceHexChars / 2];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the admin nonce");
    return hex_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// One request on an open connection, its answer read completely; with a token, signed and its
// answer's proof checked. `keep_alive` leaves the connection usable for a second request.
bool exchange(int fd, const AdminTarget& t, const char* method, const std::string& path, std::string_view body,
              bool keep_alive, Clock::time_point deadline, HttpResponse* out, std::string* error) {
    const std::string target_path = t.prefix + path;
    std::string req;
    req.reserve(384);
    req += method;
    req += ' ';
    req += target_path;
    req += " HTTP/1.1\r\nHost: " + t.host_header + "\r\nUser-Agent: routeshift-sync\r\n";
    req += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    req += "Accept: application/json\r\n";
    std::string nonce;
    if (!t.token.empty()) {
        nonce = random_nonce();
        req += "X-RouteShift-Admin-Auth: " + nonce + ":" +
               routeshift::admin_request_mac(t.token, nonce, method, target_path) + "\r\n";
    }
    bool has_body = std::strcmp(method, "GET") != 0;
    if (has_body) {
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    bool ok = send_all(fd, req, deadline, error) && (!has_body || send_all(fd, body, deadline, error));
    HttpResponseReader reader;
    while (ok && reader.state() == HttpResponseReader::State::need_more) {
        // The deadline covers the whole exchange, also a peer that never stops sending.
        if (remaining_ms(deadline) == 0) {
            *error = "timed out";
            return false;
        }
        char buf[16384];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            reader.feed(std::string_view(buf, static_cast<size_t>(n)));
        } else if (n == 0) {
            reader.finish();
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            ok = wait_fd(fd, POLLIN, deadline, error);
        } else {
            *error = std::string("recv: ") + std::strerror(errno);
            ok = false;
        }
    }
    if (!ok) return false;
    if (reader.state() != HttpResponseReader::State::complete) {
        *error = reader.error();
        return false;
    }
    if (!t.token.empty() &&
        !routeshift::constant_time_equal(reader.response().admin_proof, routeshift::admin_response_proof(t.token, nonce))) {
        *error = "the admin endpoint did not prove it holds the admin token (an impostor, or nginx without "
                 "routeshift_admin_token_file): nothing more is sent to it";
        return false;
    }
    *out = std::move(reader.response());
    return true;
}

}  // namespace

bool http_request(const AdminTarget& t, const char* method, const std::string& path, std::string_view body,
                  int timeout_ms, HttpResponse* out, std::string* error) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    int fd = connect_to(t, deadline, error);
    if (fd < 0) return false;
    bool ok = !t.unix_socket || peer_is_trusted(fd, t, error);
    if (ok && !t.token.empty() && !body.empty()) {
        // The body may hold secrets: the peer proves itself first, on this very connection.
        HttpResponse probe;
        ok = exchange(fd, t, "GET", "/snapshot/generation", {}, true, deadline, &probe, error);
    }
    if (ok) ok = exchange(fd, t, method, path, body, false, deadline, out, error);
    ::close(fd);
    return ok;
}

std::string admin_error_message(const std::string& body) {
    json_error_t jerr;
    json_t* root = json_loadb(body.data(), body.size(), 0, &jerr);
    std::string msg;
    if (root) {
        json_t* e = json_object_get(root, "error");
        json_t* m = json_is_object(e) ? json_object_get(e, "message") : nullptr;
        if (json_is_string(m)) msg.assign(json_string_value(m), json_string_length(m));
        else if (json_is_string(e)) msg.assign(json_string_value(e), json_string_length(e));
        json_decref(root);
    }
    if (msg.empty()) {
        msg = body.substr(0, 300);
        if (body.size() > 300) msg += "...";
    }
    return msg;
}

std::optional<GenerationInfo> admin_get_generation(const AdminTarget& t, int timeout_ms, std::string* error) {
    HttpResponse r;
    if (!http_request(t, "GET", "/snapshot/generation", {}, timeout_ms, &r, error)) return std::nullopt;
    if (r.status != 200) {
        *error = "GET " + t.prefix + "/snapshot/generation: HTTP " + std::to_string(r.status) + ": " +
                 admin_error_message(r.body);
        return std::nullopt;
    }
    json_error_t jerr;
    json_t* root = json_loadb(r.body.data(), r.body.size(), 0, &jerr);
    json_t* g = root ? json_object_get(root, "generation") : nullptr;
    if (!json_is_integer(g)) {
        json_decref(root);
        *error = "GET " + t.prefix + "/snapshot/generation: no integer \"generation\" in the answer";
        return std::nullopt;
    }
    GenerationInfo info;
    info.generation = json_integer_value(g);
    json_t* e = json_object_get(root, "epoch");
    if (json_is_integer(e)) info.epoch = json_integer_value(e);
    json_t* d = json_object_get(root, "digest");
    if (json_is_string(d) && json_string_length(d) == routeshift::kSnapshotDigestHexChars)
        info.digest.assign(json_string_value(d), json_string_length(d));
    json_decref(root);
    return info;
}

PushResult admin_push_snapshot(const AdminTarget& t, std::string_view json, int timeout_ms) {
    PushResult res;
    HttpResponse r;
    std::string err;
    if (!http_request(t, "PUT", "/snapshot", json, timeout_ms, &r, &err)) {
        res.kind = PushResult::failed;
        res.message = err;
        return res;
    }
    res.status = r.status;
    if (r.status == 200) {
        json_error_t jerr;
        json_t* root = json_loadb(r.body.data(), r.body.size(), 0, &jerr);
        if (root) {
            json_t* g = json_object_get(root, "generation");
            json_t* k = json_object_get(root, "keys");
            if (json_is_integer(g)) res.generation = json_integer_value(g);
            if (json_is_integer(k)) res.keys = json_integer_value(k);
            json_decref(root);
        }
        res.kind = PushResult::accepted;
        return res;
    }
    res.message = admin_error_message(r.body);
    // 4xx: nginx looked at the snapshot and said no. 5xx/other: treat as a transient failure.
    res.kind = (r.status >= 400 && r.status < 500 && r.status != 408 && r.status != 429) ? PushResult::rejected
                                                                                        : PushResult::failed;
    if (res.kind == PushResult::failed) res.message = "HTTP " + std::to_string(r.status) + ": " + res.message;
    return res;
}

bool admin_invalidate(const AdminTarget& t, int timeout_ms, HttpResponse* out, std::string* error) {
    return http_request(t, "POST", "/model-aliases/invalidate", {}, timeout_ms, out, error);
}

}  // namespace rsync
