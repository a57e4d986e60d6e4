// The exact bytes the client gets for Anthropic answers: every recorded answer (t/unit/data/anthropic)
// and the edge cases below, through anthropic_translator in each client mode (JSON, stream, stream
// with usage, legacy functions), compared with data/anthropic/answers.golden -- the outputs of the
// translator before the answer path was made cheaper (issue 7), so any change of bytes, errors or
// usage shows. Each input is also fed in small pieces: the output must not depend on the split.
// UPDATE_GOLDEN=1 rewrites the golden file (only for an intended change of output).
#include "egress/provider_adapter.hpp"

#include "golden_file.hpp"
#include "test_util.hpp"
#include "translator_run.hpp"

using namespace routeshift;

namespace {

struct Case {
    const char* name;
    std::string body;
};

// Answers the recordings do not cover: escapes of every kind, duplicate keys, block types,
// tool inputs, usage shapes, errors and malformed answers.
std::vector<Case> edge_cases() {
    return {
        {"escapes", R"({"id":"msg_\u0041\/x","type":"message","model":"claude-\"q\"","content":[{"type":"text","text":"a\nb\t\"c\" \\ \/ \u00e9 \u2028 \ud83d\ude00 \u0001 \u007f é ☃"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":4}})"},
        {"raw_controls_escaped_upper", R"({"id":"m","model":"c","content":[{"type":"text","text":"\u001F\u000B\b\f\r"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}})"},
        {"two_texts_and_unknown_blocks", R"({"id":"m","model":"c","content":[{"type":"text","text":"one "},{"type":"server_tool_use","id":"s","name":"web_search","input":{"q":1}},{"type":"web_search_tool_result","content":[]},{"type":"text","text":"two","citations":[]}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}})"},
        {"thinking_redacted_tools", R"({"id":"m","model":"c","content":[{"type":"thinking","thinking":"let me \"think\"\n","signature":"sig/+=="},{"type":"redacted_thinking","data":"abc\u00e9"},{"type":"text","text":"calling"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{ "city" : "Paris" , "n":[1, 2.50,{"a":null}] ,"city":"Rome"}},{"type":"tool_use","id":"toolu_2","name":"noop","input":{}},{"type":"tool_use","id":"toolu_3","name":"nul","input":null},{"type":"tool_use","id":"toolu_4","name":"absent"}],"stop_reason":"tool_use","usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":7,"output_tokens_details":{"thinking_tokens":3}}})"},
        {"duplicate_keys", R"({"id":"first","id":"second","model":"c1","model":"c2","content":[{"type":"text","text":"dropped"}],"content":[{"type":"text","type":"text","text":"x","text":"kept"}],"stop_reason":"max_tokens","stop_reason":"end_turn","usage":{"input_tokens":1,"input_tokens":2,"output_tokens":3}})"},
        {"refusal", R"({"id":"m","model":"c","content":[],"stop_reason":"refusal","stop_details":{"type":"refusal","explanation":"not \"this\""},"usage":{"input_tokens":1,"output_tokens":0}})"},
        {"refusal_without_explanation", R"({"id":"m","model":"c","content":[{"type":"text","text":"partial"}],"stop_reason":"refusal","usage":{"input_tokens":1,"output_tokens":1}})"},
        {"stop_reasons_length", R"({"id":"m","model":"c","content":[{"type":"text","text":"cut"}],"stop_reason":"model_context_window_exceeded","usage":{"input_tokens":1,"output_tokens":1}})"},
        {"stop_sequence_null_usage", R"({"id":"m","model":"c","content":[{"type":"text","text":""}],"stop_reason":null,"stop_sequence":null,"usage":null})"},
        {"usage_odd_values", R"({"id":"m","model":"c","content":[{"type":"text","text":"u"}],"stop_reason":"pause_turn","usage":{"input_tokens":1.5,"output_tokens":-2,"cache_read_input_tokens":"3","service_tier":"standard"}})"},
        {"no_id_no_model", R"({"type":"message","content":[{"type":"text","text":"anonymous"}],"stop_reason":"end_turn"})"},
        {"non_string_id", R"({"id":12,"model":["c"],"content":[{"type":"text","text":7},{"type":7,"text":"x"},"block",null],"stop_reason":5})"},
        {"empty_content", R"({"id":"m","model":"c","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}})"},
        {"nested_whitespace", "\r\n  \t{ \"id\" : \"m\" ,\n \"model\":\"c\", \"content\" : [ { \"type\" : \"text\" , \"text\" : \"spaced\" } ] , \"stop_reason\":\"end_turn\" }\n\n"},
        {"error_typed", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"})"},
        {"error_member", R"({"error":{"type":"invalid_request_error","message":"bad \"thing\""}})"},
        {"error_null_is_not_error", R"({"id":"m","model":"c","error":null,"content":[{"type":"text","text":"fine"}],"stop_reason":"end_turn"})"},
        {"minimax_base_resp", R"({"id":"m","model":"c","content":[],"base_resp":{"status_code":1004,"status_msg":"login fail"}})"},
        {"minimax_base_resp_ok", R"({"id":"m","model":"c","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","base_resp":{"status_code":0,"status_msg":""}})"},
        {"not_a_message", R"({"id":"m","model":"c","content":"text"})"},
        {"array_root", R"([{"type":"text","text":"x"}])"},
        {"invalid_json", R"({"id":"m","content":[{"type":"text","text":"x"}])"},
        {"empty", ""},
        {"sse_to_json_request", "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"},
    };
}

struct Mode {
    const char* name;
    bool stream, include_usage, legacy_functions;
};

constexpr Mode kModes[] = {
    {"json", false, false, false},
    {"stream", true, false, false},
    {"stream_usage", true, true, false},
    {"json_legacy", false, false, true},
};

std::string run(std::string_view body, const Mode& mode, size_t step) {
    TranslatorOptions o = test::translator_options(mode.stream, mode.include_usage, "", "", 1763700000);
    o.legacy_functions = mode.legacy_functions;
    auto translator = anthropic_translator(o);
    std::vector<size_t> cuts;
    if (step) {
        for (size_t at = step; at < body.size(); at += step) cuts.push_back(at);
    }
    test::TranslatorRun r = test::run_translator(*translator, body, cuts);
    std::string out = r.out;
    out += "\n--- feed_ok=" + std::to_string(r.feed_ok) + " finish_ok=" + std::to_string(r.finish_ok) +
           " complete=" + std::to_string(r.complete) + " error=" + std::to_string(r.saw_error) +
           " usage=" + std::to_string(r.usage.prompt_tokens) + "," + std::to_string(r.usage.completion_tokens) + "," +
           std::to_string(r.usage.total_tokens) + "," + std::to_string(r.usage.cached_tokens) + "\n";
    return out;
}

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (const char* file : {"anthropic-sdk-typescript_basic_response.sse", "anthropic-sdk-typescript_incomplete_partial_json_response.sse",
                             "anthropic-sdk-typescript_tool_use_response.sse", "vercel-ai_anthropic-clear-thinking.1.json",
                             "vercel-ai_anthropic-clear-thinking.1.sse", "vercel-ai_anthropic-json-tool.1.json",
                             "vercel-ai_anthropic-json-tool.1.sse", "vercel-ai_anthropic-message-delta-input-tokens.sse",
                             "vercel-ai_anthropic-refusal.json", "vercel-ai_anthropic-refusal.sse", "vercel-ai_anthropic-text.json",
                             "vercel-ai_anthropic-text.sse", "vercel-ai_anthropic-tool-no-args.json",
                             "vercel-ai_anthropic-tool-no-args.sse"}) {
        cases.push_back({file, test::read_data_file(std::string("anthropic/") + file)});
    }
    for (Case& c : edge_cases()) cases.push_back(std::move(c));
    return cases;
}

// Every case in every mode, as one text: "=== <case> <mode>\n<output>".
std::string all_outputs(size_t step) {
    std::string text;
    for (const Case& c : all_cases()) {
        for (const Mode& m : kModes) {
            text += "=== ";
            text += c.name;
            text += ' ';
            text += m.name;
            text += '\n';
            text += run(c.body, m, step);
        }
    }
    return text;
}

void outputs_match_the_golden_file(void**) { test::check_golden_file("anthropic/answers.golden", all_outputs(0), "=== "); }

void outputs_do_not_depend_on_the_split(void**) {
    std::string whole = all_outputs(0);
    assert_str_eq(all_outputs(1), whole);
    assert_str_eq(all_outputs(7), whole);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outputs_match_the_golden_file),
        cmocka_unit_test(outputs_do_not_depend_on_the_split),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
