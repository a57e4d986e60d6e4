// The planner's host side for unit tests: real endpoints from the wire adapters (some refused on
// demand) and key health from tables of cooling and rate-limited keys. Records what the planner
// asked. Include before test_util.hpp (cmocka.h must come last).
#pragma once
#include "egress/wire_adapter.hpp"
#include "routing/planner.hpp"

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace test {

class TestEnvironment final : public routeshift::PlanEnvironment {
public:
    explicit TestEnvironment(const routeshift::Config& cfg) : cfg_(cfg) {}
    std::set<int64_t> refuse_endpoint;        // key ids whose endpoint fails
    std::map<int64_t, int64_t> cooling_ms;    // key id -> remaining cooldown
    std::map<int64_t, int64_t> limited_ms;    // key id -> wait until its rate limit lets it through
    size_t health_calls = 0;
    std::vector<int64_t> health_seen;         // key ids of the usable candidates health saw

    const routeshift::UpstreamEndpoint* endpoint(size_t key, const std::string& upstream_model, bool stream,
                                                 std::string* error) override {
        const routeshift::ProviderKey& k = cfg_.keys[key];
        if (refuse_endpoint.count(k.id)) {
            *error = "refused endpoint of key " + std::to_string(k.id);
            return nullptr;
        }
        routeshift::UpstreamEndpoint ep;
        if (!routeshift::wire_adapter(k).endpoint(cfg_, k, upstream_model, stream, &ep, error)) return nullptr;
        return &endpoints_.emplace_back(std::move(ep));
    }

    routeshift::KeyHealth health(std::span<const routeshift::PlannedCandidate> candidates) override {
        health_calls++;
        routeshift::KeyHealth h;
        for (const routeshift::PlannedCandidate& c : candidates) {
            if (c.unusable || c.held) continue;  // held: a context fallback's, as the zone skips them
            int64_t id = cfg_.keys[c.key].id;
            health_seen.push_back(id);
            if (auto limited = limited_ms.find(id); limited != limited_ms.end()) {
                h.limited++;
                if (h.min_limit_wait_ms < 0 || limited->second < h.min_limit_wait_ms) h.min_limit_wait_ms = limited->second;
            } else if (auto cooling = cooling_ms.find(id); cooling != cooling_ms.end()) {
                if (h.min_wait_ms < 0 || cooling->second < h.min_wait_ms) h.min_wait_ms = cooling->second;
            } else {
                h.healthy++;
            }
        }
        return h;
    }

private:
    const routeshift::Config& cfg_;
    std::deque<routeshift::UpstreamEndpoint> endpoints_;  // stable addresses
};

}  // namespace test
