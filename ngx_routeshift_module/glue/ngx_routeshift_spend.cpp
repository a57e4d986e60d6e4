// Spend budgets (docs/design.md §13): the spent amounts routeshift-sync pushes (PUT …/spend) live
// in the shared zone as one open-addressing table keyed by (virtual key | team, id), replaced whole
// by every push; the request path looks its caller up under the zone lock (O(1), no allocation)
// and only when the key or its team has a budget. The decision is core/accounting/spend_budget's.
#include "ngx_routeshift.hpp"
#include "accounting/spend_budget.hpp"
#include "accounting/spend_report.hpp"

namespace routeshift {
namespace {

enum class SpendKind : uint8_t { virtual_key = 1, team = 2 };

struct SpendEntry {
    int64_t id;  // 0 = empty
    int64_t day_microcents;
    int64_t month_microcents;
    SpendKind kind;
};

// One push: the UTC day and month its amounts belong to, and the amounts.
struct SpendTable {
    int64_t day_start, month_start, as_of, received_at;
    uint32_t capacity;  // a power of two, at least twice the entries
    uint32_t virtual_keys, teams;
    SpendEntry entries[1];
};

// Anchored in the zone header; lives as long as the zone (reloads included).
struct SpendZone {
    SpendTable* table;
    uint64_t pushes;
    uint64_t refused_virtual_key, refused_team;  // 429 budget_exceeded, by who was over
};

ngx_slab_pool_t* slab_pool(ngx_shm_zone_t* z) { return reinterpret_cast<ngx_slab_pool_t*>(z->shm.addr); }

struct SpendLock {
    ngx_slab_pool_t* pool;
    explicit SpendLock(ngx_shm_zone_t* z) : pool(slab_pool(z)) { ngx_shmtx_lock(&pool->mutex); }
    ~SpendLock() { ngx_shmtx_unlock(&pool->mutex); }
    SpendLock(const SpendLock&) = delete;
    SpendLock& operator=(const SpendLock&) = delete;
};

uint32_t bucket_of(SpendKind kind, int64_t id, uint32_t capacity) {
    uint64_t h = (uint64_t)id * 2 + (uint64_t)kind;
    h *= 0x9E3779B97F4A7C15ull;  // Fibonacci hashing spreads consecutive ids
    return (uint32_t)(h >> 32) & (capacity - 1);
}

const SpendEntry* find_entry(const SpendTable* t, SpendKind kind, int64_t id) {
    for (uint32_t i = bucket_of(kind, id, t->capacity);; i = (i + 1) & (t->capacity - 1)) {
        const SpendEntry& e = t->entries[i];
        if (e.id == 0) return nullptr;  // never full: capacity >= 2 × entries
        if (e.id == id && e.kind == kind) return &e;
    }
}

void insert_entry(SpendTable* t, SpendKind kind, const CallerSpend& c) {
    uint32_t i = bucket_of(kind, c.id, t->capacity);
    while (t->entries[i].id != 0) i = (i + 1) & (t->capacity - 1);
    t->entries[i] = {c.id, c.day_microcents, c.month_microcents, kind};
}

// Replaces the zone's table by `report`'s amounts. False when the zone has no room.
bool store_report(ngx_shm_zone_t* z, const SpendReport& report, std::string* error) {
    size_t callers = report.virtual_keys.size() + report.teams.size();
    uint32_t capacity = 16;
    while (capacity < callers * 2) capacity *= 2;
    size_t bytes = sizeof(SpendTable) + (capacity - 1) * sizeof(SpendEntry);
    SpendLock lock(z);
    auto** anchor = reinterpret_cast<SpendZone**>(zone_spend_anchor(z));
    if (*anchor == nullptr) *anchor = static_cast<SpendZone*>(ngx_slab_calloc_locked(lock.pool, sizeof(SpendZone)));
    auto* table = *anchor ? static_cast<SpendTable*>(ngx_slab_alloc_locked(lock.pool, bytes)) : nullptr;
    if (table == nullptr) {
        *error = "routeshift_zone has no room for the spent amounts of " + std::to_string(callers) +
                 " callers; make the zone larger";
        return false;
    }
    ngx_memzero(table, bytes);
    table->day_start = report.day_start;
    table->month_start = report.month_start;
    table->as_of = report.as_of;
    table->received_at = (int64_t)ngx_time();
    table->capacity = capacity;
    table->virtual_keys = (uint32_t)report.virtual_keys.size();
    table->teams = (uint32_t)report.teams.size();
    for (const CallerSpend& c : report.virtual_keys) insert_entry(table, SpendKind::virtual_key, c);
    for (const CallerSpend& c : report.teams) insert_entry(table, SpendKind::team, c);
    if ((*anchor)->table) ngx_slab_free_locked(lock.pool, (*anchor)->table);
    (*anchor)->table = table;
    (*anchor)->pushes++;
    return true;
}

// What `kind` `id` spent in the current day and month. Amounts pushed for an earlier day or month
// count as 0: the period reset even if no push has arrived since.
SpentAmounts spent_now(const SpendTable* t, SpendKind kind, int64_t id, const BudgetPeriods& periods) {
    SpentAmounts spent;
    const SpendEntry* e = t ? find_entry(t, kind, id) : nullptr;
    if (e == nullptr) return spent;
    if (t->month_start == periods.month_start) spent.month_microcents = e->month_microcents;
    if (t->day_start == periods.day_start) spent.day_microcents = e->day_microcents;
    return spent;
}

void spend_body_handler(ngx_http_request_t* r) noexcept {
    try {
        std::string_view body;
        if (!request_body_text(r, &body)) {
            ngx_http_finalize_request(r, admin_send_error(r, 413, "spend report too large"));
            return;
        }
        SpendReport report;
        std::string error;
        auto* mc = static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_routeshift_module));
        if (!parse_spend_report(body, &report, &error) || !store_report(mc->shm_zone, report, &error)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: spend report rejected: %s", error.c_str());
            ngx_http_finalize_request(r, admin_send_error(r, 400, "spend report rejected: " + error));
            return;
        }
        ngx_http_finalize_request(r, admin_send_json(r, 200, "{\"virtual_keys\":" + std::to_string(report.virtual_keys.size()) +
                                                                 ",\"teams\":" + std::to_string(report.teams.size()) + "}"));
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: spend report failed: %s", e.what());
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: spend report failed (unknown exception)");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

std::string spend_status_json(ngx_shm_zone_t* z) {
    SpendZone copy{};
    SpendTable head{};
    {
        SpendLock lock(z);
        auto* sz = static_cast<SpendZone*>(*zone_spend_anchor(z));
        if (sz) copy = *sz;
        if (sz && sz->table) head = *sz->table;
    }
    std::string out = "{\"pushes\":" + std::to_string(copy.pushes);
    if (copy.table) {
        out += ",\"day_start\":" + std::to_string(head.day_start) + ",\"month_start\":" + std::to_string(head.month_start) +
               ",\"as_of\":" + std::to_string(head.as_of) + ",\"received_at\":" + std::to_string(head.received_at) +
               ",\"virtual_keys\":" + std::to_string(head.virtual_keys) + ",\"teams\":" + std::to_string(head.teams);
    }
    out += ",\"refused\":{\"virtual_key\":" + std::to_string(copy.refused_virtual_key) +
           ",\"team\":" + std::to_string(copy.refused_team) + "}}";
    return out;
}

}  // namespace

void spend_refusals(ngx_shm_zone_t* zone, uint64_t* by_virtual_key, uint64_t* by_team) {
    SpendLock lock(zone);
    auto* sz = static_cast<SpendZone*>(*zone_spend_anchor(zone));
    *by_virtual_key = sz ? sz->refused_virtual_key : 0;
    *by_team = sz ? sz->refused_team : 0;
}

ngx_int_t spend_admin_handler(ngx_http_request_t* r, ngx_shm_zone_t* zone) {
    if (r->method == NGX_HTTP_GET) return admin_send_json(r, 200, spend_status_json(zone));
    if (r->method != NGX_HTTP_PUT && r->method != NGX_HTTP_POST) return admin_send_error(r, 405, "use PUT or GET");
    ngx_int_t rc = read_body_in_memory(r, spend_body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
    return NGX_DONE;
}

bool spend_admit_caller(RequestCtx& ctx) {
    const VirtualKey& caller = *ctx.vk;
    auto team = ctx.cfg->team_budgets.find(caller.team_id);
    bool team_budgeted = team != ctx.cfg->team_budgets.end();
    if (!caller.budget.any() && !team_budgeted) return true;  // no lock at all
    int64_t now = (int64_t)ngx_time();
    BudgetPeriods periods = budget_periods(now);
    BudgetVerdict key_verdict, team_verdict;
    {
        SpendLock lock(ctx.zone);
        auto* sz = static_cast<SpendZone*>(*zone_spend_anchor(ctx.zone));
        const SpendTable* table = sz ? sz->table : nullptr;
        if (table == nullptr) return true;  // nothing pushed yet: nothing known to be spent
        if (caller.budget.any())
            key_verdict = check_spend_budget(caller.budget, spent_now(table, SpendKind::virtual_key, caller.id, periods),
                                             periods, now);
        if (team_budgeted)
            team_verdict = check_spend_budget(team->second, spent_now(table, SpendKind::team, caller.team_id, periods),
                                              periods, now);
        if (key_verdict.exceeded == BudgetPeriod::none && team_verdict.exceeded == BudgetPeriod::none) return true;
        if (key_verdict.exceeded != BudgetPeriod::none) sz->refused_virtual_key++;
        else sz->refused_team++;
    }
    BudgetVerdict verdict = later_verdict(key_verdict, team_verdict);
    bool by_key = verdict.exceeded == key_verdict.exceeded && verdict.retry_after_seconds == key_verdict.retry_after_seconds;
    bool monthly = verdict.exceeded == BudgetPeriod::month;
    ctx.fail(429,
             std::string("This ") + (by_key ? "virtual key" : "team") + " has used its " + (monthly ? "monthly" : "daily") +
                 " spend budget; requests are accepted again " +
                 (monthly ? "when the next month begins (UTC)." : "at 00:00 UTC."),
             "rate_limit_error", "", "budget_exceeded");
    ctx.retry_after = (ngx_uint_t)verdict.retry_after_seconds;
    return false;
}

}  // namespace routeshift
