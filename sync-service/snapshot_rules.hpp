// The routing rules of a snapshot (docs/routing-rules.md): the enabled `routing_rules` rows as
// JSON, plus the TZif data of every time zone a rule names, read here from the zoneinfo directory
// ($TZDIR, else /usr/share/zoneinfo) and embedded base64 as "time_zones" — nginx workers never read
// zone files. Installs the libpcre2-8 regex engine so the module's parser can compile rule regexes
// in this process.
#pragma once
#include "snapshot_builder.hpp"

#include <jansson.h>

#include <string>
#include <vector>

namespace rsync {

// Sets root["routing_rules"] and root["time_zones"]. Problems (a column that is not a JSON object,
// an unknown or unreadable time zone) are appended to `errors`, naming the rule id.
void add_rules_to_snapshot(json_t* root, const std::vector<RoutingRuleRow>& rows, std::vector<std::string>* errors);

// The TZif bytes of zone `name` (e.g. "Europe/Berlin"); false + `error` when the name is not a
// plain zone name or the file cannot be read.
bool read_time_zone(const std::string& name, std::string* tzif, std::string* error);

// Makes sure parse_snapshot can compile regexes in this process (libpcre2-8).
void install_sync_regex_engine();

}  // namespace rsync
