// Shared declarations of the nginx glue: configuration structs, the per-request context and the
// entry points each glue file provides. Logic lives in core/ (no nginx headers there).
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include "accounting/session_inference.hpp"
#include "ingress/chat_request.hpp"
#include "ingress/endpoint_route.hpp"
#include "config/config_snapshot.hpp"
#include "routing/model_resolver.hpp"
#include "routing/planner.hpp"
#include "egress/openai/usage_scanner.hpp"
#include "dialect/openai_error.hpp"
#include "egress/error_class.hpp"
#include "egress/provider_adapter.hpp"
#include "egress/openai/stream_relay.hpp"
#include "egress/wire_adapter.hpp"
#include "egress/openai/upstream_request.hpp"
#include "accounting/request_record.hpp"
#include "util/body_source.hpp"
#include "metrics/metric_counters.hpp"

#include <memory>
#include <new>
#include <list>
#include <initializer_list>
#include <span>
#include <new>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

extern "C" ngx_module_t ngx_http_routeshift_module;

namespace routeshift {

// ---- configuration --------------------------------------------------------------------------

struct Zone;  // ngx_routeshift_zone.cpp
struct RelayCall;  // ngx_routeshift_relay.cpp
struct EmbeddingsCall;  // ngx_routeshift_embeddings.cpp
struct LogSpool;  // ngx_routeshift_log_spool.cpp
struct StreamContinuation;  // ngx_routeshift_continuation.hpp

struct MainConf {
    ngx_shm_zone_t* shm_zone = nullptr;
    ngx_str_t snapshot_file = ngx_null_string;
    ngx_uint_t keepalive_max = NGX_CONF_UNSET_UINT;  // idle upstream connections per worker
    ngx_msec_t keepalive_timeout = NGX_CONF_UNSET_MSEC;
    ngx_msec_t config_poll = NGX_CONF_UNSET_MSEC;    // how often a worker looks for a new snapshot
    LogSpool* log_spool = nullptr;                   // routeshift_log_spool (docs/design.md §11)

    ngx_array_t* admin_socket_modes = nullptr;       // routeshift_admin_socket_mode (ngx_routeshift_admin.cpp)
    ngx_str_t admin_token = ngx_null_string;         // routeshift_admin_token_file's token
};

struct LocConf {
    ngx_http_upstream_conf_t upstream;  // timeouts, tls context, hide headers
    ngx_flag_t pass = 0;                // routeshift_pass
    ngx_flag_t admin = 0;               // routeshift_admin
    ngx_flag_t metrics = 0;             // routeshift_metrics (Prometheus text, docs/design.md §14)
    size_t max_body_size = NGX_CONF_UNSET_SIZE;
    ngx_uint_t retry_budget = NGX_CONF_UNSET_UINT;
    ngx_msec_t first_token_timeout = NGX_CONF_UNSET_MSEC;  // streams: attempt start -> first content
    ngx_msec_t stream_idle_timeout = NGX_CONF_UNSET_MSEC;  // streams: between two reads once relaying
    ngx_flag_t stream_continuation = NGX_CONF_UNSET;       // streams broken mid-answer are continued (§19)
    ngx_str_t environment = ngx_null_string;  // routeshift_environment, matched by rule conditions
    ngx_str_t ssl_trusted_certificate = ngx_null_string;
    ngx_flag_t ssl_verify = NGX_CONF_UNSET;
    ngx_http_core_loc_conf_t* clcf = nullptr;  // this location's core conf (body buffering)
};

// ---- per-request state ------------------------------------------------------------------------

// Where one key sends one model: computed once per config version and worker, then shared by
// every request (no URL parsing or string building per request). The planner sees it as the
// UpstreamEndpoint it is.
struct EndpointEntry : UpstreamEndpoint {
    bool ok = false;
    std::string error;
    std::string conn_key;                 // keepalive pool key: TLS name + "|" + host
    std::string peer_name_text;           // "host:port" for logs
    ngx_str_t peer_name{};                // points at peer_name_text
    std::vector<unsigned char> ip_sockaddr;  // IP-literal hosts: the address, port set
    socklen_t ip_socklen = 0;
};
// Keyed by key index, stream flag and model; `bytes` approximates what the entries hold, so the
// cache is bounded in memory and not only in entries (clients choose model names).
struct EndpointCache : std::unordered_map<std::string, EndpointEntry> {
    size_t bytes = 0;
};

// One provider key that may serve this request: the planner's candidate plus transport state.
struct Candidate : PlannedCandidate {
    int slot = -1;              // shared-zone slot of the key
    const EndpointEntry* ent = nullptr;  // the planner's endpoint (null when unusable)
    bool tried = false;         // picked by an attempt (or reserved for the first one)
    bool probe = false;         // its latest pick is the key's half-open circuit-breaker probe
    ngx_addr_t addr{};          // resolved address (pool memory, or the entry's IP address)
};

// The request's life (docs/design.md §6). Each nginx callback checks and advances it.
enum class Phase : uint8_t {
    reading_body,       // authenticated, the client body is being read
    resolving,          // planned; DNS lookups of the candidates' hosts in flight
    awaiting_headers,   // an attempt's request is out; its status and headers are awaited
    awaiting_error_body,  // an error status: its body decides retry vs relay
    holding,            // a 2xx answer is read before its headers go out (docs/design.md §10)
    relaying,           // the answer's headers are decided, its body goes to the client
    complete,           // the upstream body is complete, accounted, flushed to the client
    failed,             // the gateway answers with its own error (RequestCtx::error)
};

// How the current answer's body is handled.
enum class BodyMode : uint8_t {
    passthrough,        // bytes relayed untouched (OpenAI JSON); usage scanned on the way
    translated,         // through `translator` (re-framed: no Content-Length)
    error,              // an error body, buffered and normalised into the OpenAI error
};

// One upstream attempt: reset by the balancer (peer_get) for every attempt.
struct Attempt {
    ngx_http_status_t status{};
    ngx_http_chunked_t chunked{};
    int upstream_status = 0;          // 0 until the status line arrived
    bool recorded = false;            // the outcome is already accounted in the zone
    int64_t pending_cooldown_ms = 0;  // cooldown earned by the status
    Usage error_usage;                // what an error body said the attempt used (cost ceiling)
    std::string head;                 // request line + headers; the body follows it
    SplicedBody spliced;              // the body as spans of the client's (wires that splice)
    ngx_msec_t started_msec = 0;      // when the attempt was picked (latency balancing)
    ngx_msec_t status_msec = 0;       // when its status line arrived (a stream's time to first byte)
    ngx_output_chain_ctx_t* file_writer = nullptr;  // sends its file ranges (ngx_routeshift_body_file.cpp)
    const char* failure = nullptr;    // why a 2xx attempt failed ($routeshift_attempt_statuses token)
    bool classified = false;          // an error answer's class is known (docs/design.md §20)
    UpstreamErrorClass error_class = UpstreamErrorClass::invalid_request;
    bool context_fallback = false;    // its context-length error switched the request to the fallback
};

// A stream's time limits (ngx_routeshift_stream_timers.cpp, docs/design.md §10): the request's
// own copy of the upstream conf, whose read_timeout nginx arms, switched per phase.
struct StreamTimers {
    ngx_http_upstream_conf_t* conf = nullptr;  // null: no limit configured, the location's conf
    ngx_msec_t first_token = 0;  // attempt start -> first content-bearing event (0 = off)
    ngx_msec_t idle = 0;         // between two reads once the stream is relayed (0 = off)
    ngx_msec_t read = 0;         // the socket read timeout otherwise in force
};

// The answer being relayed (reset with every attempt).
struct Response {
    BodyMode mode = BodyMode::passthrough;
    bool converted = false;      // another wire format turned into OpenAI's
    int client_status = 0;       // status the client gets for a translated error (0 = upstream's)
    std::string peek;            // de-chunked copy of an error body, to decide on a retry
    std::string error_body;      // error body, up to kMaxErrorBody
    std::unique_ptr<ResponseTranslator> translator;
    UsageScanner usage_scanner;  // passthrough JSON: finds "usage" as the bytes pass
    // held answer (docs/design.md §10): what the client gets once the headers are released
    std::string held;
    off_t body_left = -1;        // Content-Length bytes still to read while holding
    bool released = false;       // release_response_headers ran for this answer
    bool stream_held = false;    // a stream held until its first content, now released
};

struct RequestCtx {
    ngx_http_request_t* r = nullptr;
    ngx_shm_zone_t* zone = nullptr;
    Phase phase = Phase::reading_body;
    std::shared_ptr<const Config> cfg;
    std::shared_ptr<const std::vector<int>> slots;  // taken with cfg: a push may come mid-request
    std::shared_ptr<EndpointCache> endpoints;       // same version as cfg
    std::list<EndpointEntry> own_endpoints;         // when the shared cache is full (a list: no allocation while empty)
    const VirtualKey* vk = nullptr;

    // what the client called (docs/design.md §18): its answers and errors are in its dialect
    Endpoint endpoint = Endpoint::chat_completions;
    Dialect dialect = Dialect::openai;
    std::string_view allow;      // a 405's Allow header
    std::string converted_body;  // an Anthropic client's body in OpenAI shape (`req` views it)
    std::shared_ptr<RelayCall> relay;  // Endpoint::openai_relay: the call relayed (docs/design.md §21)
    // A relayed upload nginx kept in its temp file (req.body is then empty): attempts send ranges of it.
    ngx_file_t* client_body_file = nullptr;
    size_t client_body_size = 0;
    std::shared_ptr<EmbeddingsCall> embeddings;  // Endpoint::embeddings (docs/design.md §22)
    // The model the path names (views r->uri): Azure-style /openai/deployments/{name}/... (§18)
    std::string_view path_model;

    // plan
    ChatRequest req;             // views the client body (read_body_in_memory's one buffer)
    Plan plan;                   // targets, bodies, budget (its candidates live on in `cands`)
    std::vector<Candidate> cands;
    int reserved_pick = -1;      // picked with the health check, used by the first attempt
    bool reserved_probe = false; // that pick is its key's half-open circuit-breaker probe
    // limits (docs/design.md §9): tokens every pick reserves against TPM limits, and the caller's
    // (virtual key, team) reservation until real usage corrects it
    int64_t reserve_tokens = 0;
    bool caller_reserved = false;
    uint8_t breaker_state = 0;   // BreakerState of the latest attempt's key ($routeshift_breaker_state)

    // DNS
    ngx_uint_t dns_pending = 0;
    std::vector<ngx_resolver_ctx_t*> dns_ctxs;

    // attempts
    int current = -1;            // index into cands of the latest attempt
    ngx_uint_t attempts = 0;
    std::string attempt_statuses;  // "429,200"
    Attempt attempt;
    Response response;
    StreamTimers timers;
    bool midstream_failure = false;  // the relayed answer broke before its end
    bool client_aborted = false;     // the client closed its connection first
    bool stale_retry_used = false;   // a stale pooled connection already got its free retry
    StreamContinuation* continuation = nullptr;  // mid-stream continuation (§19; pool storage), null when off
    Usage usage;
    ngx_msec_t start_msec = 0;
    ngx_msec_t first_byte_msec = 0;
    std::string last_failure;    // message of the last failed attempt
    std::string scratch;         // reusable output buffer for the stream relay

    // cost ceiling (ngx_routeshift_cost_ceiling.cpp)
    int64_t spent_microcents = 0;       // what the finished attempts really cost
    bool cost_unknown = false;          // an attempt used tokens at a model without a price (§12)
    bool cost_ceiling_stopped = false;  // the ceiling ended the chain before the budget did

    std::vector<AttemptRecord> attempt_log;  // every accounted attempt, in order, for the request log

    // metrics (ngx_routeshift_metrics.cpp): tokens and cost summed over the attempts, counted
    // per (provider, model) in the log phase
    RequestSample metrics_sample;

    // accounting: the session this request belongs to (forced by metadata.session_id or inferred,
    // ngx_routeshift_accounting_headers.cpp); its id() goes to the response header,
    // $routeshift_session_id and the request log ("" while unknown)
    SessionInference session;
    bool trailers_pending = false; // a stream announced the cost/session trailers

    // errors produced by the gateway itself (rendered by the error filter)
    ApiError error;
    ngx_uint_t retry_after = 0;  // seconds, for Retry-After on our own 503/429
    bool replace_body = false;   // error filter: body replaced by error_json (an error, or a list page §21)
    std::string error_json;

    RequestCtx() = default;
    RequestCtx(const RequestCtx&) = delete;
    RequestCtx& operator=(const RequestCtx&) = delete;
    ~RequestCtx();

    bool relaying() const { return phase == Phase::relaying || phase == Phase::complete; }
    // Gives back the pick reserved with the health check when no attempt will use it.
    void release_reserved_pick() noexcept;

    void fail(int status, std::string message, std::string_view type, std::string param,
              std::string code) {
        error.status = status;
        error.message = std::move(message);
        error.type = std::string(type);
        error.param = std::move(param);
        error.code = std::move(code);
        phase = Phase::failed;
    }
};

// Placement-new into pool-cleanup storage: the destructor runs when the pool goes away.
template <typename T, typename... Args>
T* pool_new(ngx_pool_t* pool, Args&&... args) {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cln == nullptr) return nullptr;
    T* obj = new (cln->data) T(std::forward<Args>(args)...);
    cln->handler = [](void* p) noexcept { static_cast<T*>(p)->~T(); };
    return obj;
}

// Like pool_new, for an object made on every request and too large for the request pool's block
// (RequestCtx, ~5 KB, would be a malloc and a free each time): its storage comes from a small
// per-worker list of blocks freed by earlier requests (workers are single-threaded), hot in the
// cache; the list keeps at most kKeptBlocks, the rest goes back to the heap.
template <typename T>
class RecycledStorage {
public:
    static void* take() {
        if (count_ > 0) return blocks_[--count_];
        return ::operator new(sizeof(T), std::align_val_t(alignof(T)), std::nothrow);
    }
    static void give(void* block) noexcept {
        if (count_ < kKeptBlocks) blocks_[count_++] = block;
        else ::operator delete(block, std::align_val_t(alignof(T)));
    }

private:
#if defined(__SANITIZE_ADDRESS__)
    static constexpr size_t kKeptBlocks = 0;  // ASan sees every block freed: use-after-free stays visible
#else
    static constexpr size_t kKeptBlocks = 64;
#endif
    static inline void* blocks_[kKeptBlocks > 0 ? kKeptBlocks : 1];
    static inline size_t count_ = 0;
};

template <typename T>
T* pool_new_recycled(ngx_pool_t* pool) {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == nullptr) return nullptr;
    void* block = RecycledStorage<T>::take();
    if (block == nullptr) return nullptr;
    T* obj;
    try {
        obj = new (block) T();
    } catch (...) {
        RecycledStorage<T>::give(block);
        throw;
    }
    cln->data = obj;
    cln->handler = [](void* p) noexcept {
        static_cast<T*>(p)->~T();
        RecycledStorage<T>::give(p);
    };
    return obj;
}

inline std::string_view string_view_of(const ngx_str_t& s) {
    return {reinterpret_cast<const char*>(s.data), s.len};
}

// Finds a request header by lower-case name (linear scan; used for a couple of headers).
std::string_view find_header(const ngx_list_t& headers, std::string_view lowcase_name);

// ---- entry points between glue files ------------------------------------------------------

// ngx_routeshift_zone.cpp
ngx_int_t zone_init(ngx_shm_zone_t* shm_zone, void* data) noexcept;
// The worker's parsed config (parsed by zone_refresh; inline only when the worker has none yet).
std::shared_ptr<const Config> zone_config(ngx_shm_zone_t* shm_zone);
// Parses the zone's snapshot if its version changed since this worker last did, and records the
// version this worker holds in the zone. Called by the poll timer and the admin handler.
void zone_refresh(ngx_shm_zone_t* shm_zone, bool in_request);
// Worker start-up: resets this worker's acknowledgement and parses the current snapshot.
void zone_worker_start(ngx_shm_zone_t* shm_zone);
// Worker processes of this cycle, and how many of them hold zone version >= `version`.
size_t zone_worker_count();
size_t zone_workers_holding(ngx_shm_zone_t* shm_zone, uint64_t version, size_t workers);
// The shared-zone slot of each key of the config zone_config() returned last (same version).
std::shared_ptr<const std::vector<int>> zone_slots(ngx_shm_zone_t* shm_zone);
std::shared_ptr<EndpointCache> zone_endpoints(ngx_shm_zone_t* shm_zone);
// Validates and stores a snapshot; `version` gets the zone version workers must reach.
bool zone_apply_snapshot(ngx_shm_zone_t* shm_zone, std::string_view json, std::string* error,
                         int64_t* generation, size_t* nkeys, uint64_t* version);
// Alias invalidation: returns the zone version workers must reach.
uint64_t zone_invalidate(ngx_shm_zone_t* shm_zone);
int64_t zone_generation(ngx_shm_zone_t* shm_zone, uint64_t* epoch);
// When the zone's snapshot was applied (unix seconds; 0 = none): the models list's `created`.
uint64_t zone_applied_at(ngx_shm_zone_t* shm_zone);
// Hex SHA-256 of the snapshot text the zone holds ("" when none; docs/design.md §15).
std::string zone_snapshot_digest(ngx_shm_zone_t* shm_zone);
std::string zone_status_json(ngx_shm_zone_t* shm_zone);
// What the zone says about a plan's candidates, in one lock round-trip: how many are healthy,
// the shortest remaining cooldown of the others, and the first attempt's key, already picked
// (smooth WRR) and marked in-flight (-1 when none is healthy).
struct ZoneAssessment {
    KeyHealth health;
    int pick = -1;  // index into the candidates
    bool probe = false;  // the pick is its key's half-open circuit-breaker probe
};
// Keys over their RPM/TPM limit (`tokens` = the request's TPM reservation) count as limited, keys
// with an open circuit as cooling; the pick follows the provider's strategy and priority tiers.
ZoneAssessment zone_assess_and_pick(ngx_shm_zone_t* shm_zone, const Config& cfg, const std::vector<int>& slots,
                                    std::span<const PlannedCandidate> candidates, int64_t tokens);
// Admits the caller (virtual key, then team) under its RPM/TPM limits and reserves 1 request and
// `tokens`; one lock round-trip, only for callers that have limits. False: `retry_after_ms` and
// `which` ("virtual key" / "team") say why.
bool zone_admit_caller(ngx_shm_zone_t* shm_zone, const Config& cfg, const VirtualKey& caller, int64_t tokens,
                       int64_t* retry_after_ms, const char** which);
// Corrects the caller's token reservation by `delta` (real usage minus the reservation).
void zone_adjust_caller(ngx_shm_zone_t* shm_zone, const Config& cfg, const VirtualKey& caller, int64_t delta);
// Picks the next key among `cands` (smooth WRR), marks it in-flight. -1 when none is eligible.
// `ignore_cooldown` allows keys that are cooling down (used when only those remain). `only` >= 0:
// that candidate again, tried or not (a list's next page, §21), if its limits and circuit allow.
int zone_pick(ngx_shm_zone_t* shm_zone, RequestCtx& ctx, bool ignore_cooldown, int only = -1);
// A pick that never became an attempt (its host did not resolve, the request ended first):
// in-flight and request counts go back.
// `tokens` is the TPM reservation to give back, `probe` whether the pick was a breaker probe.
void zone_release_pick(ngx_shm_zone_t* shm_zone, const Config& cfg, int slot, size_t key, int64_t tokens,
                       bool probe);
// How an attempt ended, for the per-key counters.
enum class Outcome { success, failure, client_gone };
// The attempt on candidate `c` ended: in-flight--, counters, optional cooldown, and the tokens
// it used (`usage` may be null), latency, TPM correction, circuit breaker and (on success) the
// caller's TPM correction, in one lock round-trip. Status 0 with client_gone undoes a pick.
void zone_attempt_done(ngx_shm_zone_t* shm_zone, RequestCtx& ctx, Candidate& c,
                       int status, Outcome outcome, int64_t cooldown_ms, const Usage* usage);

// Where ngx_routeshift_spend.cpp anchors its table in the zone (null until the first push); read
// and written with the zone's slab mutex held.
void** zone_spend_anchor(ngx_shm_zone_t* shm_zone);

// ngx_routeshift_spend.cpp (docs/design.md §13)
// GET …/spend (what the zone holds) and PUT …/spend (replace the spent amounts).
ngx_int_t spend_admin_handler(ngx_http_request_t* r, ngx_shm_zone_t* zone);
// The caller (ctx.vk and its team) against its spend budgets: false = ctx.fail(429
// budget_exceeded) with Retry-After set. No lock unless the key or its team has a budget.
bool spend_admit_caller(RequestCtx& ctx);
// How many requests were refused with budget_exceeded since the zone was created (metrics, status).
void spend_refusals(ngx_shm_zone_t* zone, uint64_t* by_virtual_key, uint64_t* by_team);

// ngx_routeshift_handler.cpp
ngx_int_t chat_handler(ngx_http_request_t* r) noexcept;
RequestCtx* get_ctx(ngx_http_request_t* r);
// Virtual-key and team RPM/TPM limits, before planning: false = 429 set in ctx.
bool admit_caller(RequestCtx& ctx);
// What the planner asks the glue (endpoints from the per-config cache, health from the zone).
std::unique_ptr<PlanEnvironment> glue_plan_environment(RequestCtx& ctx);
// ctx.plan from plan_request with the location's directives (retry budget, environment) over `env`.
void plan_with_location(RequestCtx& ctx, PlanEnvironment& env);
// ctx.plan is made: its candidates become ctx.cands, then the hosts resolve and the upstream
// starts (or the plan's error / static answer is sent).
void start_planned(RequestCtx& ctx);

// ngx_routeshift_relay.cpp (docs/design.md §21): the relayed OpenAI endpoints
// The body is in: validate it, plan the call (model, files provider or the object's key), start.
void relay_read_and_plan(ngx_http_request_t* r, RequestCtx& ctx);
// The request's body is multipart for a relayed endpoint: read by read_body_spooled.
bool relay_body_spools(ngx_http_request_t* r);
// peer_get: the head and body pieces of one attempt on candidate `c`. False + `error`: unusable.
bool relay_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* body,
                           std::string* error);
// The endpoint's name for the request log: the relayed one's ("files_upload"), else the dispatch's.
std::string_view request_endpoint_name(const RequestCtx& ctx);
// The translator of a 2xx relayed answer (usage, client ids of provider objects).
std::unique_ptr<ResponseTranslator> relay_translator(RequestCtx& ctx, std::string_view content_type);
// A files/batches list gathers the caller's objects over the provider's pages (§21):
// complete_held_answer, after the page's attempt is accounted: true when another provider page is
// due; the caller then ends the attempt through nginx's next-upstream path (INVALID_HEADER), with
// one try left for the page's attempt.
bool relay_turn_page(ngx_http_request_t* r, RequestCtx& ctx);
// The attempt ending now is a page turn (peer_free keeps its connection), or the next one is due.
bool relay_page_due(const RequestCtx& ctx);
// peer_get of a later page (or a stale connection's retry of one): the same key again (-1: its
// limits or circuit refuse it).
int relay_page_pick(RequestCtx& ctx);
// The current attempt fetches a later page: its failure ends the call instead of a retry.
bool relay_following_page(const RequestCtx& ctx);
// The error filter, when a later page failed: the client's page of the objects kept so far
// (`has_more`: true) for a 200 in place of the error; false when nothing was kept.
bool relay_interrupted_page(const RequestCtx& ctx, std::string* body);

// ngx_routeshift_embeddings.cpp (docs/design.md §22): embeddings in every dialect, on every wire
// The body is in: parse it in the client's dialect, plan the call on the keys that can serve it, start.
void embeddings_read_and_plan(ngx_http_request_t* r, RequestCtx& ctx);
// peer_get: the head and body pieces of one attempt on candidate `c`. False + `error`: unusable.
bool embeddings_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* body,
                                std::string* error);
// The translator of a 2xx embeddings answer (relayed with its usage, or translated).
std::unique_ptr<ResponseTranslator> embeddings_translator(RequestCtx& ctx, std::string_view content_type);

// ngx_routeshift_body.cpp: the client body in memory, as one buffer (never a temp file; chunked
// bodies take memory in proportion to their size). Use instead of ngx_http_read_client_request_body;
// `done` runs when the whole body is in.
ngx_int_t read_body_in_memory(ngx_http_request_t* r, ngx_http_client_body_handler_pt done);
// The body read_body_in_memory read (empty when there is none); false if it is not one buffer.
bool request_body_text(ngx_http_request_t* r, std::string_view* out);
ngx_int_t body_filter_init(ngx_conf_t* cf);  // installs its request body filter

// ngx_routeshift_body_file.cpp (docs/design.md §21): a multipart upload read by nginx's own reader
// (its client-body temp file beyond client_body_buffer_size), parsed through windows and sent as
// ranges of the file.
ngx_int_t read_body_spooled(ngx_http_request_t* r, ngx_http_client_body_handler_pt done);
struct SpooledBody {
    std::string_view memory;      // a body small enough to stay in memory, or
    ngx_file_t* file = nullptr;   // nginx's temp file, holding the body at [0, size)
    size_t size = 0;
};
// Where the body read_body_spooled read lies (a small body in several buffers is gathered into
// `gathered`). False when nginx left it in a shape it never does (logged by the caller).
bool spooled_body(ngx_http_request_t* r, std::string* gathered, SpooledBody* out);
// The temp file read through bounded windows (pread).
std::unique_ptr<BodySource> file_body_source(ngx_file_t* file, size_t size);
// peer_get: a link that sends [offset, offset + size) of `file` (see send_file_ranges).
ngx_chain_t* file_range_link(ngx_pool_t* pool, ngx_file_t* file, size_t offset, size_t size);
// peer_get: the request's output chain sends file_range_link ranges (set for every attempt).
void send_file_ranges(RequestCtx& ctx);

// ngx_routeshift_resolve.cpp: resolves every candidate host, then calls `done(ctx)`.
void resolve_candidates(RequestCtx& ctx, void (*done)(RequestCtx&));

// ngx_routeshift_upstream.cpp
void start_upstream(RequestCtx& ctx);
ngx_int_t upstream_init_conf(ngx_conf_t* cf, LocConf* conf);

// ngx_routeshift_keepalive.cpp
ngx_int_t keepalive_get(ngx_peer_connection_t* pc, const Candidate& c);
void keepalive_save(ngx_peer_connection_t* pc, ngx_http_upstream_t* u, const Candidate& c);
void keepalive_configure(ngx_uint_t max, ngx_msec_t timeout);

// ngx_routeshift_error_filter.cpp
ngx_int_t error_filter_init(ngx_conf_t* cf);
// Sends the gateway's own error for ctx.error (status + OpenAI JSON) — returns the status so
// callers can `return finalize_error(ctx)` from a handler.
ngx_int_t finalize_error(RequestCtx& ctx);

// ngx_routeshift_admin.cpp
ngx_int_t admin_handler(ngx_http_request_t* r) noexcept;
// An admin answer: JSON `body` with `status`; an error in the OpenAI envelope.
ngx_int_t admin_send_json(ngx_http_request_t* r, ngx_uint_t status, const std::string& body);
ngx_int_t admin_send_error(ngx_http_request_t* r, ngx_uint_t status, std::string message);

// ngx_routeshift_send_document.cpp: a complete in-memory answer with its Content-Type and extra
// headers (name, value: string literals or other memory that outlives the request).
using DocumentHeader = std::pair<std::string_view, std::string_view>;
ngx_int_t send_document(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type,
                        std::string_view body, std::initializer_list<DocumentHeader> headers);

// ngx_routeshift_status_page.cpp: the human status page (HTML that renders …/status live).
ngx_int_t send_status_page(ngx_http_request_t* r);

ngx_int_t ready_handler(ngx_http_request_t* r) noexcept;  // routeshift_ready
char* set_admin_socket_mode(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_admin_token_file(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// init_module: applies routeshift_admin_socket_mode to the unix sockets nginx just created.
ngx_int_t admin_apply_socket_modes(ngx_cycle_t* cycle) noexcept;

// ngx_routeshift_variables.cpp
ngx_int_t variables_add(ngx_conf_t* cf);

// ngx_routeshift_cost_ceiling.cpp (docs/design.md "Cost ceiling"; all no-ops without a ceiling)
// The attempt on `c` ended: what it really used (its error body's usage, else its answer's) joins
// the request's spend.
void cost_ceiling_attempt_done(RequestCtx& ctx, const Candidate& c);
// The price row in force for candidate `c` when the request was planned (null: unpriced).
const ModelPrice* attempt_price(const RequestCtx& ctx, const Candidate& c);
// The current attempt failed with a retryable `error_body`; `may_retry`: the retry budget allows
// another attempt. Whether to retry: not when the budget says no, nor when untried candidates
// remain but none fits the ceiling after this attempt's spend. When the ceiling is what ends the
// chain, sets ctx.cost_ceiling_stopped (the error is relayed with the header).
bool cost_ceiling_allows_retry(RequestCtx& ctx, std::string_view error_body, bool may_retry);
// Before a later attempt's pick: the untried candidates that no longer fit become unusable.
void cost_ceiling_before_pick(RequestCtx& ctx);
// The ceiling refused the request, or ended its chain of attempts (X-RouteShift-Cost-Ceiling).
bool cost_ceiling_exceeded(const RequestCtx& ctx);
// $routeshift_cost_ceiling: "exceeded", "unpriced" (500 cost_ceiling_unpriced), "within" (a
// ceiling applied and did not end the request), "" (no ceiling).
std::string_view cost_ceiling_state(const RequestCtx& ctx);

// ngx_routeshift_log_spool.cpp: the request-log spool (docs/design.md §11)
char* log_spool_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;  // routeshift_log_spool
ngx_int_t log_spool_postconfiguration(ngx_conf_t* cf);  // registers the log-phase writer
void log_spool_worker_start(ngx_cycle_t* cycle);
void log_spool_worker_exit(ngx_cycle_t* cycle);  // closes (renames) this worker's file
// `"spool":{...}` for the status JSON, "" when no spool is configured.
std::string log_spool_status_json();
// A spool is configured (this worker writes request-log records): else no record is built.
bool log_spool_enabled();
// Prometheus families routeshift_spool_backlog_bytes, routeshift_spool_limit_bytes and
// routeshift_spool_dropped_records_total (none when no spool is configured).
class PrometheusText;
void write_spool_metrics(PrometheusText& text);

// ngx_routeshift_request_log.cpp: the request-log record
// The attempt on `c` was accounted with `status` (as in $routeshift_attempt_statuses): note it.
// failure: the attempt-status token when a 2xx answer failed or a time limit hit ("" otherwise).
void request_log_attempt_done(RequestCtx& ctx, const Candidate& c, int status, std::string_view failure);
// The request's record as one JSON line (no newline); `ctx` null when our handler never ran.
std::string request_log_line(ngx_http_request_t* r, const RequestCtx* ctx, std::string_view request_id);

// ngx_routeshift_accounting_headers.cpp (docs/design.md §12): sessions and cost in the response.
// The request's session: the checked metadata.session_id, or inferred; false = 400 set in ctx.
bool session_begin(RequestCtx& ctx);
// An attempt's 2xx answer begins (after its translator is made): a first turn's id follows it.
void session_answer_start(RequestCtx& ctx);
// The whole body of an OpenAI JSON answer relayed untouched (a first turn's id follows it).
void session_passthrough_answer(RequestCtx& ctx, const JsonMembers& answer);
// Installs the header/body filters (before error_filter_init, so they run after it).
ngx_int_t accounting_filter_init(ngx_conf_t* cf);

// ngx_routeshift_regex.cpp: installs the PCRE2 engine routing-rule regexes compile with.
void regex_engine_install();

// ngx_routeshift_dialect.cpp (docs/design.md §18): the client dialect's side of the answer
// The translator of the current attempt's 2xx answer for a client that does not speak OpenAI.
std::unique_ptr<ResponseTranslator> dialect_translator(RequestCtx& ctx, std::string_view content_type);
// A translated answer's fresh id: `prefix` ("chatcmpl-", "msg_", "") + "rs" + 16 hex digits.
std::string fresh_answer_id(std::string_view prefix);
// A static rule's answer in the client's dialect, written to `body`; fills ctx.usage.
void dialect_static_answer(RequestCtx& ctx, std::string* body);
// POST /v1/messages/count_tokens: the gateway's estimate of the request's input tokens.
ngx_int_t send_count_tokens(RequestCtx& ctx);

// ngx_routeshift_count_tokens.cpp (docs/design.md §18 "count_tokens")
// The requested model resolves to a provider that relays count_tokens (the Anthropic API) with an
// enabled key: plan and relay; else the gateway's estimate answers.
bool count_tokens_may_relay(const RequestCtx& ctx);
// After planning: every candidate that cannot relay becomes unusable. False: none is left.
bool count_tokens_keep_relay_candidates(RequestCtx& ctx);
// A relaying key's endpoint is its Messages endpoint's count_tokens sibling.
void count_tokens_endpoint_for(const RequestCtx& ctx, const ProviderKey& key, EndpointEntry* entry);

// ngx_routeshift_models_list.cpp (docs/design.md §18 "Models list")
// GET /v1/models[/{id}] with `anthropic-version` is Anthropic's: its errors too (before auth).
void models_choose_dialect(RequestCtx& ctx);
// The caller is authenticated: the list, or the one model `id`, in the client's dialect.
ngx_int_t send_models_answer(RequestCtx& ctx, std::string_view id);

// A static rule's content through a dialect writer (OpenAI or Anthropic): one message, usage
// zero, finished; the writer's usage becomes the request's.
template <typename Writer>
void write_static_content(Writer& writer, RequestCtx& ctx, std::string* body) {
    writer.bind(body);
    writer.message_start({});
    if (!ctx.plan.static_content.empty()) writer.text_delta(ctx.plan.static_content);
    canonical::UsageReport nothing;
    nothing.input_tokens = 0;
    nothing.output_tokens = 0;
    writer.usage(nothing);
    writer.finish(canonical::FinishReason::stop);
    ctx.usage = writer.usage();
}

// ngx_routeshift_rule_response.cpp: a static rule's answer (returns the status/rc for
// ngx_http_finalize_request), and X-RouteShift-Rule on a rule-decided answer.
ngx_int_t send_static_answer(RequestCtx& ctx);
ngx_int_t add_rule_header(RequestCtx& ctx);

}  // namespace routeshift
