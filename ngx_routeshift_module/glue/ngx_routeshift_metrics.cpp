// The Prometheus endpoint (`routeshift_metrics;`, docs/design.md §14): the text of the zone's
// counters, the per-(provider, model) table they are kept in, and the log-phase handler that counts
// each client request once. The endpoint is separate from the admin API so an operator can expose
// it to the monitoring network: it shows labels and ids, never secrets.
#include "ngx_routeshift_metrics.hpp"

#include "accounting/cost.hpp"
#include "metrics/prometheus_text.hpp"

#include <cstring>
#include <unordered_map>

namespace routeshift {

// Bounded: a fixed number of (provider, model) pairs, first come first served since the zone was
// created (pairs are never removed, so series never vanish); later pairs and names too long for
// an entry count under provider="other", model="other".
constexpr size_t kModelEntries = 128;
constexpr uint32_t kNoAttemptEntry = 0;  // provider="none", model="none": answered by the gateway itself
constexpr uint32_t kOtherEntry = 1;      // provider="other", model="other": the overflow

struct ModelMetricsEntry {
    char provider[64];   // NUL-terminated; immutable once the entry is published
    char model[128];
    ModelMetrics metrics;
};

struct ModelMetricsTable {
    uint32_t used;       // published entries (release store, under the zone lock)
    ModelMetricsEntry entries[kModelEntries];
};

namespace {

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

bool fits(std::string_view name, size_t capacity) { return name.size() < capacity; }

void set_names(ModelMetricsEntry& entry, std::string_view provider, std::string_view model) {
    memcpy(entry.provider, provider.data(), provider.size());
    entry.provider[provider.size()] = '\0';
    memcpy(entry.model, model.data(), model.size());
    entry.model[model.size()] = '\0';
}

// Per worker: (provider NUL model) → entry index, so a request finds its entry without the lock.
// Entries never move or go away; the map is dropped if the zone's table changes (a new zone).
struct KeyHash {
    using is_transparent = void;  // looked up by a string_view of a stack buffer: no allocation per request
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct EntryCache {
    const ModelMetricsTable* table = nullptr;
    std::unordered_map<std::string, uint32_t, KeyHash, std::equal_to<>> index;
};
EntryCache g_entries;
constexpr size_t kEntryCacheMax = 4096;

uint32_t entry_index(ngx_shm_zone_t* zone, ModelMetricsTable* table, std::string_view provider,
                     std::string_view model) {
    if (!fits(provider, sizeof(ModelMetricsEntry::provider)) || !fits(model, sizeof(ModelMetricsEntry::model))) return kOtherEntry;
    if (g_entries.table != table) {
        g_entries.index.clear();
        g_entries.table = table;
    }
    char key_bytes[sizeof(ModelMetricsEntry::provider) + sizeof(ModelMetricsEntry::model)];  // both fit (above)
    memcpy(key_bytes, provider.data(), provider.size());
    key_bytes[provider.size()] = '\0';
    memcpy(key_bytes + provider.size() + 1, model.data(), model.size());
    const std::string_view key(key_bytes, provider.size() + 1 + model.size());
    if (auto it = g_entries.index.find(key); it != g_entries.index.end()) return it->second;
    uint32_t found = kOtherEntry;
    {
        auto* pool = reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr);
        ngx_shmtx_lock(&pool->mutex);
        uint32_t used = table->used;
        bool matched = false;
        for (uint32_t i = kOtherEntry + 1; i < used; i++) {
            if (provider == table->entries[i].provider && model == table->entries[i].model) {
                found = i;
                matched = true;
                break;
            }
        }
        if (!matched && used < kModelEntries) {
            set_names(table->entries[used], provider, model);
            __atomic_store_n(&table->used, used + 1, __ATOMIC_RELEASE);
            found = used;
        }
        ngx_shmtx_unlock(&pool->mutex);
    }
    if (g_entries.index.size() < kEntryCacheMax) g_entries.index.emplace(std::string(key), found);
    return found;
}

// Counts one finished client request of a routeshift_pass location.
ngx_int_t log_handler(ngx_http_request_t* r) noexcept {
    try {
        auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        if (lc == nullptr || !lc->pass || mc == nullptr || mc->shm_zone == nullptr) return NGX_OK;
        RequestCtx* ctx = get_ctx(r);
        ModelMetricsTable* table = zone_model_metrics(mc->shm_zone);
        if (ctx == nullptr || table == nullptr) return NGX_OK;
        uint32_t index = kNoAttemptEntry;
        if (ctx->current >= 0 && ctx->cfg) {
            const Candidate& c = ctx->cands[(size_t)ctx->current];
            const Config& cfg = *ctx->cfg;
            std::string_view model = c.target < ctx->plan.targets.size() ? std::string_view(ctx->plan.targets[c.target].upstream_model) : "";
            index = entry_index(mc->shm_zone, table, cfg.providers[cfg.keys[c.key].provider].name, model);
        }
        RequestSample sample = ctx->metrics_sample;
        sample.status = (int)(r->err_status ? r->err_status : r->headers_out.status);
        sample.duration_ms = (int64_t)(ngx_current_msec - ctx->start_msec);
        sample.ttfb_ms = ctx->first_byte_msec ? (int64_t)(ctx->first_byte_msec - ctx->start_msec) : -1;
        model_metrics_record(table->entries[index].metrics, sample);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: counting the request failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: counting the request failed");
    }
    return NGX_OK;
}

constexpr std::string_view direction_input = "input";
constexpr std::string_view direction_output = "output";

void write_model_families(PrometheusText& text, const ModelMetricsTable* table) {
    uint32_t used = table ? __atomic_load_n(&table->used, __ATOMIC_ACQUIRE) : 0;
    auto each = [&](auto&& body) {
        for (uint32_t i = 0; i < used; i++) {
            const ModelMetricsEntry& e = table->entries[i];
            body(std::string_view(e.provider), std::string_view(e.model), e.metrics);
        }
    };
    text.family("routeshift_requests_total", "counter",
                "Client requests by the provider and upstream model of their last attempt (none: answered by "
                "the gateway without an attempt; other: beyond the table's 128 pairs) and the status sent.");
    each([&](std::string_view provider, std::string_view model, const ModelMetrics& m) {
        for (size_t slot = 0; slot < kStatusSlots; slot++) {
            uint64_t n = counter_load(m.requests[slot]);
            if (n == 0) continue;
            StatusLabels status = status_slot_labels(slot);
            text.sample("routeshift_requests_total",
                        {{"provider", provider}, {"model", model}, {"code", status.code}, {"class", status.status_class}}, n);
        }
    });
    text.family("routeshift_request_duration_seconds", "histogram",
                "Client request time, from the request to the log phase.");
    each([&](std::string_view provider, std::string_view model, const ModelMetrics& m) {
        if (counter_load(m.duration.count)) text.histogram("routeshift_request_duration_seconds", {{"provider", provider}, {"model", model}}, m.duration);
    });
    text.family("routeshift_request_ttfb_seconds", "histogram",
                "Time from the client request to the first answer byte relayed from the provider.");
    each([&](std::string_view provider, std::string_view model, const ModelMetrics& m) {
        if (counter_load(m.ttfb.count)) text.histogram("routeshift_request_ttfb_seconds", {{"provider", provider}, {"model", model}}, m.ttfb);
    });
    text.family("routeshift_tokens_total", "counter", "Tokens the providers reported, summed over every attempt of a request.");
    each([&](std::string_view provider, std::string_view model, const ModelMetrics& m) {
        if (counter_load(m.duration.count) == 0) return;
        text.sample("routeshift_tokens_total", {{"provider", provider}, {"model", model}, {"direction", direction_input}}, counter_load(m.prompt_tokens));
        text.sample("routeshift_tokens_total", {{"provider", provider}, {"model", model}, {"direction", direction_output}}, counter_load(m.completion_tokens));
    });
    text.family("routeshift_cost_microcents_total", "counter",
                "Cost of the reported usage at the price in force (microcents = 1e-6 US cent), summed over attempts.");
    each([&](std::string_view provider, std::string_view model, const ModelMetrics& m) {
        if (counter_load(m.duration.count)) text.sample("routeshift_cost_microcents_total", {{"provider", provider}, {"model", model}}, counter_load(m.cost_microcents));
    });
}

void write_key_families(PrometheusText& text, const std::vector<KeyMetricsView>& keys) {
    std::vector<std::string> ids;
    ids.reserve(keys.size());
    for (const KeyMetricsView& k : keys) ids.push_back(std::to_string(k.id));
    auto each = [&](auto&& body) {
        for (size_t i = 0; i < keys.size(); i++) {
            if (!keys[i].has_slot) continue;
            const KeyMetricsView& k = keys[i];
            body(k, MetricLabels{{"provider", k.provider}, {"key_id", ids[i]}, {"key", k.label}});
        }
    };
    text.family("routeshift_attempts_total", "counter", "Upstream attempts per provider key and status (499: the client left first).");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        for (size_t slot = 0; slot < kStatusSlots; slot++) {
            uint64_t n = k.counters.attempts[slot];
            if (n == 0) continue;
            StatusLabels status = status_slot_labels(slot);
            text.sample("routeshift_attempts_total", key.with({{"code", status.code}, {"class", status.status_class}}), n);
        }
    });
    text.family("routeshift_retries_total", "counter", "Attempts that were not the first of their request.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.sample("routeshift_retries_total", key, k.counters.retries); });
    text.family("routeshift_cooldowns_total", "counter", "Attempts that parked the key (cooldown started or extended).");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.sample("routeshift_cooldowns_total", key, k.counters.cooldowns); });
    text.family("routeshift_attempt_request_errors_total", "counter",
                "Error answers that were the request's fault, by class (docs/design.md §20): not retried on the same model.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        for (size_t i = 0; i < kRequestErrorClasses; i++) {
            text.sample("routeshift_attempt_request_errors_total", key.with({{"class", kRequestErrorClassNames[i]}}),
                        k.counters.request_errors[i]);
        }
    });
    text.family("routeshift_context_fallbacks_total", "counter",
                "Context-length errors of the key that sent their request on to its context fallback model.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.sample("routeshift_context_fallbacks_total", key, k.counters.context_fallbacks); });
    text.family("routeshift_key_cooldown_active", "gauge", "1 while the key is cooling down.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        text.sample("routeshift_key_cooldown_active", key, (uint64_t)(k.cooldown_remaining_ms > 0 ? 1 : 0));
    });
    text.family("routeshift_key_cooldown_remaining_seconds", "gauge", "Time until the key's cooldown ends.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        text.sample("routeshift_key_cooldown_remaining_seconds", key, (double)k.cooldown_remaining_ms / 1000.0);
    });
    text.family("routeshift_key_circuit_state", "gauge", "Circuit breaker state of the key: 1 for the current state.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        for (BreakerState state : {BreakerState::closed, BreakerState::open, BreakerState::half_open}) {
            text.sample("routeshift_key_circuit_state", key.with({{"state", breaker_state_name(state)}}),
                        (uint64_t)(k.breaker == state ? 1 : 0));
        }
    });
    text.family("routeshift_key_inflight", "gauge", "Attempts in flight on the key, across all workers.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.sample("routeshift_key_inflight", key, (uint64_t)k.inflight); });
    text.family("routeshift_key_tokens_total", "counter", "Tokens the key's attempts reported.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) {
        text.sample("routeshift_key_tokens_total", key.with({{"direction", direction_input}}), k.prompt_tokens);
        text.sample("routeshift_key_tokens_total", key.with({{"direction", direction_output}}), k.completion_tokens);
    });
    text.family("routeshift_key_cost_microcents_total", "counter", "Cost of the key's reported usage at the price in force.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.sample("routeshift_key_cost_microcents_total", key, k.counters.cost_microcents); });
    text.family("routeshift_attempt_ttfb_seconds", "histogram", "Time from an attempt's pick to the provider's status line.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.histogram("routeshift_attempt_ttfb_seconds", key, k.counters.ttfb); });
    text.family("routeshift_attempt_duration_seconds", "histogram", "Time from an attempt's pick to its end.");
    each([&](const KeyMetricsView& k, const MetricLabels& key) { text.histogram("routeshift_attempt_duration_seconds", key, k.counters.duration); });
}

}  // namespace

ModelMetricsTable* metrics_table_create(ngx_slab_pool_t* pool) {
    auto* table = static_cast<ModelMetricsTable*>(ngx_slab_calloc(pool, sizeof(ModelMetricsTable)));
    if (table == nullptr) return nullptr;
    set_names(table->entries[kNoAttemptEntry], "none", "none");
    set_names(table->entries[kOtherEntry], "other", "other");
    table->used = kOtherEntry + 1;
    return table;
}

void metrics_attempt_done_locked(KeyMetrics& key_metrics, RequestCtx& ctx, const Candidate& c, int status,
                                 bool cooldown, const Usage* usage, uint64_t now_ms) {
    if (status == 0) return;  // a pick given back before it became a request
    AttemptSample sample;
    sample.status = status;
    sample.retry = ctx.attempts > 1;
    sample.cooldown = cooldown;
    if (ctx.attempt.classified) {
        switch (ctx.attempt.error_class) {
        case UpstreamErrorClass::context_length: sample.request_error = 0; break;
        case UpstreamErrorClass::content_policy: sample.request_error = 1; break;
        case UpstreamErrorClass::invalid_request: sample.request_error = 2; break;
        default: break;
        }
        sample.context_fallback = ctx.attempt.context_fallback;
    }
    if (ctx.attempt.started_msec) {
        sample.duration_ms = (int64_t)(now_ms - ctx.attempt.started_msec);
        if (ctx.attempt.status_msec) sample.ttfb_ms = (int64_t)(ctx.attempt.status_msec - ctx.attempt.started_msec);
    }
    if (usage) {
        if (const ModelPrice* price = attempt_price(ctx, c)) sample.cost_microcents = usage_cost_microcents(*usage, *price);
        RequestSample& total = ctx.metrics_sample;
        total.prompt_tokens += std::max<int64_t>(usage->prompt_tokens, 0);
        total.completion_tokens += std::max<int64_t>(usage->completion_tokens, 0);
        total.cost_microcents = add_microcents(total.cost_microcents, sample.cost_microcents);
    }
    key_metrics_record(key_metrics, sample);
}

// Requests refused for a spent budget (ngx_routeshift_spend.cpp keeps the counters).
static void write_budget_families(PrometheusText& text, ngx_http_request_t* r) {
    auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
    uint64_t by_virtual_key = 0, by_team = 0;
    spend_refusals(mc->shm_zone, &by_virtual_key, &by_team);
    text.family("routeshift_budget_refusals_total", "counter",
                "Requests refused with 429 budget_exceeded, by whose budget was spent.");
    text.sample("routeshift_budget_refusals_total", {{"scope", "virtual_key"}}, by_virtual_key);
    text.sample("routeshift_budget_refusals_total", {{"scope", "team"}}, by_team);
}

// Mid-stream continuations by outcome (docs/design.md §19); every outcome always has a sample.
static void write_continuation_family(PrometheusText& text, const ContinuationMetrics* counters) {
    text.family("routeshift_stream_continuations_total", "counter",
                "Streams broken after content: continued to their end, refused by a target, impossible to continue, "
                "or failed (no candidate finished them).");
    for (size_t i = 0; i < kContinuationOutcomes; i++) {
        text.sample("routeshift_stream_continuations_total", {{"outcome", kContinuationOutcomeNames[i]}},
                    counters ? counter_load(counters->outcomes[i]) : uint64_t{0});
    }
}

std::string metrics_text(ngx_http_request_t* r, const ZoneMetricsView& view) {
    std::string out;
    out.reserve(4096 + view.keys.size() * 4096);
    PrometheusText text(out);
    text.family("routeshift_config_generation", "gauge", "Generation of the active config snapshot (0: none loaded).");
    text.sample("routeshift_config_generation", {}, view.generation);
    text.family("routeshift_config_age_seconds", "gauge", "Seconds since the active snapshot was applied.");
    if (view.applied_at) {
        uint64_t now = (uint64_t)ngx_time();
        text.sample("routeshift_config_age_seconds", {}, (uint64_t)(now > view.applied_at ? now - view.applied_at : 0));
    }
    text.family("routeshift_keys_cooling_down", "gauge", "Provider keys cooling down now.");
    uint64_t cooling = 0;
    for (const KeyMetricsView& k : view.keys) cooling += k.cooldown_remaining_ms > 0 ? 1 : 0;
    text.sample("routeshift_keys_cooling_down", {}, cooling);
    write_model_families(text, view.models);
    write_key_families(text, view.keys);
    write_budget_families(text, r);
    write_continuation_family(text, view.continuations);
    write_spool_metrics(text);
    return out;
}

ngx_int_t metrics_handler(ngx_http_request_t* r) noexcept {
    try {
        if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
            return send_document(r, NGX_HTTP_NOT_ALLOWED, "text/plain", "use GET\n", {{"Allow", "GET, HEAD"}});
        }
        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        if (mc->shm_zone == nullptr) return send_document(r, 500, "text/plain", "no routeshift_zone is configured\n", {});
        return send_document(r, 200, kContentType, metrics_text(r, zone_metrics_view(mc->shm_zone)),
                             {{"Cache-Control", "no-store"}});
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: metrics failed: %s", e.what());
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: metrics failed");
    }
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

ngx_int_t metrics_init(ngx_conf_t* cf) {
    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers));
    if (h == nullptr) return NGX_ERROR;
    *h = log_handler;
    return NGX_OK;
}

}  // namespace routeshift
