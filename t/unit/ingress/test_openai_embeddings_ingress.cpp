// The OpenAI embeddings body -> canonical embedding request (docs/design.md §22).
#include "ingress/openai_embeddings_ingress.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_string_and_array_inputs(void**) {
    EmbeddingRequest req;
    ApiError err;
    assert_true(parse_openai_embeddings_body(R"({"model":"text-embedding-3-small","input":"hello"})", "", &req, &err));
    assert_str_eq(req.model, "text-embedding-3-small");
    assert_true(req.single);
    assert_int_equal(req.inputs.size(), 1);
    assert_str_eq(req.inputs[0].text, "hello");
    assert_int_equal((int)req.encoding, (int)EmbeddingEncoding::floats);

    assert_true(parse_openai_embeddings_body(
        R"({"model":"m","input":["a","b\u00e9"],"dimensions":256,"encoding_format":"base64","user":"u1"})", "", &req, &err));
    assert_false(req.single);
    assert_int_equal(req.inputs.size(), 2);
    assert_str_eq(req.inputs[1].text, "b\xc3\xa9");
    assert_int_equal(req.dimensions, 256);
    assert_int_equal((int)req.encoding, (int)EmbeddingEncoding::base64);
    assert_str_eq(req.user, "u1");
    assert_int_equal(estimate_embedding_tokens(req), 1);  // 4 bytes of text
}

static void test_token_inputs(void**) {
    EmbeddingRequest req;
    ApiError err;
    assert_true(parse_openai_embeddings_body(R"({"model":"m","input":[1,2,3]})", "", &req, &err));
    assert_true(req.token_input);
    assert_int_equal(req.inputs.size(), 1);
    assert_int_equal(req.token_count, 3);
    assert_true(parse_openai_embeddings_body(R"({"model":"m","input":[[1,2],[3]]})", "", &req, &err));
    assert_int_equal(req.inputs.size(), 2);
    assert_int_equal(estimate_embedding_tokens(req), 3);
    // mixed shapes are refused
    assert_false(parse_openai_embeddings_body(R"({"model":"m","input":[[1,2],"x"]})", "", &req, &err));
    assert_false(parse_openai_embeddings_body(R"({"model":"m","input":["x",[1]]})", "", &req, &err));
    assert_false(parse_openai_embeddings_body(R"({"model":"m","input":[1,"x"]})", "", &req, &err));
    assert_false(parse_openai_embeddings_body(R"({"model":"m","input":[[]]})", "", &req, &err));
    assert_false(parse_openai_embeddings_body(R"({"model":"m","input":[-1]})", "", &req, &err));
}

static void test_refusals(void**) {
    struct Case {
        const char* body;
        const char* param;
    } cases[] = {
        {R"([1])", ""},
        {R"({"input":"x"})", "model"},
        {R"({"model":7,"input":"x"})", "model"},
        {R"({"model":"m"})", "input"},
        {R"({"model":"m","input":""})", "input"},
        {R"({"model":"m","input":[]})", "input"},
        {R"({"model":"m","input":[""]})", "input"},
        {R"({"model":"m","input":{"a":1}})", "input"},
        {R"({"model":"m","input":"x","encoding_format":"int8"})", "encoding_format"},
        {R"({"model":"m","input":"x","dimensions":0})", "dimensions"},
        {R"({"model":"m","input":"x","dimensions":"5"})", "dimensions"},
        {R"({"model":"m","input":"x","user":5})", "user"},
        {R"({"model":"m","input":"x","temperature":1})", "temperature"},
    };
    for (const Case& c : cases) {
        EmbeddingRequest req;
        ApiError err;
        if (parse_openai_embeddings_body(c.body, "", &req, &err)) fail_msg("accepted %s", c.body);
        assert_int_equal(err.status, 400);
        assert_str_eq(err.type, "invalid_request_error");
        if (err.param != c.param) fail_msg("%s: param %s", c.body, err.param.c_str());
        assert_false(err.message.empty());
    }
    // too many inputs
    std::string body = R"({"model":"m","input":[)";
    for (size_t i = 0; i <= kMaxOpenAIEmbeddingInputs; i++) body += i ? ",\"x\"" : "\"x\"";
    body += "]}";
    EmbeddingRequest req;
    ApiError err;
    assert_false(parse_openai_embeddings_body(body, "", &req, &err));
    assert_contains(err.message, "at most 2048");
}

static void test_path_model_wins(void**) {
    EmbeddingRequest req;
    ApiError err;
    assert_true(parse_openai_embeddings_body(R"({"model":"other","input":"x"})", "deploy-1", &req, &err));
    assert_str_eq(req.model, "deploy-1");
    assert_true(parse_openai_embeddings_body(R"({"input":"x"})", "deploy-1", &req, &err));
    assert_str_eq(req.model, "deploy-1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_and_array_inputs),
        cmocka_unit_test(test_token_inputs),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_path_model_wins),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
