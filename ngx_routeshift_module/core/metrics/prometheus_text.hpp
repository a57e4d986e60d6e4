// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
// one writer for every metric family the module exports, so label values are escaped in one place.
#pragma once
#include "metrics/metric_counters.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace routeshift {

using MetricLabel = std::pair<std::string_view, std::string_view>;  // name, value (unescaped)
using MetricLabels = std::initializer_list<MetricLabel>;

// Appends `value` escaped for a label value: backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value);

class PrometheusText {
public:
    explicit PrometheusText(std::string& out) : out_(out) {}

    // `# HELP` and `# TYPE` (counter, gauge, histogram), once per family, before its samples.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, MetricLabels labels, uint64_t value);
    void sample(std::string_view name, MetricLabels labels, int64_t value);
    void sample(std::string_view name, MetricLabels labels, double value);
    // `name_bucket{…,le="0.05"}` … (cumulative, le in seconds), `le="+Inf"`, `name_sum` (seconds),
    // `name_count`. Buckets read while other workers add are clamped so they never decrease.
    void histogram(std::string_view name, MetricLabels labels, const MetricsHistogram& histogram);

private:
    void series(std::string_view name, std::string_view suffix, MetricLabels labels, const MetricLabel* extra);
    std::string& out_;
};

}  // namespace routeshift
