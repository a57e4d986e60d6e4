// Routing rules grouped by the requested model name and the stream flag, built once per snapshot
// (issue 8: 100 rules must cost little per request). Most rules test the model name (exact, glob,
// regex) or the stream flag, and requests name models the snapshot knows (public names and
// aliases): for each known name the index lists, in evaluation order, only the rules whose model
// and stream tests pass, so a request skips every other rule without testing it and the kept ones
// skip those tests. A name the snapshot does not know takes the full loop.
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
        std::vector<uint32_t> rules[2];  // indices into RoutingRules::rules; [1] = streaming requests
    };
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, Candidates, NameHash, std::equal_to<>> by_name;

    // The rules to evaluate for `model`, or null when the name is not indexed (evaluate them all).
    const std::vector<uint32_t>* candidates(std::string_view model, bool stream) const {
        auto it = by_name.find(model);
        return it == by_name.end() ? nullptr : &it->second.rules[stream ? 1 : 0];
    }
};

// True when `rule`'s exact-name and glob tests pass for `model` (the cheap model tests).
bool rule_model_names_match(const RoutingRule& rule, std::string_view model);

// Indexes every public model name and alias of `config` over `rules` (in evaluation order). Left
// empty when the product of names and rules is too large to keep per worker; a name whose regex
// test ends in an error is left out (the full loop counts that error per request, as before).
void build_rule_model_index(const Config& config, const std::vector<RoutingRule>& rules, RuleModelIndex* out);

}  // namespace routeshift
