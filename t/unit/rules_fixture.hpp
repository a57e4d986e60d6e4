// A small snapshot for the routing-rule tests: two providers, models, aliases, two teams, three
// virtual keys, a price per model (1 microcent per token, so rule cost ceilings can apply); rules and time zones are spliced in by each test. Installs the libpcre2-8 engine.
// Include before test_util.hpp (cmocka.h must come last).
#pragma once
#include "config/config_snapshot.hpp"
#include "pcre2_regex.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <string>

namespace test {

inline void install_test_regex_engine() {
    static const routeshift::Pcre2RegexEngine engine;
    routeshift::install_regex_engine(&engine);
}

inline std::string rules_snapshot(const std::string& rules, const std::string& time_zones = "{}") {
    return R"({
  "version": 1, "generation": 5,
  "settings": {"retry_budget": 3},
  "providers": [
    {"id": 1, "name": "openai", "kind": "openai"},
    {"id": 2, "name": "claude", "kind": "anthropic"}
  ],
  "provider_keys": [
    {"id": 1, "provider_id": 1, "secret": "sk-oa-1"},
    {"id": 2, "provider_id": 1, "secret": "sk-oa-2"},
    {"id": 3, "provider_id": 2, "secret": "sk-ant-1"}
  ],
  "models": [
    {"provider_id": 1, "model": "gpt-4o"},
    {"provider_id": 1, "model": "gpt-4o-mini"},
    {"provider_id": 2, "model": "claude-sonnet", "upstream_model": "claude-sonnet-4-5"}
  ],
  "teams": [{"id": 1, "name": "default"}, {"id": 2, "name": "research"}],
  "virtual_keys": [
    {"id": 5, "team_id": 1, "name": "ci", "key_hash": "0000000000000000000000000000000000000000000000000000000000000005"},
    {"id": 6, "team_id": 2, "name": "lab", "key_hash": "0000000000000000000000000000000000000000000000000000000000000006"},
    {"id": 7, "team_id": 1, "name": "web", "key_hash": "0000000000000000000000000000000000000000000000000000000000000007"}
  ],
  "model_aliases": [
    {"team_id": null, "alias": "smart", "target": "gpt-4o"},
    {"team_id": 2, "alias": "deep", "target": "claude-sonnet"}
  ],
  "routing_rules": )" + rules + R"(,
  "time_zones": )" + time_zones + R"(,
  "model_prices": [
    {"id": 1, "provider_id": 1, "model": "gpt-4o", "input_microcents_per_mtok": 1000000,
     "output_microcents_per_mtok": 1000000, "max_output_tokens": 100, "effective_from": 0},
    {"id": 2, "provider_id": 1, "model": "gpt-4o-mini", "input_microcents_per_mtok": 1000000,
     "output_microcents_per_mtok": 1000000, "max_output_tokens": 100, "effective_from": 0},
    {"id": 3, "provider_id": 2, "model": "claude-sonnet-4-5", "input_microcents_per_mtok": 1000000,
     "output_microcents_per_mtok": 1000000, "max_output_tokens": 100, "effective_from": 0}
  ]
})";
}

inline std::string read_zone_base64(const char* name) {
    std::ifstream f(std::string("/usr/share/zoneinfo/") + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string bytes = ss.str();
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), (int)bytes.size());
    out.resize((size_t)n);
    return out;
}

}  // namespace test
