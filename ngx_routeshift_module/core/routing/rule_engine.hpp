// The routing-rule engine: evaluates a config's rules (config/routing_rules.hpp) for one request
// in priority order. Every matching `tag` rule adds its labels; the first matching route, block or
// static rule decides and ends the evaluation. Request facts that cost a pass over the prompt
// (its size, its user + system text) are computed only when a rule asks for them, once.
#pragma once
#include "config/config_snapshot.hpp"
#include "ingress/chat_request.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

struct RuleOutcome {
    const RoutingRule* decided = nullptr;  // the first matching route/block/static rule, or null
    std::vector<int64_t> matched;          // ids of every matching rule (tags and the decider), in order
    std::vector<std::string> tags;         // labels of the matching tag rules, first occurrence kept
    size_t regex_errors = 0;               // matches that ended in an error (counted as no match)
};

// `environment` is the host's routeshift_environment ("" = none: a rule listing environments
// does not match). `now_unix` feeds the time windows.
RuleOutcome evaluate_rules(const RoutingRules& rules, const VirtualKey& caller, const ChatRequest& request,
                           int64_t now_unix, std::string_view environment);

// The stable bucket 0..9999 of `subject` for rule `rule_id` (FNV-1a 64): the same caller lands in
// the same bucket for as long as the rule exists, and different rules split traffic independently.
unsigned percentage_bucket(int64_t rule_id, std::string_view subject);

// The text a content regex sees: every user, system and developer message's text (string content
// and "text" parts), decoded, joined by "\n".
std::string rule_match_text(const ChatRequest& request);

}  // namespace routeshift
