// The exact Anthropic bodies (and errors) built from 43 OpenAI chat requests (data/anthropic/
// requests.jsonl: merged turns, a trimmed prefill, thinking replays, tool calls and results, images,
// PDFs, cache_control, stop sequences, structured output, streams, refusals of shapes the Messages
// API cannot carry) for six models / Messages-API providers, compared with requests.golden: the
// bodies of the builder before the conversation became block lists (issue 7), so any change of
// bytes or error shows. UPDATE_GOLDEN=1 rewrites the golden file (only for an intended change).
#include "config/key_metadata.hpp"
#include "egress/provider_adapter.hpp"
#include "ingress/chat_request.hpp"

#include <sstream>

#include "golden_file.hpp"
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

void bodies_match_the_golden_file(void**) { test::check_golden_file("anthropic/requests.golden", all_bodies()); }

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bodies_match_the_golden_file),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
