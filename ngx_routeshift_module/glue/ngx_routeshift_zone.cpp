// The shared-memory zone: the active config snapshot (as JSON text) and per-provider-key runtime
// state (balancer weight, in-flight count, cooldown, counters, latency histogram, RPM/TPM windows,
// circuit breaker) and the RPM/TPM windows of limited virtual keys and teams (docs/design.md §9;
// the decisions are core/routing's, the zone stores and locks). All workers see the same state; it
// survives `nginx -s reload`. Each worker parses a new snapshot in its poll timer
// (zone_refresh), never in a request, and records the version it holds so the admin API can
// answer a push once every worker has it.
#include "ngx_routeshift.hpp"
#include "ngx_routeshift_metrics.hpp"
#include "config/snapshot_digest.hpp"
#include "routing/balance_strategy.hpp"
#include "routing/circuit_breaker.hpp"
#include "routing/latency_histogram.hpp"
#include "routing/rate_limiter.hpp"

#include <algorithm>
#include <unordered_map>

namespace routeshift {
namespace {

struct KeySlot {
    int64_t key_id;            // 0 = free
    int64_t current_weight;    // smooth WRR state
    uint32_t inflight;
    uint32_t last_status;
    uint64_t cooldown_until;   // ngx_current_msec clock
    uint64_t requests, successes, failures;
    uint64_t prompt_tokens, completion_tokens;
    LatencyHistogram latency;  // successful attempts: TTFB for streams, total time otherwise
    RateWindow rpm_window, tpm_window;
    CircuitBreaker breaker;
    KeyMetrics metrics;        // Prometheus counters (ngx_routeshift_metrics.cpp)
};

// RPM/TPM windows of one limited virtual key or team, in a small chained hash of slab
// allocations (entries of callers that lost their limits are freed with the next snapshot).
enum class CallerKind : uint8_t { virtual_key = 1, team = 2 };
struct CallerSlot {
    CallerSlot* next;
    int64_t id;
    CallerKind kind;
    RateWindow rpm_window, tpm_window;
};
constexpr size_t kCallerBuckets = 256;

// What one worker (by ngx_worker) holds; written only by that worker.
struct WorkerRecord {
    uint64_t version;          // the zone version this worker's parsed config belongs to
    uint64_t parses;           // snapshots parsed (poll timer, admin handler, start-up)
    uint64_t request_parses;   // of those, parsed inside a request (no config yet: first start)
    ngx_pid_t pid;
};

struct ShmHeader {
    uint64_t version;          // bumped on every apply / invalidate: workers re-read
    int64_t generation;        // the snapshot's own number; 0 = none loaded
    uint64_t epoch;            // alias invalidations
    uint64_t applied_at;       // unix seconds
    u_char* snapshot;
    size_t snapshot_len;
    char digest[kSnapshotDigestHexChars];  // of the snapshot text (§15: the sync spots foreign pushes)
    WorkerRecord workers[NGX_MAX_PROCESSES];
    CallerSlot* callers[kCallerBuckets];
    void* spend;               // the spend table of ngx_routeshift_spend.cpp (docs/design.md §13)
    ModelMetricsTable* model_metrics;  // per (provider, model) counters; null: no room
    ContinuationMetrics continuations;  // docs/design.md §19, added to with relaxed atomics
    uint32_t nslots;
    KeySlot slots[1];
};

struct WorkerView {
    ngx_shm_zone_t* zone = nullptr;
    uint64_t version = UINT64_MAX;
    std::shared_ptr<const Config> cfg;
    std::shared_ptr<const std::vector<int>> slots;
    std::shared_ptr<EndpointCache> endpoints;
};
WorkerView g_view;  // one zone per http block; workers are single-threaded

ShmHeader* header(ngx_shm_zone_t* z) { return static_cast<ShmHeader*>(z->data); }
ngx_slab_pool_t* pool(ngx_shm_zone_t* z) { return reinterpret_cast<ngx_slab_pool_t*>(z->shm.addr); }

struct Lock {
    ngx_slab_pool_t* p;
    explicit Lock(ngx_shm_zone_t* z) : p(pool(z)) { ngx_shmtx_lock(&p->mutex); }
    ~Lock() { ngx_shmtx_unlock(&p->mutex); }
};

// Maps the config's keys to slots; called with the lock held. Frees slots of vanished keys.
bool assign_slots(ShmHeader* sh, const Config& cfg, std::string* error) {
    std::unordered_map<int64_t, int> existing;
    for (uint32_t i = 0; i < sh->nslots; i++) {
        if (sh->slots[i].key_id) existing.emplace(sh->slots[i].key_id, (int)i);
    }
    std::unordered_map<int64_t, bool> wanted;
    for (const auto& k : cfg.keys) wanted[k.id] = true;
    size_t free_slots = 0;
    for (uint32_t i = 0; i < sh->nslots; i++) {
        if (sh->slots[i].key_id == 0 || !wanted.count(sh->slots[i].key_id)) free_slots++;
    }
    size_t needed = 0;
    for (const auto& k : cfg.keys) needed += existing.count(k.id) ? 0 : 1;
    if (needed > free_slots) {
        *error = "routeshift_zone is too small for " + std::to_string(cfg.keys.size()) +
                 " provider keys (" + std::to_string(sh->nslots) + " slots)";
        return false;
    }
    for (uint32_t i = 0; i < sh->nslots; i++) {
        if (sh->slots[i].key_id && !wanted.count(sh->slots[i].key_id)) {
            ngx_memzero(&sh->slots[i], sizeof(KeySlot));
        }
    }
    uint32_t next_free = 0;
    for (const auto& k : cfg.keys) {
        if (existing.count(k.id)) continue;
        while (sh->slots[next_free].key_id != 0) next_free++;
        ngx_memzero(&sh->slots[next_free], sizeof(KeySlot));
        sh->slots[next_free].key_id = k.id;
    }
    return true;
}

KeySlot* slot_for(ShmHeader* sh, int slot, int64_t key_id) {
    if (slot < 0 || (uint32_t)slot >= sh->nslots) return nullptr;
    KeySlot* s = &sh->slots[slot];
    return s->key_id == key_id ? s : nullptr;  // the slot may belong to a newer config's key
}

bool caller_limited(const Config& cfg, CallerKind kind, int64_t id) {
    if (kind == CallerKind::team) return cfg.team_limits.count(id) != 0;
    for (const VirtualKey& vk : cfg.virtual_keys)
        if (vk.id == id) return vk.rpm_limit || vk.tpm_limit;
    return false;
}

// Called with the lock held when a snapshot is stored.
void free_unlimited_callers(ShmHeader* sh, ngx_slab_pool_t* p, const Config& cfg) {
    for (CallerSlot*& head : sh->callers) {
        for (CallerSlot** link = &head; *link;) {
            CallerSlot* c = *link;
            if (caller_limited(cfg, c->kind, c->id)) {
                link = &c->next;
            } else {
                *link = c->next;
                ngx_slab_free_locked(p, c);
            }
        }
    }
}

// The caller's windows, created on first use; null when the zone is full (then not limited).
// Called with the lock held.
CallerSlot* caller_slot(ShmHeader* sh, ngx_slab_pool_t* p, CallerKind kind, int64_t id) {
    CallerSlot*& head = sh->callers[((uint64_t)id * 2 + (uint64_t)kind) % kCallerBuckets];
    for (CallerSlot* c = head; c; c = c->next)
        if (c->id == id && c->kind == kind) return c;
    auto* c = static_cast<CallerSlot*>(ngx_slab_calloc_locked(p, sizeof(CallerSlot)));
    if (c == nullptr) return nullptr;
    c->id = id;
    c->kind = kind;
    c->next = head;
    head = c;
    return c;
}

bool store_snapshot(ngx_shm_zone_t* z, std::string_view json, const Config& cfg, std::string* error,
                    uint64_t* version) {
    std::string digest = snapshot_digest(json);  // before the lock: it reads the whole text
    ShmHeader* sh = header(z);
    ngx_slab_pool_t* p = pool(z);
    Lock lock(z);
    auto* blob = static_cast<u_char*>(ngx_slab_alloc_locked(p, json.size() ? json.size() : 1));
    if (blob == nullptr) {
        *error = "routeshift_zone has no room for a snapshot of " + std::to_string(json.size()) +
                 " bytes; make the zone larger";
        return false;
    }
    if (!assign_slots(sh, cfg, error)) {
        ngx_slab_free_locked(p, blob);
        return false;
    }
    free_unlimited_callers(sh, p, cfg);
    ngx_memcpy(blob, json.data(), json.size());
    if (sh->snapshot) ngx_slab_free_locked(p, sh->snapshot);
    sh->snapshot = blob;
    sh->snapshot_len = json.size();
    ngx_memcpy(sh->digest, digest.data(), sizeof sh->digest);
    sh->generation = cfg.generation;
    sh->applied_at = (uint64_t)ngx_time();
    *version = __atomic_add_fetch(&sh->version, 1, __ATOMIC_RELEASE);
    return true;
}

bool load_snapshot_file(ngx_shm_zone_t* z, const ngx_str_t& path, ngx_log_t* log) {
    std::string name(string_view_of(path));
    FILE* f = fopen(name.c_str(), "rb");  // start-up only (master), never on the request path
    if (f == nullptr) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno, "routeshift_snapshot_file \"%V\" cannot be opened",
                      &path);
        return false;
    }
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    fclose(f);
    std::string error;
    int64_t gen;
    size_t nkeys;
    uint64_t version;
    if (!zone_apply_snapshot(z, text, &error, &gen, &nkeys, &version)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "routeshift_snapshot_file \"%V\": %s", &path,
                      error.c_str());
        return false;
    }
    ngx_log_error(NGX_LOG_NOTICE, log, 0, "routeshift: loaded snapshot generation %L (%uz keys) from \"%V\"",
                  (int64_t)gen, nkeys, &path);
    return true;
}

}  // namespace

ngx_int_t zone_init(ngx_shm_zone_t* shm_zone, void* data) noexcept {
    try {
        auto* mc = static_cast<MainConf*>(shm_zone->data);
        if (data) {  // reload: keep the old zone's snapshot and key state
            shm_zone->data = data;
            ShmHeader* sh = header(shm_zone);
            if (sh->generation == 0 && mc->snapshot_file.len) {
                load_snapshot_file(shm_zone, mc->snapshot_file, shm_zone->shm.log);
            }
            return NGX_OK;
        }
        ngx_slab_pool_t* p = pool(shm_zone);
        size_t nslots = std::min<size_t>(4096, (shm_zone->shm.size / 4) / sizeof(KeySlot));
        size_t bytes = sizeof(ShmHeader) + (nslots - 1) * sizeof(KeySlot);
        auto* sh = static_cast<ShmHeader*>(ngx_slab_alloc(p, bytes));
        if (sh == nullptr) return NGX_ERROR;
        ngx_memzero(sh, bytes);
        sh->nslots = (uint32_t)nslots;
        sh->model_metrics = metrics_table_create(p);
        p->data = sh;
        shm_zone->data = sh;

        static const char ctx_prefix[] = " in routeshift_zone \"";
        size_t len = sizeof(ctx_prefix) + shm_zone->shm.name.len;
        p->log_ctx = static_cast<u_char*>(ngx_slab_alloc(p, len));
        if (p->log_ctx) {
            ngx_sprintf(p->log_ctx, " in routeshift_zone \"%V\"%Z", &shm_zone->shm.name);
        }
        p->log_nomem = 0;

        if (mc->snapshot_file.len && !load_snapshot_file(shm_zone, mc->snapshot_file, shm_zone->shm.log)) {
            return NGX_ERROR;
        }
        return NGX_OK;
    } catch (...) {
        return NGX_ERROR;
    }
}

bool zone_apply_snapshot(ngx_shm_zone_t* z, std::string_view json, std::string* error, int64_t* generation,
                         size_t* nkeys, uint64_t* version) {
    auto cfg = parse_snapshot(json, error);  // validated whole before anything changes
    if (!cfg) return false;
    if (!store_snapshot(z, json, *cfg, error, version)) return false;
    *generation = cfg->generation;
    *nkeys = cfg->keys.size();
    return true;
}

void** zone_spend_anchor(ngx_shm_zone_t* z) { return &header(z)->spend; }

uint64_t zone_invalidate(ngx_shm_zone_t* z) {
    ShmHeader* sh = header(z);
    Lock lock(z);
    sh->epoch++;
    return __atomic_add_fetch(&sh->version, 1, __ATOMIC_RELEASE);
}

int64_t zone_generation(ngx_shm_zone_t* z, uint64_t* epoch) {
    ShmHeader* sh = header(z);
    Lock lock(z);
    if (epoch) *epoch = sh->epoch;
    return sh->generation;
}

uint64_t zone_applied_at(ngx_shm_zone_t* z) {
    ShmHeader* sh = header(z);
    Lock lock(z);
    return sh->applied_at;
}

std::string zone_snapshot_digest(ngx_shm_zone_t* z) {
    ShmHeader* sh = header(z);
    Lock lock(z);
    return sh->snapshot ? std::string(sh->digest, sizeof sh->digest) : std::string();
}

void zone_refresh(ngx_shm_zone_t* z, bool in_request) {
    ShmHeader* sh = header(z);
    uint64_t v = __atomic_load_n(&sh->version, __ATOMIC_ACQUIRE);
    if (g_view.zone == z && g_view.version == v) return;

    std::string text;
    {
        Lock lock(z);
        v = sh->version;
        if (sh->snapshot) text.assign(reinterpret_cast<const char*>(sh->snapshot), sh->snapshot_len);
    }
    std::shared_ptr<const Config> cfg;
    if (!text.empty()) {
        std::string error;
        cfg = parse_snapshot(text, &error);
        if (!cfg) {  // cannot happen: validated before it was stored
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0, "routeshift: stored snapshot invalid: %s",
                          error.c_str());
            return;
        }
    }
    std::vector<int> slots;
    if (cfg) {
        slots.assign(cfg->keys.size(), -1);
        std::unordered_map<int64_t, size_t> idx;
        for (size_t i = 0; i < cfg->keys.size(); i++) idx[cfg->keys[i].id] = i;
        Lock lock(z);
        for (uint32_t s = 0; s < sh->nslots; s++) {
            auto it = sh->slots[s].key_id ? idx.find(sh->slots[s].key_id) : idx.end();
            if (it != idx.end()) slots[it->second] = (int)s;
        }
    }
    g_view.zone = z;
    g_view.version = v;
    g_view.cfg = cfg;
    g_view.slots = std::make_shared<const std::vector<int>>(std::move(slots));
    g_view.endpoints = std::make_shared<EndpointCache>();

    if (ngx_worker < NGX_MAX_PROCESSES) {
        WorkerRecord& w = sh->workers[ngx_worker];
        w.pid = ngx_pid;
        if (!text.empty()) {
            __atomic_add_fetch(&w.parses, 1, __ATOMIC_RELAXED);
            if (in_request) __atomic_add_fetch(&w.request_parses, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&w.version, v, __ATOMIC_RELEASE);
    }
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0, "routeshift: worker now holds zone version %uL%s",
                   v, in_request ? " (parsed in a request)" : "");
}

void zone_worker_start(ngx_shm_zone_t* z) {
    if (ngx_worker >= NGX_MAX_PROCESSES) return;
    // A respawned worker (or a new one after a reload) reuses an index: forget what the previous
    // holder acknowledged before this one has parsed anything.
    WorkerRecord& w = header(z)->workers[ngx_worker];
    __atomic_store_n(&w.version, 0, __ATOMIC_RELEASE);
    w.pid = ngx_pid;
    zone_refresh(z, false);
}

size_t zone_worker_count() {
    if (ngx_process == NGX_PROCESS_SINGLE) return 1;
    auto* ccf = reinterpret_cast<ngx_core_conf_t*>(ngx_get_conf(ngx_cycle->conf_ctx, ngx_core_module));
    size_t n = ccf && ccf->worker_processes > 0 ? (size_t)ccf->worker_processes : 1;
    return std::min<size_t>(n, NGX_MAX_PROCESSES);
}

size_t zone_workers_holding(ngx_shm_zone_t* z, uint64_t version, size_t workers) {
    ShmHeader* sh = header(z);
    size_t n = 0;
    for (size_t i = 0; i < workers && i < NGX_MAX_PROCESSES; i++) {
        if (__atomic_load_n(&sh->workers[i].version, __ATOMIC_ACQUIRE) >= version) n++;
    }
    return n;
}

std::shared_ptr<const Config> zone_config(ngx_shm_zone_t* z) {
    // The poll timer keeps the config current. Only a worker that has no config at all (started
    // before the first push, and a request arrived before its timer ran) parses here, once.
    if (g_view.zone != z || !g_view.cfg) zone_refresh(z, true);
    return g_view.cfg;
}

std::shared_ptr<EndpointCache> zone_endpoints(ngx_shm_zone_t* z) {
    if (g_view.zone == z && g_view.endpoints) return g_view.endpoints;
    return std::make_shared<EndpointCache>();
}

std::shared_ptr<const std::vector<int>> zone_slots(ngx_shm_zone_t* z) {
    if (g_view.zone == z && g_view.slots) return g_view.slots;
    return std::make_shared<const std::vector<int>>();
}

namespace {

bool key_usable(const Config& cfg, const PlannedCandidate& c) {
    const ProviderKey& k = cfg.keys[c.key];
    const Provider& p = cfg.providers[k.provider];
    return !c.unusable && !c.held && k.enabled && p.enabled && k.weight > 0;  // held: a context fallback (§20)
}

uint64_t rate_window_ms(const Config& cfg) { return (uint64_t)cfg.settings.rate_limit_window_seconds * 1000; }
uint64_t latency_window_ms(const Config& cfg) { return (uint64_t)cfg.settings.latency_window_seconds * 1000; }

// Whether the key's RPM and TPM limits let one more request of `tokens` through now; when not,
// `wait_ms` gets how long until they would.
bool key_within_limits(KeySlot* s, const ProviderKey& k, const Config& cfg, int64_t tokens, uint64_t now,
                       int64_t* wait_ms) {
    int64_t rpm_wait = 0, tpm_wait = 0;
    bool rpm_ok = rate_allows(s->rpm_window, k.rpm, 1, now, rate_window_ms(cfg), &rpm_wait);
    bool tpm_ok = rate_allows(s->tpm_window, k.tpm, tokens, now, rate_window_ms(cfg), &tpm_wait);
    if (rpm_ok && tpm_ok) return true;
    *wait_ms = std::max(rpm_ok ? 0 : rpm_wait, tpm_ok ? 0 : tpm_wait);
    return false;
}

struct PickResult {
    int index = -1;      // into the candidates
    bool probe = false;  // the key's half-open breaker probe
};

// Picks among the candidates `may_pick` allows (priority tiers, then the strategy of the best
// tier's first provider, then smooth WRR; core/routing/balance_strategy), with the lock held. Marks
// the winner in flight and takes its RPM/TPM reservation. No heap allocation for the usual
// handful of candidates.
template <typename CandidateAt, typename MayPick>
PickResult pick_locked(ShmHeader* sh, const Config& cfg, const std::vector<int>& slot_of_key, size_t count,
                       int64_t tokens, uint64_t now, CandidateAt candidate_at, MayPick may_pick) {
    constexpr size_t kInline = 16;
    BalanceEntry inline_entries[kInline];
    int inline_map[kInline];
    std::vector<BalanceEntry> heap_entries;
    std::vector<int> heap_map;
    BalanceEntry* entries = inline_entries;
    int* map = inline_map;
    if (count > kInline) {
        heap_entries.resize(count);
        heap_map.resize(count);
        entries = heap_entries.data();
        map = heap_map.data();
    }
    size_t n = 0;
    bool any = false;
    int64_t best_tier = 0;
    BalanceStrategy strategy = BalanceStrategy::weighted_round_robin;
    for (size_t i = 0; i < count; i++) {
        const PlannedCandidate& c = candidate_at(i);
        int slot = c.key < slot_of_key.size() ? slot_of_key[c.key] : -1;
        KeySlot* s = slot_for(sh, slot, cfg.keys[c.key].id);
        if (s == nullptr) continue;
        bool eligible = may_pick(i, s);
        entries[n] = BalanceEntry{cfg.keys[c.key].weight, &s->current_weight, eligible, c.tier, s->inflight, -1};
        map[n++] = (int)i;
        if (eligible && (!any || c.tier < best_tier)) {
            any = true;
            best_tier = c.tier;
            strategy = cfg.providers[cfg.keys[c.key].provider].balancing;
        }
    }
    if (strategy == BalanceStrategy::latency) {
        for (size_t e = 0; e < n; e++) {
            const PlannedCandidate& c = candidate_at((size_t)map[e]);
            KeySlot* s = slot_for(sh, slot_of_key[c.key], cfg.keys[c.key].id);
            entries[e].p50_ms = latency_p50(s->latency, now, latency_window_ms(cfg));
        }
    }
    PickResult result;
    int pick = balance_pick(strategy, std::span<BalanceEntry>(entries, n));
    if (pick < 0) return result;
    result.index = map[pick];
    const PlannedCandidate& c = candidate_at((size_t)result.index);
    KeySlot* s = slot_for(sh, slot_of_key[c.key], cfg.keys[c.key].id);
    s->inflight++;
    s->requests++;
    rate_take(s->rpm_window, 1, now, rate_window_ms(cfg));
    if (tokens) rate_take(s->tpm_window, tokens, now, rate_window_ms(cfg));
    result.probe = breaker_on_pick(s->breaker, now);
    return result;
}

}  // namespace

ZoneAssessment zone_assess_and_pick(ngx_shm_zone_t* z, const Config& cfg, const std::vector<int>& slots,
                                    std::span<const PlannedCandidate> candidates, int64_t tokens) {
    ShmHeader* sh = header(z);
    uint64_t now = ngx_current_msec;
    ZoneAssessment a;
    Lock lock(z);
    for (const PlannedCandidate& c : candidates) {
        if (!key_usable(cfg, c)) continue;
        KeySlot* s = slot_for(sh, c.key < slots.size() ? slots[c.key] : -1, cfg.keys[c.key].id);
        if (s == nullptr) continue;
        int64_t wait = -1;
        if (s->cooldown_until > now) {
            wait = (int64_t)(s->cooldown_until - now);
        } else if (!breaker_allows(s->breaker, now)) {
            // open: until half-open; half-open with its probe out: about a second, like a short cooldown
            wait = s->breaker.open_until_ms > now ? (int64_t)(s->breaker.open_until_ms - now) : 1000;
        } else if (int64_t limit_wait = 0; !key_within_limits(s, cfg.keys[c.key], cfg, tokens, now, &limit_wait)) {
            a.health.limited++;
            if (a.health.min_limit_wait_ms < 0 || limit_wait < a.health.min_limit_wait_ms)
                a.health.min_limit_wait_ms = limit_wait;
            continue;
        } else {
            a.health.healthy++;
            continue;
        }
        if (a.health.min_wait_ms < 0 || wait < a.health.min_wait_ms) a.health.min_wait_ms = wait;
    }
    if (a.health.healthy == 0) return a;
    PickResult pick = pick_locked(
        sh, cfg, slots, candidates.size(), tokens, now,
        [&](size_t i) -> const PlannedCandidate& { return candidates[i]; },
        [&](size_t i, KeySlot* s) {
            const PlannedCandidate& c = candidates[i];
            int64_t wait;
            return key_usable(cfg, c) && s->cooldown_until <= now && breaker_allows(s->breaker, now) &&
                   key_within_limits(s, cfg.keys[c.key], cfg, tokens, now, &wait);
        });
    a.pick = pick.index;
    a.probe = pick.probe;
    return a;
}

int zone_pick(ngx_shm_zone_t* z, RequestCtx& ctx, bool ignore_cooldown, int only) {
    ShmHeader* sh = header(z);
    uint64_t now = ngx_current_msec;
    const Config& cfg = *ctx.cfg;
    const std::vector<int>& slots = *ctx.slots;
    Lock lock(z);
    // cooling keys may be tried when only they remain; open circuits and limits always hold
    PickResult pick = pick_locked(
        sh, cfg, slots, ctx.cands.size(), ctx.reserve_tokens, now,
        [&](size_t i) -> const PlannedCandidate& { return ctx.cands[i]; },
        [&](size_t i, KeySlot* s) {
            const Candidate& c = ctx.cands[i];
            int64_t wait;
            bool candidate = only >= 0 ? i == (size_t)only : !c.tried;
            return candidate && key_usable(cfg, c) && (ignore_cooldown || s->cooldown_until <= now) &&
                   breaker_allows(s->breaker, now) &&
                   key_within_limits(s, cfg.keys[c.key], cfg, ctx.reserve_tokens, now, &wait);
        });
    if (pick.index >= 0) {
        Candidate& c = ctx.cands[(size_t)pick.index];
        c.tried = true;
        c.probe = pick.probe;
        ctx.breaker_state = (uint8_t)(pick.probe ? BreakerState::half_open : BreakerState::closed);
    }
    return pick.index;
}

void zone_release_pick(ngx_shm_zone_t* z, const Config& cfg, int slot, size_t key, int64_t tokens, bool probe) {
    ShmHeader* sh = header(z);
    uint64_t now = ngx_current_msec;
    Lock lock(z);
    KeySlot* s = slot_for(sh, slot, cfg.keys[key].id);
    if (s == nullptr) return;
    if (s->inflight) s->inflight--;
    if (s->requests) s->requests--;
    rate_take(s->rpm_window, -1, now, rate_window_ms(cfg));
    if (tokens) rate_take(s->tpm_window, -tokens, now, rate_window_ms(cfg));
    breaker_on_abandon(s->breaker, probe);
}

bool zone_admit_caller(ngx_shm_zone_t* z, const Config& cfg, const VirtualKey& caller, int64_t tokens,
                       int64_t* retry_after_ms, const char** which) {
    auto team = cfg.team_limits.find(caller.team_id);
    bool team_limited = team != cfg.team_limits.end();
    if (!caller.rpm_limit && !caller.tpm_limit && !team_limited) return true;  // no lock at all
    ShmHeader* sh = header(z);
    ngx_slab_pool_t* p = pool(z);
    uint64_t now = ngx_current_msec;
    uint64_t window = rate_window_ms(cfg);
    Lock lock(z);
    CallerSlot* key_slot = caller.rpm_limit || caller.tpm_limit ? caller_slot(sh, p, CallerKind::virtual_key, caller.id) : nullptr;
    CallerSlot* team_slot = team_limited ? caller_slot(sh, p, CallerKind::team, caller.team_id) : nullptr;
    struct Check { CallerSlot* slot; long long rpm, tpm; const char* name; };
    Check checks[2] = {{key_slot, caller.rpm_limit, caller.tpm_limit, "virtual key"},
                       {team_slot, team_limited ? team->second.rpm_limit : 0, team_limited ? team->second.tpm_limit : 0, "team"}};
    for (const Check& check : checks) {
        if (check.slot == nullptr) continue;
        int64_t rpm_wait = 0, tpm_wait = 0;
        bool rpm_ok = rate_allows(check.slot->rpm_window, check.rpm, 1, now, window, &rpm_wait);
        bool tpm_ok = rate_allows(check.slot->tpm_window, check.tpm, tokens, now, window, &tpm_wait);
        if (!rpm_ok || !tpm_ok) {
            *retry_after_ms = std::max(rpm_ok ? 0 : rpm_wait, tpm_ok ? 0 : tpm_wait);
            *which = check.name;
            return false;
        }
    }
    for (const Check& check : checks) {
        if (check.slot == nullptr) continue;
        rate_take(check.slot->rpm_window, 1, now, window);
        rate_take(check.slot->tpm_window, tokens, now, window);
    }
    return true;
}

namespace {

// With the lock held.
void adjust_caller_locked(ShmHeader* sh, ngx_slab_pool_t* p, const Config& cfg, const VirtualKey& caller,
                          int64_t delta, uint64_t now) {
    if (delta == 0) return;
    if (caller.rpm_limit || caller.tpm_limit) {
        if (CallerSlot* c = caller_slot(sh, p, CallerKind::virtual_key, caller.id)) rate_take(c->tpm_window, delta, now, rate_window_ms(cfg));
    }
    if (cfg.team_limits.count(caller.team_id)) {
        if (CallerSlot* c = caller_slot(sh, p, CallerKind::team, caller.team_id)) rate_take(c->tpm_window, delta, now, rate_window_ms(cfg));
    }
}

}  // namespace

void zone_adjust_caller(ngx_shm_zone_t* z, const Config& cfg, const VirtualKey& caller, int64_t delta) {
    if (delta == 0) return;
    Lock lock(z);
    adjust_caller_locked(header(z), pool(z), cfg, caller, delta, ngx_current_msec);
}

void zone_attempt_done(ngx_shm_zone_t* z, RequestCtx& ctx, Candidate& c, int status,
                       Outcome outcome, int64_t cooldown_ms, const Usage* usage) {
    ShmHeader* sh = header(z);
    const Config& cfg = *ctx.cfg;
    const ProviderKey& key = cfg.keys[c.key];
    uint64_t now = ngx_current_msec;
    int64_t used_tokens = usage ? std::max<int64_t>(usage->prompt_tokens, 0) + std::max<int64_t>(usage->completion_tokens, 0) : -1;
    Lock lock(z);
    if (outcome == Outcome::success && ctx.caller_reserved) {  // without usage the estimate stays
        if (used_tokens >= 0) adjust_caller_locked(sh, pool(z), cfg, *ctx.vk, used_tokens - ctx.reserve_tokens, now);
        ctx.caller_reserved = false;
    }
    KeySlot* s = slot_for(sh, c.slot, key.id);
    if (s == nullptr) return;
    if (s->inflight) s->inflight--;
    if (outcome == Outcome::success) s->successes++;
    if (outcome == Outcome::failure) s->failures++;
    s->last_status = (uint32_t)status;
    if (cooldown_ms > 0) {
        uint64_t until = now + (uint64_t)cooldown_ms;
        if (until > s->cooldown_until) s->cooldown_until = until;
    }
    if (usage) {
        if (usage->prompt_tokens > 0) s->prompt_tokens += (uint64_t)usage->prompt_tokens;
        if (usage->completion_tokens > 0) s->completion_tokens += (uint64_t)usage->completion_tokens;
    }
    metrics_attempt_done_locked(s->metrics, ctx, c, status, cooldown_ms > 0, usage, now);
    uint64_t window = rate_window_ms(cfg);
    if (outcome == Outcome::client_gone) {
        if (status == 0) {  // the pick never became a request: give its reservations back
            rate_take(s->rpm_window, -1, now, window);
            if (ctx.reserve_tokens) rate_take(s->tpm_window, -ctx.reserve_tokens, now, window);
        }
        breaker_on_abandon(s->breaker, c.probe);
    } else {
        // TPM: the reservation becomes the real usage; a failure without usage consumed nothing
        if (used_tokens >= 0) {
            rate_take(s->tpm_window, used_tokens - ctx.reserve_tokens, now, window);
        } else if (outcome == Outcome::failure && ctx.reserve_tokens) {
            rate_take(s->tpm_window, -ctx.reserve_tokens, now, window);
        }
        if (outcome == Outcome::success && ctx.attempt.started_msec) {
            ngx_msec_t end = ctx.req.stream && ctx.attempt.status_msec ? ctx.attempt.status_msec : (ngx_msec_t)now;
            latency_record(s->latency, now, latency_window_ms(cfg), (uint64_t)(end - ctx.attempt.started_msec));
        }
        // the key's fault is what earns a cooldown (not an invalid request, not a client that left)
        breaker_on_result(s->breaker, outcome == Outcome::failure && cooldown_ms > 0, c.probe,
                          (uint32_t)key.breaker_threshold, (uint64_t)key.cooldown_seconds * 1000, now);
    }
    c.probe = false;
    ctx.breaker_state = (uint8_t)breaker_state(s->breaker, now);
}

namespace {

// Balancing, limits and breaker of one key (docs/design.md §9); with the lock held.
void add_balance_status(json_t* o, const Config& cfg, const ProviderKey& k, KeySlot* s, uint64_t now) {
    uint64_t window = rate_window_ms(cfg);
    uint64_t samples = 0;
    int64_t p50 = latency_p50(s->latency, now, latency_window_ms(cfg), &samples);
    json_object_set_new(o, "strategy", json_string(std::string(balance_strategy_name(cfg.providers[k.provider].balancing)).c_str()));
    json_object_set_new(o, "priority", json_integer(k.priority));
    json_object_set_new(o, "p50_ms", p50 < 0 ? json_null() : json_integer(p50));
    json_object_set_new(o, "latency_samples", json_integer((json_int_t)samples));
    json_object_set_new(o, "rpm_limit", k.rpm ? json_integer(k.rpm) : json_null());
    json_object_set_new(o, "tpm_limit", k.tpm ? json_integer(k.tpm) : json_null());
    json_object_set_new(o, "rpm_used", json_integer(rate_usage(s->rpm_window, now, window)));
    json_object_set_new(o, "tpm_used", json_integer(rate_usage(s->tpm_window, now, window)));
    BreakerState state = breaker_state(s->breaker, now);
    json_object_set_new(o, "breaker", json_string(std::string(breaker_state_name(state)).c_str()));
    json_object_set_new(o, "consecutive_failures", json_integer(s->breaker.consecutive_failures));
    json_object_set_new(o, "breaker_threshold", json_integer(k.breaker_threshold));
}

// The limited virtual keys and teams with their window usage; with the lock held.
json_t* callers_status(ShmHeader* sh, const Config& cfg, uint64_t now) {
    json_t* list = json_array();
    uint64_t window = rate_window_ms(cfg);
    for (CallerSlot* head : sh->callers) {
        for (CallerSlot* c = head; c; c = c->next) {
            json_t* o = json_object();
            json_object_set_new(o, "kind", json_string(c->kind == CallerKind::team ? "team" : "virtual_key"));
            json_object_set_new(o, "id", json_integer(c->id));
            json_object_set_new(o, "rpm_used", json_integer(rate_usage(c->rpm_window, now, window)));
            json_object_set_new(o, "tpm_used", json_integer(rate_usage(c->tpm_window, now, window)));
            json_array_append_new(list, o);
        }
    }
    return list;
}

}  // namespace

std::string zone_status_json(ngx_shm_zone_t* z) {
    auto cfg = zone_config(z);
    ShmHeader* sh = header(z);
    JsonPtr root(json_object());
    JsonPtr keys(json_array());
    uint64_t now = ngx_current_msec;
    {
        Lock lock(z);
        json_object_set_new(root.get(), "generation", json_integer(sh->generation));
        json_object_set_new(root.get(), "epoch", json_integer((json_int_t)sh->epoch));
        json_object_set_new(root.get(), "applied_at", json_integer((json_int_t)sh->applied_at));
        json_object_set_new(root.get(), "now", json_integer((json_int_t)ngx_time()));  // the status page's clock
        json_object_set_new(root.get(), "slots", json_integer(sh->nslots));
        json_object_set_new(root.get(), "config_version", json_integer((json_int_t)sh->version));
        JsonPtr workers(json_array());
        for (size_t i = 0, n = zone_worker_count(); i < n; i++) {
            const WorkerRecord& w = sh->workers[i];
            json_t* o = json_object();
            json_object_set_new(o, "worker", json_integer((json_int_t)i));
            json_object_set_new(o, "pid", json_integer(__atomic_load_n(&w.pid, __ATOMIC_RELAXED)));
            json_object_set_new(o, "config_version",
                                json_integer((json_int_t)__atomic_load_n(&w.version, __ATOMIC_ACQUIRE)));
            json_object_set_new(o, "parses", json_integer((json_int_t)__atomic_load_n(&w.parses, __ATOMIC_RELAXED)));
            json_object_set_new(o, "request_parses",
                                json_integer((json_int_t)__atomic_load_n(&w.request_parses, __ATOMIC_RELAXED)));
            json_array_append_new(workers.get(), o);
        }
        json_object_set_new(root.get(), "workers", workers.release());
        if (cfg) json_object_set_new(root.get(), "callers", callers_status(sh, *cfg, now));
        if (cfg) {
            static const std::vector<int> none;
            const auto& slots = g_view.slots ? *g_view.slots : none;
            for (size_t i = 0; i < cfg->keys.size(); i++) {
                const ProviderKey& k = cfg->keys[i];
                json_t* o = json_object();
                json_object_set_new(o, "id", json_integer(k.id));
                json_object_set_new(o, "provider", json_string(cfg->providers[k.provider].name.c_str()));
                json_object_set_new(o, "label", json_string(k.label.c_str()));
                json_object_set_new(o, "weight", json_integer(k.weight));
                json_object_set_new(o, "enabled", json_boolean(k.enabled && cfg->providers[k.provider].enabled));
                KeySlot* s = i < slots.size() ? slot_for(sh, slots[i], k.id) : nullptr;
                if (s) {
                    json_object_set_new(o, "inflight", json_integer(s->inflight));
                    json_object_set_new(o, "cooldown_remaining_ms",
                                        json_integer(s->cooldown_until > now ? (json_int_t)(s->cooldown_until - now) : 0));
                    json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
                    json_object_set_new(o, "successes", json_integer((json_int_t)s->successes));
                    json_object_set_new(o, "failures", json_integer((json_int_t)s->failures));
                    json_object_set_new(o, "last_status", json_integer(s->last_status));
                    json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)s->prompt_tokens));
                    json_object_set_new(o, "completion_tokens", json_integer((json_int_t)s->completion_tokens));
                    add_balance_status(o, *cfg, k, s, now);
                }
                json_array_append_new(keys.get(), o);
            }
        }
    }
    json_object_set_new(root.get(), "keys", keys.release());
    std::string status = json_dump_compact(root.get());
    std::string spool = log_spool_status_json();  // the request-log spool, docs/design.md §11
    if (!spool.empty()) status.insert(status.size() - 1, "," + spool);
    return status;
}

ModelMetricsTable* zone_model_metrics(ngx_shm_zone_t* z) { return header(z)->model_metrics; }

ContinuationMetrics* zone_continuation_metrics(ngx_shm_zone_t* z) { return &header(z)->continuations; }

ZoneMetricsView zone_metrics_view(ngx_shm_zone_t* z) {
    auto cfg = zone_config(z);
    ShmHeader* sh = header(z);
    ZoneMetricsView view;
    uint64_t now = ngx_current_msec;
    view.models = sh->model_metrics;
    view.continuations = &sh->continuations;
    if (cfg) {
        view.keys.resize(cfg->keys.size());
        for (size_t i = 0; i < view.keys.size(); i++) {  // names copied before the lock
            const ProviderKey& k = cfg->keys[i];
            view.keys[i].id = k.id;
            view.keys[i].provider = cfg->providers[k.provider].name;
            view.keys[i].label = k.label;
        }
    }
    static const std::vector<int> none;
    const auto& slots = g_view.slots ? *g_view.slots : none;
    Lock lock(z);
    view.generation = sh->generation;
    view.applied_at = sh->applied_at;
    for (size_t i = 0; i < view.keys.size(); i++) {
        const ProviderKey& k = cfg->keys[i];
        KeyMetricsView& v = view.keys[i];
        KeySlot* s = i < slots.size() ? slot_for(sh, slots[i], k.id) : nullptr;
        if (s == nullptr) continue;
        v.has_slot = true;
        v.inflight = s->inflight;
        v.cooldown_remaining_ms = s->cooldown_until > now ? s->cooldown_until - now : 0;
        v.breaker = breaker_state(s->breaker, now);
        v.prompt_tokens = s->prompt_tokens;
        v.completion_tokens = s->completion_tokens;
        v.counters = s->metrics;
    }
    return view;
}

}  // namespace routeshift
