// Retryable statuses and cooldown lengths (see cooldown.hpp).
#include "routing/cooldown.hpp"

#include <charconv>
#include <cmath>
#include <optional>

namespace routeshift {

namespace {

constexpr int64_t kMinCooldownMs = 1000;
constexpr int64_t kMaxCooldownMs = int64_t{3600} * 1000;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A non-negative finite decimal number, the whole string.
std::optional<double> parse_number(std::string_view s) {
    s = trim(s);
    if (s.empty()) return std::nullopt;
    // from_chars would also accept "inf"/"nan"/hex-less forms we do not want: digits and '.' only
    for (char c : s)
        if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt;
    double v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
    return v;
}

int64_t clamp_ms(double ms) {
    if (!(ms >= static_cast<double>(kMinCooldownMs))) return kMinCooldownMs;  // also NaN
    if (ms >= static_cast<double>(kMaxCooldownMs)) return kMaxCooldownMs;
    return static_cast<int64_t>(std::ceil(ms));
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int month_from_name(std::string_view m) {
    static const char* names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (m == names[i]) return i + 1;
    return 0;
}

bool parse_digits(std::string_view s, size_t n, int* out) {
    if (s.size() != n) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

// "HH:MM:SS"
bool parse_clock(std::string_view s, int* h, int* mi, int* se) {
    if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
    return parse_digits(s.substr(0, 2), 2, h) && parse_digits(s.substr(3, 2), 2, mi) &&
           parse_digits(s.substr(6, 2), 2, se) && *h <= 23 && *mi <= 59 && *se <= 60;
}

std::optional<int64_t> to_unix(int year, int month, int day, int h, int mi, int se) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1) return std::nullopt;
    int maxd = mdays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
    if (day > maxd) return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           int64_t{h} * 3600 + int64_t{mi} * 60 + se;
}

// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete
// RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994" forms.
std::optional<int64_t> parse_http_date(std::string_view s, int64_t now_unix) {
    s = trim(s);
    int day = 0, year = 0, h = 0, mi = 0, se = 0;
    size_t comma = s.find(',');
    if (comma == 3) {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        if (s.size() != 29 || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25] != ' ' ||
            s.substr(26) != "GMT")
            return std::nullopt;
        int month = month_from_name(s.substr(8, 3));
        if (!month || !parse_digits(s.substr(5, 2), 2, &day) || !parse_digits(s.substr(12, 4), 4, &year) ||
            !parse_clock(s.substr(17, 8), &h, &mi, &se))
            return std::nullopt;
        return to_unix(year, month, day, h, mi, se);
    }
    if (comma != std::string_view::npos && comma > 3) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        std::string_view r = s.substr(comma + 1);
        if (r.size() != 23 || r[0] != ' ' || r[3] != '-' || r[7] != '-' || r[10] != ' ' || r[19] != ' ' ||
            r.substr(20) != "GMT")
            return std::nullopt;
        int month = month_from_name(r.substr(4, 3));
        int yy = 0;
        if (!month || !parse_digits(r.substr(1, 2), 2, &day) || !parse_digits(r.substr(8, 2), 2, &yy) ||
            !parse_clock(r.substr(11, 8), &h, &mi, &se))
            return std::nullopt;
        // two-digit year: the one that is not more than 50 years in the future (RFC 9110)
        int64_t now_year = 1970 + now_unix / 31556952;
        year = static_cast<int>(now_year - now_year % 100 + yy);
        if (year > now_year + 50) year -= 100;
        return to_unix(year, month, day, h, mi, se);
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return std::nullopt;
    int month = month_from_name(s.substr(4, 3));
    std::string_view d = s.substr(8, 2);
    if (d[0] == ' ') d.remove_prefix(1);
    if (!month || !parse_digits(d, d.size(), &day) || !parse_clock(s.substr(11, 8), &h, &mi, &se) ||
        !parse_digits(s.substr(20, 4), 4, &year))
        return std::nullopt;
    return to_unix(year, month, day, h, mi, se);
}

}  // namespace

bool status_is_retryable(int status) {
    return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

int64_t cooldown_ms(std::string_view retry_after, std::string_view retry_after_ms, int default_seconds,
                    int64_t now_unix) {
    if (auto ms = parse_number(retry_after_ms)) return clamp_ms(*ms);
    if (auto secs = parse_number(retry_after)) return clamp_ms(*secs * 1000.0);
    if (auto when = parse_http_date(retry_after, now_unix))
        return clamp_ms(static_cast<double>(*when - now_unix) * 1000.0);
    if (default_seconds <= 0) return 0;
    return static_cast<int64_t>(default_seconds) * 1000;
}

}  // namespace routeshift
