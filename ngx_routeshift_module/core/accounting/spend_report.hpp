// The spent amounts routeshift-sync pushes to every nginx (PUT …/spend, docs/design.md §13):
//   {"day_start": <unix s of 00:00 UTC today>, "month_start": <unix s of the month's first 00:00 UTC>,
//    "as_of": <unix s the sums were read>,
//    "virtual_keys": [{"id": 5, "day_microcents": 120, "month_microcents": 4100}, ...],
//    "teams": [{"id": 1, "day_microcents": 0, "month_microcents": 900}, ...]}
// Parsed and validated whole before the zone's table is replaced.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct CallerSpend {
    int64_t id = 0;
    int64_t day_microcents = 0;
    int64_t month_microcents = 0;
};

struct SpendReport {
    int64_t day_start = 0;
    int64_t month_start = 0;
    int64_t as_of = 0;
    std::vector<CallerSpend> virtual_keys;
    std::vector<CallerSpend> teams;
};

// False with `error` naming the offending field or row (e.g. "teams[2]: duplicate id 7").
bool parse_spend_report(std::string_view json, SpendReport* out, std::string* error);

}  // namespace routeshift
