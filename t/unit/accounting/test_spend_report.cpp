// The spend report routeshift-sync pushes (PUT …/spend): accepted shape, and every rejection
// names what is wrong.
#include "accounting/spend_report.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {
// 2026-12-02T00:00:00Z and 2026-12-01T00:00:00Z
const std::string kBounds = R"("day_start":1796169600,"month_start":1796083200,"as_of":1796205600)";

void expect_reject(const std::string& json, const char* needle) {
    SpendReport report;
    std::string error;
    if (parse_spend_report(json, &report, &error)) fail_msg("accepted: %s", json.c_str());
    assert_contains(error, needle);
}
}  // namespace

static void test_accepts_a_report(void**) {
    SpendReport report;
    std::string error;
    std::string json = "{" + kBounds + R"(,"virtual_keys":[{"id":5,"day_microcents":120,"month_microcents":4100},)"
                       R"({"id":6,"day_microcents":0,"month_microcents":0}],"teams":[{"id":1,"day_microcents":7,"month_microcents":9}]})";
    if (!parse_spend_report(json, &report, &error)) fail_msg("rejected: %s", error.c_str());
    assert_int_equal(report.day_start, 1796169600);
    assert_int_equal(report.month_start, 1796083200);
    assert_int_equal(report.as_of, 1796205600);
    assert_int_equal(report.virtual_keys.size(), 2);
    assert_int_equal(report.virtual_keys[0].id, 5);
    assert_int_equal(report.virtual_keys[0].day_microcents, 120);
    assert_int_equal(report.virtual_keys[0].month_microcents, 4100);
    assert_int_equal(report.teams.size(), 1);
    assert_int_equal(report.teams[0].month_microcents, 9);
    // lists may be absent or empty: nobody spent anything
    assert_true(parse_spend_report("{" + kBounds + "}", &report, &error));
    assert_int_equal(report.virtual_keys.size(), 0);
    assert_int_equal(report.teams.size(), 0);
}

static void test_rejects_bad_reports(void**) {
    expect_reject("[]", "must be a JSON object");
    expect_reject("{", "");
    expect_reject(R"({"day_start":1796169600,"month_start":1796083200})", "as_of");
    expect_reject(R"({"day_start":"1796169600","month_start":1796083200,"as_of":1})", "day_start");
    expect_reject(R"({"day_start":1796169601,"month_start":1796083200,"as_of":1})", "00:00 UTC of a day");
    expect_reject(R"({"day_start":1796169600,"month_start":1796169600,"as_of":1})", "first day");
    expect_reject(R"({"day_start":1796169600,"month_start":1793491200,"as_of":1})", "first day");  // November
    expect_reject("{" + kBounds + R"(,"teams":{}})", "teams must be an array");
    expect_reject("{" + kBounds + R"(,"teams":[{"id":0,"day_microcents":1,"month_microcents":1}]})", "teams[0]: id");
    expect_reject("{" + kBounds + R"(,"virtual_keys":[{"id":3,"day_microcents":-1,"month_microcents":1}]})",
                  "virtual_keys[0]: day_microcents");
    expect_reject("{" + kBounds + R"(,"virtual_keys":[{"id":3,"day_microcents":1}]})", "month_microcents");
    expect_reject("{" + kBounds + R"(,"virtual_keys":[{"id":3,"day_microcents":1.5,"month_microcents":2}]})",
                  "integers >= 0");
    expect_reject("{" + kBounds + R"(,"virtual_keys":[{"id":3,"day_microcents":1,"month_microcents":2},)"
                  R"({"id":3,"day_microcents":1,"month_microcents":2}]})",
                  "virtual_keys[1]: duplicate id 3");
}

static void test_same_id_as_key_and_team_is_fine(void**) {
    SpendReport report;
    std::string error;
    std::string json = "{" + kBounds + R"(,"virtual_keys":[{"id":1,"day_microcents":1,"month_microcents":2}],)"
                       R"("teams":[{"id":1,"day_microcents":3,"month_microcents":4}]})";
    assert_true(parse_spend_report(json, &report, &error));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_a_report),
        cmocka_unit_test(test_rejects_bad_reports),
        cmocka_unit_test(test_same_id_as_key_and_team_is_fine),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
