// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
// one writer for every metric family the module exports, so label values are escaped in one place.
#pragma once
#include "metrics/metric_counters.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace routeshift {

using MetricLabel = std::pair<std::string_view, std::string_view>;  // name, value (unescaped)

// A series' labels (at most kMaxLabels; more is a programming error: std::length_error). `with`
// adds labels to a common set, e.g. a key's labels plus the status code.
class MetricLabels {
public:
    static constexpr size_t kMaxLabels = 8;
    MetricLabels(std::initializer_list<MetricLabel> labels) { add(labels); }
    MetricLabels with(std::initializer_list<MetricLabel> more) const {
        MetricLabels all = *this;
        all.add(more);
        return all;
    }
    const MetricLabel* begin() const { return items_.data(); }
    const MetricLabel* end() const { return items_.data() + size_; }
    size_t size() const { return size_; }

private:
    void add(std::initializer_list<MetricLabel> labels);
    std::array<MetricLabel, kMaxLabels> items_{};
    size_t size_ = 0;
};

// Appends `value` escaped for a label value: backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value);

class PrometheusText {
public:
    explicit PrometheusText(std::string& out) : out_(out) {}

    // `# HELP` and `# TYPE` (counter, gauge, histogram), once per family, before its samples.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const MetricLabels& labels, uint64_t value);
    void sample(std::string_view name, const MetricLabels& labels, int64_t value);
    void sample(std::string_view name, const MetricLabels& labels, double value);
    // `name_bucket{…,le="0.05"}` … (cumulative, le in seconds), `le="+Inf"`, `name_sum` (seconds),
    // `name_count`. Buckets read while other workers add are clamped so they never decrease.
    void histogram(std::string_view name, const MetricLabels& labels, const MetricsHistogram& histogram);

private:
    void series(std::string_view name, std::string_view suffix, const MetricLabels& labels);
    std::string& out_;
};

}  // namespace routeshift
