// The request-log record: its JSON line (columns, nulls for unknowns, attempts in order, no
// secrets), metadata without our control fields, the cut-stream estimate and the attempts' total.
#include "accounting/request_record.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

namespace {

JsonPtr parsed(const std::string& text) {
    std::string error;
    JsonPtr value = json_parse(text, &error);
    assert_non_null(value.get());
    return value;
}

long long integer_of(const json_t* object, const char* key) {
    const json_t* value = json_object_get(object, key);
    assert_true(json_is_integer(value));
    return (long long)json_integer_value(value);
}

RequestRecord two_attempt_record() {
    RequestRecord record;
    record.request_id = "0123456789abcdef0123456789abcdef";
    record.ts_ms = 1764653994123;  // 2025-12-02T05:39:54.123Z
    record.node = "gw-1";
    record.virtual_key_id = 5;
    record.team_id = 1;
    record.requested_model = "gpt-4o";
    record.resolved_model = "gpt-4o-2024-11-20";
    record.provider = "openai";
    record.provider_key_id = 11;
    record.status = 200;
    record.usage.prompt_tokens = 12;
    record.usage.completion_tokens = 7;
    record.usage.cached_tokens = 0;
    record.latency_ms = 40;
    record.ttfb_ms = 30;
    record.metadata_json = R"({"user":"u1","n":3})";
    record.tags = {"eu", "batch"};
    record.matched_rules = {4, 9};
    AttemptRecord failed;
    failed.provider = "openai";
    failed.provider_key_id = 10;
    failed.model = "gpt-4o-2024-11-20";
    failed.status = 429;
    failed.latency_ms = 3;
    failed.error_class = "http_429";
    AttemptRecord served = failed;
    served.provider_key_id = 11;
    served.status = 200;
    served.error_class.clear();
    served.usage = record.usage;
    served.cost_microcents = 1234;
    record.attempts = {failed, served};
    record.cost_microcents = attempts_cost_microcents(record.attempts);
    return record;
}

}  // namespace

static void test_record_line_has_every_column(void**) {
    RequestRecord record = two_attempt_record();
    std::string line = request_record_json(record);
    assert_true(line.find('\n') == std::string::npos);  // one spool line
    JsonPtr root = parsed(line);
    const json_t* object = root.get();
    assert_string_equal(json_string_value(json_object_get(object, "request_id")), record.request_id.c_str());
    assert_string_equal(json_string_value(json_object_get(object, "ts")), "2025-12-02T05:39:54.123Z");
    assert_int_equal(integer_of(object, "virtual_key_id"), 5);
    assert_int_equal(integer_of(object, "team_id"), 1);
    assert_int_equal(integer_of(object, "status"), 200);
    assert_int_equal(integer_of(object, "attempts"), 2);
    assert_int_equal(integer_of(object, "prompt_tokens"), 12);
    assert_int_equal(integer_of(object, "cost_microcents"), 1234);
    assert_true(json_is_false(json_object_get(object, "usage_estimated")));
    assert_true(json_is_null(json_object_get(object, "error")));
    assert_true(json_is_null(json_object_get(object, "session_id")));
    const json_t* statuses = json_object_get(object, "attempt_statuses");
    assert_int_equal(json_array_size(statuses), 2);
    assert_int_equal(json_integer_value(json_array_get(statuses, 0)), 429);
    assert_int_equal(json_integer_value(json_array_get(statuses, 1)), 200);
    const json_t* details = json_object_get(object, "attempt_details");
    assert_int_equal(json_array_size(details), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0), "error_class")), "http_429");
    assert_int_equal(integer_of(json_array_get(details, 0), "cost_microcents"), 0);  // a 429 used no tokens
    assert_int_equal(integer_of(json_array_get(details, 1), "provider_key_id"), 11);
    assert_string_equal(json_string_value(json_array_get(json_object_get(object, "tags"), 1)), "batch");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(object, "matched_rules"), 1)), 9);
    assert_string_equal(json_string_value(json_object_get(json_object_get(object, "metadata"), "user")), "u1");
}

static void test_unknowns_are_null(void**) {
    RequestRecord record;  // an auth failure: nothing known but the id, time and status
    record.request_id = "r1";
    record.ts_ms = 0;
    record.status = 401;
    record.error = "invalid_api_key";
    JsonPtr root = parsed(request_record_json(record));
    const json_t* object = root.get();
    assert_true(json_is_null(json_object_get(object, "virtual_key_id")));
    assert_true(json_is_null(json_object_get(object, "provider_key_id")));
    assert_true(json_is_null(json_object_get(object, "cost_microcents")));
    assert_true(json_is_null(json_object_get(object, "prompt_tokens")));
    assert_true(json_is_null(json_object_get(object, "requested_model")));
    assert_int_equal(integer_of(object, "attempts"), 0);
    assert_string_equal(json_string_value(json_object_get(object, "error")), "invalid_api_key");
    assert_string_equal(json_string_value(json_object_get(object, "ts")), "1970-01-01T00:00:00.000Z");
    assert_true(json_is_object(json_object_get(object, "metadata")));
}

static void test_metadata_loses_control_fields(void**) {
    assert_string_equal(loggable_metadata(R"({"route_hint":"fast","session_id":"s","team":"x","k":[1,2]})").c_str(),
                        R"({"team":"x","k":[1,2]})");
    assert_string_equal(loggable_metadata("").c_str(), "{}");
    assert_string_equal(loggable_metadata("[1]").c_str(), "{}");
    assert_string_equal(loggable_metadata("{broken").c_str(), "{}");
    assert_string_equal(loggable_metadata(R"({"session_id":"only"})").c_str(), "{}");
}

static void test_cut_stream_estimate(void**) {
    Usage sse = estimate_cut_usage(100, 320, true);
    assert_int_equal(sse.prompt_tokens, 100);
    assert_int_equal(sse.completion_tokens, 10);
    Usage json = estimate_cut_usage(5, 9, false);
    assert_int_equal(json.completion_tokens, 3);  // rounded up: never under-counts
    assert_int_equal(json.total_tokens, 8);
    assert_int_equal(estimate_cut_usage(0, 0, true).completion_tokens, 0);
}

static void test_attempts_cost(void**) {
    assert_int_equal(attempts_cost_microcents({}), 0);  // nothing tried (401, blocked): nothing spent
    std::vector<AttemptRecord> attempts(3);
    assert_int_equal(attempts_cost_microcents(attempts), 0);  // no tokens used
    attempts[1].cost_microcents = 300;  // a cut stream was still paid for
    attempts[2].cost_microcents = 200;
    assert_int_equal(attempts_cost_microcents(attempts), 500);
    attempts[2].cost_microcents = INT64_MAX;
    assert_true(attempts_cost_microcents(attempts) == INT64_MAX);  // saturates
    attempts[0].cost_microcents = -1;  // tokens at an unpriced model: the total is not known
    assert_int_equal(attempts_cost_microcents(attempts), -1);
}

static void test_no_secret_fields(void**) {
    std::string line = request_record_json(two_attempt_record());
    assert_true(line.find("secret") == std::string::npos);
    assert_true(line.find("sk-") == std::string::npos);
    assert_true(line.find("virtual_key\"") == std::string::npos);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_line_has_every_column),
        cmocka_unit_test(test_unknowns_are_null),
        cmocka_unit_test(test_metadata_loses_control_fields),
        cmocka_unit_test(test_cut_stream_estimate),
        cmocka_unit_test(test_attempts_cost),
        cmocka_unit_test(test_no_secret_fields),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
