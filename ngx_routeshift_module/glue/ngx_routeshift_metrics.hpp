// The Prometheus endpoint (`routeshift_metrics;`, docs/design.md §14) and the counters behind it:
// per key slot (KeyMetrics inside the zone's KeySlot, written in zone_attempt_done) and per
// (provider, model) pair in a bounded table in the zone (written from the log phase).
#pragma once
#include "ngx_routeshift.hpp"
#include "metrics/metric_counters.hpp"
#include "routing/circuit_breaker.hpp"

#include <string>
#include <vector>

namespace routeshift {

// The bounded (provider, model) table; its layout is ngx_routeshift_metrics.cpp's.
struct ModelMetricsTable;
// Allocated once in a new zone (zone_init); null when the zone has no room (no per-model metrics).
ModelMetricsTable* metrics_table_create(ngx_slab_pool_t* pool);

// An attempt ended (called by zone_attempt_done with the zone lock held, after the key's own
// counters): its status, retry, cooldown, latency and cost go into the key's counters, and its
// tokens and cost into the request's running totals (ctx.metrics_sample).
void metrics_attempt_done_locked(KeyMetrics& key_metrics, RequestCtx& ctx, const Candidate& c, int status,
                                 bool cooldown, const Usage* usage, uint64_t now_ms);

// What the endpoint reads about every key of the current config, copied out under the lock.
struct KeyMetricsView {
    int64_t id = 0;
    std::string provider, label;
    bool has_slot = false;      // false: no zone slot, only id/provider/label are set
    uint32_t inflight = 0;
    uint64_t cooldown_remaining_ms = 0;
    BreakerState breaker = BreakerState::closed;
    uint64_t prompt_tokens = 0, completion_tokens = 0;
    KeyMetrics counters{};
};
struct ZoneMetricsView {
    int64_t generation = 0;
    uint64_t applied_at = 0;    // unix seconds; 0 = nothing applied
    std::vector<KeyMetricsView> keys;
    ModelMetricsTable* models = nullptr;
    const ContinuationMetrics* continuations = nullptr;  // §19
};

// The whole exposition text: the module's families, the budget refusals and the request-log spool.
std::string metrics_text(ngx_http_request_t* r, const ZoneMetricsView& view);

// Content handler of a `routeshift_metrics;` location.
ngx_int_t metrics_handler(ngx_http_request_t* r) noexcept;
// postconfiguration: installs the log-phase handler that counts client requests per (provider, model).
ngx_int_t metrics_init(ngx_conf_t* cf);

// ngx_routeshift_zone.cpp
ZoneMetricsView zone_metrics_view(ngx_shm_zone_t* shm_zone);
ModelMetricsTable* zone_model_metrics(ngx_shm_zone_t* shm_zone);
// The zone's mid-stream continuation counters (docs/design.md §19).
ContinuationMetrics* zone_continuation_metrics(ngx_shm_zone_t* shm_zone);

}  // namespace routeshift
