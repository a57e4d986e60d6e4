// Routing rules (docs/routing-rules.md): the snapshot's `routing_rules` rows and `time_zones`
// map, parsed, validated and compiled once per snapshot (regexes through the installed
// RegexEngine) into typed rules in evaluation order. The rule engine (routing/rule_engine.hpp)
// evaluates them per request.
#pragma once
#include "config/rule_model_index.hpp"
#include "util/json_util.hpp"
#include "util/regex.hpp"
#include "util/time_zone.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace routeshift {

struct Config;

enum class RuleAction { route, block, tag, static_response };

// An inclusive range on a request measure; absent bounds are 0 and UINT64_MAX.
struct RuleRange {
    bool set = false;
    uint64_t min = 0, max = UINT64_MAX;
    bool contains(uint64_t v) const { return v >= min && v <= max; }
};

// Which virtual keys or teams: ids, and (virtual keys only) names.
struct RuleKeySet {
    bool set = false;
    std::vector<int64_t> ids;
    std::vector<std::string> names;
};

struct RuleMetadataMatch {
    std::string key;
    std::string exact;                     // when `regex` is null
    std::unique_ptr<RegexMatcher> regex;
};

struct RoutingRule {
    int64_t id = 0;
    std::string name;
    int64_t team_id = 0;   // 0 = every team
    int64_t priority = 100;

    // --- match ---
    RuleKeySet virtual_keys, teams;
    std::vector<std::string> models;       // exact names (any of)
    std::vector<std::string> model_globs;  // '*' and '?' (any of)
    std::unique_ptr<RegexMatcher> model_regex;
    std::unique_ptr<RegexMatcher> content_regex;  // over user + system text
    RuleRange messages, characters, tokens, system_characters, system_tokens;
    std::vector<RuleMetadataMatch> metadata;      // all must match
    std::optional<bool> stream, tools;

    // --- conditions ---
    const TimeZone* time_zone = nullptr;   // null = UTC
    std::string time_zone_name = "UTC";
    std::vector<std::pair<int, int>> time_windows;  // [start, end) in minutes of the local day
    uint8_t days = 0;                      // bit d = weekday d (0 = Sunday); 0 = every day
    std::vector<std::string> environments; // any of; set = the request's environment must be listed
    RuleKeySet gate_virtual_keys, gate_teams;
    int percentage_basis_points = -1;      // 0..10000; -1 = no percentage gate
    bool percentage_by_session = false;    // else by virtual key id

    // --- action ---
    RuleAction action = RuleAction::tag;
    std::vector<std::string> route_models;  // route: the chain, in order (names or aliases)
    int block_status = 0;
    std::string block_message;
    std::vector<std::string> labels;        // tag
    std::string static_content;             // static

    int retry_budget = 0;                   // 0 = not set
    int64_t cost_ceiling_microcents = 0;    // 0 = not set
    int64_t first_token_timeout_ms = 0;     // streams' first-token limit when it decides; 0 = not set
    std::string context_fallback_model;     // route: where a context-length error goes (§20); "" = none
    bool stream_continuation = true;        // streams broken mid-answer are continued (docs/design.md §19)

    // What the rule needs measured (the engine computes it lazily, once per request).
    bool needs_prompt_size = false;
    bool needs_text = false;
    // Which tests the rule has (RuleTest bits, set once per snapshot by rule_tests): the engine
    // runs only those, so a rule with one cheap test (a message count) costs that test alone
    // instead of a look at every field (issue 8: 100 rules must cost little per request).
    uint32_t tests = 0;
};

// The groups of tests a rule may have, in the order the engine runs them.
enum RuleTest : uint32_t {
    kRuleTestConditions = 1u << 0,  // team_id, environments, key/team gates, time, percentage
    kRuleTestCaller = 1u << 1,      // match.virtual_keys / match.teams
    kRuleTestModelNames = 1u << 2,  // stream flag, exact names, globs (decided by the model index)
    kRuleTestMessages = 1u << 3,    // message count
    kRuleTestTools = 1u << 4,
    kRuleTestSize = 1u << 5,        // characters, tokens, system_* (needs_prompt_size)
    kRuleTestMetadata = 1u << 6,
    kRuleTestModelRegex = 1u << 7,  // decided by the model index too
    kRuleTestContent = 1u << 8,     // content_regex (needs_text)
};
// The tests a rule's fields ask for (0: it applies to every request).
uint32_t rule_tests(const RoutingRule& rule);

struct RoutingRules {
    std::vector<RoutingRule> rules;             // priority ascending, ties by id
    std::map<std::string, TimeZone> time_zones; // the snapshot's embedded zones, by IANA name
    RuleModelIndex model_index;                 // the rules each known model name can reach
    bool empty() const { return rules.empty(); }
};

// Parses `root`'s "routing_rules" array and "time_zones" object (either may be absent) for
// `config` (providers, models, aliases and virtual keys already parsed; `team_ids` = the
// snapshot's teams). Disabled rows ("enabled": false) are left out. False + `error` naming the row
// ("routing_rules[2] (id 7): match.content_regex: ...") on any unknown field or bad value.
bool parse_routing_rules(const json_t* root, const Config& config, const std::unordered_set<int64_t>& team_ids,
                         RoutingRules* out, std::string* error);

// True when `name` matches the glob `pattern` ('*' any run, '?' one byte; no escapes).
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace routeshift
