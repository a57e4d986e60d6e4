// Routing rules and their time zones into the snapshot (see snapshot_rules.hpp).
#include "snapshot_rules.hpp"

#include "pcre2_regex.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

namespace rsync {
namespace {

constexpr size_t kMaxZoneFile = 1 << 20;

void set(json_t* obj, const char* key, json_t* value) { json_object_set_new(obj, key, value); }
json_t* optional_int(const std::optional<int64_t>& v) { return v ? json_integer(*v) : json_null(); }

// Area/Location names as in the tz database: letters, digits, "_", "-", "+", "/"; no "..".
bool plain_zone_name(const std::string& name) {
    if (name.empty() || name.size() > 128 || name.front() == '/' || name.find("..") != std::string::npos) return false;
    for (char c : name) {
        if (!isalnum((unsigned char)c) && c != '_' && c != '-' && c != '+' && c != '/') return false;
    }
    return true;
}

std::string base64(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), (int)bytes.size());
    out.resize((size_t)n);
    return out;
}

}  // namespace

void install_sync_regex_engine() {
    static const routeshift::Pcre2RegexEngine engine;
    if (routeshift::installed_regex_engine() == nullptr) routeshift::install_regex_engine(&engine);
}

bool read_time_zone(const std::string& name, std::string* tzif, std::string* error) {
    if (!plain_zone_name(name)) {
        *error = "time zone \"" + name + "\" is not a zone name such as Europe/Berlin";
        return false;
    }
    const char* dir = std::getenv("TZDIR");
    std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = "unknown time zone \"" + name + "\" (no " + path + ")";
        return false;
    }
    tzif->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (tzif->size() > kMaxZoneFile || tzif->compare(0, 4, "TZif") != 0) {
        *error = "time zone \"" + name + "\": " + path + " is not a TZif file";
        return false;
    }
    return true;
}

void add_rules_to_snapshot(json_t* root, const std::vector<RoutingRuleRow>& rows, std::vector<std::string>* errors) {
    install_sync_regex_engine();
    json_t* rules = json_array();
    json_t* zones = json_object();
    std::set<std::string> zone_names;
    for (const auto& r : rows) {
        if (!r.enabled) continue;
        json_t* match = json_object_from_text(r.match_json);
        json_t* action = json_object_from_text(r.action_json);
        json_t* conditions = json_object_from_text(r.conditions_json);
        if (!match || !action || !conditions) {
            errors->push_back("routing_rules id " + std::to_string(r.id) +
                              ": match, action and conditions must be JSON objects");
            json_decref(match);
            json_decref(action);
            json_decref(conditions);
            continue;
        }
        if (const json_t* zone = json_object_get(conditions, "time_zone"); json_is_string(zone)) {
            std::string name = json_string_value(zone);
            if (name != "UTC" && zone_names.insert(name).second) {
                std::string tzif, error;
                if (read_time_zone(name, &tzif, &error)) {
                    set(zones, name.c_str(), json_string(base64(tzif).c_str()));
                } else {
                    errors->push_back("routing_rules id " + std::to_string(r.id) + ": conditions.time_zone: " + error);
                }
            }
        }
        json_t* o = json_object();
        set(o, "id", json_integer(r.id));
        set(o, "name", json_stringn(r.name.data(), r.name.size()));
        set(o, "team_id", optional_int(r.team_id));
        set(o, "priority", json_integer(r.priority));
        set(o, "match", match);
        set(o, "action", action);
        set(o, "conditions", conditions);
        set(o, "retry_budget", optional_int(r.retry_budget));
        set(o, "cost_ceiling_microcents", optional_int(r.cost_ceiling_microcents));
        if (r.first_token_timeout_ms) set(o, "first_token_timeout_ms", json_integer(*r.first_token_timeout_ms));
        if (r.context_fallback_model)
            set(o, "context_fallback_model", json_stringn(r.context_fallback_model->data(), r.context_fallback_model->size()));
        if (!r.stream_continuation) set(o, "stream_continuation", json_false());
        json_array_append_new(rules, o);
    }
    set(root, "routing_rules", rules);
    set(root, "time_zones", zones);
}

}  // namespace rsync
