// Time-bucketed log-scale latency histograms (see latency_histogram.hpp).
#include "routing/latency_histogram.hpp"

#include <bit>
#include <cmath>

namespace routeshift {
namespace {

uint64_t bucket_length(uint64_t window_ms) {
    uint64_t length = window_ms / kLatencyBuckets;
    return length ? length : 1;
}

// Two bins per octave: the octave from the highest set bit, the half from the next bit.
int bin_of(uint64_t ms) {
    if (ms < 1) return 0;
    int octave = 63 - std::countl_zero(ms);
    int half = octave > 0 ? (int)((ms >> (octave - 1)) & 1) : 0;
    int bin = 1 + octave * 2 + half;
    return bin < kLatencyBins ? bin : kLatencyBins - 1;
}

// The geometric middle of a bin, in ms (bin 0 is below 1 ms).
int64_t bin_middle(int bin) {
    if (bin == 0) return 0;
    double low = std::pow(2.0, (bin - 1) / 2.0);
    double high = std::pow(2.0, bin / 2.0);
    return (int64_t)std::llround(std::sqrt(low * high));
}

bool bucket_in_window(uint64_t index, uint64_t now_index) {
    return index <= now_index && now_index - index < (uint64_t)kLatencyBuckets;
}

}  // namespace

void latency_record(LatencyHistogram& histogram, uint64_t now_ms, uint64_t window_ms, uint64_t latency_ms) {
    uint64_t index = now_ms / bucket_length(window_ms) + 1;  // 0 marks a bucket never written
    int slot = (int)(index % kLatencyBuckets);
    if (histogram.bucket_index[slot] != index) {  // a bucket from an earlier round: reuse it
        histogram.bucket_index[slot] = index;
        for (uint32_t& count : histogram.counts[slot]) count = 0;
    }
    uint32_t& count = histogram.counts[slot][bin_of(latency_ms)];
    if (count != UINT32_MAX) count++;
}

int64_t latency_p50(const LatencyHistogram& histogram, uint64_t now_ms, uint64_t window_ms, uint64_t* samples) {
    uint64_t now_index = now_ms / bucket_length(window_ms) + 1;
    uint64_t per_bin[kLatencyBins] = {};
    uint64_t total = 0;
    for (int b = 0; b < kLatencyBuckets; b++) {
        if (histogram.bucket_index[b] == 0 || !bucket_in_window(histogram.bucket_index[b], now_index)) continue;
        for (int i = 0; i < kLatencyBins; i++) {
            per_bin[i] += histogram.counts[b][i];
            total += histogram.counts[b][i];
        }
    }
    if (samples) *samples = total;
    if (total == 0) return -1;
    uint64_t half = (total + 1) / 2, seen = 0;
    for (int i = 0; i < kLatencyBins; i++) {
        seen += per_bin[i];
        if (seen >= half) return bin_middle(i);
    }
    return bin_middle(kLatencyBins - 1);
}

}  // namespace routeshift
