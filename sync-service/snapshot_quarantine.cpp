#include "snapshot_quarantine.hpp"

#include "config/config_snapshot.hpp"  // routeshift::parse_snapshot (module core)
#include "secret_box.hpp"              // wipe

#include <openssl/crypto.h>

#include <set>
#include <utility>

namespace rsync {
namespace {

// Each round parses the whole snapshot once; a config where this many rows fail is broken as a
// whole and is reported as such instead of being shipped mostly empty.
constexpr int kMaxQuarantinedRows = 200;

const char* const kRowTables[] = {"providers", "provider_keys", "models", "teams", "virtual_keys",
                                  "model_aliases", "routing_rules", "model_prices"};

bool is_row_table(std::string_view name) {
    for (const char* t : kRowTables) {
        if (name == t) return true;
    }
    return false;
}

// "providers[3] (id 7): ..." -> ("providers", 3). False when the message names no row.
bool parse_row_reference(const std::string& message, std::string* table, size_t* index) {
    size_t open = message.find('[');
    if (open == std::string::npos || open == 0) return false;
    size_t close = message.find(']', open);
    if (close == std::string::npos || close == open + 1) return false;
    *table = message.substr(0, open);
    if (!is_row_table(*table)) return false;
    size_t value = 0;
    for (size_t i = open + 1; i < close; ++i) {
        char c = message[i];
        if (c < '0' || c > '9' || value > 100000000) return false;
        value = value * 10 + static_cast<size_t>(c - '0');
    }
    *index = value;
    return true;
}

int64_t row_id(const json_t* row) {
    const json_t* id = json_object_get(row, "id");
    return json_is_integer(id) ? json_integer_value(id) : 0;
}

json_t* find_row(const json_t* root, const std::string& table, int64_t id, size_t* index) {
    const json_t* rows = json_object_get(root, table.c_str());
    size_t i;
    json_t* row;
    json_array_foreach(rows, i, row) {
        if (row_id(row) == id) {
            if (index) *index = i;
            return row;
        }
    }
    return nullptr;
}

// Rows left without their provider or team go with it, each reported.
void drop_dependents(json_t* root, const std::string& table, int64_t id, std::vector<QuarantinedRow>* out) {
    const char* field = table == "providers" ? "provider_id" : table == "teams" ? "team_id" : nullptr;
    if (!field || id == 0) return;
    std::string reason = "its " + std::string(table == "providers" ? "provider" : "team") + " id " +
                         std::to_string(id) + " is quarantined";
    for (const char* dependent : kRowTables) {
        json_t* rows = json_object_get(root, dependent);
        if (!json_is_array(rows)) continue;
        for (size_t i = json_array_size(rows); i-- > 0;) {
            json_t* row = json_array_get(rows, i);
            const json_t* ref = json_object_get(row, field);
            if (!json_is_integer(ref) || json_integer_value(ref) != id) continue;
            out->push_back({dependent, row_id(row), reason, false});
            json_array_remove(rows, i);
        }
    }
}

}  // namespace

bool restore_previous_row(json_t* root, const json_t* previous, const std::string& table, int64_t id) {
    json_t* rows = json_object_get(root, table.c_str());
    if (!json_is_array(rows) || id == 0) return false;
    size_t index = 0;
    bool present = find_row(root, table, id, &index) != nullptr;
    const json_t* old = previous ? find_row(previous, table, id, nullptr) : nullptr;
    if (!old) {
        if (present) json_array_remove(rows, index);
        return false;
    }
    json_t* copy = json_deep_copy(old);
    if (present) json_array_set_new(rows, index, copy);
    else json_array_append_new(rows, copy);
    return true;
}

bool validate_with_quarantine(json_t* root, const json_t* previous, std::vector<QuarantinedRow>* quarantined,
                              std::string* text, std::string* error) {
    std::set<std::pair<std::string, int64_t>> restored;  // a previous version that fails too is dropped
    for (int round = 0; round <= kMaxQuarantinedRows; ++round) {
        char* dumped = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!dumped) {
            *error = "snapshot serialisation failed (out of memory?)";
            return false;
        }
        std::string candidate(dumped);
        OPENSSL_cleanse(dumped, candidate.size());  // the dump holds secrets
        free(dumped);
        std::string message;
        if (routeshift::parse_snapshot(candidate, &message)) {
            *text = std::move(candidate);
            return true;
        }
        wipe(candidate);
        std::string table;
        size_t index = 0;
        json_t* rows = nullptr;
        if (!parse_row_reference(message, &table, &index) ||
            !json_is_array(rows = json_object_get(root, table.c_str())) || index >= json_array_size(rows)) {
            *error = "snapshot rejected by the module's validator: " + message;
            return false;
        }
        int64_t id = row_id(json_array_get(rows, index));
        bool first_failure = id == 0 || restored.insert({table, id}).second;
        bool kept = first_failure && restore_previous_row(root, previous, table, id);
        if (!kept && (id == 0 || !first_failure)) json_array_remove(rows, index);
        if (!first_failure) {
            for (auto& q : *quarantined) {
                if (q.table == table && q.id == id) q.kept_previous = false;
            }
        } else {
            quarantined->push_back({table, id, message, kept});
        }
        if (!kept) drop_dependents(root, table, id, quarantined);
    }
    *error = "more than " + std::to_string(kMaxQuarantinedRows) + " rows fail validation; nothing built";
    return false;
}

json_t* quarantined_json(const std::vector<QuarantinedRow>& rows) {
    json_t* out = json_array();
    for (const auto& q : rows) {
        json_t* o = json_object();
        json_object_set_new(o, "table", json_stringn(q.table.data(), q.table.size()));
        json_object_set_new(o, "id", q.id ? json_integer(q.id) : json_null());
        json_object_set_new(o, "reason", json_stringn(q.reason.data(), q.reason.size()));
        json_object_set_new(o, "kept_previous", json_boolean(q.kept_previous));
        json_array_append_new(out, o);
    }
    return out;
}

}  // namespace rsync
