// prometheus_text: the exposition-format writer (label escaping, families, cumulative histograms).
#include "metrics/prometheus_text.hpp"

#include <stdexcept>

#include "test_util.hpp"

using namespace routeshift;

static void test_label_values_escaped(void**) {
    std::string out;
    append_label_value(out, "a\\b\"c\nd");
    assert_str_eq(out, "a\\\\b\\\"c\\nd");
    out.clear();
    append_label_value(out, "gpt-4o/mini {x=1}");
    assert_str_eq(out, "gpt-4o/mini {x=1}");  // nothing else is special in a label value
}

static void test_family_and_samples(void**) {
    std::string out;
    PrometheusText text(out);
    text.family("routeshift_x_total", "counter", "Help with a \\ and\na line feed.");
    text.sample("routeshift_x_total", {}, (uint64_t)7);
    text.sample("routeshift_x_total", {{"provider", "open\"ai"}, {"key", "k\\1"}}, (uint64_t)18446744073709551615ull);
    text.sample("routeshift_g", {{"a", "b"}}, (int64_t)-3);
    text.sample("routeshift_s", {}, 1.5);
    assert_str_eq(out,
                  "# HELP routeshift_x_total Help with a \\\\ and\\na line feed.\n"
                  "# TYPE routeshift_x_total counter\n"
                  "routeshift_x_total 7\n"
                  "routeshift_x_total{provider=\"open\\\"ai\",key=\"k\\\\1\"} 18446744073709551615\n"
                  "routeshift_g{a=\"b\"} -3\n"
                  "routeshift_s 1.500\n");
}

static void test_histogram_cumulative(void**) {
    MetricsHistogram h{};
    histogram_observe(h, 10);      // <= 50 ms
    histogram_observe(h, 50);      // <= 50 ms (bounds are inclusive)
    histogram_observe(h, 51);      // <= 100 ms
    histogram_observe(h, 2000);    // <= 2.5 s
    histogram_observe(h, 999999);  // beyond 300 s: +Inf only
    assert_int_equal(h.count, 5);
    assert_int_equal(h.sum_ms, 10 + 50 + 51 + 2000 + 999999);
    std::string out;
    PrometheusText text(out);
    text.histogram("rs_seconds", {{"key", "a"}}, h);
    assert_str_eq(out,
                  "rs_seconds_bucket{key=\"a\",le=\"0.050\"} 2\n"
                  "rs_seconds_bucket{key=\"a\",le=\"0.100\"} 3\n"
                  "rs_seconds_bucket{key=\"a\",le=\"0.250\"} 3\n"
                  "rs_seconds_bucket{key=\"a\",le=\"0.500\"} 3\n"
                  "rs_seconds_bucket{key=\"a\",le=\"1.000\"} 3\n"
                  "rs_seconds_bucket{key=\"a\",le=\"2.500\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"5.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"10.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"30.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"60.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"120.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"300.000\"} 4\n"
                  "rs_seconds_bucket{key=\"a\",le=\"+Inf\"} 5\n"
                  "rs_seconds_sum{key=\"a\"} 1002.110\n"
                  "rs_seconds_count{key=\"a\"} 5\n");
}

static void test_histogram_read_mid_update_never_exceeds_count(void**) {
    MetricsHistogram h{};
    h.buckets[0] = 3;  // a writer added to the bucket but not yet to the count
    h.count = 2;
    std::string out;
    PrometheusText text(out);
    text.histogram("rs_seconds", {}, h);
    assert_true(out.find("rs_seconds_bucket{le=\"0.050\"} 2\n") != std::string::npos);
    assert_true(out.find("rs_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
}

static void test_labels_with(void**) {
    MetricLabels key{{"provider", "p"}, {"key", "k"}};
    std::string out;
    PrometheusText text(out);
    text.sample("rs_total", key.with({{"code", "200"}}), (uint64_t)1);
    text.sample("rs_total", key, (uint64_t)2);
    assert_str_eq(out, "rs_total{provider=\"p\",key=\"k\",code=\"200\"} 1\nrs_total{provider=\"p\",key=\"k\"} 2\n");
    bool threw = false;
    try {
        MetricLabels eight{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", "6"}, {"g", "7"}, {"h", "8"}};
        (void)eight.with({{"i", "9"}});
    } catch (const std::length_error&) {
        threw = true;
    }
    assert_true(threw);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_values_escaped),
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_histogram_cumulative),
        cmocka_unit_test(test_histogram_read_mid_update_never_exceeds_count),
        cmocka_unit_test(test_labels_with),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
