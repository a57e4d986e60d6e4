// Module definition: directives, configuration structs, and start-up hooks.
#include "ngx_routeshift.hpp"
#include "ngx_routeshift_metrics.hpp"

#include <malloc.h>

using namespace routeshift;

namespace {

char* set_zone(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_pass(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_admin(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_metrics(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

char* set_ready(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

ngx_command_t commands[] = {
    {ngx_string("routeshift_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, set_zone,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("routeshift_snapshot_file"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, snapshot_file), nullptr},
    {ngx_string("routeshift_keepalive"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, keepalive_max), nullptr},
    {ngx_string("routeshift_keepalive_timeout"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, keepalive_timeout),
     nullptr},
    {ngx_string("routeshift_config_poll"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, config_poll), nullptr},
    {ngx_string("routeshift_log_spool"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE, log_spool_directive,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("routeshift_pass"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_pass,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("routeshift_admin"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_admin,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("routeshift_metrics"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_metrics,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("routeshift_ready"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_ready, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("routeshift_admin_socket_mode"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE23, set_admin_socket_mode,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("routeshift_admin_token_file"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_admin_token_file,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("routeshift_max_body_size"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, max_body_size), nullptr},
    {ngx_string("routeshift_retry_budget"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, retry_budget), nullptr},
    {ngx_string("routeshift_environment"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, environment), nullptr},
    {ngx_string("routeshift_connect_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, upstream) + offsetof(ngx_http_upstream_conf_t, connect_timeout), nullptr},
    {ngx_string("routeshift_send_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, upstream) + offsetof(ngx_http_upstream_conf_t, send_timeout), nullptr},
    {ngx_string("routeshift_read_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, upstream) + offsetof(ngx_http_upstream_conf_t, read_timeout), nullptr},
    // docs/design.md §10: per attempt, separate from the socket read timeout; 0 = off
    {ngx_string("routeshift_first_token_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, first_token_timeout), nullptr},
    {ngx_string("routeshift_stream_idle_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, stream_idle_timeout), nullptr},
    // docs/design.md §19: a stream broken after content is continued by the next candidate
    {ngx_string("routeshift_stream_continuation"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, stream_continuation), nullptr},
    {ngx_string("routeshift_buffer_size"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, upstream) + offsetof(ngx_http_upstream_conf_t, buffer_size), nullptr},
    {ngx_string("routeshift_ssl_trusted_certificate"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, ssl_trusted_certificate), nullptr},
    {ngx_string("routeshift_ssl_verify"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(LocConf, ssl_verify), nullptr},
    ngx_null_command,
};

ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept {
    if (body_filter_init(cf) != NGX_OK) return NGX_ERROR;
    if (log_spool_postconfiguration(cf) != NGX_OK) return NGX_ERROR;
    if (metrics_init(cf) != NGX_OK) return NGX_ERROR;
    if (accounting_filter_init(cf) != NGX_OK) return NGX_ERROR;
    return error_filter_init(cf);
}

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept {
    regex_engine_install();  // before any snapshot is parsed (routeshift_snapshot_file: in zone init)
    return variables_add(cf);  // before log_format and friends reference them
}

void* create_main_conf(ngx_conf_t* cf) noexcept {
    auto* p = static_cast<MainConf*>(ngx_pcalloc(cf->pool, sizeof(MainConf)));
    if (p == nullptr) return nullptr;
    new (p) MainConf();  // trivially destructible: no cleanup needed
    return p;
}

char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* mc = static_cast<MainConf*>(conf);
    ngx_conf_init_uint_value(mc->keepalive_max, 256);
    ngx_conf_init_msec_value(mc->keepalive_timeout, 60000);
    ngx_conf_init_msec_value(mc->config_poll, 10);
    if (mc->config_poll == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_config_poll must be greater than 0");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* conf = static_cast<LocConf*>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (conf == nullptr) return nullptr;
    new (conf) LocConf();
    auto& u = conf->upstream;
    u.local = static_cast<ngx_http_upstream_local_t*>(NGX_CONF_UNSET_PTR);
    u.socket_keepalive = NGX_CONF_UNSET;
    u.next_upstream_tries = NGX_CONF_UNSET_UINT;
    u.connect_timeout = NGX_CONF_UNSET_MSEC;
    u.send_timeout = NGX_CONF_UNSET_MSEC;
    u.read_timeout = NGX_CONF_UNSET_MSEC;
    u.next_upstream_timeout = NGX_CONF_UNSET_MSEC;
    u.buffer_size = NGX_CONF_UNSET_SIZE;
    u.hide_headers = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
    u.pass_headers = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
    u.intercept_errors = 0;
    u.ssl_session_reuse = 0;  // no per-peer session cache (set_session); keepalive covers it
    u.ssl_name = nullptr;     // per attempt via u->ssl_name
    u.ssl_server_name = 1;
    u.ssl_verify = NGX_CONF_UNSET;
    u.ssl_certificate = nullptr;
    u.ssl_certificate_key = nullptr;
    u.ssl_passwords = nullptr;
    // hardcoded: unbuffered relay, the request body is rebuilt by us for every attempt
    u.buffering = 0;
    u.ignore_client_abort = 0;
    u.pass_request_headers = 0;
    u.pass_request_body = 0;
    u.pass_trailers = 0;
    u.preserve_output = 1;
    u.cyclic_temp_file = 0;
    u.bufs.num = 0;
    ngx_str_set(&u.module, "routeshift");
    return conf;
}

// Upstream response headers never relayed to clients: hop-by-hop ones are dropped by the upstream
// core already; these are provider internals or cookies that belong to the provider's domain.
ngx_str_t hide_headers[] = {
    ngx_string("Date"), ngx_string("Server"), ngx_string("Set-Cookie"), ngx_string("Alt-Svc"),
    ngx_string("Strict-Transport-Security"), ngx_string("CF-RAY"), ngx_string("CF-Cache-Status"),
    ngx_string("Via"), ngx_string("X-Accel-Expires"), ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"), ngx_string("X-Accel-Buffering"), ngx_string("X-Accel-Charset"),
    ngx_string("Report-To"), ngx_string("NEL"),
    // which account a credential belongs to is the operator's business, not the client's
    ngx_string("anthropic-organization-id"), ngx_string("OpenAI-Organization"),
    ngx_string("OpenAI-Project"), ngx_null_string,
};

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    auto& u = conf->upstream;
    auto& pu = prev->upstream;

    ngx_conf_merge_ptr_value(u.local, pu.local, nullptr);
    ngx_conf_merge_value(u.socket_keepalive, pu.socket_keepalive, 0);
    ngx_conf_merge_uint_value(u.next_upstream_tries, pu.next_upstream_tries, 0);
    ngx_conf_merge_msec_value(u.connect_timeout, pu.connect_timeout, 10000);
    ngx_conf_merge_msec_value(u.send_timeout, pu.send_timeout, 60000);
    ngx_conf_merge_msec_value(u.read_timeout, pu.read_timeout, 300000);
    ngx_conf_merge_msec_value(u.next_upstream_timeout, pu.next_upstream_timeout, 0);
    ngx_conf_merge_size_value(u.buffer_size, pu.buffer_size, 16384);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size, 4 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->retry_budget, prev->retry_budget, 3);
    ngx_conf_merge_msec_value(conf->first_token_timeout, prev->first_token_timeout, 0);
    ngx_conf_merge_msec_value(conf->stream_idle_timeout, prev->stream_idle_timeout, 0);
    ngx_conf_merge_value(conf->stream_continuation, prev->stream_continuation, 1);  // §19: on by default
    ngx_conf_merge_str_value(conf->environment, prev->environment, "");
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate, prev->ssl_trusted_certificate,
                             "/etc/ssl/certs/ca-certificates.crt");
    ngx_conf_merge_value(conf->ssl_verify, prev->ssl_verify, 1);
    u.ssl_verify = conf->ssl_verify;

    // nginx retries connection problems itself; whether an HTTP error is worth another key
    // depends on its body (a 429 for an empty balance is not), so process_header decides and
    // asks for the next attempt through INVALID_HEADER.
    u.next_upstream = NGX_CONF_BITMASK_SET | NGX_HTTP_UPSTREAM_FT_ERROR |
                      NGX_HTTP_UPSTREAM_FT_TIMEOUT | NGX_HTTP_UPSTREAM_FT_INVALID_HEADER |
                      NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;

    ngx_hash_init_t hash;
    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = const_cast<char*>("routeshift_headers_hash");
    if (ngx_http_upstream_hide_headers_hash(cf, &u, &pu, hide_headers, &hash) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->pass) {
        if (upstream_init_conf(cf, conf) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
        if (conf->clcf && (conf->clcf->resolver == nullptr || conf->clcf->resolver->connections.nelts == 0)) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "routeshift_pass without a \"resolver\": providers named by host name "
                               "(every public provider) cannot be reached; add e.g. \"resolver 127.0.0.53;\"");
        }
        // The body is read into memory by read_body_in_memory (never a temp file), with nginx's
        // client_body_buffer_size as its read buffer, except a relayed upload (read_body_spooled:
        // nginx's temp file beyond that buffer); nginx enforces the limit, chunked too.
        if (conf->clcf) conf->clcf->client_max_body_size = conf->max_body_size;
    }
    if (conf->admin && conf->clcf) {
        const size_t admin_max = 64 * 1024 * 1024;  // snapshots of very large fleets
        conf->clcf->client_max_body_size = admin_max;  // read by read_body_in_memory
    }
    return NGX_CONF_OK;
}

// Each worker looks for a new snapshot every routeshift_config_poll and parses it here, so no
// request pays the parse. Cancelable: it never holds up a graceful shutdown.
ngx_event_t config_poll_event;

void config_poll(ngx_event_t* ev) noexcept {
    auto* mc = static_cast<MainConf*>(ev->data);
    if (ngx_exiting || ngx_quit || ngx_terminate) return;  // no more requests: nothing to refresh
    try {
        zone_refresh(mc->shm_zone, false);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "routeshift: config poll failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "routeshift: config poll failed");
    }
    ngx_add_timer(ev, mc->config_poll);
}

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept {
    auto* mc = static_cast<MainConf*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_routeshift_module));
    if (mc == nullptr) return NGX_OK;
    // Request and provider bodies of 100 KB-1 MB come and go with every request. With glibc's
    // defaults each one was mmap'ed or trimmed off the heap top when freed and faulted back in
    // by the next request (~40 page faults, ~1 ms of worker CPU per 100 KB request): keep freed
    // memory in the worker for reuse instead (up to 32 MiB beyond what is in use).
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
    keepalive_configure(mc->keepalive_max, mc->keepalive_timeout);
    log_spool_worker_start(cycle);
    if (mc->shm_zone == nullptr) return NGX_OK;
    try {
        zone_worker_start(mc->shm_zone);  // parse the current snapshot before the first request
    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "routeshift: parsing the snapshot at worker start failed");
    }
    ngx_memzero(&config_poll_event, sizeof(config_poll_event));
    config_poll_event.handler = config_poll;
    config_poll_event.data = mc;
    config_poll_event.log = cycle->log;
    config_poll_event.cancelable = 1;
    ngx_add_timer(&config_poll_event, mc->config_poll);
    return NGX_OK;
}

void exit_process(ngx_cycle_t* cycle) noexcept {
    try {
        log_spool_worker_exit(cycle);
    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "routeshift: closing the log spool failed");
    }
}

char* set_zone(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* mc = static_cast<MainConf*>(conf);
    if (mc->shm_zone) return const_cast<char*>("is duplicate");
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    ssize_t size = ngx_parse_size(&value[2]);
    if (size == NGX_ERROR || size < (ssize_t)(1024 * 1024)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_zone \"%V\" needs a size of at least 1m",
                           &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    mc->shm_zone = ngx_shared_memory_add(cf, &value[1], size, &ngx_http_routeshift_module);
    if (mc->shm_zone == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    if (mc->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "routeshift_zone \"%V\" is already used", &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    mc->shm_zone->init = zone_init;
    mc->shm_zone->data = mc;  // replaced by the zone header in zone_init
    mc->shm_zone->noreuse = 0;
    return NGX_CONF_OK;
}

// routeshift_pass / routeshift_admin / routeshift_metrics: makes this location's content handler
// ours. A location takes one of the three directives, once; `role` is the LocConf flag the directive sets.
char* claim_location(ngx_conf_t* cf, void* conf, ngx_flag_t LocConf::*role, ngx_http_handler_pt handler) noexcept {
    auto* lc = static_cast<LocConf*>(conf);
    if (lc->pass || lc->admin || lc->metrics) return const_cast<char*>("is duplicate");
    lc->*role = 1;
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = handler;
    lc->clcf = clcf;
    return NGX_CONF_OK;
}

char* set_pass(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    return claim_location(cf, conf, &LocConf::pass, chat_handler);
}

char* set_admin(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    return claim_location(cf, conf, &LocConf::admin, admin_handler);
}

char* set_metrics(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    return claim_location(cf, conf, &LocConf::metrics, metrics_handler);
}


// routeshift_ready: the readiness probe (200 once a snapshot is loaded, else 503), for any listener.
char* set_ready(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lc = static_cast<LocConf*>(conf);
    if (lc->pass || lc->admin) return const_cast<char*>("cannot share a location with routeshift_pass or routeshift_admin");
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ready_handler;
    return NGX_CONF_OK;
}

ngx_int_t init_module(ngx_cycle_t* cycle) noexcept { return admin_apply_socket_modes(cycle); }

ngx_http_module_t module_ctx = {
    preconfiguration, postconfiguration, create_main_conf, init_main_conf,
    nullptr,          nullptr,           create_loc_conf,  merge_loc_conf,
};

}  // namespace

extern "C" {
ngx_module_t ngx_http_routeshift_module = {
    NGX_MODULE_V1,
    &module_ctx,
    commands,
    NGX_HTTP_MODULE,
    nullptr,       // init master
    init_module,   // init module: admin socket modes (sockets exist by then)
    init_process,  // init process
    nullptr,       // init thread
    nullptr,       // exit thread
    exit_process,  // exit process
    nullptr,       // exit master
    NGX_MODULE_V1_PADDING,
};
}

namespace routeshift {

std::string_view find_header(const ngx_list_t& headers, std::string_view lowcase_name) {
    for (const ngx_list_part_t* part = &headers.part; part; part = part->next) {
        auto* h = static_cast<ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0 || h[i].key.len != lowcase_name.size()) continue;
            if (ngx_strncasecmp(h[i].key.data, (u_char*)lowcase_name.data(), lowcase_name.size()) == 0) {
                return string_view_of(h[i].value);
            }
        }
    }
    return {};
}

}  // namespace routeshift
