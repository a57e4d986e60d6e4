// Parsing and compiling of routing rules (see routing_rules.hpp, docs/routing-rules.md).
#include "config/routing_rules.hpp"

#include "config/config_snapshot.hpp"
#include "config/snapshot_text.hpp"
#include "routing/model_resolver.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace routeshift {
namespace {

constexpr int kMaxRetryBudget = 20;    // the column's CHECK
constexpr int64_t kMaxFirstTokenTimeoutMs = 3600000;  // one hour, the column's CHECK (sql/009)
constexpr size_t kMaxLabel = 64;
constexpr size_t kMaxStaticContent = 1 << 20;

struct RuleError {
    std::string message;
};

// One JSON object of a rule ("match", "action", ...): typed getters that name the field in errors,
// and a check that no unknown key is present.
class Fields {
public:
    Fields(const std::string& where, const json_t* object) : where_(where), object_(object) {
        if (!json_is_object(object)) fail("must be an object, got " + std::string(json_type_name(object)));
    }

    [[noreturn]] void fail(const std::string& what) const { throw RuleError{where_ + ": " + what}; }
    [[noreturn]] void fail(const char* key, const std::string& what) const {
        throw RuleError{where_ + "." + key + ": " + what};
    }

    void only(std::initializer_list<const char*> allowed) const {
        const char* key;
        json_t* value;
        json_object_foreach(const_cast<json_t*>(object_), key, value) {
            bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&](const char* a) { return std::string_view(a) == key; });
            if (!known) fail("unknown field " + quote_value(key));
        }
    }

    const json_t* get(const char* key) const {
        const json_t* v = json_object_get(object_, key);
        return v && !json_is_null(v) ? v : nullptr;
    }

    std::optional<std::string> string(const char* key) const {
        const json_t* v = get(key);
        if (!v) return std::nullopt;
        if (!json_is_string(v)) fail(key, std::string("must be a string, got ") + json_type_name(v));
        std::string s(json_string_value(v), json_string_length(v));
        return s;
    }

    std::string nonempty_string(const char* key) const {
        auto s = string(key);
        if (!s || s->empty()) fail(key, "must be a non-empty string");
        return *s;
    }

    std::optional<bool> boolean(const char* key) const {
        const json_t* v = get(key);
        if (!v) return std::nullopt;
        if (!json_is_boolean(v)) fail(key, std::string("must be a boolean, got ") + json_type_name(v));
        return json_is_true(v);
    }

    std::optional<int64_t> integer(const char* key, int64_t lo, int64_t hi) const {
        const json_t* v = get(key);
        if (!v) return std::nullopt;
        if (!json_is_integer(v)) fail(key, std::string("must be an integer, got ") + json_type_name(v));
        int64_t x = json_integer_value(v);
        if (x < lo || x > hi)
            fail(key, std::to_string(x) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
        return x;
    }

    // A string or a non-empty array of non-empty strings.
    std::vector<std::string> strings(const char* key) const {
        std::vector<std::string> out;
        const json_t* v = get(key);
        if (!v) return out;
        auto one = [&](const json_t* s) {
            if (!json_is_string(s) || json_string_length(s) == 0)
                fail(key, "must be a non-empty string or an array of them");
            std::string text(json_string_value(s), json_string_length(s));
            if (has_control_characters(text)) fail(key, "contains control characters");
            out.push_back(std::move(text));
        };
        if (json_is_array(v)) {
            if (json_array_size(v) == 0) fail(key, "must not be empty");
            for (size_t i = 0; i < json_array_size(v); i++) one(json_array_get(v, i));
        } else {
            one(v);
        }
        return out;
    }

    const std::string& where() const { return where_; }

private:
    std::string where_;
    const json_t* object_;
};

std::unique_ptr<RegexMatcher> compile(const Fields& f, const char* key, const std::string& pattern) {
    const RegexEngine* engine = installed_regex_engine();
    if (engine == nullptr) f.fail(key, "no regex engine is installed in this process");
    std::string error;
    auto matcher = engine->compile(pattern, false, &error);
    if (!matcher) f.fail(key, "invalid regex " + quote_value(pattern) + ": " + error);
    return matcher;
}

std::optional<std::unique_ptr<RegexMatcher>> optional_regex(const Fields& f, const char* key) {
    auto pattern = f.string(key);
    if (!pattern) return std::nullopt;
    if (pattern->empty()) f.fail(key, "must be a non-empty string");
    return compile(f, key, *pattern);
}

// Virtual keys by id (integer) or name (string); teams by id. Every entry must exist.
RuleKeySet key_set(const Fields& f, const char* key, bool names_allowed, const Config& config,
                   const std::unordered_set<int64_t>& team_ids) {
    RuleKeySet set;
    const json_t* v = f.get(key);
    if (!v) return set;
    if (!json_is_array(v) || json_array_size(v) == 0) f.fail(key, "must be a non-empty array");
    set.set = true;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t* e = json_array_get(v, i);
        if (json_is_integer(e)) {
            int64_t id = json_integer_value(e);
            bool exists = names_allowed ? std::any_of(config.virtual_keys.begin(), config.virtual_keys.end(),
                                                      [&](const VirtualKey& k) { return k.id == id; })
                                        : team_ids.count(id) > 0;
            if (!exists)
                f.fail(key, std::string(names_allowed ? "virtual key" : "team") + " id " + std::to_string(id) +
                                " does not exist");
            set.ids.push_back(id);
        } else if (names_allowed && json_is_string(e)) {
            std::string name = json_string_value(e);
            bool exists = std::any_of(config.virtual_keys.begin(), config.virtual_keys.end(),
                                      [&](const VirtualKey& k) { return k.name == name; });
            if (!exists) f.fail(key, "virtual key name " + quote_value(name) + " does not exist");
            set.names.push_back(std::move(name));
        } else {
            f.fail(key, names_allowed ? "entries must be virtual key ids (integers) or names (strings)"
                                      : "entries must be team ids (integers)");
        }
    }
    return set;
}

RuleRange range(const Fields& f, const char* min_key, const char* max_key) {
    RuleRange r;
    if (auto v = f.integer(min_key, 0, INT64_MAX)) r.set = true, r.min = (uint64_t)*v;
    if (auto v = f.integer(max_key, 0, INT64_MAX)) r.set = true, r.max = (uint64_t)*v;
    if (r.min > r.max) f.fail(min_key, "is greater than " + std::string(max_key));
    return r;
}

void parse_match(const json_t* object, const std::string& where, const Config& config,
                 const std::unordered_set<int64_t>& team_ids, RoutingRule* rule) {
    Fields f(where + ".match", object);
    f.only({"virtual_keys", "teams", "model", "model_glob", "model_regex", "content_regex", "messages_min",
            "messages_max", "characters_min", "characters_max", "tokens_min", "tokens_max",
            "system_characters_min", "system_characters_max", "system_tokens_min", "system_tokens_max",
            "metadata", "stream", "tools"});
    rule->virtual_keys = key_set(f, "virtual_keys", true, config, team_ids);
    rule->teams = key_set(f, "teams", false, config, team_ids);
    rule->models = f.strings("model");
    rule->model_globs = f.strings("model_glob");
    if (auto re = optional_regex(f, "model_regex")) rule->model_regex = std::move(*re);
    if (auto re = optional_regex(f, "content_regex")) rule->content_regex = std::move(*re);
    rule->messages = range(f, "messages_min", "messages_max");
    rule->characters = range(f, "characters_min", "characters_max");
    rule->tokens = range(f, "tokens_min", "tokens_max");
    rule->system_characters = range(f, "system_characters_min", "system_characters_max");
    rule->system_tokens = range(f, "system_tokens_min", "system_tokens_max");
    if (const json_t* md = f.get("metadata")) {
        if (!json_is_object(md) || json_object_size(md) == 0) f.fail("metadata", "must be a non-empty object");
        const char* key;
        json_t* value;
        json_object_foreach(const_cast<json_t*>(md), key, value) {
            RuleMetadataMatch m;
            m.key = key;
            if (m.key.empty() || has_control_characters(m.key)) f.fail("metadata", "keys must be non-empty text");
            if (json_is_string(value)) {
                m.exact.assign(json_string_value(value), json_string_length(value));
            } else if (json_is_object(value)) {
                Fields inner(where + ".match.metadata." + m.key, value);
                inner.only({"regex"});
                m.regex = compile(inner, "regex", inner.nonempty_string("regex"));
            } else {
                f.fail("metadata", "value of " + quote_value(m.key) + " must be a string or {\"regex\": ...}");
            }
            rule->metadata.push_back(std::move(m));
        }
    }
    rule->stream = f.boolean("stream");
    rule->tools = f.boolean("tools");
    rule->needs_text = rule->content_regex != nullptr;
    rule->needs_prompt_size = rule->characters.set || rule->tokens.set || rule->system_characters.set ||
                              rule->system_tokens.set;
}

// "HH:MM" -> minutes after midnight; "24:00" allowed as an end.
int clock_minutes(const Fields& f, const char* key, const std::string& text, bool end) {
    int h = 0, m = 0;
    if (text.size() != 5 || text[2] != ':' || !isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[1]) ||
        !isdigit((unsigned char)text[3]) || !isdigit((unsigned char)text[4]))
        f.fail(key, quote_value(text) + " must be HH:MM");
    h = (text[0] - '0') * 10 + (text[1] - '0');
    m = (text[3] - '0') * 10 + (text[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) f.fail(key, quote_value(text) + " is not a time of day");
    return h * 60 + m;
}

void parse_conditions(const json_t* object, const std::string& where, const Config& config,
                      const std::unordered_set<int64_t>& team_ids, const RoutingRules& rules, RoutingRule* rule) {
    Fields f(where + ".conditions", object);
    f.only({"time_zone", "time_windows", "days", "environments", "virtual_keys", "teams", "percentage",
            "percentage_by"});
    if (auto zone = f.string("time_zone")) {
        if (*zone != "UTC") {
            auto it = rules.time_zones.find(*zone);
            if (it == rules.time_zones.end())
                f.fail("time_zone", quote_value(*zone) + " is not in the snapshot's time_zones");
            rule->time_zone = &it->second;
        }
        rule->time_zone_name = *zone;
    }
    if (const json_t* windows = f.get("time_windows")) {
        if (!json_is_array(windows) || json_array_size(windows) == 0) f.fail("time_windows", "must be a non-empty array");
        for (size_t i = 0; i < json_array_size(windows); i++) {
            Fields w(where + ".conditions.time_windows[" + std::to_string(i) + "]", json_array_get(windows, i));
            w.only({"start", "end"});
            int start = clock_minutes(w, "start", w.nonempty_string("start"), false);
            int end = clock_minutes(w, "end", w.nonempty_string("end"), true);
            if (start == end) w.fail("start and end are equal (an empty window)");
            rule->time_windows.emplace_back(start, end);
        }
    }
    static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (const std::string& day : f.strings("days")) {
        auto it = std::find_if(std::begin(kDays), std::end(kDays), [&](const char* d) { return day == d; });
        if (it == std::end(kDays)) f.fail("days", quote_value(day) + " is not one of sun, mon, tue, wed, thu, fri, sat");
        rule->days |= (uint8_t)(1u << (it - std::begin(kDays)));
    }
    rule->environments = f.strings("environments");
    rule->gate_virtual_keys = key_set(f, "virtual_keys", true, config, team_ids);
    rule->gate_teams = key_set(f, "teams", false, config, team_ids);
    if (const json_t* p = f.get("percentage")) {
        if (!json_is_number(p)) f.fail("percentage", "must be a number from 0 to 100");
        double value = json_number_value(p);
        if (!(value >= 0 && value <= 100)) f.fail("percentage", "must be a number from 0 to 100");
        rule->percentage_basis_points = (int)std::lround(value * 100);
    }
    if (auto by = f.string("percentage_by")) {
        if (*by != "virtual_key" && *by != "session")
            f.fail("percentage_by", quote_value(*by) + " must be \"virtual_key\" or \"session\"");
        if (rule->percentage_basis_points < 0) f.fail("percentage_by", "needs a percentage");
        rule->percentage_by_session = *by == "session";
    }
}

void parse_action(const json_t* object, const std::string& where, const Config& config, RoutingRule* rule) {
    Fields f(where + ".action", object);
    if (json_object_size(object) != 1) f.fail("must have exactly one of route, block, tag, static");
    f.only({"route", "block", "tag", "static"});
    if (const json_t* v = f.get("route")) {
        Fields a(where + ".action.route", v);
        a.only({"model", "alias", "models"});
        if ((a.get("model") != nullptr) + (a.get("alias") != nullptr) + (a.get("models") != nullptr) != 1)
            a.fail("needs exactly one of model, alias, models");
        rule->action = RuleAction::route;
        if (auto alias = a.string("alias")) {
            if (alias->empty()) a.fail("alias", "must be a non-empty string");
            if (!config.alias_target(rule->team_id, *alias) && !config.alias_target(0, *alias))
                a.fail("alias", quote_value(*alias) + " is not an alias" +
                                    (rule->team_id ? " of team " + std::to_string(rule->team_id) + " or global"
                                                   : std::string(" (global)")));
            rule->route_models.push_back(*alias);
        } else {
            rule->route_models = a.strings(a.get("model") ? "model" : "models");
            if (a.get("model") && rule->route_models.size() != 1) a.fail("model", "must be one string (use models)");
        }
        for (const std::string& model : rule->route_models) {
            std::vector<Target> targets;
            ApiError err;
            if (!resolve_model(config, rule->team_id, model, &targets, &err))
                a.fail("model " + quote_value(model) + " does not resolve to any enabled provider");
        }
    } else if (const json_t* v = f.get("block")) {
        Fields a(where + ".action.block", v);
        a.only({"status", "message"});
        auto status = a.integer("status", 400, 599);
        if (!status) a.fail("status", "is required (400..599)");
        rule->action = RuleAction::block;
        rule->block_status = (int)*status;
        rule->block_message = a.string("message").value_or("");
        if (rule->block_message.empty()) rule->block_message = "This request was blocked by a routing rule.";
        if (has_control_characters(rule->block_message)) a.fail("message", "contains control characters");
    } else if (const json_t* v = f.get("tag")) {
        Fields a(where + ".action.tag", v);
        a.only({"labels"});
        rule->action = RuleAction::tag;
        rule->labels = a.strings("labels");
        if (rule->labels.empty()) a.fail("labels", "is required");
        for (const std::string& label : rule->labels) {
            bool ok = label.size() <= kMaxLabel && std::all_of(label.begin(), label.end(), [](char c) {
                          return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
                      });
            if (!ok) a.fail("labels", quote_value(label) + " must be 1-64 of A-Z a-z 0-9 _ - . : /");
        }
    } else {
        Fields a(where + ".action.static", f.get("static") ? f.get("static") : object);
        a.only({"content"});
        rule->action = RuleAction::static_response;
        auto content = a.string("content");
        if (!content) a.fail("content", "is required");
        if (content->size() > kMaxStaticContent) a.fail("content", "is longer than 1 MiB");
        rule->static_content = *content;
    }
}

// The snapshot's "time_zones": {"Europe/Berlin": "<base64 TZif>", ...}.
void parse_time_zones(const json_t* root, RoutingRules* out) {
    const json_t* zones = json_object_get(root, "time_zones");
    if (!zones || json_is_null(zones)) return;
    if (!json_is_object(zones)) throw RuleError{"time_zones must be an object"};
    const char* name;
    json_t* value;
    json_object_foreach(const_cast<json_t*>(zones), name, value) {
        std::string where = std::string("time_zones[") + quote_value(name) + "]";
        if (!json_is_string(value)) throw RuleError{where + ": must be a base64 string"};
        std::string_view b64(json_string_value(value), json_string_length(value));
        if (b64.size() % 4 != 0 || b64.size() > (4u << 20)) throw RuleError{where + ": not base64 TZif data"};
        std::string bytes(b64.size() / 4 * 3, '\0');
        int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), (int)b64.size());
        if (n < 0) throw RuleError{where + ": not base64 TZif data"};
        size_t padding = (!b64.empty() && b64.back() == '=') + (b64.size() > 1 && b64[b64.size() - 2] == '=');
        bytes.resize((size_t)n - padding);
        std::string error;
        auto zone = TimeZone::parse(bytes, &error);
        if (!zone) throw RuleError{where + ": " + error};
        out->time_zones.emplace(name, std::move(*zone));
    }
}

}  // namespace

uint32_t rule_tests(const RoutingRule& rule) {
    uint32_t tests = 0;
    if (rule.team_id || !rule.environments.empty() || rule.gate_virtual_keys.set || rule.gate_teams.set ||
        !rule.time_windows.empty() || rule.days || rule.percentage_basis_points >= 0)
        tests |= kRuleTestConditions;
    if (rule.virtual_keys.set || rule.teams.set) tests |= kRuleTestCaller;
    if (rule.stream || !rule.models.empty() || !rule.model_globs.empty()) tests |= kRuleTestModelNames;
    if (rule.messages.set) tests |= kRuleTestMessages;
    if (rule.tools) tests |= kRuleTestTools;
    if (rule.needs_prompt_size) tests |= kRuleTestSize;
    if (!rule.metadata.empty()) tests |= kRuleTestMetadata;
    if (rule.model_regex) tests |= kRuleTestModelRegex;
    if (rule.content_regex) tests |= kRuleTestContent;
    return tests;
}

bool glob_match(std::string_view pattern, std::string_view name) {
    size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            p++, n++;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++, resume = n;
        } else if (star != std::string_view::npos) {
            p = star + 1, n = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') p++;
    return p == pattern.size();
}

bool parse_routing_rules(const json_t* root, const Config& config, const std::unordered_set<int64_t>& team_ids,
                         RoutingRules* out, std::string* error) {
    try {
        parse_time_zones(root, out);
        const json_t* rows = json_object_get(root, "routing_rules");
        if (!rows || json_is_null(rows)) return true;
        if (!json_is_array(rows)) throw RuleError{"routing_rules must be an array"};
        std::unordered_set<int64_t> ids;
        for (size_t i = 0; i < json_array_size(rows); i++) {
            std::string where = "routing_rules[" + std::to_string(i) + "]";
            Fields row(where, json_array_get(rows, i));
            RoutingRule rule;
            rule.id = row.integer("id", 1, INT64_MAX).value_or(0);
            if (rule.id == 0) row.fail("id", "is required");
            where += " (id " + std::to_string(rule.id) + ")";
            Fields f(where, json_array_get(rows, i));
            f.only({"id", "name", "team_id", "priority", "match", "action", "conditions", "enabled", "retry_budget",
                    "cost_ceiling_microcents", "first_token_timeout_ms", "context_fallback_model",
                    "stream_continuation"});
            if (!ids.insert(rule.id).second) f.fail("duplicate id");
            if (!f.boolean("enabled").value_or(true)) continue;
            rule.name = f.string("name").value_or("");
            if (has_control_characters(rule.name)) f.fail("name", "contains control characters");
            rule.team_id = f.integer("team_id", 1, INT64_MAX).value_or(0);
            if (rule.team_id && !team_ids.count(rule.team_id))
                f.fail("team_id", std::to_string(rule.team_id) + " does not exist");
            rule.priority = f.integer("priority", INT32_MIN, INT32_MAX).value_or(100);
            if (!f.get("action")) f.fail("action", "is required");
            parse_action(f.get("action"), where, config, &rule);
            if (const json_t* m = f.get("match")) parse_match(m, where, config, team_ids, &rule);
            if (const json_t* c = f.get("conditions")) parse_conditions(c, where, config, team_ids, *out, &rule);
            rule.retry_budget = (int)f.integer("retry_budget", 1, kMaxRetryBudget).value_or(0);
            rule.cost_ceiling_microcents = f.integer("cost_ceiling_microcents", 1, INT64_MAX).value_or(0);
            if (rule.action == RuleAction::tag && (rule.retry_budget || rule.cost_ceiling_microcents))
                f.fail("retry_budget and cost_ceiling_microcents apply only to route, block and static rules "
                       "(a tag rule never decides)");
            rule.first_token_timeout_ms = f.integer("first_token_timeout_ms", 1, kMaxFirstTokenTimeoutMs).value_or(0);
            if (rule.action == RuleAction::tag && rule.first_token_timeout_ms)
                f.fail("first_token_timeout_ms", "applies only to route, block and static rules (a tag rule never decides)");
            rule.context_fallback_model = f.string("context_fallback_model").value_or("");
            if (!rule.context_fallback_model.empty() && rule.action != RuleAction::route)
                f.fail("context_fallback_model", "applies only to route rules (docs/design.md §20)");
            if (has_control_characters(rule.context_fallback_model))
                f.fail("context_fallback_model", "contains control characters");
            rule.stream_continuation = f.boolean("stream_continuation").value_or(true);
            if (rule.action == RuleAction::tag && !rule.stream_continuation)
                f.fail("stream_continuation", "applies only to route, block and static rules (a tag rule never decides)");
            rule.tests = rule_tests(rule);
            out->rules.push_back(std::move(rule));
        }
        std::stable_sort(out->rules.begin(), out->rules.end(), [](const RoutingRule& a, const RoutingRule& b) {
            return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
        });
        build_rule_model_index(config, out->rules, &out->model_index);
        return true;
    } catch (const RuleError& e) {
        *error = e.message;
        return false;
    }
}

}  // namespace routeshift
