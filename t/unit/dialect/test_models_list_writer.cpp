// models_list_writer: OpenAI's and Anthropic's models list shapes (docs/design.md §18 "Models list").
#include "dialect/models_list_writer.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

const std::vector<ListedModel> kModels = {{"a-model", "openai"}, {"b\"odd", "routeshift"}, {"c", "anthropic"}};
constexpr int64_t kCreated = 1764633600;  // 2025-12-02T00:00:00Z

void test_openai_shapes(void**) {
    assert_str_eq(openai_models_list_json(kModels, kCreated),
                  R"({"object":"list","data":[{"id":"a-model","object":"model","created":1764633600,"owned_by":"openai"},)"
                  R"({"id":"b\"odd","object":"model","created":1764633600,"owned_by":"routeshift"},)"
                  R"({"id":"c","object":"model","created":1764633600,"owned_by":"anthropic"}]})");
    assert_str_eq(openai_models_list_json({}, kCreated), R"({"object":"list","data":[]})");
    assert_str_eq(openai_model_json(kModels[0], kCreated),
                  R"({"id":"a-model","object":"model","created":1764633600,"owned_by":"openai"})");
}

std::string page(std::string_view query) {
    AnthropicModelsPage p;
    ApiError err;
    if (!anthropic_models_page_from_query(query, &p, &err)) fail_msg("query %s: %s", std::string(query).c_str(), err.message.c_str());
    return anthropic_models_list_json(kModels, kCreated, p);
}

void test_anthropic_shapes(void**) {
    assert_str_eq(anthropic_model_json(kModels[2], kCreated),
                  R"({"type":"model","id":"c","display_name":"c","created_at":"2025-12-02T00:00:00Z"})");
    std::string all = page("");
    assert_true(json_parse(all, nullptr) != nullptr);
    assert_contains(all, R"("has_more":false,"first_id":"a-model","last_id":"c"})");
    // limit / after_id / before_id pages (ids percent-decoded)
    assert_contains(page("limit=2"), R"("has_more":true,"first_id":"a-model","last_id":"b\"odd"})");
    assert_contains(page("after_id=b%22odd&limit=5"), R"({"data":[{"type":"model","id":"c",)");
    assert_contains(page("after_id=b%22odd&limit=5"), R"("has_more":false,"first_id":"c","last_id":"c"})");
    assert_contains(page("before_id=c&limit=1"), R"("has_more":true,"first_id":"b\"odd","last_id":"b\"odd"})");
    assert_str_eq(page("after_id=c"), R"({"data":[],"has_more":false,"first_id":null,"last_id":null})");
    assert_str_eq(anthropic_models_list_json({}, kCreated, {}), R"({"data":[],"has_more":false,"first_id":null,"last_id":null})");
    for (std::string_view bad : {"limit=0", "limit=1001", "limit=x", "limit=", "limit=-1"}) {
        AnthropicModelsPage p;
        ApiError err;
        if (anthropic_models_page_from_query(bad, &p, &err)) fail_msg("accepted %s", std::string(bad).c_str());
        assert_int_equal(err.status, 400);
        assert_str_eq(err.param, "limit");
    }
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_shapes),
        cmocka_unit_test(test_anthropic_shapes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
