// TZif parsing and local-time conversion (see time_zone.hpp; RFC 8536, POSIX TZ rules).
#include "util/time_zone.hpp"

#include <algorithm>

namespace routeshift {
namespace {

constexpr int64_t kDay = 86400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

uint32_t be32(const unsigned char* p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
int64_t be64(const unsigned char* p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

bool is_leap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int64_t year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// --- POSIX TZ string reader -----------------------------------------------------------------

class TzReader {
public:
    explicit TzReader(std::string_view text) : text_(text) {}
    bool done() const { return pos_ == text_.size(); }
    bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
    bool take(char c) {
        if (!peek(c)) return false;
        pos_++;
        return true;
    }
    // A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -.
    bool name() {
        if (take('<')) {
            size_t start = pos_;
            while (pos_ < text_.size() && text_[pos_] != '>') pos_++;
            if (pos_ - start < 3 || !take('>')) return false;
            return true;
        }
        size_t start = pos_;
        while (pos_ < text_.size() && ((text_[pos_] | 0x20) >= 'a' && (text_[pos_] | 0x20) <= 'z')) pos_++;
        return pos_ - start >= 3;
    }
    bool number(int lo, int hi, int* out) {
        size_t start = pos_;
        int value = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9' && pos_ - start < 4)
            value = value * 10 + (text_[pos_++] - '0');
        if (pos_ == start || value < lo || value > hi) return false;
        *out = value;
        return true;
    }
    // [+-]hh[:mm[:ss]] in seconds; `max_hours` 24 for offsets, 167 for rule times (version 3).
    bool duration(int max_hours, int32_t* out) {
        int sign = 1;
        if (take('-')) sign = -1;
        else take('+');
        int h = 0, m = 0, s = 0;
        if (!number(0, max_hours, &h)) return false;
        if (take(':')) {
            if (!number(0, 59, &m)) return false;
            if (take(':') && !number(0, 59, &s)) return false;
        }
        *out = sign * (h * 3600 + m * 60 + s);
        return true;
    }
    bool edge(TimeZone::Rule::Edge* e) {
        using Kind = TimeZone::Rule::Edge::Kind;
        if (take('M')) {
            e->kind = Kind::month_week_day;
            if (!number(1, 12, &e->month) || !take('.') || !number(1, 5, &e->week) || !take('.') ||
                !number(0, 6, &e->weekday))
                return false;
        } else if (take('J')) {
            e->kind = Kind::julian_no_leap;
            if (!number(1, 365, &e->day)) return false;
        } else {
            e->kind = Kind::julian_zero;
            if (!number(0, 365, &e->day)) return false;
        }
        e->time = 7200;
        if (take('/') && !duration(167, &e->time)) return false;
        return true;
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

// The UTC instant at which `edge` happens in `year`, for a zone whose offset before it is `offset`.
int64_t edge_instant(const TimeZone::Rule::Edge& edge, int64_t year, int32_t offset) {
    using Kind = TimeZone::Rule::Edge::Kind;
    int64_t day;  // days since 1970-01-01 of the edge's local date
    if (edge.kind == Kind::month_week_day) {
        int64_t first = days_from_civil(year, edge.month, 1);
        int first_weekday = (int)((first % 7 + 11) % 7);  // 1970-01-01 was a Thursday (4)
        int64_t d = (edge.weekday - first_weekday + 7) % 7 + 7 * (edge.week - 1);
        while (d >= days_in_month(year, edge.month)) d -= 7;  // week 5 = the last one
        day = first + d;
    } else if (edge.kind == Kind::julian_no_leap) {
        day = days_from_civil(year, 1, 1) + edge.day - 1 + (is_leap(year) && edge.day >= 60 ? 1 : 0);
    } else {
        day = days_from_civil(year, 1, 1) + edge.day;
    }
    return day * kDay + edge.time - offset;
}

}  // namespace

int64_t days_from_civil(int64_t year, int month, int day) {
    year -= month <= 2;
    int64_t era = floor_div(year, 400);
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

LocalTime civil_from_unix(int64_t unix_seconds) {
    LocalTime t;
    int64_t days = floor_div(unix_seconds, kDay);
    int64_t secs = unix_seconds - days * kDay;
    t.hour = (int)(secs / 3600);
    t.minute = (int)(secs / 60 % 60);
    t.second = (int)(secs % 60);
    t.weekday = (int)((days % 7 + 11) % 7);
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    t.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    t.year = yoe + era * 400 + (t.month <= 2);
    return t;
}

bool parse_posix_tz(std::string_view text, TimeZone::Rule* rule, std::string* error) {
    TzReader in(text);
    *rule = TimeZone::Rule{};
    int32_t west = 0;
    if (!in.name() || !in.duration(24, &west)) {
        *error = "TZ rule \"" + std::string(text) + "\": expected a zone name and an offset";
        return false;
    }
    rule->std_offset = -west;  // POSIX offsets count west of Greenwich
    if (in.done()) return true;
    if (!in.name()) {
        *error = "TZ rule \"" + std::string(text) + "\": bad DST zone name";
        return false;
    }
    rule->has_dst = true;
    rule->dst_offset = rule->std_offset + 3600;
    if (!in.peek(',') && !in.done()) {
        if (!in.duration(24, &west)) {
            *error = "TZ rule \"" + std::string(text) + "\": bad DST offset";
            return false;
        }
        rule->dst_offset = -west;
    }
    if (!in.take(',') || !in.edge(&rule->start) || !in.take(',') || !in.edge(&rule->end) || !in.done()) {
        *error = "TZ rule \"" + std::string(text) + "\": expected ,start[/time],end[/time]";
        return false;
    }
    return true;
}

std::optional<TimeZone> TimeZone::parse(std::string_view tzif, std::string* error) {
    auto bytes = reinterpret_cast<const unsigned char*>(tzif.data());
    constexpr size_t kHeader = 44;
    if (tzif.size() < kHeader || tzif.substr(0, 4) != "TZif") {
        *error = "not TZif data";
        return std::nullopt;
    }
    if (bytes[4] < '2') {
        *error = "TZif version 1 is not supported (needs version 2 or later)";
        return std::nullopt;
    }
    auto counts = [&](size_t at, uint32_t c[6]) {
        for (int i = 0; i < 6; i++) c[i] = be32(bytes + at + 20 + 4 * i);
    };
    uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    counts(0, c);
    size_t v1_size = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    size_t at = kHeader + v1_size;  // the version 2+ header
    if (tzif.size() < at + kHeader || tzif.substr(at, 4) != "TZif") {
        *error = "TZif data truncated (no version 2 block)";
        return std::nullopt;
    }
    counts(at, c);
    const size_t isutcnt = c[0], isstdcnt = c[1], leapcnt = c[2], timecnt = c[3], typecnt = c[4], charcnt = c[5];
    at += kHeader;
    size_t need = timecnt * 9 + typecnt * 6 + charcnt + leapcnt * 12 + isstdcnt + isutcnt;
    if (typecnt == 0 || tzif.size() < at + need) {
        *error = "TZif data truncated";
        return std::nullopt;
    }
    TimeZone zone;
    zone.transitions_.resize(timecnt);
    zone.transition_type_.resize(timecnt);
    for (size_t i = 0; i < timecnt; i++) zone.transitions_[i] = be64(bytes + at + 8 * i);
    at += timecnt * 8;
    for (size_t i = 0; i < timecnt; i++) {
        zone.transition_type_[i] = bytes[at + i];
        if (zone.transition_type_[i] >= typecnt) {
            *error = "TZif transition names a missing type";
            return std::nullopt;
        }
    }
    at += timecnt;
    for (size_t i = 0; i < typecnt; i++) {
        zone.types_.push_back({(int32_t)be32(bytes + at + 6 * i), bytes[at + 6 * i + 4] != 0});
    }
    if (!std::is_sorted(zone.transitions_.begin(), zone.transitions_.end())) {
        *error = "TZif transitions are not in order";
        return std::nullopt;
    }
    at += need - timecnt * 9;  // designations, leap seconds and indicators are not needed
    // Footer: "\n<POSIX TZ>\n"; empty means "no rule after the last transition".
    std::string_view footer = tzif.substr(at);
    if (footer.size() >= 2 && footer[0] == '\n') {
        size_t end = footer.find('\n', 1);
        if (end == std::string_view::npos) {
            *error = "TZif footer is not terminated";
            return std::nullopt;
        }
        std::string_view text = footer.substr(1, end - 1);
        if (!text.empty()) {
            Rule rule;
            if (!parse_posix_tz(text, &rule, error)) return std::nullopt;
            zone.footer_ = rule;
        }
    }
    return zone;
}

LocalTime TimeZone::local_time(int64_t unix_seconds) const {
    int32_t offset = types_[0].utc_offset;
    bool dst = types_[0].dst;
    bool after_last = !transitions_.empty() && unix_seconds >= transitions_.back();
    if (footer_ && (transitions_.empty() || after_last)) {
        const Rule& rule = *footer_;
        offset = rule.std_offset;
        dst = false;
        if (rule.has_dst) {
            int64_t year = civil_from_unix(unix_seconds + rule.std_offset).year;
            int64_t start = edge_instant(rule.start, year, rule.std_offset);
            int64_t end = edge_instant(rule.end, year, rule.dst_offset);
            bool in_dst = start < end ? (unix_seconds >= start && unix_seconds < end)
                                      : (unix_seconds < end || unix_seconds >= start);  // southern
            if (in_dst) {
                offset = rule.dst_offset;
                dst = true;
            }
        }
    } else if (!transitions_.empty() && unix_seconds >= transitions_.front()) {
        auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
        const Type& type = types_[transition_type_[(size_t)(it - transitions_.begin()) - 1]];
        offset = type.utc_offset;
        dst = type.dst;
    }
    LocalTime t = civil_from_unix(unix_seconds + offset);
    t.utc_offset = offset;
    t.dst = dst;
    return t;
}

}  // namespace routeshift
