// The embeddings answers in each dialect (docs/design.md §22), and the base64 float32 encoding the
// openai SDK decodes.
#include "dialect/gemini_embed_writer.hpp"
#include "dialect/openai_embeddings_writer.hpp"
#include "util/base64.hpp"

#include <cstring>

#include "test_util.hpp"

using namespace routeshift;

static void test_openai_floats(void**) {
    EmbeddingResult r;
    r.vectors = {{0.1, -0.2}, {3e-9}};
    assert_str_eq(openai_embeddings_answer_body(r, "text-embedding-3-small", EmbeddingEncoding::floats, 5),
                  R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]},)"
                  R"({"object":"embedding","index":1,"embedding":[3e-09]}],"model":"text-embedding-3-small",)"
                  R"("usage":{"prompt_tokens":5,"total_tokens":5}})");
}

static void test_openai_base64_is_float32_le(void**) {
    EmbeddingResult r;
    r.vectors = {{1.0, -2.0, 0.1}};
    std::string body = openai_embeddings_answer_body(r, "m", EmbeddingEncoding::base64, 1);
    std::string_view marker = "\"embedding\":\"";
    size_t at = body.find(marker);
    assert_true(at != std::string::npos);
    size_t start = at + marker.size();
    std::string text = body.substr(start, body.find('"', start) - start);
    assert_str_eq(text.substr(0, 16), "AACAPwAAAMDNzMw9");  // 1.0f, -2.0f, 0.1f little-endian
    std::string bytes;
    assert_true(base64_decode(text, &bytes));
    assert_int_equal(bytes.size(), 12);
    float f[3];
    std::memcpy(f, bytes.data(), 12);
    assert_true(f[0] == 1.0f && f[1] == -2.0f && f[2] == 0.1f);
}

static void test_non_finite_and_usage(void**) {
    EmbeddingResult r;
    r.vectors = {{1.0 / 0.0}};
    std::string body = openai_embeddings_answer_body(r, "m", EmbeddingEncoding::floats, -1);
    assert_contains(body, "\"embedding\":[0]");
    assert_contains(body, "\"prompt_tokens\":0");
}

static void test_gemini(void**) {
    EmbeddingResult r;
    r.vectors = {{0.5, 1}};
    assert_str_eq(gemini_embed_answer_body(r, true), R"({"embedding":{"values":[0.5,1]}})");
    r.vectors.push_back({2});
    assert_str_eq(gemini_embed_answer_body(r, false), R"({"embeddings":[{"values":[0.5,1]},{"values":[2]}]})");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_floats),
        cmocka_unit_test(test_openai_base64_is_float32_le),
        cmocka_unit_test(test_non_finite_and_usage),
        cmocka_unit_test(test_gemini),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
