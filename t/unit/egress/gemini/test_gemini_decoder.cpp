// gemini_response_decoder: GenerateContentResponse JSON / alt=sse events -> canonical events:
// choices, text runs, reasoning, tool calls with synthesized ids, logprobs, images, usage with
// cached and thought tokens, finish reasons only at the clean end of the body.
#include "egress/response_decoder.hpp"

#include "test_util.hpp"
#include "translator_run.hpp"

using namespace routeshift;

namespace {

test::EventRecorder decode(bool stream, std::string_view body, std::string gateway_id = "chatcmpl-test") {
    auto decoder = gemini_response_decoder(stream, std::move(gateway_id));
    return test::decode_events(*decoder, body);
}

std::string event(const std::string& json) { return "data: " + json + "\r\n\r\n"; }

void two_candidates_stream(void**) {
    std::string body =
        event(R"({"candidates":[{"content":{"parts":[{"text":"A"},{"text":"a"}]}},{"content":{"parts":[{"text":"t","thought":true},{"text":"B"}]},"index":1}],"responseId":"r1","modelVersion":"gemini-x"})") +
        event(R"({"candidates":[{"content":{"parts":[]},"finishReason":"STOP"},{"index":1,"finishReason":"RECITATION"}],)"
              R"("usageMetadata":{"promptTokenCount":10,"cachedContentTokenCount":4,"toolUsePromptTokenCount":2,"candidatesTokenCount":3,"thoughtsTokenCount":5}})");
    test::EventRecorder rec = decode(true, body);
    assert_str_eq(rec.joined(),
                  "start chatcmpl-r1 gemini-x\n"
                  "choice 0\ntext Aa\n"
                  "choice 1\nreasoning t\ntext B\n"
                  "choice 0\nchoice 1\n"
                  "usage 8 4 -1 8 5\n"
                  // finishes only at the end of the body, choice by choice
                  "choice 0\nfinish stop\nchoice 1\nfinish content_filter\n");
}

void logprobs_go_with_the_first_text_run(void**) {
    std::string logprobs =
        R"("logprobsResult":{"topCandidates":[{"candidates":[{"token":"Hi","logProbability":-0.1},{"token":"Hey","logProbability":-2.5}]}],)"
        R"("chosenCandidates":[{"token":"Hi","logProbability":-0.1}]})";
    test::EventRecorder rec = decode(
        true, event(R"({"candidates":[{"content":{"parts":[{"text":"why","thought":true},{"text":"Hi"},{"text":"!","thought":true}]},)" +
                    logprobs + R"(,"finishReason":"STOP"}]})"));
    assert_contains(rec.joined(), "reasoning why\ntext Hi logprobs Hi=-0.1[Hi=-0.1,Hey=-2.5]\nreasoning !\n");
    // no text in the event: the logprobs come alone, after the parts
    rec = decode(true, event(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},)" + logprobs +
                             R"(,"finishReason":"STOP"}]})"));
    assert_contains(rec.joined(), " f {}\ntext  logprobs Hi=-0.1[Hi=-0.1,Hey=-2.5]\n");
    assert_str_eq(rec.events.back(), "finish tool_calls");
    // an empty logprobsResult: nothing in a stream, an empty list in a JSON answer
    rec = decode(true, event(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"logprobsResult":{},"finishReason":"STOP"}]})"));
    assert_contains(rec.joined(), "\ntext x\n");
    rec = decode(false, R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"logprobsResult":{},"finishReason":"STOP"}]})");
    assert_contains(rec.joined(), "\ntext x logprobs\n");
}

void images_and_tool_call_ids(void**) {
    test::EventRecorder rec = decode(
        false, R"({"candidates":[{"content":{"parts":[{"inlineData":{"data":"AAAA"}},{"inlineData":{"mimeType":"image/png","data":"BB"},"thought":true},)"
               R"({"functionCall":{"id":"fc_1","name":"f","args":{"a":1}},"thoughtSignature":"SIG"},{"functionCall":{"name":"g"}}]},"finishReason":"MAX_TOKENS"}]})");
    std::string all = rec.joined();
    assert_contains(all, "image application/octet-stream AAAA\n");  // thought images are not shown
    assert_not_contains(all, "image image/png");
    assert_contains(all, "tool 0 fc_1__thought__SIG f {\"a\":1}\n");
    assert_contains(all, "tool 1 call_");
    assert_contains(all, " g {}\n");
    assert_str_eq(rec.events.back(), "finish tool_calls");  // whole calls answer the choice
    // synthesized ids derive from the answer's id
    std::string other = decode(false, R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"g"}}]}}]})", "chatcmpl-2").joined();
    std::string same = decode(false, R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"g"}}]}}]})", "chatcmpl-2").joined();
    assert_str_eq(other, same);
    assert_string_not_equal(other.c_str(), decode(false, R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"g"}}]}}]})").joined().c_str());
}

void prompt_blocked_and_errors(void**) {
    test::EventRecorder rec = decode(false, R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9}})");
    assert_str_eq(rec.joined(), "start  \nusage 9 0 -1 0 0\nchoice 0\nfinish content_filter\n");
    rec = decode(true, event(R"({"candidates":[{"content":{"parts":[{"text":"x"}]}}]})"));
    assert_str_eq(rec.events.back(), "error 502 stream_truncated upstream stream ended before completion");
    rec = decode(true, event(R"({"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED"}})"));
    assert_str_eq(rec.joined(), "error 429 rate_limit_exceeded slow\n");
    rec = decode(false, "{\"candidates\":");
    assert_str_eq(rec.joined(), "error 502 invalid_upstream_response Gemini sent an answer that is not valid JSON\n");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_candidates_stream),
        cmocka_unit_test(logprobs_go_with_the_first_text_run),
        cmocka_unit_test(images_and_tool_call_ids),
        cmocka_unit_test(prompt_blocked_and_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
