// usage_scanner: the usage read while a JSON answer passes in pieces equals usage_from_completion
// on the whole answer, for every split point; decoys inside strings and nested objects are not
// taken for the top-level "usage".
#include "egress/openai/usage_scanner.hpp"
#include "egress/openai/stream_relay.hpp"

#include "test_util.hpp"

#include <string>
#include <vector>

using namespace routeshift;

static Usage scan_split(std::string_view body, size_t split) {
    UsageScanner s;
    s.feed(body.substr(0, split));
    s.feed(body.substr(split));
    return s.usage();
}

static Usage scan_bytewise(std::string_view body) {
    UsageScanner s;
    for (char c : body) s.feed(std::string_view(&c, 1));
    return s.usage();
}

static void expect_same(const Usage& a, const Usage& b, std::string_view body) {
    if (a.prompt_tokens != b.prompt_tokens || a.completion_tokens != b.completion_tokens ||
        a.total_tokens != b.total_tokens || a.cached_tokens != b.cached_tokens) {
        fail_msg("usage differs (%lld/%lld vs %lld/%lld) for %.*s", (long long)a.prompt_tokens,
                 (long long)a.completion_tokens, (long long)b.prompt_tokens, (long long)b.completion_tokens,
                 (int)body.size(), body.data());
    }
}

static void test_matches_whole_body_parse(void**) {
    const std::vector<std::string> bodies = {
        R"({"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}})",
        // usage first, then a decoy inside the content
        R"({"usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
            "choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":999}"}}]})",
        // nested "usage" keys are not the answer's
        R"({"choices":[{"usage":{"prompt_tokens":1}}],"meta":{"usage":{"prompt_tokens":2}},"usage":{"prompt_tokens":3,"completion_tokens":4}})",
        // duplicates: the last one wins
        R"({"usage":{"prompt_tokens":1,"completion_tokens":1},"x":[1,{"a":"}"}],"usage":{"prompt_tokens":20,"completion_tokens":30}})",
        R"({"usage":null,"choices":[]})",
        R"({"choices":[],"usage":null})",
        R"({"choices":[{"message":{"content":"no usage here \\ \" } ]"}}]})",
        R"({"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}   )",
        R"({"a":"usage","usage":{"prompt_tokens":11,"completion_tokens":22}})",
        // a long string (past the scanner's short-string window) with escapes and a decoy; a key
        // that starts like "usage"
        R"({"choices":[{"message":{"content":"a long answer, longer than two dozen bytes, with \"quotes\", a \\ backslash and a decoy \"usage\":{\"prompt_tokens\":77}, then more text"}}],"usage_total":{"prompt_tokens":5},"usage":{"prompt_tokens":9,"completion_tokens":1}})",
    };
    size_t with_usage = 0;
    for (const std::string& body : bodies) {
        Usage whole = usage_from_completion(body);
        if (whole.prompt_tokens > 0) with_usage++;
        for (size_t split = 0; split <= body.size(); split++) expect_same(scan_split(body, split), whole, body);
        expect_same(scan_bytewise(body), whole, body);
    }
    assert_int_equal(with_usage, 7);  // the cases above are not all trivially empty
    Usage first = scan_bytewise(bodies[0]);
    assert_int_equal(first.prompt_tokens, 12);
    assert_int_equal(first.cached_tokens, 8);
}

static void test_incomplete_or_not_an_object(void**) {
    std::string body = R"({"usage":{"prompt_tokens":4,"completion_tokens":2}})";
    UsageScanner s;
    s.feed(body.substr(0, body.size() - 1));  // the answer broke off before its end
    assert_int_equal(s.usage().prompt_tokens, -1);
    s.feed("}");
    assert_int_equal(s.usage().prompt_tokens, 4);
    s.reset();
    s.feed(R"([{"usage":{"prompt_tokens":4}}])");
    assert_int_equal(s.usage().prompt_tokens, -1);
    s.reset();
    s.feed(R"(}{"usage":{"prompt_tokens":4}})");
    assert_int_equal(s.usage().prompt_tokens, -1);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_whole_body_parse),
        cmocka_unit_test(test_incomplete_or_not_an_object),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
