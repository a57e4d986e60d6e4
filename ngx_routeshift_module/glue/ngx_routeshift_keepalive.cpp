// Per-worker pool of idle upstream connections. Keyed by TLS on/off + server name + address:
// providers share CDN addresses, so reusing a TLS connection by address alone (what nginx's
// keepalive module does) could send one provider's request over another's TLS session.
#include "ngx_routeshift.hpp"

namespace routeshift {
namespace {

struct CacheItem {
    ngx_queue_t queue;
    ngx_connection_t* connection;
    bool tls;
    u_char name[256];
    size_t name_len;
    socklen_t socklen;
    ngx_sockaddr_t sockaddr;
};

ngx_queue_t g_cache;  // most recently used first
ngx_queue_t g_free;
bool g_ready = false;
ngx_msec_t g_timeout = 60000;
ngx_uint_t g_requests_max = 100000;  // providers close long-lived connections themselves

void close_connection(ngx_connection_t* c) {
#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            c->ssl->handler = close_connection;
            return;
        }
    }
#endif
    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}

void dummy_handler(ngx_event_t*) noexcept {}

// The provider closed an idle connection (or sent something unexpected): drop it.
void close_handler(ngx_event_t* ev) noexcept {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    if (!c->close && !c->read->timedout) {
        char buf[1];
        int n = recv(c->fd, buf, 1, MSG_PEEK);
        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            ev->ready = 0;
            if (ngx_handle_read_event(c->read, 0) == NGX_OK) return;
        }
    }
    auto* item = static_cast<CacheItem*>(c->data);
    close_connection(c);
    ngx_queue_remove(&item->queue);
    ngx_queue_insert_head(&g_free, &item->queue);
}

bool matches(const CacheItem* it, const Candidate& cand) {
    return it->tls == cand.ent->tls && it->name_len == cand.ent->conn_key.size() &&
           ngx_memn2cmp((u_char*)&it->sockaddr, (u_char*)cand.addr.sockaddr, it->socklen,
                        cand.addr.socklen) == 0 &&
           ngx_memcmp(it->name, cand.ent->conn_key.data(), it->name_len) == 0;
}

}  // namespace

void keepalive_configure(ngx_uint_t max, ngx_msec_t timeout) {
    ngx_queue_init(&g_cache);
    ngx_queue_init(&g_free);
    g_timeout = timeout;
    if (max == 0) {
        g_ready = false;
        return;
    }
    auto* items = static_cast<CacheItem*>(ngx_pcalloc(ngx_cycle->pool, sizeof(CacheItem) * max));
    if (items == nullptr) return;
    for (ngx_uint_t i = 0; i < max; i++) {
        ngx_queue_insert_head(&g_free, &items[i].queue);
    }
    g_ready = true;
}

ngx_int_t keepalive_get(ngx_peer_connection_t* pc, const Candidate& cand) {
    if (!g_ready) return NGX_OK;
    for (ngx_queue_t* q = ngx_queue_head(&g_cache); q != ngx_queue_sentinel(&g_cache); q = ngx_queue_next(q)) {
        auto* item = ngx_queue_data(q, CacheItem, queue);
        if (!matches(item, cand)) continue;
        ngx_queue_remove(q);
        ngx_queue_insert_head(&g_free, q);
        ngx_connection_t* c = item->connection;
        c->idle = 0;
        c->sent = 0;
        c->data = nullptr;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;
        if (c->read->timer_set) ngx_del_timer(c->read);
        pc->connection = c;
        pc->cached = 1;
        return NGX_DONE;
    }
    return NGX_OK;
}

void keepalive_save(ngx_peer_connection_t* pc, ngx_http_upstream_t* u, const Candidate& cand) {
    ngx_connection_t* c = pc->connection;
    if (!g_ready || c == nullptr || c->read->eof || c->read->error || c->read->timedout ||
        c->write->error || c->write->timedout) {
        return;
    }
    size_t name_len = cand.ent->conn_key.size();
    if (!u->keepalive || !u->request_body_sent || ngx_terminate || ngx_exiting ||
        c->requests >= g_requests_max || name_len > sizeof(CacheItem::name) ||
        (size_t)cand.addr.socklen > sizeof(ngx_sockaddr_t)) {
        return;
    }
    if (ngx_handle_read_event(c->read, 0) != NGX_OK) return;

    CacheItem* item;
    ngx_queue_t* q;
    if (ngx_queue_empty(&g_free)) {
        q = ngx_queue_last(&g_cache);
        ngx_queue_remove(q);
        item = ngx_queue_data(q, CacheItem, queue);
        close_connection(item->connection);
    } else {
        q = ngx_queue_head(&g_free);
        ngx_queue_remove(q);
        item = ngx_queue_data(q, CacheItem, queue);
    }
    ngx_queue_insert_head(&g_cache, q);
    item->connection = c;
    item->tls = cand.ent->tls;
    ngx_memcpy(item->name, cand.ent->conn_key.data(), name_len);
    item->name_len = name_len;
    item->socklen = cand.addr.socklen;
    ngx_memcpy(&item->sockaddr, cand.addr.sockaddr, cand.addr.socklen);

    pc->connection = nullptr;  // the upstream core must not close it now
    c->read->delayed = 0;
    ngx_add_timer(c->read, g_timeout);
    if (c->write->timer_set) ngx_del_timer(c->write);
    c->write->handler = dummy_handler;
    c->read->handler = close_handler;
    c->data = item;
    c->idle = 1;  // closed by nginx on graceful shutdown
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;
    if (c->read->ready) close_handler(c->read);
}

}  // namespace routeshift
