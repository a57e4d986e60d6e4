// Time-bucketed latency histograms: what the latency balancer reads (p50 over the last window) and
// the status page shows. Plain data, stored as is in the shared zone (the zone locks around every
// call). A window is kLatencyBuckets buckets of window/kLatencyBuckets each, so old samples leave in
// steps of one bucket; each bucket counts samples in log-scale bins (two per octave of ms).
#pragma once
#include <cstdint>

namespace routeshift {

constexpr int kLatencyBuckets = 5;  // 5 one-minute buckets with the default 5 minute window
constexpr int kLatencyBins = 36;    // bin b holds [2^(b/2), 2^((b+1)/2)) ms; the last is open-ended

struct LatencyHistogram {
    uint64_t bucket_index[kLatencyBuckets];  // 1 + now_ms / bucket_ms of its samples; 0 = unused
    uint32_t counts[kLatencyBuckets][kLatencyBins];
};

// Adds one sample of `latency_ms` taken at `now_ms` (window_ms >= kLatencyBuckets).
void latency_record(LatencyHistogram& histogram, uint64_t now_ms, uint64_t window_ms, uint64_t latency_ms);

// The median of the samples of the last `window_ms` (the bin's midpoint, in ms), or -1 when
// there are none. `samples` (optional) gets their number.
int64_t latency_p50(const LatencyHistogram& histogram, uint64_t now_ms, uint64_t window_ms, uint64_t* samples = nullptr);

}  // namespace routeshift
