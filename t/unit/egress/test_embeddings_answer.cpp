// The translated embeddings answer (docs/design.md §22): fed in pieces, decoded by the wire,
// written in the client's dialect, usage from the provider or the estimate, broken answers an
// error in the client's dialect.
#include "egress/embeddings_answer.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

struct Run {
    bool ok;
    std::string out;
    Usage usage;
    bool error;
    bool estimated;
};

Run run(EmbeddingsAnswerOptions options, std::string_view answer) {
    auto t = embeddings_answer_translator(std::move(options));
    std::string out;
    for (size_t i = 0; i < answer.size(); i += 5) t->feed(answer.substr(i, 5), &out);
    bool ok = t->finish(&out);
    assert_true(ok == t->complete());
    return Run{ok, out, t->usage(), t->saw_error(), t->usage_estimated()};
}

}  // namespace

static void test_gemini_to_openai(void**) {
    EmbeddingsAnswerOptions o;
    o.wire = WireFormat::gemini;
    o.upstream_model = "gemini-embedding-001";
    o.inputs = 2;
    o.estimated_tokens = 9;
    Run r = run(o, R"({"embeddings":[{"values":[0.5]},{"values":[0.25]}]})");
    assert_true(r.ok);
    assert_false(r.error);
    assert_contains(r.out, R"("embedding":[0.5])");
    assert_contains(r.out, R"("model":"gemini-embedding-001")");
    assert_contains(r.out, R"("prompt_tokens":9)");
    assert_int_equal(r.usage.prompt_tokens, 9);
    assert_int_equal(r.usage.total_tokens, 9);
    assert_int_equal(r.usage.completion_tokens, 0);
    assert_true(r.estimated);  // Gemini counts nothing: the request log flags the estimate
}

static void test_titan_to_gemini_client(void**) {
    EmbeddingsAnswerOptions o;
    o.wire = WireFormat::bedrock;
    o.upstream_model = "amazon.titan-embed-text-v2:0";
    o.dialect = Dialect::google;
    o.gemini_single = true;
    o.inputs = 1;
    o.estimated_tokens = 100;
    Run r = run(o, R"({"embedding":[1,2],"inputTextTokenCount":4})");
    assert_true(r.ok);
    assert_str_eq(r.out, R"({"embedding":{"values":[1,2]}})");
    assert_int_equal(r.usage.prompt_tokens, 4);  // the provider's count wins over the estimate
    assert_false(r.estimated);
}

static void test_wrong_count_and_broken(void**) {
    EmbeddingsAnswerOptions o;
    o.wire = WireFormat::gemini;
    o.inputs = 3;
    Run r = run(o, R"({"embeddings":[{"values":[0.5]}]})");
    assert_false(r.ok);
    assert_true(r.error);
    assert_contains(r.out, "returned 1 embeddings for 3 inputs");
    assert_contains(r.out, "\"type\":\"server_error\"");
    o.dialect = Dialect::google;
    r = run(o, "{\"embed");
    assert_false(r.ok);
    assert_contains(r.out, "\"status\":");  // Google's error shape
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemini_to_openai),
        cmocka_unit_test(test_titan_to_gemini_client),
        cmocka_unit_test(test_wrong_count_and_broken),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
