// The admin API the sync service talks to (docs/design.md §5, §15). Loopback and unix-socket
// peers only (a snapshot carries provider secrets), optionally a shared token for TCP peers; the
// readiness probe; the admin socket's mode.
#include "ngx_routeshift.hpp"
#include "util/admin_auth.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace routeshift {
namespace {

enum class Peer { unix_socket, loopback, remote };

// The kernel's view of the peer. Not c->sockaddr: the realip module rewrites that from
// X-Forwarded-For, and "X-Forwarded-For: 127.0.0.1" must not open the admin API.
Peer real_peer(ngx_connection_t* c) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(c->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Peer::remote;
    switch (ss.ss_family) {
    case AF_UNIX: return Peer::unix_socket;
    case AF_INET: {
        auto* sin = reinterpret_cast<struct sockaddr_in*>(&ss);
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127 ? Peer::loopback : Peer::remote;
    }
    case AF_INET6: {
        auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) return Peer::loopback;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127) return Peer::loopback;
        return Peer::remote;
    }
    default: return Peer::remote;
    }
}

bool add_response_header(ngx_http_request_t* r, const char* name, const std::string& value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    auto* data = h ? static_cast<u_char*>(ngx_pnalloc(r->pool, value.size() ? value.size() : 1)) : nullptr;
    if (data == nullptr) return false;
    h->hash = 1;
    h->key.data = reinterpret_cast<u_char*>(const_cast<char*>(name));
    h->key.len = std::strlen(name);
    h->value.data = data;
    h->value.len = value.size();
    ngx_memcpy(data, value.data(), value.size());
    return true;
}

ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, const std::string& body) {
    return send_document(r, status, "application/json", body, {});
}

ngx_int_t send_error(ngx_http_request_t* r, ngx_uint_t status, std::string message) {
    ApiError e;
    e.status = (int)status;
    e.message = std::move(message);
    e.type = std::string(openai_error_type_for_status((int)status));
    return send_json(r, status, openai_error_body(e));
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

MainConf* main_conf(ngx_http_request_t* r) {
    return static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
}

ngx_shm_zone_t* zone_of(ngx_http_request_t* r) { return main_conf(r)->shm_zone; }

// A push or an invalidation is answered once every worker holds the new version (each parses it
// in its poll timer), so the client's next request sees it on whichever worker it lands. The wait
// is an nginx timer, never a blocking loop, and is bounded: after kAckWait the answer goes out
// anyway and says how many workers have the version.
constexpr ngx_msec_t kAckWait = 1000;
constexpr ngx_msec_t kAckCheckMax = 50;

struct AckWait {
    ngx_http_request_t* r = nullptr;
    ngx_shm_zone_t* zone = nullptr;
    uint64_t version = 0;
    size_t workers = 0;
    ngx_msec_t deadline = 0;
    ngx_msec_t check_every = 10;
    std::string body;  // the JSON answer without its closing brace
    ngx_event_t timer{};

    ~AckWait() {
        if (timer.timer_set) ngx_del_timer(&timer);
    }
};

void ack_answer(AckWait& w, size_t holding) {
    ngx_http_request_t* r = w.r;
    std::string body = std::move(w.body);
    if (holding < w.workers) {
        body += ",\"workers\":" + std::to_string(w.workers) + ",\"workers_acknowledged\":" + std::to_string(holding);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "routeshift: only %uz of %uz workers picked up config version %uL within %M ms",
                      holding, w.workers, w.version, kAckWait);
    }
    body += "}";
    add_response_header(r, "X-RouteShift-Workers-Acknowledged",
                        std::to_string(holding) + "/" + std::to_string(w.workers));
    ngx_http_finalize_request(r, send_json(r, 200, body));
}

void ack_check(ngx_event_t* ev) noexcept {
    auto* w = static_cast<AckWait*>(ev->data);
    ngx_connection_t* c = w->r->connection;
    try {
        size_t holding = zone_workers_holding(w->zone, w->version, w->workers);
        if (holding >= w->workers || (ngx_msec_int_t)(ngx_current_msec - w->deadline) >= 0) {
            ack_answer(*w, holding);
        } else {
            ngx_add_timer(ev, w->check_every);
            return;
        }
    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0, "routeshift: admin answer failed");
        ngx_http_finalize_request(w->r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
    ngx_http_run_posted_requests(c);
}

// Answers `body` (a JSON object) once every worker holds `version`. The request must hold a
// reference (r->main->count) that the final ngx_http_finalize_request releases.
void answer_when_acknowledged(ngx_http_request_t* r, uint64_t version, std::string body) {
    ngx_shm_zone_t* zone = zone_of(r);
    zone_refresh(zone, false);  // this worker: now, without waiting for its own timer
    auto* w = pool_new<AckWait>(r->pool);
    if (w == nullptr) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    w->r = r;
    w->zone = zone;
    w->version = version;
    w->workers = zone_worker_count();
    w->deadline = ngx_current_msec + kAckWait;
    w->check_every = std::min(std::max<ngx_msec_t>(main_conf(r)->config_poll / 2, 1), kAckCheckMax);
    body.pop_back();  // '}': ack_answer may add fields
    w->body = std::move(body);
    w->timer.handler = ack_check;
    w->timer.data = w;
    w->timer.log = r->connection->log;
    size_t holding = zone_workers_holding(zone, version, w->workers);
    if (holding >= w->workers) {
        ack_answer(*w, holding);
        return;
    }
    ngx_add_timer(&w->timer, w->check_every);
}

void snapshot_body_handler(ngx_http_request_t* r) noexcept {
    try {
        std::string text;
        ngx_http_request_body_t* rb = r->request_body;
        if (rb && rb->temp_file) {
            ngx_http_finalize_request(r, send_error(r, 413, "snapshot too large for the admin body buffer"));
            return;
        }
        if (rb) {
            for (ngx_chain_t* cl = rb->bufs; cl; cl = cl->next) {
                text.append(reinterpret_cast<const char*>(cl->buf->pos), (size_t)(cl->buf->last - cl->buf->pos));
            }
        }
        std::string error;
        int64_t generation = 0;
        size_t nkeys = 0;
        uint64_t version = 0;
        if (!zone_apply_snapshot(zone_of(r), text, &error, &generation, &nkeys, &version)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: snapshot rejected: %s", error.c_str());
            ngx_http_finalize_request(r, send_error(r, 400, "snapshot rejected: " + error));
            return;
        }
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "routeshift: snapshot generation %L applied (%uz provider keys)", generation, nkeys);
        answer_when_acknowledged(r, version, "{\"generation\":" + std::to_string(generation) +
                                                 ",\"keys\":" + std::to_string(nkeys) + "}");
    } catch (...) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

// routeshift_admin_token_file: a TCP peer must sign its request; any request that signs gets
// nginx's proof back (core/util/admin_auth.hpp). False: the request is refused (answered).
enum class TokenCheck { not_required, passed, failed };

TokenCheck check_token(ngx_http_request_t* r, Peer peer) {
    const ngx_str_t& token = main_conf(r)->admin_token;
    if (token.len == 0) return TokenCheck::not_required;
    std::string_view auth = find_header(r->headers_in.headers, "x-routeshift-admin-auth");
    size_t colon = auth.find(':');
    if (colon == kAdminNonceHexChars) {
        std::string_view token_text = string_view_of(token);
        std::string_view nonce = auth.substr(0, colon);
        std::string expected =
            admin_request_mac(token_text, nonce, string_view_of(r->method_name), string_view_of(r->unparsed_uri));
        if (constant_time_equal(auth.substr(colon + 1), expected)) {
            add_response_header(r, "X-RouteShift-Admin-Proof", admin_response_proof(token_text, nonce));
            return TokenCheck::passed;
        }
    }
    return peer == Peer::unix_socket && auth.empty() ? TokenCheck::not_required : TokenCheck::failed;
}

ngx_int_t answer_readiness(ngx_http_request_t* r) {
    ngx_shm_zone_t* zone = zone_of(r);
    int64_t generation = zone ? zone_generation(zone, nullptr) : 0;
    if (generation > 0) return send_json(r, 200, "{\"ready\":true,\"generation\":" + std::to_string(generation) + "}");
    add_response_header(r, "Retry-After", "1");
    return send_json(r, 503, "{\"ready\":false,\"generation\":0}");
}

// /status plus the rows the sync quarantined (an empty list when none) and the snapshot's digest.
std::string status_with_quarantine(ngx_shm_zone_t* zone) {
    std::string status = zone_status_json(zone);
    auto cfg = zone_config(zone);
    if (status.empty() || status.back() != '}') return status;
    status.pop_back();
    status += ",\"snapshot_digest\":\"" + zone_snapshot_digest(zone) + "\"";
    status += ",\"quarantined\":";
    status += cfg && !cfg->quarantined_json.empty() ? cfg->quarantined_json : "[]";
    status += "}";
    return status;
}

struct AdminSocketMode {
    ngx_str_t path;
    ngx_uint_t mode;
    ngx_str_t group;  // empty: keep nginx's
};

}  // namespace

ngx_int_t admin_send_json(ngx_http_request_t* r, ngx_uint_t status, const std::string& body) {
    return send_json(r, status, body);
}

ngx_int_t admin_send_error(ngx_http_request_t* r, ngx_uint_t status, std::string message) {
    return send_error(r, status, std::move(message));
}

// routeshift_admin_socket_mode /path.sock 0660 [group]: nginx creates every unix listen socket
// 0666; this narrows the admin one once nginx has created it (init_module, in the master, as root).
char* set_admin_socket_mode(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mc = static_cast<MainConf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (cf->args->nelts < 3 || cf->args->nelts > 4) return const_cast<char*>("takes a socket path, a mode and an optional group");
    if (mc->admin_socket_modes == nullptr) {
        mc->admin_socket_modes = ngx_array_create(cf->pool, 1, sizeof(AdminSocketMode));
        if (mc->admin_socket_modes == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    }
    auto* m = static_cast<AdminSocketMode*>(ngx_array_push(mc->admin_socket_modes));
    if (m == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    m->path = args[1];
    if (m->path.len > 5 && ngx_strncmp(m->path.data, "unix:", 5) == 0) {
        m->path.data += 5;
        m->path.len -= 5;
    }
    if (m->path.len == 0 || m->path.data[0] != '/') return const_cast<char*>("needs an absolute socket path");
    std::string_view mode_text = string_view_of(args[2]);
    unsigned value = 0;
    for (char c : mode_text) {
        if (c < '0' || c > '7') return const_cast<char*>("mode must be octal, e.g. 0600 or 0660");
        value = value * 8 + static_cast<unsigned>(c - '0');
    }
    if (mode_text.empty() || (value & ~0770u) != 0)
        return const_cast<char*>("mode must give nothing to others (e.g. 0600 or 0660)");
    m->mode = value;
    m->group = cf->args->nelts == 4 ? args[3] : ngx_str_t{0, nullptr};
    return NGX_CONF_OK;
}

// routeshift_admin_token_file path: read once at configuration time (the master, before workers).
char* set_admin_token_file(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    try {
        auto* mc = static_cast<MainConf*>(conf);
        if (mc->admin_token.len) return const_cast<char*>("is duplicate");
        auto* args = static_cast<ngx_str_t*>(cf->args->elts);
        ngx_str_t name = args[1];
        if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
        std::ifstream in(std::string(string_view_of(name)), std::ios::binary);
        if (!in) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cannot read the admin token file \"%V\"", &name);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        std::stringstream text;
        text << in.rdbuf();
        std::string token, error;
        if (!admin_token_from_file_text(text.str(), &token, &error)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s", &name, error.c_str());
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        auto* data = static_cast<u_char*>(ngx_pnalloc(cf->pool, token.size()));
        if (data == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
        ngx_memcpy(data, token.data(), token.size());
        mc->admin_token.data = data;
        mc->admin_token.len = token.size();
        return NGX_CONF_OK;
    } catch (...) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
}

ngx_int_t admin_apply_socket_modes(ngx_cycle_t* cycle) noexcept {
    auto* mc = static_cast<MainConf*>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_routeshift_module));
    if (mc == nullptr || mc->admin_socket_modes == nullptr) return NGX_OK;
    auto* modes = static_cast<AdminSocketMode*>(mc->admin_socket_modes->elts);
    for (ngx_uint_t i = 0; i < mc->admin_socket_modes->nelts; ++i) {
        std::string path(string_view_of(modes[i].path));
        if (modes[i].group.len) {
            std::string group(string_view_of(modes[i].group));
            struct group* g = ::getgrnam(group.c_str());
            if (g == nullptr) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "routeshift_admin_socket_mode: unknown group \"%s\"",
                              group.c_str());
                return NGX_ERROR;
            }
            if (::chown(path.c_str(), (uid_t)-1, g->gr_gid) != 0) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno, "routeshift_admin_socket_mode: chown \"%s\"",
                              path.c_str());
                return NGX_ERROR;
            }
        }
        if (::chmod(path.c_str(), static_cast<mode_t>(modes[i].mode)) != 0) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "routeshift_admin_socket_mode: chmod \"%s\" (is it a \"listen unix:\" socket?)", path.c_str());
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}

ngx_int_t ready_handler(ngx_http_request_t* r) noexcept {
    try {
        if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) return send_error(r, 405, "use GET");
        return answer_readiness(r);
    } catch (...) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

ngx_int_t admin_handler(ngx_http_request_t* r) noexcept {
    try {
        Peer peer = real_peer(r->connection);
        if (peer == Peer::remote) {
            return send_error(r, 403, "the admin API is only served to loopback and unix-socket clients");
        }
        if (check_token(r, peer) == TokenCheck::failed) {
            return send_error(r, 401, "the admin API needs a valid X-RouteShift-Admin-Auth (routeshift_admin_token_file)");
        }
        std::string_view uri = string_view_of(r->uri);
        if (ends_with(uri, "/ready")) {
            if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) return send_error(r, 405, "use GET");
            return answer_readiness(r);
        }
        ngx_shm_zone_t* zone = zone_of(r);
        if (zone == nullptr) return send_error(r, 500, "no routeshift_zone is configured");

        if (ends_with(uri, "/snapshot")) {
            if (r->method != NGX_HTTP_PUT && r->method != NGX_HTTP_POST) return send_error(r, 405, "use PUT");
            ngx_int_t rc = read_body_in_memory(r, snapshot_body_handler);
            if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
            return NGX_DONE;
        }
        if (ends_with(uri, "/snapshot/generation")) {
            if (r->method != NGX_HTTP_GET) return send_error(r, 405, "use GET");
            uint64_t epoch = 0;
            int64_t gen = zone_generation(zone, &epoch);
            // The digest lets the sync spot a snapshot it did not push, even under its generation.
            return send_json(r, 200, "{\"generation\":" + std::to_string(gen) + ",\"epoch\":" + std::to_string(epoch) +
                                         ",\"digest\":\"" + zone_snapshot_digest(zone) + "\"}");
        }
        if (ends_with(uri, "/model-aliases/invalidate")) {
            if (r->method != NGX_HTTP_POST) return send_error(r, 405, "use POST");
            ngx_int_t rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) return rc;
            uint64_t version = zone_invalidate(zone);
            int64_t gen = zone_generation(zone, nullptr);
            r->main->count++;  // released by the finalize in answer_when_acknowledged
            answer_when_acknowledged(r, version, "{\"invalidated\":true,\"generation\":" + std::to_string(gen) + "}");
            return NGX_DONE;
        }
        if (ends_with(uri, "/spend")) return spend_admin_handler(r, zone);
        if (ends_with(uri, "/status")) {
            if (r->method != NGX_HTTP_GET) return send_error(r, 405, "use GET");
            return send_json(r, 200, status_with_quarantine(zone));
        }
        if (ends_with(uri, "/status.html") || ends_with(uri, "/")) {  // the page reads …/status
            if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) return send_error(r, 405, "use GET");
            return send_status_page(r);
        }
        return send_error(r, 404, "unknown admin endpoint");
    } catch (...) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace routeshift
