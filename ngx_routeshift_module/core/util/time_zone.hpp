// Named time zones from TZif data (RFC 8536, versions 2 and 3; version 1 files are refused since
// their 32-bit times end in 2038): the local time of a UTC instant, DST included. The data is given
// as bytes (routeshift-sync embeds each zone's TZif file in the snapshot): a worker never reads
// /usr/share/zoneinfo. Instants after the last transition follow the file's POSIX TZ footer rule.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// Calendar fields of one instant in one zone.
struct LocalTime {
    int64_t year = 1970;
    int month = 1;             // 1..12
    int day = 1;               // 1..31
    int hour = 0, minute = 0, second = 0;
    int weekday = 4;           // 0 = Sunday .. 6 = Saturday
    int32_t utc_offset = 0;    // seconds east of UTC in force at that instant
    bool dst = false;
};

// Civil-calendar helpers (proleptic Gregorian), shared by the zone code and its tests.
int64_t days_from_civil(int64_t year, int month, int day);  // days since 1970-01-01
LocalTime civil_from_unix(int64_t unix_seconds);             // the UTC calendar fields

class TimeZone {
public:
    // Null + `error` when `tzif` is not valid TZif v2+ data (or its footer rule is malformed).
    static std::optional<TimeZone> parse(std::string_view tzif, std::string* error);

    LocalTime local_time(int64_t unix_seconds) const;
    int32_t utc_offset(int64_t unix_seconds) const { return local_time(unix_seconds).utc_offset; }

    // The POSIX TZ rule that applies after the last transition (parsed from the footer).
    struct Rule {
        // One DST edge: Mm.w.d (month, week 1..5 with 5 = last, weekday), Jn (1..365, no Feb 29)
        // or n (0..365, Feb 29 counted); `time` = local seconds after midnight (may exceed a day).
        struct Edge {
            enum class Kind { month_week_day, julian_no_leap, julian_zero } kind = Kind::month_week_day;
            int month = 0, week = 0, weekday = 0, day = 0;
            int32_t time = 7200;
        };
        int32_t std_offset = 0;   // seconds east of UTC
        int32_t dst_offset = 0;
        bool has_dst = false;
        Edge start, end;
    };

private:
    struct Type {
        int32_t utc_offset;
        bool dst;
    };
    std::vector<int64_t> transitions_;     // UTC instants, ascending
    std::vector<uint8_t> transition_type_; // index into types_
    std::vector<Type> types_;
    std::optional<Rule> footer_;
};

// Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3"; false + `error` when malformed.
bool parse_posix_tz(std::string_view text, TimeZone::Rule* rule, std::string* error);

}  // namespace routeshift
