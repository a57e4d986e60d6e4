// Prometheus text exposition format 0.0.4 writer (docs/design.md §14).
#include "metrics/prometheus_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace routeshift {
namespace {

void append_help(std::string& out, std::string_view text) {  // HELP escapes backslash and line feed
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

void append_format(std::string& out, const char* format, auto value) {
    char buf[48];
    int n = snprintf(buf, sizeof buf, format, value);
    if (n > 0) out.append(buf, std::min<size_t>((size_t)n, sizeof buf - 1));
}

void append_seconds(std::string& out, uint64_t ms) {
    append_format(out, "%" PRIu64, ms / 1000);
    char frac[8];
    snprintf(frac, sizeof frac, ".%03u", (unsigned)(ms % 1000));
    out += frac;
}

}  // namespace

void MetricLabels::add(std::initializer_list<MetricLabel> labels) {
    if (size_ + labels.size() > kMaxLabels) throw std::length_error("too many metric labels");
    for (const MetricLabel& label : labels) items_[size_++] = label;
}

void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_help(out_, help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::series(std::string_view name, std::string_view suffix, const MetricLabels& labels) {
    out_ += name;
    out_ += suffix;
    if (labels.size() == 0) {
        out_ += ' ';
        return;
    }
    out_ += '{';
    for (const MetricLabel& label : labels) {
        if (&label != labels.begin()) out_ += ',';
        out_ += label.first;
        out_ += "=\"";
        append_label_value(out_, label.second);
        out_ += '"';
    }
    out_ += "} ";
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, uint64_t value) {
    series(name, "", labels);
    append_format(out_, "%" PRIu64, value);
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, int64_t value) {
    series(name, "", labels);
    append_format(out_, "%" PRId64, value);
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, double value) {
    series(name, "", labels);
    append_format(out_, "%.3f", value);
    out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, const MetricLabels& labels, const MetricsHistogram& histogram) {
    uint64_t count = counter_load(histogram.count);
    uint64_t cumulative = 0;
    std::string le;
    for (size_t i = 0; i < kMetricsBuckets; i++) {
        cumulative += counter_load(histogram.buckets[i]);
        le.clear();
        append_seconds(le, kMetricsBucketBoundsMs[i]);
        series(name, "_bucket", labels.with({{"le", le}}));
        append_format(out_, "%" PRIu64, std::min(cumulative, count));
        out_ += '\n';
    }
    series(name, "_bucket", labels.with({{"le", "+Inf"}}));
    append_format(out_, "%" PRIu64, count);
    out_ += '\n';
    series(name, "_sum", labels);
    append_seconds(out_, counter_load(histogram.sum_ms));
    out_ += '\n';
    series(name, "_count", labels);
    append_format(out_, "%" PRIu64, count);
    out_ += '\n';
}

}  // namespace routeshift
