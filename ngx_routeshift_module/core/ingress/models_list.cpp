#include "ingress/models_list.hpp"

#include "config/provider_catalog.hpp"
#include "routing/model_resolver.hpp"

#include <algorithm>

namespace routeshift {
namespace {

constexpr std::string_view kAliasOwner = "routeshift";

// The kind of the first enabled provider serving `name` bare ("" when none does).
std::string_view bare_owner(const Config& cfg, std::string_view name) {
    auto it = cfg.models_by_name.find(std::string(name));
    if (it == cfg.models_by_name.end()) return {};
    for (size_t idx : it->second) {
        const Provider& p = cfg.providers[cfg.models[idx].provider];
        if (p.enabled) return provider_info(p.kind).name;
    }
    return {};
}

bool alias_resolves(const Config& cfg, int64_t team_id, std::string_view alias) {
    std::vector<Target> targets;
    return resolve_model(cfg, team_id, alias, &targets, nullptr);
}

}  // namespace

std::vector<ListedModel> models_for_team(const Config& cfg, int64_t team_id) {
    std::vector<ListedModel> out;
    out.reserve(cfg.models_by_name.size() + cfg.aliases.size());
    for (const auto& [name, entries] : cfg.models_by_name) {
        if (name == "*") continue;
        std::string_view owner = bare_owner(cfg, name);
        if (!owner.empty()) out.push_back({name, owner});
    }
    // Alias keys are "<team id>\0<alias>" (Config::aliases); 0 is the global team.
    const std::string own_prefix = std::to_string(team_id) + '\0';
    const std::string global_prefix = std::string("0") + '\0';
    for (const auto& [key, target] : cfg.aliases) {
        std::string_view k = key;
        std::string_view alias;
        if (team_id != 0 && k.starts_with(own_prefix)) alias = k.substr(own_prefix.size());
        else if (k.starts_with(global_prefix)) alias = k.substr(global_prefix.size());
        else continue;
        if (alias_resolves(cfg, team_id, alias)) out.push_back({std::string(alias), kAliasOwner});
    }
    // An alias wins over a model of the same name (resolution tries aliases first).
    std::stable_sort(out.begin(), out.end(), [](const ListedModel& a, const ListedModel& b) {
        if (a.id != b.id) return a.id < b.id;
        return a.owned_by == kAliasOwner && b.owned_by != kAliasOwner;
    });
    out.erase(std::unique(out.begin(), out.end(), [](const ListedModel& a, const ListedModel& b) { return a.id == b.id; }),
              out.end());
    return out;
}

std::optional<ListedModel> model_for_team(const Config& cfg, int64_t team_id, std::string_view id) {
    std::vector<Target> targets;
    if (!resolve_model(cfg, team_id, id, &targets, nullptr)) return std::nullopt;
    const bool alias = (team_id != 0 && cfg.alias_target(team_id, id)) || cfg.alias_target(0, id);
    if (alias) return ListedModel{std::string(id), kAliasOwner};
    return ListedModel{std::string(id), provider_info(cfg.providers[targets.front().provider].kind).name};
}

}  // namespace routeshift
