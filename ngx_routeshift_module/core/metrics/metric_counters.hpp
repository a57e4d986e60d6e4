// The counters behind the Prometheus endpoint (docs/design.md §14): plain fixed-size data that the
// shared zone stores as is (per key slot, and per (provider, model) pair in a bounded table), so
// every worker adds to the same numbers and they survive `nginx -s reload`. Additions are relaxed
// atomic adds: the per-key counters are written under the zone lock anyway, the (provider, model)
// ones from the log phase without it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace routeshift {

// Latency histogram buckets (upper bounds, ms); the Prometheus `le` labels are these in seconds.
// From 50 ms (a fast TTFB) to 5 min (a long stream); slower samples land in +Inf only.
inline constexpr uint32_t kMetricsBucketBoundsMs[] = {50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000};
inline constexpr size_t kMetricsBuckets = sizeof(kMetricsBucketBoundsMs) / sizeof(kMetricsBucketBoundsMs[0]);

struct MetricsHistogram {
    uint64_t buckets[kMetricsBuckets];  // NOT cumulative: samples <= bound and > the previous bound
    uint64_t count;                     // every sample (the +Inf bucket)
    uint64_t sum_ms;
};

void histogram_observe(MetricsHistogram& histogram, uint64_t ms);

// HTTP status codes: the ones the gateway and providers commonly answer get a slot each, any
// other falls into its class's "other" slot, so the counters stay fixed-size whatever the
// providers send.
struct TrackedStatus {
    int code;
    std::string_view text;
};
inline constexpr TrackedStatus kTrackedStatusCodes[] = {
    {200, "200"}, {400, "400"}, {401, "401"}, {402, "402"}, {403, "403"}, {404, "404"},
    {408, "408"}, {409, "409"}, {413, "413"}, {422, "422"}, {429, "429"}, {499, "499"},
    {500, "500"}, {502, "502"}, {503, "503"}, {504, "504"}, {529, "529"}};
inline constexpr size_t kTrackedStatusCount = sizeof(kTrackedStatusCodes) / sizeof(kTrackedStatusCodes[0]);
// tracked codes, then "other" of 1xx..5xx, then anything outside 100..599 (0 = no status)
inline constexpr size_t kStatusSlots = kTrackedStatusCount + 5 + 1;

size_t status_slot(int status);
// The labels of a slot: code ("429", or "other") and class ("4xx", or "unknown").
struct StatusLabels {
    std::string_view code;
    std::string_view status_class;
};
StatusLabels status_slot_labels(size_t slot);

// The error classes of docs/design.md §20 that are counted per key: the request's fault, never
// retried on the same model (the retryable ones show in the status codes and cooldowns).
inline constexpr std::string_view kRequestErrorClassNames[] = {"context_length", "content_policy", "invalid_request"};
inline constexpr size_t kRequestErrorClasses = sizeof(kRequestErrorClassNames) / sizeof(kRequestErrorClassNames[0]);

// One provider key's attempts (lives in the key's zone slot, reset when the slot is reassigned).
struct KeyMetrics {
    uint64_t attempts[kStatusSlots];  // by the attempt's status (499: the client left first)
    uint64_t retries;                 // attempts that were not their request's first
    uint64_t cooldowns;               // attempts that parked the key
    uint64_t cost_microcents;         // what the attempts' reported usage cost at the price in force
    uint64_t request_errors[kRequestErrorClasses];  // error answers by class (kRequestErrorClassNames)
    uint64_t context_fallbacks;       // context-length errors that switched their request to its fallback
    MetricsHistogram ttfb;            // pick → status line
    MetricsHistogram duration;        // pick → end of the attempt
};

// One attempt, as the transport saw it.
struct AttemptSample {
    int status = 0;
    bool retry = false;
    bool cooldown = false;
    int64_t ttfb_ms = -1;      // -1: no status line arrived
    int64_t duration_ms = 0;
    int64_t cost_microcents = 0;
    int request_error = -1;     // index into kRequestErrorClassNames; -1: none
    bool context_fallback = false;
};
void key_metrics_record(KeyMetrics& metrics, const AttemptSample& sample);

// Client requests of one (provider, model) pair.
struct ModelMetrics {
    uint64_t requests[kStatusSlots];  // by the status the client got
    uint64_t prompt_tokens, completion_tokens;
    uint64_t cost_microcents;
    MetricsHistogram ttfb;            // request start → first byte to the client
    MetricsHistogram duration;        // request start → log phase
};

// One finished client request (tokens and cost summed over its attempts).
struct RequestSample {
    int status = 0;
    int64_t ttfb_ms = -1;      // -1: nothing was sent
    int64_t duration_ms = 0;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    int64_t cost_microcents = 0;
};
void model_metrics_record(ModelMetrics& metrics, const RequestSample& sample);

// Mid-stream continuations (docs/design.md §19), by outcome: a request whose broken stream a
// continuation finished (continued) or that ended with the error event after trying (failed); a
// target that refused the continuation request (rejected); a break that could not be continued
// (impossible: a cut tool call, several choices, no attempt left).
enum class ContinuationOutcome { continued, rejected, impossible, failed };
inline constexpr std::string_view kContinuationOutcomeNames[] = {"continued", "rejected", "impossible", "failed"};
inline constexpr size_t kContinuationOutcomes = sizeof(kContinuationOutcomeNames) / sizeof(kContinuationOutcomeNames[0]);
struct ContinuationMetrics {
    uint64_t outcomes[kContinuationOutcomes];
};

// Relaxed atomic read of a counter another worker may be adding to.
inline uint64_t counter_load(const uint64_t& counter) { return __atomic_load_n(&counter, __ATOMIC_RELAXED); }

}  // namespace routeshift
