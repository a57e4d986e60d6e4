// Rule evaluation (see rule_engine.hpp).
#include "routing/rule_engine.hpp"

#include "canonical/prompt_size.hpp"
#include "util/time_zone.hpp"

#include <algorithm>
#include <optional>

namespace routeshift {
namespace {

// Facts about the request, computed on first use.
class RequestFacts {
public:
    RequestFacts(const ChatRequest& request) : request_(request) {}

    const PromptSize& size() { return measure_prompt(request_); }  // cached in the request
    // Upper bounds of size() without measuring (see size_cannot_match).
    const PromptSizeBound& bound() {
        if (!bound_) bound_ = prompt_size_bound(request_);
        return *bound_;
    }
    const std::string& text() {
        if (!text_) text_ = rule_match_text(request_);
        return *text_;
    }
    bool tools() {
        if (!tools_) {
            JsonValue t = request_.top.tools;
            JsonValue f = request_.top.functions;
            tools_ = (t.is(JsonType::array) && !json_array_empty(t)) || (f.is(JsonType::array) && !json_array_empty(f));
        }
        return *tools_;
    }
    // metadata.<key> as a decoded string; false when absent or not a string.
    bool metadata(std::string_view key, std::string* value) {
        JsonValue md = request_.top.metadata;
        if (!md.is(JsonType::object)) return false;
        JsonValue found;
        JsonObjectReader members(md);
        JsonMember m;
        while (members.next(&m)) {
            if (json_key_equals(m, key)) found = m.value;  // the last duplicate wins (jansson's rule)
        }
        return found.is(JsonType::string) && json_string_decode(found, value);
    }

private:
    const ChatRequest& request_;
    std::optional<std::string> text_;
    std::optional<PromptSizeBound> bound_;
    std::optional<bool> tools_;
};

bool in_key_set(const RuleKeySet& set, const VirtualKey& caller) {
    if (std::find(set.ids.begin(), set.ids.end(), caller.id) != set.ids.end()) return true;
    return !caller.name.empty() && std::find(set.names.begin(), set.names.end(), caller.name) != set.names.end();
}

bool in_team_set(const RuleKeySet& set, const VirtualKey& caller) {
    return std::find(set.ids.begin(), set.ids.end(), caller.team_id) != set.ids.end();
}

// matched / no match; an engine error counts as no match and is counted.
bool regex_matches(const RegexMatcher& re, std::string_view text, RuleOutcome* outcome) {
    RegexResult r = re.match(text);
    if (r == RegexResult::error) outcome->regex_errors++;
    return r == RegexResult::matched;
}

bool conditions_hold(const RoutingRule& rule, const VirtualKey& caller, const ChatRequest& request,
                     int64_t now_unix, std::string_view environment) {
    if (rule.team_id && caller.team_id != rule.team_id) return false;
    if (!rule.environments.empty() &&
        std::find(rule.environments.begin(), rule.environments.end(), environment) == rule.environments.end())
        return false;
    if (rule.gate_virtual_keys.set && !in_key_set(rule.gate_virtual_keys, caller)) return false;
    if (rule.gate_teams.set && !in_team_set(rule.gate_teams, caller)) return false;
    if (!rule.time_windows.empty() || rule.days) {
        LocalTime local = rule.time_zone ? rule.time_zone->local_time(now_unix) : civil_from_unix(now_unix);
        int minute = local.hour * 60 + local.minute;
        int weekday = local.weekday;
        if (!rule.time_windows.empty()) {
            bool open = false;
            for (auto [start, end] : rule.time_windows) {
                if (start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)) {
                    // A window across midnight belongs to the day it opened on.
                    if (start > end && minute < end) weekday = (weekday + 6) % 7;
                    open = true;
                    break;
                }
            }
            if (!open) return false;
        }
        if (rule.days && !(rule.days & (1u << weekday))) return false;
    }
    if (rule.percentage_basis_points >= 0) {
        std::string subject = rule.percentage_by_session && !request.session_id.empty()
                                  ? "s:" + request.session_id
                                  : "k:" + std::to_string(caller.id);
        if ((int)percentage_bucket(rule.id, subject) >= rule.percentage_basis_points) return false;
    }
    return true;
}

// True when no request within `bound` can meet the rule's size minimums: the rule fails its size
// tests whatever measure_prompt would say, so the measurement (a pass over every message) is not
// needed for it. The same answer as the tests below, only sooner.
bool size_cannot_match(const RoutingRule& rule, const PromptSizeBound& bound) {
    return (rule.characters.set && rule.characters.min > bound.characters) ||
           (rule.tokens.set && rule.tokens.min > bound.estimated_tokens) ||
           (rule.system_characters.set && rule.system_characters.min > bound.characters) ||
           (rule.system_tokens.set && rule.system_tokens.min > estimate_tokens(bound.characters));
}

// `tests`: the rule's RuleTest bits still to run (the model index already ran the model tests of
// the rules it lists). Only those are looked at: most rules have one or two.
bool matches(const RoutingRule& rule, uint32_t tests, const VirtualKey& caller, const ChatRequest& request,
             RequestFacts& facts, RuleOutcome* outcome) {
    if (tests & kRuleTestCaller) {
        if (rule.virtual_keys.set && !in_key_set(rule.virtual_keys, caller)) return false;
        if (rule.teams.set && !in_team_set(rule.teams, caller)) return false;
    }
    if (tests & kRuleTestModelNames) {
        if (rule.stream && *rule.stream != request.stream) return false;
        if (!rule_model_names_match(rule, request.model)) return false;
    }
    if ((tests & kRuleTestMessages) && !rule.messages.contains(request.message_count)) return false;
    if ((tests & kRuleTestTools) && *rule.tools != facts.tools()) return false;
    if (tests & kRuleTestSize) {
        if (size_cannot_match(rule, facts.bound())) return false;  // most requests are far below a size minimum
        const PromptSize& size = facts.size();
        if (rule.characters.set && !rule.characters.contains(size.characters)) return false;
        if (rule.tokens.set && !rule.tokens.contains(size.estimated_tokens)) return false;
        if (rule.system_characters.set && !rule.system_characters.contains(size.system_characters)) return false;
        if (rule.system_tokens.set && !rule.system_tokens.contains(estimate_tokens(size.system_characters)))
            return false;
    }
    if (tests & kRuleTestMetadata) {
        std::string value;
        for (const RuleMetadataMatch& m : rule.metadata) {
            if (!facts.metadata(m.key, &value)) return false;
            if (m.regex ? !regex_matches(*m.regex, value, outcome) : value != m.exact) return false;
        }
    }
    // Regexes last: the cheap tests above usually decide first.
    if ((tests & kRuleTestModelRegex) && !regex_matches(*rule.model_regex, request.model, outcome)) return false;
    if ((tests & kRuleTestContent) && !regex_matches(*rule.content_regex, facts.text(), outcome)) return false;
    return true;
}

// The rest of a rule's evaluation (conditions, then its match tests), and what an applying rule
// does to `outcome`. True when it decides. Out of line: the evaluation loop stays small.
[[gnu::noinline]] bool applies_and_decides(const RoutingRule& rule, uint32_t tests, const VirtualKey& caller,
                                           const ChatRequest& request, int64_t now_unix, std::string_view environment,
                                           RequestFacts& facts, RuleOutcome* outcome) {
    if ((tests & kRuleTestConditions) && !conditions_hold(rule, caller, request, now_unix, environment)) return false;
    if ((tests & ~kRuleTestConditions) && !matches(rule, tests, caller, request, facts, outcome)) return false;
    outcome->matched.push_back(rule.id);
    if (rule.action == RuleAction::tag) {
        for (const std::string& label : rule.labels) {
            if (std::find(outcome->tags.begin(), outcome->tags.end(), label) == outcome->tags.end())
                outcome->tags.push_back(label);
        }
        return false;
    }
    outcome->decided = &rule;
    return true;
}

void append_text(JsonValue value, std::string* out) {
    if (!value.is(JsonType::string)) return;
    if (!out->empty()) out->push_back('\n');
    std::string_view plain;
    if (json_string_plain(value, &plain)) {
        out->append(plain);
    } else {
        std::string decoded;
        json_string_decode(value, &decoded);
        out->append(decoded);
    }
}

}  // namespace

unsigned percentage_bucket(int64_t rule_id, std::string_view subject) {
    uint64_t hash = 14695981039346656037ull;
    auto mix = [&](unsigned char byte) {
        hash ^= byte;
        hash *= 1099511628211ull;
    };
    for (int i = 0; i < 8; i++) mix((unsigned char)((uint64_t)rule_id >> (8 * i)));
    for (unsigned char c : subject) mix(c);
    return (unsigned)(hash % 10000);
}

std::string rule_match_text(const ChatRequest& request) {
    std::string text;
    JsonValue messages = json_find(request.members, "messages");
    if (!messages.is(JsonType::array)) return text;
    // role and content found in the pass that finds each message's end; long contents are stepped
    // over with the scan's list, not read again
    JsonArrayReader reader(messages, request.members);
    static constexpr std::string_view kMessageKeys[] = {"role", "content"};
    JsonValue found[std::size(kMessageKeys)];
    for (JsonValue message; reader.next(&message, kMessageKeys, found);) {
        const JsonValue& role = found[0];
        if (!json_string_equals(role, "user") && !json_string_equals(role, "system") &&
            !json_string_equals(role, "developer"))
            continue;
        const JsonValue& content = found[1];
        if (content.is(JsonType::string)) {
            append_text(content, &text);
        } else if (content.is(JsonType::array)) {
            JsonArrayReader parts(content, request.members);
            JsonValue part, part_text;
            while (parts.next(&part, "text", &part_text)) append_text(part_text, &text);
        }
    }
    return text;
}

RuleOutcome evaluate_rules(const RoutingRules& rules, const VirtualKey& caller, const ChatRequest& request,
                           int64_t now_unix, std::string_view environment) {
    RuleOutcome outcome;
    if (rules.rules.empty()) return outcome;
    RequestFacts facts(request);
    // Every metadata test needs a string in an object: none can pass without "metadata".
    const uint32_t failing = request.top.metadata.is(JsonType::object) ? 0u : kRuleTestMetadata;
    // True when the rule decides (evaluation ends). The cheap rejections come first, inline:
    // with 100 rules most are decided there, without a call.
    auto evaluate = [&](const RoutingRule& rule, bool model_tested) {
        uint32_t tests = model_tested ? rule.tests & ~(kRuleTestModelNames | kRuleTestModelRegex) : rule.tests;
        if (tests & failing) return false;
        if ((tests & kRuleTestMessages) && !rule.messages.contains(request.message_count)) return false;
        if ((tests & kRuleTestSize) && size_cannot_match(rule, facts.bound())) return false;
        return applies_and_decides(rule, tests, caller, request, now_unix, environment, facts, &outcome);
    };
    if (const std::vector<uint32_t>* indexed = rules.model_index.candidates(request.model, request.stream, environment)) {
        for (uint32_t i : *indexed)
            if (evaluate(rules.rules[i], true)) break;
    } else {
        for (const RoutingRule& rule : rules.rules)
            if (evaluate(rule, false)) break;
    }
    return outcome;
}

}  // namespace routeshift
