// Model resolution (docs/design.md §3; see model_resolver.hpp).
#include "routing/model_resolver.hpp"

namespace routeshift {

namespace {

bool not_found(ApiError* err, std::string_view requested) {
    if (err) {
        err->status = 404;
        err->type = "not_found_error";
        err->message = "The model `";
        // the name is echoed in a JSON string only; control characters were rejected earlier
        err->message += requested;
        err->message += "` does not exist or you do not have access to it.";
        err->param = "model";
        err->code = "model_not_found";
    }
    return false;
}

bool has_ctl(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

// Every enabled provider listing `name` as a public model.
void bare_targets(const Config& cfg, std::string_view name, std::vector<Target>* out) {
    auto it = cfg.models_by_name.find(std::string(name));
    if (it == cfg.models_by_name.end()) return;
    for (size_t idx : it->second) {
        const ModelEntry& m = cfg.models[idx];
        if (!cfg.providers[m.provider].enabled) continue;
        out->push_back(Target{m.provider, m.upstream_model, m.model});
    }
}

}  // namespace

bool resolve_model(const Config& cfg, int64_t team_id, std::string_view requested, std::vector<Target>* out,
                   ApiError* err) {
    out->clear();
    // Model names travel into response headers and logs: a control character is never a model.
    if (requested.empty() || has_ctl(requested)) return not_found(err, has_ctl(requested) ? "" : requested);

    std::string_view name = requested;
    const std::string* target = team_id != 0 ? cfg.alias_target(team_id, requested) : nullptr;
    if (!target) target = cfg.alias_target(0, requested);
    if (target) name = *target;

    size_t slash = name.find('/');
    if (slash != std::string_view::npos && slash > 0 && slash + 1 < name.size()) {
        auto pit = cfg.provider_by_name.find(std::string(name.substr(0, slash)));
        if (pit != cfg.provider_by_name.end() && cfg.providers[pit->second].enabled) {
            const size_t pidx = pit->second;
            std::string_view model = name.substr(slash + 1);
            auto mit = cfg.models_by_name.find(std::string(model));
            if (mit != cfg.models_by_name.end()) {
                for (size_t idx : mit->second) {
                    const ModelEntry& m = cfg.models[idx];
                    if (m.provider == pidx) {
                        out->push_back(Target{pidx, m.upstream_model, std::string(name)});
                        return true;
                    }
                }
            }
            if (cfg.providers[pidx].any_model) {
                out->push_back(Target{pidx, std::string(model), std::string(name)});
                return true;
            }
        }
        // Not served under that provider: the whole string may still be a bare public name
        // (e.g. "meta-llama/Llama-3.3-70B-Instruct-Turbo" on Together).
    }

    bare_targets(cfg, name, out);
    if (!out->empty()) return true;
    return not_found(err, requested);
}

}  // namespace routeshift
