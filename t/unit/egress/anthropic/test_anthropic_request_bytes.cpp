// The exact Anthropic bodies (and errors) built from 43 OpenAI chat requests (data/anthropic/
// requests.jsonl: merged turns, a trimmed prefill, thinking replays, tool calls and results, images,
// PDFs, cache_control, stop sequences, structured output, streams, refusals of shapes the Messages
// API cannot carry) for six models / Messages-API providers, compared with requests.golden: the
// bodies of the builder before the conversation became block lists (issue 7), so any change of
// bytes or error shows. UPDATE_GOLDEN=1 rewrites the golden file (only for an intended change).
#include "config/key_metadata.hpp"
#include "egress/provider_adapter.hpp"
#include "ingress/chat_request.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace routeshift;

namespace {

std::string all_bodies() {
    ProviderKey key;
    key.provider = 0;
    key.secret = "sk-ant-x";
    key.metadata = json_parse("{}", nullptr);
    std::string error;
    if (!parse_key_metadata(key.metadata.get(), ProviderKind::anthropic, &key.meta, &error)) fail_msg("metadata: %s", error.c_str());
    std::istringstream requests(test::read_data_file("anthropic/requests.jsonl"));
    std::string line, text;
    for (size_t n = 1; std::getline(requests, line); ++n) {
        ApiError parse_error;
        auto req = parse_chat_request(line, &parse_error);
        if (!req) fail_msg("request %zu rejected by parse_chat_request: %s", n, parse_error.message.c_str());
        for (auto [model, kind] : {std::pair{"claude-sonnet-4-5", "anthropic"}, {"claude-3-7-sonnet", "anthropic"},
                                   {"claude-opus-4-6", "anthropic"}, {"MiniMax-M2", "minimax"}, {"kimi-k2", "moonshot"},
                                   {"glm-4.6", "zai"}}) {
            std::string body;
            ApiError err;
            bool ok = anthropic_build_body(*req, model, kind, key, &body, &err);
            text += std::to_string(n) + " " + model + " " +
                    (ok ? body : "ERR " + std::to_string(err.status) + " " + err.param + " " + err.message) + "\n";
        }
    }
    return text;
}

void bodies_match_the_golden_file(void**) {
    std::string now = all_bodies();
    const char* update = std::getenv("UPDATE_GOLDEN");
    if (update && *update == '1') {
        std::ofstream(std::string(TEST_DATA_DIR) + "/anthropic/requests.golden", std::ios::binary) << now;
        return;
    }
    std::string golden = test::read_data_file("anthropic/requests.golden");
    if (now == golden) return;
    size_t at = 0;
    while (at < now.size() && at < golden.size() && now[at] == golden[at]) ++at;
    size_t line = golden.rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    fail_msg("body differs from requests.golden at byte %zu\n  golden: %s\n  now:    %s", at,
             golden.substr(line, golden.find('\n', line) - line).c_str(), now.substr(line, now.find('\n', line) - line).c_str());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bodies_match_the_golden_file),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
