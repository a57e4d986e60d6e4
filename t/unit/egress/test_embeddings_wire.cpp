// Embeddings per wire (docs/design.md §22): which requests each wire can express, the provider's
// path, body and answer decoding.
#include "egress/bedrock/bedrock_embeddings.hpp"
#include "egress/embeddings_wire.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

EmbeddingRequest texts(std::vector<std::string> inputs, bool single = false) {
    EmbeddingRequest req;
    req.model = "emb";
    for (std::string& text : inputs) req.inputs.push_back(EmbeddingInput{std::move(text), {}, {}});
    req.single = single;
    return req;
}

}  // namespace

static void test_expressible(void**) {
    std::string why;
    EmbeddingRequest two = texts({"a", "b"});
    EmbeddingRequest one = texts({"a"}, true);
    EmbeddingRequest tokens = texts({""});
    tokens.token_input = true;
    assert_true(embeddings_expressible(WireFormat::openai, "text-embedding-3-small", tokens, &why));
    assert_false(embeddings_expressible(WireFormat::anthropic, "claude", one, &why));
    assert_contains(why, "no embeddings endpoint");
    assert_true(embeddings_expressible(WireFormat::gemini, "gemini-embedding-001", two, &why));
    assert_false(embeddings_expressible(WireFormat::gemini, "gemini-embedding-001", tokens, &why));
    assert_contains(why, "token ids");
    assert_true(embeddings_expressible(WireFormat::bedrock, "amazon.titan-embed-text-v2:0", one, &why));
    assert_false(embeddings_expressible(WireFormat::bedrock, "amazon.titan-embed-text-v2:0", two, &why));
    assert_contains(why, "one text per request");
    EmbeddingRequest dims = one;
    dims.dimensions = 256;
    assert_true(embeddings_expressible(WireFormat::bedrock, "amazon.titan-embed-text-v2:0", dims, &why));
    assert_false(embeddings_expressible(WireFormat::bedrock, "amazon.titan-embed-text-v1", dims, &why));
    assert_true(embeddings_expressible(WireFormat::bedrock, "cohere.embed-english-v3", two, &why));
    assert_true(embeddings_expressible(WireFormat::bedrock, "us.cohere.embed-v4:0", dims, &why));
    assert_false(embeddings_expressible(WireFormat::bedrock, "cohere.embed-english-v3", dims, &why));
    assert_false(embeddings_expressible(WireFormat::bedrock, "anthropic.claude-3-haiku", one, &why));
    assert_contains(why, "not a Titan or Cohere embedding model");
    std::vector<std::string> many(97, "x");
    assert_false(embeddings_expressible(WireFormat::bedrock, "cohere.embed-english-v3", texts(many), &why));
    std::vector<std::string> too_many(101, "x");
    assert_false(embeddings_expressible(WireFormat::gemini, "gemini-embedding-001", texts(too_many), &why));
}

static void test_paths(void**) {
    std::string path;
    assert_true(embeddings_upstream_path(WireFormat::openai, "/v1/chat/completions", &path));
    assert_str_eq(path, "/v1/embeddings");
    assert_true(embeddings_upstream_path(WireFormat::openai,
                                         "/openai/deployments/emb/chat/completions?api-version=2024-10-21", &path));
    assert_str_eq(path, "/openai/deployments/emb/embeddings?api-version=2024-10-21");
    assert_true(embeddings_upstream_path(WireFormat::gemini, "/v1beta/models/gemini-embedding-001:generateContent", &path));
    assert_str_eq(path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assert_true(embeddings_upstream_path(WireFormat::bedrock, "/model/amazon.titan-embed-text-v2%3A0/converse", &path));
    assert_str_eq(path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    assert_false(embeddings_upstream_path(WireFormat::anthropic, "/v1/messages", &path));
    assert_false(embeddings_upstream_path(WireFormat::bedrock, "/model/x/converse-stream", &path));
}

static void test_bodies(void**) {
    EmbeddingRequest req = texts({"hello", "world"});
    req.dimensions = 512;
    req.user = "u1";
    assert_str_eq(embeddings_upstream_body(WireFormat::openai, req, "text-embedding-3-small"),
                  R"({"model":"text-embedding-3-small","input":["hello","world"],"dimensions":512,"user":"u1","encoding_format":"float"})");
    assert_str_eq(embeddings_upstream_body(WireFormat::openai, texts({"x"}, true), "m"),
                  R"({"model":"m","input":"x","encoding_format":"float"})");
    req.inputs[0].task_type = "RETRIEVAL_QUERY";
    assert_str_eq(embeddings_upstream_body(WireFormat::gemini, req, "gemini-embedding-001"),
                  R"({"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":512},)"
                  R"({"model":"models/gemini-embedding-001","content":{"parts":[{"text":"world"}]},"outputDimensionality":512}]})");
    EmbeddingRequest one = texts({"hi"}, true);
    assert_str_eq(embeddings_upstream_body(WireFormat::bedrock, one, "amazon.titan-embed-text-v2:0"), R"({"inputText":"hi"})");
    assert_str_eq(embeddings_upstream_body(WireFormat::bedrock, texts({"a", "b"}), "cohere.embed-english-v3"),
                  R"({"texts":["a","b"],"input_type":"search_document","embedding_types":["float"]})");
    assert_str_eq(embeddings_upstream_body(WireFormat::bedrock, req, "cohere.embed-v4:0"),
                  R"({"texts":["hello","world"],"input_type":"search_query","embedding_types":["float"],"output_dimension":512})");
}

static void test_answers(void**) {
    EmbeddingResult r;
    std::string error;
    assert_true(embeddings_decode_answer(WireFormat::openai, "m",
        R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5]},{"object":"embedding","index":0,"embedding":[0.25,-1]}],"usage":{"prompt_tokens":7,"total_tokens":7}})",
        &r, &error));
    assert_int_equal(r.vectors.size(), 2);
    assert_true(r.vectors[0] == std::vector<double>({0.25, -1}));
    assert_true(r.vectors[1] == std::vector<double>({0.5}));
    assert_int_equal(r.prompt_tokens, 7);
    // base64 float32 (1.0f, -2.0f)
    assert_true(embeddings_decode_answer(WireFormat::openai, "m", R"({"data":[{"index":0,"embedding":"AACAPwAAAMA="}]})", &r, &error));
    assert_true(r.vectors[0] == std::vector<double>({1.0, -2.0}));
    assert_int_equal(r.prompt_tokens, -1);
    assert_false(embeddings_decode_answer(WireFormat::openai, "m", R"({"data":[{"index":3,"embedding":[1]}]})", &r, &error));
    assert_false(embeddings_decode_answer(WireFormat::openai, "m", R"({"data":[{"embedding":["x"]}]})", &r, &error));

    assert_true(embeddings_decode_answer(WireFormat::gemini, "g", R"({"embeddings":[{"values":[0.1,0.2]},{"values":[0.3]}]})", &r, &error));
    assert_int_equal(r.vectors.size(), 2);
    assert_true(r.vectors[1] == std::vector<double>({0.3}));
    assert_int_equal(r.prompt_tokens, -1);
    assert_true(embeddings_decode_answer(WireFormat::gemini, "g", R"({"embedding":{"values":[1]}})", &r, &error));
    assert_false(embeddings_decode_answer(WireFormat::gemini, "g", R"({"embeddings":[{"values":[1]},{}]})", &r, &error));
    assert_false(embeddings_decode_answer(WireFormat::gemini, "g", "not json", &r, &error));

    assert_true(embeddings_decode_answer(WireFormat::bedrock, "amazon.titan-embed-text-v2:0",
                                         R"({"embedding":[0.5,0.25],"inputTextTokenCount":3})", &r, &error));
    assert_int_equal(r.prompt_tokens, 3);
    assert_true(r.vectors[0] == std::vector<double>({0.5, 0.25}));
    assert_true(embeddings_decode_answer(WireFormat::bedrock, "cohere.embed-english-v3",
                                         R"({"id":"x","embeddings":{"float":[[1],[2]]},"response_type":"embeddings_by_type"})", &r, &error));
    assert_int_equal(r.vectors.size(), 2);
    assert_true(embeddings_decode_answer(WireFormat::bedrock, "cohere.embed-english-v3", R"({"embeddings":[[1,2]]})", &r, &error));
    assert_int_equal(r.vectors.size(), 1);
    assert_false(embeddings_decode_answer(WireFormat::bedrock, "cohere.embed-english-v3", R"({"embeddings":{"int8":[[1]]}})", &r, &error));
    assert_false(embeddings_decode_answer(WireFormat::bedrock, "amazon.titan-embed-text-v1", R"({"embeddings":[1]})", &r, &error));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expressible),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
