// Quarantine: one bad row must never stop every other change (issue 12).
//
// When `serve` or `check` builds a snapshot, a row that fails (a secret that does not decrypt,
// metadata that is not an object, a row the module's validator rejects) is taken out and recorded
// instead of failing the whole build. If the previous good snapshot had a row with the same table
// and id, that last good version is served in its place (an edit that breaks a provider does not
// take the provider away); otherwise the row is simply left out. Rows that reference a
// quarantined-and-dropped provider or team go with it. The result carries the list as the
// top-level "quarantined": [{"table","id","reason","kept_previous"}] (shown by /admin/status).
#pragma once
#include <jansson.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rsync {

struct QuarantinedRow {
    std::string table;
    int64_t id = 0;          // 0 when the row has no id (models, aliases)
    std::string reason;      // never holds a secret
    bool kept_previous = false;  // its last good version is served instead
};

// Replaces (or removes) the row `table`/`id` of `root` by its version in `previous` (a parsed
// earlier snapshot, may be null). Returns true when a previous version was put in its place.
bool restore_previous_row(json_t* root, const json_t* previous, const std::string& table, int64_t id);

// Validates `root` with the module's parser, quarantining each row it names until the rest is
// valid. False (with `error`) when a problem is not attributable to a row (e.g. settings) or
// too many rows fail. On success `text` holds the validated compact JSON.
bool validate_with_quarantine(json_t* root, const json_t* previous, std::vector<QuarantinedRow>* quarantined,
                              std::string* text, std::string* error);

// The "quarantined" array for the snapshot (new reference).
json_t* quarantined_json(const std::vector<QuarantinedRow>& rows);

}  // namespace rsync
