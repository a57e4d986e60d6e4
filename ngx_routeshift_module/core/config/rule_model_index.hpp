// Routing rules grouped by the requested model name and the stream flag, built once per snapshot
// (issue 8: 100 rules must cost little per request). Most rules test the model name (exact, glob,
// regex) or the stream flag, and requests name models the snapshot knows (public names and
// aliases): for each known name the index lists, in evaluation order, only the rules whose model
// and stream tests pass, so a request skips every other rule without testing it and the kept ones
// skip those tests. A name the snapshot does not know takes the full loop.
// Each list also exists per environment (issue 8: "index by environment"): a rule gated to
// environments that do not include the request's (routeshift_environment) is left out, as its
// conditions would reject it first thing. Environments no rule names share one list.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace routeshift {

struct Config;
struct RoutingRule;

struct RuleModelIndex {
    struct Candidates {
        // indices into RoutingRules::rules, per environment bucket (0: one no rule names, k: the
        // k-th of `environments`) and stream flag: [bucket * 2 + (stream ? 1 : 0)]
        std::vector<std::vector<uint32_t>> rules;
    };
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, Candidates, NameHash, std::equal_to<>> by_name;
    std::vector<std::string> environments;  // the environments rules name (empty when not indexed by them)

    // The rules to evaluate for `model` in `environment`, or null when the name is not indexed
    // (evaluate them all).
    const std::vector<uint32_t>* candidates(std::string_view model, bool stream, std::string_view environment = {}) const {
        auto it = by_name.find(model);
        if (it == by_name.end()) return nullptr;
        size_t bucket = 0;
        for (size_t k = 0; k < environments.size(); k++)
            if (environments[k] == environment) bucket = k + 1;
        return &it->second.rules[bucket * 2 + (stream ? 1 : 0)];
    }
};

// True when `rule`'s exact-name and glob tests pass for `model` (the cheap model tests).
bool rule_model_names_match(const RoutingRule& rule, std::string_view model);

// Indexes every public model name and alias of `config` over `rules` (in evaluation order). Left
// empty when the product of names and rules is too large to keep per worker; a name whose regex
// test ends in an error is left out (the full loop counts that error per request, as before).
void build_rule_model_index(const Config& config, const std::vector<RoutingRule>& rules, RuleModelIndex* out);

}  // namespace routeshift
