// Plans of the relayed endpoints (see openai_relay_plan.hpp).
#include "ingress/openai_relay_plan.hpp"

#include "routing/model_resolver.hpp"

#include <algorithm>

namespace routeshift {
namespace {

ApiError client_error(int status, std::string message, std::string_view type, std::string param, std::string code) {
    ApiError e;
    e.status = status;
    e.message = std::move(message);
    e.type = std::string(type);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

bool has_openai_wire_key(const Config& config, const Provider& provider) {
    return std::any_of(provider.keys.begin(), provider.keys.end(), [&](size_t k) {
        const ProviderKey& key = config.keys[k];
        return key.enabled && key.weight > 0 && key.wire == WireFormat::openai;
    });
}

}  // namespace

Plan plan_provider_call(const Config& config, size_t provider, std::optional<size_t> pinned_key,
                        std::string_view public_name, unsigned directive_budget, PlanEnvironment& env) {
    Plan plan;
    plan.requested_model = std::string(public_name);
    plan.targets.push_back(Target{provider, std::string(), std::string(public_name)});
    PlannedBody body{0, provider, -1, true, {}, {}};
    plan.bodies.push_back(std::move(body));
    const Provider& prov = config.providers[provider];
    for (size_t ki : prov.keys) {
        const ProviderKey& key = config.keys[ki];
        // a pinned key serves its objects even at weight 0 (no new traffic), never when disabled
        if (!key.enabled || (pinned_key ? ki != *pinned_key : key.weight <= 0)) continue;
        PlannedCandidate c;
        c.key = ki;
        c.target = 0;
        c.body = 0;
        c.tier = key.priority;
        std::string endpoint_error;
        c.endpoint = key.wire == WireFormat::openai ? env.endpoint(ki, std::string(), false, &endpoint_error) : nullptr;
        if (key.wire != WireFormat::openai) endpoint_error = "not an OpenAI-wire key";
        if (c.endpoint == nullptr) {
            c.unusable = true;
            c.unusable_reason = std::move(endpoint_error);
        }
        plan.candidates.push_back(std::move(c));
    }
    unsigned budget = config.settings.retry_budget > 0 ? (unsigned)config.settings.retry_budget : directive_budget;
    plan.budget.attempts = std::max(budget, 1u);
    KeyHealth health = env.health(plan.candidates);
    if (health.healthy == 0) {
        std::string who = "provider '" + prov.name + "'";
        if (health.limited > 0 && health.min_wait_ms < 0) {
            plan.error = client_error(429, "Every key of " + who + " is at its rate limit; retry later.",
                                      "rate_limit_error", "", "rate_limit_exceeded");
            plan.retry_after_seconds = (health.min_limit_wait_ms + 999) / 1000;
            return plan;
        }
        if (health.min_wait_ms >= 0) {
            plan.error = client_error(503, "Every key of " + who + " is cooling down after upstream errors; retry later.",
                                      "server_error", "", "all_keys_cooling_down");
            plan.retry_after_seconds = (health.min_wait_ms + 999) / 1000;
            return plan;
        }
        plan.error = client_error(503, "No enabled key of " + who + " can serve this call.", "server_error", "",
                                  "no_provider_key");
        return plan;
    }
    plan.budget.attempts = (unsigned)std::min<size_t>(plan.budget.attempts, health.healthy);
    plan.ok = true;
    return plan;
}

bool relay_files_provider(const Config& config, size_t* provider, ApiError* error) {
    const std::string& name = config.settings.files_provider;
    if (name.empty()) {
        *error = client_error(400, "This gateway serves no calls without a model: settings.files_provider is not set.",
                              "invalid_request_error", "", "files_provider_not_configured");
        return false;
    }
    auto it = config.provider_by_name.find(name);
    if (it == config.provider_by_name.end() || !config.providers[it->second].enabled ||
        !has_openai_wire_key(config, config.providers[it->second])) {
        *error = client_error(400, "The files provider '" + name + "' is not an enabled provider with an OpenAI-wire key.",
                              "invalid_request_error", "", "files_provider_unavailable");
        return false;
    }
    *provider = it->second;
    return true;
}

bool relay_model_on_openai_wire(const Config& config, int64_t team_id, std::string_view model, std::string_view path,
                                ApiError* error) {
    std::vector<Target> targets;
    if (!resolve_model(config, team_id, model, &targets, error)) return false;
    for (const Target& t : targets)
        if (has_openai_wire_key(config, config.providers[t.provider])) return true;
    std::string name(model);
    *error = client_error(400,
                          "The endpoint " + std::string(path) + " is not available for model '" + name +
                              "': only providers of another wire format serve it.",
                          "invalid_request_error", "model", "endpoint_not_available_for_model");
    return false;
}

std::optional<size_t> key_index_by_id(const Config& config, int64_t key_id) {
    for (size_t i = 0; i < config.keys.size(); i++)
        if (config.keys[i].id == key_id) return i;
    return std::nullopt;
}

}  // namespace routeshift
