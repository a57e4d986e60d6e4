// Context fallbacks that name no model (see fallback_check.hpp).
#include "fallback_check.hpp"

#include <set>
#include <unordered_map>

namespace rsync {
namespace {

// What a fallback name may be, as the gateway resolves it (docs/design.md §3): an alias of any
// team (the check cannot know the caller), a public name, or provider/model.
class ModelNames {
public:
    explicit ModelNames(const ConfigRows& rows) {
        std::unordered_map<int64_t, const ProviderRow*> providers;
        for (const auto& p : rows.providers)
            if (p.enabled) providers.emplace(p.id, &p);
        for (const auto& m : rows.models) {
            auto p = providers.find(m.provider_id);
            if (!m.enabled || p == providers.end()) continue;
            if (m.model == "*") {
                any_model_providers_.insert(p->second->name);
                continue;
            }
            public_names_.insert(m.model);
            scoped_names_.insert(p->second->name + "/" + m.model);
        }
        for (const auto& a : rows.model_aliases) aliases_.insert(a.alias);
    }

    bool resolves(const std::string& name) const {
        if (aliases_.count(name) || public_names_.count(name) || scoped_names_.count(name)) return true;
        size_t slash = name.find('/');
        return slash != std::string::npos && slash + 1 < name.size() && any_model_providers_.count(name.substr(0, slash));
    }

private:
    std::set<std::string> public_names_, scoped_names_, aliases_, any_model_providers_;
};

}  // namespace

std::vector<std::string> check_context_fallbacks(const ConfigRows& rows) {
    std::vector<std::string> errors;
    ModelNames names(rows);
    for (const auto& m : rows.models) {
        if (!m.enabled || !m.context_fallback_model || names.resolves(*m.context_fallback_model)) continue;
        errors.push_back("models id " + std::to_string(m.id) + " (" + m.model + "): context_fallback_model \"" +
                         *m.context_fallback_model + "\" is no enabled model, provider/model or alias");
    }
    for (const auto& r : rows.routing_rules) {
        if (!r.enabled || !r.context_fallback_model || names.resolves(*r.context_fallback_model)) continue;
        errors.push_back("routing_rules id " + std::to_string(r.id) + ": context_fallback_model \"" +
                         *r.context_fallback_model + "\" is no enabled model, provider/model or alias");
    }
    return errors;
}

}  // namespace rsync
