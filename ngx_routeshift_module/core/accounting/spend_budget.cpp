#include "accounting/spend_budget.hpp"

namespace routeshift {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const int64_t era = floor_div(year, 400);
    const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

// The civil year and month of a day count (inverse of days_from_civil).
void civil_from_days(int64_t days, int64_t* year, unsigned* month) {
    days += 719468;
    const int64_t era = floor_div(days, 146097);
    const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
    const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned month_index = (5 * day_of_year + 2) / 153;
    *month = month_index < 10 ? month_index + 3 : month_index - 9;
    *year = static_cast<int64_t>(year_of_era) + era * 400 + (*month <= 2);
}

}  // namespace

int64_t utc_month_start(int64_t unix_seconds) {
    int64_t year;
    unsigned month;
    civil_from_days(floor_div(unix_seconds, kSecondsPerDay), &year, &month);
    return days_from_civil(year, month, 1) * kSecondsPerDay;
}

BudgetPeriods budget_periods(int64_t unix_seconds) {
    BudgetPeriods p;
    p.day_start = floor_div(unix_seconds, kSecondsPerDay) * kSecondsPerDay;
    p.day_end = p.day_start + kSecondsPerDay;
    int64_t year;
    unsigned month;
    civil_from_days(floor_div(unix_seconds, kSecondsPerDay), &year, &month);
    p.month_start = days_from_civil(year, month, 1) * kSecondsPerDay;
    p.month_end = days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) * kSecondsPerDay;
    return p;
}

BudgetVerdict check_spend_budget(const SpendBudget& budget, const SpentAmounts& spent, const BudgetPeriods& periods,
                                 int64_t now) {
    BudgetVerdict v;
    if (budget.monthly_microcents > 0 && spent.month_microcents >= budget.monthly_microcents) {
        v.exceeded = BudgetPeriod::month;
        v.retry_after_seconds = periods.month_end - now;
    } else if (budget.daily_microcents > 0 && spent.day_microcents >= budget.daily_microcents) {
        v.exceeded = BudgetPeriod::day;
        v.retry_after_seconds = periods.day_end - now;
    }
    if (v.exceeded != BudgetPeriod::none && v.retry_after_seconds < 1) v.retry_after_seconds = 1;
    return v;
}

BudgetVerdict later_verdict(const BudgetVerdict& a, const BudgetVerdict& b) {
    if (a.exceeded == BudgetPeriod::none) return b;
    if (b.exceeded == BudgetPeriod::none) return a;
    return b.retry_after_seconds > a.retry_after_seconds ? b : a;
}

}  // namespace routeshift
