// Spend budgets: UTC day and month periods (leap years, year ends, before 1970), the over-budget
// decision and its Retry-After, and the key-versus-team verdict.
#include "accounting/spend_budget.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {
constexpr int64_t kDay = 86400;
constexpr int64_t k2026_12_02_10h = 1796205600;  // 2026-12-02T10:00:00Z
constexpr int64_t k2026_12_01 = 1796083200;       // 2026-12-01T00:00:00Z
constexpr int64_t k2027_01_01 = 1798761600;       // 2027-01-01T00:00:00Z
}  // namespace

static void test_periods_are_utc_days_and_calendar_months(void**) {
    BudgetPeriods p = budget_periods(k2026_12_02_10h);
    assert_int_equal(p.day_start, k2026_12_02_10h - 10 * 3600);
    assert_int_equal(p.day_end, p.day_start + kDay);
    assert_int_equal(p.month_start, k2026_12_01);
    assert_int_equal(p.month_end, k2027_01_01);  // December rolls over into the next year
    // the last second of a month still belongs to it; the next one starts the next month
    assert_int_equal(budget_periods(k2027_01_01 - 1).month_start, k2026_12_01);
    assert_int_equal(budget_periods(k2027_01_01).month_start, k2027_01_01);
    // February of a leap year (2024) has 29 days, of 2100 (not a leap year) 28, of 2000 29
    BudgetPeriods feb2024 = budget_periods(1707955200);  // 2024-02-15
    assert_int_equal(feb2024.month_start, 1706745600);   // 2024-02-01
    assert_int_equal(feb2024.month_end - feb2024.month_start, 29 * kDay);
    BudgetPeriods feb2100 = budget_periods(4106332800);  // 2100-02-15
    assert_int_equal(feb2100.month_end - feb2100.month_start, 28 * kDay);
    BudgetPeriods feb2000 = budget_periods(950572800);   // 2000-02-15
    assert_int_equal(feb2000.month_end - feb2000.month_start, 29 * kDay);
    // before the epoch: floor, not truncation toward zero
    BudgetPeriods dec1969 = budget_periods(-1);
    assert_int_equal(dec1969.day_start, -kDay);
    assert_int_equal(dec1969.month_start, -31 * kDay);
    assert_int_equal(dec1969.month_end, 0);
    assert_int_equal(utc_month_start(k2026_12_02_10h), k2026_12_01);
}

static void test_within_budget(void**) {
    BudgetPeriods p = budget_periods(k2026_12_02_10h);
    SpendBudget none;
    assert_false(none.any());
    assert_int_equal((int)check_spend_budget(none, {1 << 30, 1 << 30}, p, k2026_12_02_10h).exceeded, (int)BudgetPeriod::none);
    SpendBudget budget{1000, 50000};
    assert_true(budget.any());
    BudgetVerdict v = check_spend_budget(budget, {999, 49999}, p, k2026_12_02_10h);
    assert_int_equal((int)v.exceeded, (int)BudgetPeriod::none);
    assert_int_equal(v.retry_after_seconds, 0);
}

static void test_daily_budget_reached_waits_until_midnight(void**) {
    BudgetPeriods p = budget_periods(k2026_12_02_10h);
    BudgetVerdict v = check_spend_budget({1000, 0}, {1000, 1000}, p, k2026_12_02_10h);  // reached exactly
    assert_int_equal((int)v.exceeded, (int)BudgetPeriod::day);
    assert_int_equal(v.retry_after_seconds, 14 * 3600);
    // one second before midnight: wait at least 1 s, never 0
    v = check_spend_budget({1000, 0}, {5000, 5000}, budget_periods(p.day_end - 1), p.day_end - 1);
    assert_int_equal(v.retry_after_seconds, 1);
}

static void test_monthly_budget_wins_over_daily(void**) {
    BudgetPeriods p = budget_periods(k2026_12_02_10h);
    BudgetVerdict v = check_spend_budget({1000, 5000}, {2000, 5000}, p, k2026_12_02_10h);
    assert_int_equal((int)v.exceeded, (int)BudgetPeriod::month);
    assert_int_equal(v.retry_after_seconds, k2027_01_01 - k2026_12_02_10h);
    // monthly budget only
    v = check_spend_budget({0, 5000}, {0, 7000}, p, k2026_12_02_10h);
    assert_int_equal((int)v.exceeded, (int)BudgetPeriod::month);
}

static void test_later_verdict_is_what_the_caller_waits_for(void**) {
    BudgetVerdict within, day{BudgetPeriod::day, 100}, month{BudgetPeriod::month, 9000};
    assert_int_equal((int)later_verdict(within, within).exceeded, (int)BudgetPeriod::none);
    assert_int_equal((int)later_verdict(day, within).exceeded, (int)BudgetPeriod::day);
    assert_int_equal((int)later_verdict(within, month).exceeded, (int)BudgetPeriod::month);
    assert_int_equal(later_verdict(day, month).retry_after_seconds, 9000);
    assert_int_equal(later_verdict(month, day).retry_after_seconds, 9000);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periods_are_utc_days_and_calendar_months),
        cmocka_unit_test(test_within_budget),
        cmocka_unit_test(test_daily_budget_reached_waits_until_midnight),
        cmocka_unit_test(test_monthly_budget_wins_over_daily),
        cmocka_unit_test(test_later_verdict_is_what_the_caller_waits_for),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
