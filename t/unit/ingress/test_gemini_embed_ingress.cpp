// Gemini :embedContent / :batchEmbedContents bodies -> canonical embedding request (docs/design.md §22).
#include "ingress/gemini_embed_ingress.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_embed_content(void**) {
    EmbeddingRequest req;
    ApiError err;
    assert_true(parse_gemini_embed_body(
        R"({"content":{"parts":[{"text":"hello "},{"text":"world"}]},"taskType":"RETRIEVAL_DOCUMENT","title":"T","outputDimensionality":768})",
        "gemini-embedding-001", GeminiEmbedMethod::embed_content, &req, &err));
    assert_str_eq(req.model, "gemini-embedding-001");
    assert_true(req.single);
    assert_int_equal(req.inputs.size(), 1);
    assert_str_eq(req.inputs[0].text, "hello world");  // one content, one embedding
    assert_str_eq(req.inputs[0].task_type, "RETRIEVAL_DOCUMENT");
    assert_str_eq(req.inputs[0].title, "T");
    assert_int_equal(req.dimensions, 768);
    // the SDK also sends the model in the body
    assert_true(parse_gemini_embed_body(R"({"model":"models/m","content":{"parts":[{"text":"x"}],"role":"user"}})", "m",
                                        GeminiEmbedMethod::embed_content, &req, &err));
}

static void test_batch(void**) {
    EmbeddingRequest req;
    ApiError err;
    assert_true(parse_gemini_embed_body(
        R"({"requests":[{"model":"models/m","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY"},
                        {"model":"models/m","content":{"parts":[{"text":"b"}]}}]})",
        "m", GeminiEmbedMethod::batch_embed_contents, &req, &err));
    assert_false(req.single);
    assert_int_equal(req.inputs.size(), 2);
    assert_str_eq(req.inputs[0].task_type, "RETRIEVAL_QUERY");
    assert_str_eq(req.inputs[1].text, "b");
}

static void test_refusals(void**) {
    struct Case {
        GeminiEmbedMethod method;
        const char* body;
        const char* says;
    } cases[] = {
        {GeminiEmbedMethod::embed_content, "[]", "JSON object"},
        {GeminiEmbedMethod::embed_content, R"({"content":{"parts":[]}})", "content.parts"},
        {GeminiEmbedMethod::embed_content, R"({})", "content"},
        {GeminiEmbedMethod::embed_content, R"({"content":{"parts":[{"inlineData":{"data":"AA=="}}]}})", "content.parts[0]"},
        {GeminiEmbedMethod::embed_content, R"({"content":{"parts":[{"text":""}]}})", "empty"},
        {GeminiEmbedMethod::embed_content, R"({"content":{"parts":[{"text":"x"}]},"temperature":1})", "Unknown name \"temperature\""},
        {GeminiEmbedMethod::embed_content, R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":-3})", "outputDimensionality"},
        {GeminiEmbedMethod::embed_content, R"({"model":"models/other","content":{"parts":[{"text":"x"}]}})", "model"},
        {GeminiEmbedMethod::batch_embed_contents, R"({"requests":[]})", "requests"},
        {GeminiEmbedMethod::batch_embed_contents, R"({"requests":[{"content":{"parts":[{"text":"x"}]}}]})", "requests[0].model"},
        {GeminiEmbedMethod::batch_embed_contents,
         R"({"requests":[{"model":"models/m","content":{"parts":[{"text":"x"}]},"outputDimensionality":8},
                         {"model":"models/m","content":{"parts":[{"text":"y"}]}}]})", "requests[1].outputDimensionality"},
        {GeminiEmbedMethod::batch_embed_contents, R"({"requests":[{"model":"models/m","content":{"parts":[{"text":"x"}]}}],"x":1})", "Unknown name"},
    };
    for (const Case& c : cases) {
        EmbeddingRequest req;
        ApiError err;
        if (parse_gemini_embed_body(c.body, "m", c.method, &req, &err)) fail_msg("accepted %s", c.body);
        assert_int_equal(err.status, 400);
        if (err.message.find(c.says) == std::string::npos) fail_msg("%s: %s", c.body, err.message.c_str());
    }
    std::string body = R"({"requests":[)";
    for (size_t i = 0; i <= kMaxGeminiEmbedRequests; i++)
        body += std::string(i ? "," : "") + R"({"model":"models/m","content":{"parts":[{"text":"x"}]}})";
    body += "]}";
    EmbeddingRequest req;
    ApiError err;
    assert_false(parse_gemini_embed_body(body, "m", GeminiEmbedMethod::batch_embed_contents, &req, &err));
}

static void test_methods(void**) {
    GeminiEmbedMethod m;
    assert_true(gemini_embed_method("embedContent", &m));
    assert_int_equal((int)m, (int)GeminiEmbedMethod::embed_content);
    assert_true(gemini_embed_method("batchEmbedContents", &m));
    assert_int_equal((int)m, (int)GeminiEmbedMethod::batch_embed_contents);
    assert_false(gemini_embed_method("generateContent", &m));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_content),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_methods),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
