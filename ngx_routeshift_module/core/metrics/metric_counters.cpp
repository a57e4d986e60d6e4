// Recording into the zone's metric counters (docs/design.md §14).
#include "metrics/metric_counters.hpp"

namespace routeshift {
namespace {

void add(uint64_t& counter, uint64_t value) { __atomic_fetch_add(&counter, value, __ATOMIC_RELAXED); }

uint64_t non_negative(int64_t value) { return value > 0 ? (uint64_t)value : 0; }

constexpr std::string_view kClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

void histogram_observe(MetricsHistogram& histogram, uint64_t ms) {
    for (size_t i = 0; i < kMetricsBuckets; i++) {
        if (ms <= kMetricsBucketBoundsMs[i]) {
            add(histogram.buckets[i], 1);
            break;
        }
    }
    add(histogram.count, 1);
    add(histogram.sum_ms, ms);
}

size_t status_slot(int status) {
    for (size_t i = 0; i < kTrackedStatusCount; i++)
        if (kTrackedStatusCodes[i].code == status) return i;
    if (status >= 100 && status <= 599) return kTrackedStatusCount + (size_t)(status / 100 - 1);
    return kStatusSlots - 1;
}

StatusLabels status_slot_labels(size_t slot) {
    if (slot < kTrackedStatusCount) {
        return {kTrackedStatusCodes[slot].text, kClassNames[kTrackedStatusCodes[slot].code / 100 - 1]};
    }
    if (slot < kTrackedStatusCount + 5) return {"other", kClassNames[slot - kTrackedStatusCount]};
    return {"other", "unknown"};
}

void key_metrics_record(KeyMetrics& metrics, const AttemptSample& sample) {
    add(metrics.attempts[status_slot(sample.status)], 1);
    if (sample.retry) add(metrics.retries, 1);
    if (sample.cooldown) add(metrics.cooldowns, 1);
    if (sample.request_error >= 0 && (size_t)sample.request_error < kRequestErrorClasses)
        add(metrics.request_errors[sample.request_error], 1);
    if (sample.context_fallback) add(metrics.context_fallbacks, 1);
    add(metrics.cost_microcents, non_negative(sample.cost_microcents));
    if (sample.ttfb_ms >= 0) histogram_observe(metrics.ttfb, (uint64_t)sample.ttfb_ms);
    histogram_observe(metrics.duration, non_negative(sample.duration_ms));
}

void model_metrics_record(ModelMetrics& metrics, const RequestSample& sample) {
    add(metrics.requests[status_slot(sample.status)], 1);
    add(metrics.prompt_tokens, non_negative(sample.prompt_tokens));
    add(metrics.completion_tokens, non_negative(sample.completion_tokens));
    add(metrics.cost_microcents, non_negative(sample.cost_microcents));
    if (sample.ttfb_ms >= 0) histogram_observe(metrics.ttfb, (uint64_t)sample.ttfb_ms);
    histogram_observe(metrics.duration, non_negative(sample.duration_ms));
}

}  // namespace routeshift
