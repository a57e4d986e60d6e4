// The admin API the sync service talks to (docs/design.md §5). Loopback and unix-socket peers
// only: a snapshot carries provider secrets.
#include "ngx_routeshift.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace routeshift {
namespace {

bool peer_is_local(ngx_connection_t* c) {
    switch (c->sockaddr->sa_family) {
#if (NGX_HAVE_UNIX_DOMAIN)
    case AF_UNIX: return true;
#endif
    case AF_INET: {
        auto* sin = reinterpret_cast<struct sockaddr_in*>(c->sockaddr);
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
#if (NGX_HAVE_INET6)
    case AF_INET6: {
        auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(c->sockaddr);
        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) return true;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return sin6->sin6_addr.s6_addr[12] == 127;
        return false;
    }
#endif
    default: return false;
    }
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
    ngx_table_elt_t* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    std::string value = std::to_string(holding) + "/" + std::to_string(w.workers);
    u_char* data = h ? static_cast<u_char*>(ngx_pnalloc(r->pool, value.size())) : nullptr;
    if (data) {
        h->hash = 1;
        ngx_str_set(&h->key, "X-RouteShift-Workers-Acknowledged");
        h->value.data = ngx_cpymem(data, value.data(), value.size()) - value.size();
        h->value.len = value.size();
    }
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

}  // namespace

ngx_int_t admin_send_json(ngx_http_request_t* r, ngx_uint_t status, const std::string& body) {
    return send_json(r, status, body);
}

ngx_int_t admin_send_error(ngx_http_request_t* r, ngx_uint_t status, std::string message) {
    return send_error(r, status, std::move(message));
}

ngx_int_t admin_handler(ngx_http_request_t* r) noexcept {
    try {
        if (!peer_is_local(r->connection)) {
            return send_error(r, 403, "the admin API is only served to loopback and unix-socket clients");
        }
        ngx_shm_zone_t* zone = zone_of(r);
        if (zone == nullptr) return send_error(r, 500, "no routeshift_zone is configured");
        std::string_view uri = string_view_of(r->uri);

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
            return send_json(r, 200, "{\"generation\":" + std::to_string(gen) + ",\"epoch\":" + std::to_string(epoch) + "}");
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
            return send_json(r, 200, zone_status_json(zone));
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
