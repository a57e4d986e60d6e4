#include "config/rule_model_index.hpp"

#include "config/config_snapshot.hpp"

#include <algorithm>

namespace routeshift {
namespace {

// names × rules above this and the index would cost more memory per worker than it saves time.
constexpr size_t kMaxIndexedPairs = 2'000'000;
// More distinct environments than this in the rules: not indexed by environment (gated rules are
// kept in every list and rejected by their conditions, as before).
constexpr size_t kMaxIndexedEnvironments = 8;

// The environment buckets `rule` belongs to: all when it names none, else those it names.
bool in_bucket(const RoutingRule& rule, const std::vector<std::string>& environments, size_t bucket) {
    if (rule.environments.empty() || environments.empty()) return true;
    if (bucket == 0) return false;  // an environment no rule names: not one of this rule's
    return std::find(rule.environments.begin(), rule.environments.end(), environments[bucket - 1]) != rule.environments.end();
}

}  // namespace

bool rule_model_names_match(const RoutingRule& rule, std::string_view model) {
    if (!rule.models.empty() && std::find(rule.models.begin(), rule.models.end(), model) == rule.models.end())
        return false;
    return rule.model_globs.empty() || std::any_of(rule.model_globs.begin(), rule.model_globs.end(),
                                                   [&](const std::string& g) { return glob_match(g, model); });
}

void build_rule_model_index(const Config& config, const std::vector<RoutingRule>& rules, RuleModelIndex* out) {
    out->by_name.clear();
    out->environments.clear();
    if (rules.empty()) return;
    for (const RoutingRule& rule : rules)
        for (const std::string& environment : rule.environments)
            if (std::find(out->environments.begin(), out->environments.end(), environment) == out->environments.end())
                out->environments.push_back(environment);
    if (out->environments.size() > kMaxIndexedEnvironments) out->environments.clear();
    const size_t buckets = out->environments.size() + 1;
    std::vector<std::string_view> names;
    for (const auto& [name, entries] : config.models_by_name) names.push_back(name);
    for (const auto& [key, target] : config.aliases) {
        size_t zero = key.find('\0');  // team id + '\0' + alias
        names.push_back(zero == std::string::npos ? std::string_view(key) : std::string_view(key).substr(zero + 1));
    }
    if (names.size() * rules.size() * buckets > kMaxIndexedPairs) return;
    for (std::string_view name : names) {
        if (out->by_name.count(name)) continue;  // an alias of several teams, or also a public name
        RuleModelIndex::Candidates candidates;
        candidates.rules.resize(buckets * 2);
        size_t regex_errors = 0;
        for (uint32_t i = 0; i < rules.size(); i++) {
            const RoutingRule& rule = rules[i];
            if (!rule_model_names_match(rule, name)) continue;
            if (rule.model_regex) {
                RegexResult r = rule.model_regex->match(name);
                if (r == RegexResult::error) regex_errors++;
                if (r != RegexResult::matched) continue;
            }
            for (size_t bucket = 0; bucket < buckets; bucket++) {
                if (!in_bucket(rule, out->environments, bucket)) continue;
                if (!rule.stream || !*rule.stream) candidates.rules[bucket * 2].push_back(i);
                if (!rule.stream || *rule.stream) candidates.rules[bucket * 2 + 1].push_back(i);
            }
        }
        if (regex_errors == 0) out->by_name.emplace(std::string(name), std::move(candidates));
    }
}

}  // namespace routeshift
