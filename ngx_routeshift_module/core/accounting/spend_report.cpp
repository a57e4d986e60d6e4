#include "accounting/spend_report.hpp"

#include "accounting/spend_budget.hpp"
#include "util/json_util.hpp"

#include <unordered_set>

namespace routeshift {
namespace {

constexpr size_t kMaxCallers = 1000000;  // per kind; far beyond any real fleet, bounds the zone table

bool read_int(const json_t* obj, const char* key, int64_t* out) {
    const json_t* v = json_object_get(obj, key);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

bool parse_callers(const json_t* root, const char* kind, std::vector<CallerSpend>* out, std::string* error) {
    const json_t* list = json_object_get(root, kind);
    if (list == nullptr) return true;  // nothing spent by any caller of this kind
    if (!json_is_array(list)) {
        *error = std::string(kind) + " must be an array";
        return false;
    }
    if (json_array_size(list) > kMaxCallers) {
        *error = std::string(kind) + ": more than " + std::to_string(kMaxCallers) + " entries";
        return false;
    }
    std::unordered_set<int64_t> seen;
    out->reserve(json_array_size(list));
    for (size_t i = 0; i < json_array_size(list); ++i) {
        const json_t* row = json_array_get(list, i);
        std::string where = std::string(kind) + "[" + std::to_string(i) + "]";
        CallerSpend c;
        if (!json_is_object(row) || !read_int(row, "id", &c.id) || c.id < 1) {
            *error = where + ": id must be an integer >= 1";
            return false;
        }
        if (!read_int(row, "day_microcents", &c.day_microcents) || c.day_microcents < 0 ||
            !read_int(row, "month_microcents", &c.month_microcents) || c.month_microcents < 0) {
            *error = where + ": day_microcents and month_microcents must be integers >= 0";
            return false;
        }
        if (!seen.insert(c.id).second) {
            *error = where + ": duplicate id " + std::to_string(c.id);
            return false;
        }
        out->push_back(c);
    }
    return true;
}

}  // namespace

bool parse_spend_report(std::string_view json, SpendReport* out, std::string* error) {
    JsonPtr root = json_parse(json, error);
    if (!root) return false;
    if (!json_is_object(root.get())) {
        *error = "the spend report must be a JSON object";
        return false;
    }
    SpendReport report;
    if (!read_int(root.get(), "day_start", &report.day_start) || !read_int(root.get(), "month_start", &report.month_start) ||
        !read_int(root.get(), "as_of", &report.as_of)) {
        *error = "day_start, month_start and as_of must be integers (unix seconds)";
        return false;
    }
    BudgetPeriods periods = budget_periods(report.day_start);
    if (report.day_start != periods.day_start) {
        *error = "day_start must be 00:00 UTC of a day";
        return false;
    }
    if (report.month_start != periods.month_start) {
        *error = "month_start must be 00:00 UTC of the first day of day_start's month";
        return false;
    }
    if (!parse_callers(root.get(), "virtual_keys", &report.virtual_keys, error) ||
        !parse_callers(root.get(), "teams", &report.teams, error))
        return false;
    *out = std::move(report);
    return true;
}

}  // namespace routeshift
