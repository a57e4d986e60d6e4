#include "config/rule_model_index.hpp"

#include "config/config_snapshot.hpp"

#include <algorithm>

namespace routeshift {
namespace {

// names × rules above this and the index would cost more memory per worker than it saves time.
constexpr size_t kMaxIndexedPairs = 2'000'000;

}  // namespace

bool rule_model_names_match(const RoutingRule& rule, std::string_view model) {
    if (!rule.models.empty() && std::find(rule.models.begin(), rule.models.end(), model) == rule.models.end())
        return false;
    return rule.model_globs.empty() || std::any_of(rule.model_globs.begin(), rule.model_globs.end(),
                                                   [&](const std::string& g) { return glob_match(g, model); });
}

void build_rule_model_index(const Config& config, const std::vector<RoutingRule>& rules, RuleModelIndex* out) {
    out->by_name.clear();
    if (rules.empty()) return;
    std::vector<std::string_view> names;
    for (const auto& [name, entries] : config.models_by_name) names.push_back(name);
    for (const auto& [key, target] : config.aliases) {
        size_t zero = key.find('\0');  // team id + '\0' + alias
        names.push_back(zero == std::string::npos ? std::string_view(key) : std::string_view(key).substr(zero + 1));
    }
    if (names.size() * rules.size() > kMaxIndexedPairs) return;
    for (std::string_view name : names) {
        if (out->by_name.count(name)) continue;  // an alias of several teams, or also a public name
        RuleModelIndex::Candidates candidates;
        size_t regex_errors = 0;
        for (uint32_t i = 0; i < rules.size(); i++) {
            const RoutingRule& rule = rules[i];
            if (!rule_model_names_match(rule, name)) continue;
            if (rule.model_regex) {
                RegexResult r = rule.model_regex->match(name);
                if (r == RegexResult::error) regex_errors++;
                if (r != RegexResult::matched) continue;
            }
            if (!rule.stream || !*rule.stream) candidates.rules[0].push_back(i);
            if (!rule.stream || *rule.stream) candidates.rules[1].push_back(i);
        }
        if (regex_errors == 0) out->by_name.emplace(std::string(name), std::move(candidates));
    }
}

}  // namespace routeshift
