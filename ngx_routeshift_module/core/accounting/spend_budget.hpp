// Spend budgets of virtual keys and teams (docs/design.md §13): the UTC day and month a spent
// amount belongs to, and whether a caller is over its budget. Plain arithmetic, no allocation: the
// request path calls check_spend_budget once per budgeted caller.
#pragma once
#include <cstdint>

namespace routeshift {

// Maximum spend per UTC day and per UTC month, in microcents (1e-6 US cent); 0 = no budget.
struct SpendBudget {
    int64_t daily_microcents = 0;
    int64_t monthly_microcents = 0;
    bool any() const { return daily_microcents > 0 || monthly_microcents > 0; }
};

// What a caller spent in the current UTC day and month (as last pushed by routeshift-sync).
struct SpentAmounts {
    int64_t day_microcents = 0;
    int64_t month_microcents = 0;
};

// The UTC day and month containing an instant, as [start, end) in unix seconds.
struct BudgetPeriods {
    int64_t day_start = 0, day_end = 0;
    int64_t month_start = 0, month_end = 0;
};
BudgetPeriods budget_periods(int64_t unix_seconds);

// Unix seconds of 00:00 UTC on the first day of the month that contains `unix_seconds`.
int64_t utc_month_start(int64_t unix_seconds);

enum class BudgetPeriod : uint8_t { none, day, month };

struct BudgetVerdict {
    BudgetPeriod exceeded = BudgetPeriod::none;  // none = within budget
    int64_t retry_after_seconds = 0;             // until the exceeded period(s) reset
};

// Over budget when the amount spent in a period has reached that period's budget. When both are
// reached the month decides (it resets last). `now` must lie in `periods`.
BudgetVerdict check_spend_budget(const SpendBudget& budget, const SpentAmounts& spent, const BudgetPeriods& periods,
                                 int64_t now);

// The later-resetting of two verdicts (a key and its team): what the caller must wait for.
BudgetVerdict later_verdict(const BudgetVerdict& a, const BudgetVerdict& b);

}  // namespace routeshift
