// Served models without a price while a cost ceiling is in force (see price_check.hpp).
#include "price_check.hpp"

#include <map>
#include <utility>

namespace rsync {
namespace {

// Where the ceiling comes from, for the messages: "settings.cost_ceiling_microcents, routing_rules id 4".
std::string ceiling_sources(const ConfigRows& rows) {
    std::string out;
    if (rows.settings.cost_ceiling_microcents) out = "settings.cost_ceiling_microcents";
    for (const auto& rule : rows.routing_rules) {
        if (!rule.enabled || !rule.cost_ceiling_microcents) continue;
        out += (out.empty() ? "" : ", ") + std::string("routing_rules id ") + std::to_string(rule.id);
    }
    return out;
}

}  // namespace

PriceCheck check_prices_for_ceiling(const ConfigRows& rows, int64_t now_unix) {
    PriceCheck check;
    std::string sources = ceiling_sources(rows);
    if (sources.empty()) return check;

    std::map<int64_t, const ProviderRow*> providers;
    for (const auto& p : rows.providers) providers[p.id] = &p;
    // (provider, upstream model) -> the row in force now, and the first row at all (for the hint)
    std::map<std::pair<int64_t, std::string>, const ModelPriceRow*> in_force, first;
    for (const auto& price : rows.model_prices) {
        auto key = std::make_pair(price.provider_id, price.model);
        if (!first.count(key) || price.effective_from < first[key]->effective_from) first[key] = &price;
        if (price.effective_from > now_unix) continue;
        auto it = in_force.find(key);
        if (it == in_force.end() || price.effective_from > it->second->effective_from) in_force[key] = &price;
    }

    for (const auto& model : rows.models) {
        auto provider = providers.find(model.provider_id);
        if (!model.enabled || provider == providers.end() || !provider->second->enabled) continue;
        const std::string& provider_name = provider->second->name;
        if (model.model == "*") {
            check.warnings.push_back("models id " + std::to_string(model.id) + " (provider " + provider_name +
                                     ", model \"*\"): the cost ceiling (" + sources +
                                     ") refuses every model of this provider that has no price in model_prices");
            continue;
        }
        std::string upstream = model.upstream_model.value_or(model.model);
        std::string name = "models id " + std::to_string(model.id) + " (provider " + provider_name + ", model " +
                           model.model + (upstream != model.model ? ", upstream model " + upstream : "") + ")";
        auto key = std::make_pair(model.provider_id, upstream);
        auto price = in_force.find(key);
        if (price == in_force.end()) {
            std::string why = "no price in force for upstream model " + upstream + " in model_prices";
            if (first.count(key)) why += " (its first price applies from unix time " + std::to_string(first[key]->effective_from) + ")";
            check.errors.push_back(name + ": " + why + ", but a cost ceiling is in force (" + sources + ")");
        } else if (!price->second->max_output_tokens) {
            check.warnings.push_back(name + ": model_prices id " + std::to_string(price->second->id) +
                                     " has no max_output_tokens: requests without max_tokens count only their "
                                     "prompt against the cost ceiling");
        }
    }
    return check;
}

}  // namespace rsync
