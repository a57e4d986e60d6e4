// time_zone: TZif v2+ parsing from the real zoneinfo files (read by the test; a worker never reads
// them), local times around the DST edges of Europe/Berlin and America/New_York (from the
// transition table and from the POSIX footer rule past it), the southern hemisphere, POSIX TZ
// rule parsing, and refusal of bad data.
#include "util/time_zone.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::string zone_file(const char* name) {
    std::string path = std::string("/usr/share/zoneinfo/") + name;
    std::ifstream f(path, std::ios::binary);
    if (!f) fail_msg("cannot read %s", path.c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TimeZone zone(const char* name) {
    std::string error;
    auto z = TimeZone::parse(zone_file(name), &error);
    if (!z) fail_msg("%s rejected: %s", name, error.c_str());
    return *z;
}

int64_t utc(int64_t y, int mo, int d, int h, int mi) { return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60; }

void expect_local(const TimeZone& z, int64_t instant, int hour, int minute, int32_t offset, bool dst) {
    LocalTime t = z.local_time(instant);
    if (t.hour != hour || t.minute != minute || t.utc_offset != offset || t.dst != dst)
        fail_msg("at %lld: got %02d:%02d offset %d dst %d, expected %02d:%02d offset %d dst %d", (long long)instant,
                 t.hour, t.minute, t.utc_offset, t.dst, hour, minute, offset, dst);
}

}  // namespace

static void test_civil_calendar(void**) {
    LocalTime t = civil_from_unix(0);
    assert_int_equal(t.year, 1970);
    assert_int_equal(t.weekday, 4);  // Thursday
    t = civil_from_unix(utc(2024, 2, 29, 23, 59) + 59);
    assert_int_equal(t.month, 2);
    assert_int_equal(t.day, 29);
    assert_int_equal(t.second, 59);
    assert_int_equal(t.weekday, 4);  // 2024-02-29 was a Thursday
    t = civil_from_unix(-1);
    assert_int_equal(t.year, 1969);
    assert_int_equal(t.hour, 23);
    assert_int_equal(days_from_civil(2000, 3, 1), 11017);
}

static void test_berlin_dst_edges(void**) {
    TimeZone berlin = zone("Europe/Berlin");
    // 2025-03-30: 01:59:59 UTC+1 -> 03:00 UTC+2 at 01:00 UTC
    expect_local(berlin, utc(2025, 3, 30, 0, 59), 1, 59, 3600, false);
    expect_local(berlin, utc(2025, 3, 30, 1, 0), 3, 0, 7200, true);
    // 2025-10-26: 03:00 UTC+2 -> 02:00 UTC+1 at 01:00 UTC (02:30 happens twice)
    expect_local(berlin, utc(2025, 10, 26, 0, 30), 2, 30, 7200, true);
    expect_local(berlin, utc(2025, 10, 26, 1, 30), 2, 30, 3600, false);
    expect_local(berlin, utc(2025, 7, 1, 12, 0), 14, 0, 7200, true);
    expect_local(berlin, utc(2025, 1, 15, 12, 0), 13, 0, 3600, false);
}

static void test_new_york_dst_edges(void**) {
    TimeZone ny = zone("America/New_York");
    // 2025-03-09 02:00 EST -> 03:00 EDT (07:00 UTC); 2025-11-02 02:00 EDT -> 01:00 EST (06:00 UTC)
    expect_local(ny, utc(2025, 3, 9, 6, 59), 1, 59, -18000, false);
    expect_local(ny, utc(2025, 3, 9, 7, 0), 3, 0, -14400, true);
    expect_local(ny, utc(2025, 11, 2, 5, 59), 1, 59, -14400, true);
    expect_local(ny, utc(2025, 11, 2, 6, 0), 1, 0, -18000, false);
    LocalTime t = ny.local_time(utc(2025, 11, 2, 6, 0));
    assert_int_equal(t.weekday, 0);  // still Sunday
}

// Far past the transition table (fat files end in 2037): the footer rule decides.
static void test_footer_rule_past_the_table(void**) {
    TimeZone berlin = zone("Europe/Berlin");
    // 2100-03-28 is the last Sunday of March 2100
    expect_local(berlin, utc(2100, 3, 28, 0, 59), 1, 59, 3600, false);
    expect_local(berlin, utc(2100, 3, 28, 1, 0), 3, 0, 7200, true);
    TimeZone ny = zone("America/New_York");
    // 2100-03-14 is the second Sunday of March 2100
    expect_local(ny, utc(2100, 3, 14, 6, 59), 1, 59, -18000, false);
    expect_local(ny, utc(2100, 3, 14, 7, 0), 3, 0, -14400, true);
}

static void test_southern_hemisphere_and_fixed_zones(void**) {
    TimeZone sydney = zone("Australia/Sydney");
    expect_local(sydney, utc(2025, 1, 10, 0, 0), 11, 0, 39600, true);   // AEDT in January
    expect_local(sydney, utc(2025, 7, 10, 0, 0), 10, 0, 36000, false);  // AEST in July
    expect_local(sydney, utc(2100, 1, 10, 0, 0), 11, 0, 39600, true);   // footer, wrapping rule
    TimeZone kolkata = zone("Asia/Kolkata");
    expect_local(kolkata, utc(2025, 6, 1, 0, 0), 5, 30, 19800, false);
    TimeZone utc_zone = zone("UTC");
    expect_local(utc_zone, utc(2025, 6, 1, 8, 15), 8, 15, 0, false);
}

static void test_posix_rules(void**) {
    TimeZone::Rule rule;
    std::string error;
    assert_true(parse_posix_tz("CET-1CEST,M3.5.0,M10.5.0/3", &rule, &error));
    assert_int_equal(rule.std_offset, 3600);
    assert_int_equal(rule.dst_offset, 7200);
    assert_int_equal(rule.end.time, 3 * 3600);
    assert_true(parse_posix_tz("<+0530>-5:30", &rule, &error));
    assert_int_equal(rule.std_offset, 19800);
    assert_false(rule.has_dst);
    assert_true(parse_posix_tz("EST5EDT,M3.2.0,M11.1.0", &rule, &error));
    assert_int_equal(rule.std_offset, -18000);
    assert_true(parse_posix_tz("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", &rule, &error));  // version 3 negative times
    assert_int_equal(rule.start.time, -7200);
    assert_false(parse_posix_tz("CET", &rule, &error));
    assert_false(parse_posix_tz("CET-1CEST,M13.5.0,M10.5.0", &rule, &error));
    assert_false(parse_posix_tz("CET-1CEST,M3.5.0", &rule, &error));
    assert_true(test::contains(error, "CET-1CEST,M3.5.0"));
}

static void test_bad_data_refused(void**) {
    std::string error;
    assert_false(TimeZone::parse("", &error).has_value());
    assert_false(TimeZone::parse("not a zone file at all, really not one", &error).has_value());
    std::string data = zone_file("Europe/Berlin");
    assert_false(TimeZone::parse(data.substr(0, data.size() / 2), &error).has_value());
    assert_true(test::contains(error, "truncated"));
    std::string v1 = data;
    v1[4] = '\0';  // version 1: 32-bit times only
    assert_false(TimeZone::parse(v1, &error).has_value());
    std::string bad_footer = data.substr(0, data.rfind('\n', data.size() - 2) + 1) + "XX\n";
    assert_false(TimeZone::parse(bad_footer, &error).has_value());
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_calendar),
        cmocka_unit_test(test_berlin_dst_edges),
        cmocka_unit_test(test_new_york_dst_edges),
        cmocka_unit_test(test_footer_rule_past_the_table),
        cmocka_unit_test(test_southern_hemisphere_and_fixed_zones),
        cmocka_unit_test(test_posix_rules),
        cmocka_unit_test(test_bad_data_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
