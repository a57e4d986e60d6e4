// object_owner: team marks on files and batches of a shared provider account, and lists scoped to
// the caller's team (docs/design.md §21).
#include "egress/openai/object_owner.hpp"
#include "egress/openai/relay_answer.hpp"
#include "ingress/multipart_model_field.hpp"
#include "util/json_util.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string spliced(std::string_view body, const std::vector<SpanReplacement>& replacements) {
    SplicedBody out;
    splice_spans(body, replacements, &out);
    return out.flatten(body);
}

static std::string marked_batch(std::string_view body, int64_t team, std::string* error) {
    JsonValue root;
    JsonMembers members;
    assert_true(json_scan(body, &root, &members, nullptr));
    std::vector<SpanReplacement> replacements;
    if (!mark_batch_owner(body, members, team, &replacements, error)) return "";
    std::string out = spliced(body, replacements);
    assert_true(json_valid(out));
    return out;
}

static void test_batch_metadata_marked(void**) {
    std::string error;
    assert_str_eq(marked_batch(R"({"input_file_id":"f","endpoint":"/v1/chat/completions"})", 7, &error),
                  R"({"metadata":{"routeshift_team":"7"},"input_file_id":"f","endpoint":"/v1/chat/completions"})");
    assert_str_eq(marked_batch(" {}", 7, &error), R"( {"metadata":{"routeshift_team":"7"}})");
    assert_str_eq(marked_batch(R"({"metadata":null,"x":1})", 0, &error), R"({"metadata":{"routeshift_team":"0"},"x":1})");
    assert_str_eq(marked_batch(R"({"metadata":{ "job" : "nightly" }})", 12, &error),
                  R"({"metadata":{"routeshift_team":"12", "job" : "nightly" }})");
    assert_str_eq(marked_batch(R"({"metadata":{}})", 3, &error), R"({"metadata":{"routeshift_team":"3"}})");
    // the reserved key, even spelled with an escape, and metadata that is not an object: refused
    assert_str_eq(marked_batch(R"({"metadata":{"routeshift_team":"1"}})", 3, &error), "");
    assert_contains(error, "reserved");
    assert_str_eq(marked_batch(R"({"metadata":{"routeshift\u005fteam":"1"}})", 3, &error), "");
    assert_str_eq(marked_batch(R"({"metadata":"x"})", 3, &error), "");
    assert_contains(error, "must be an object");
}

static void test_upload_filename_marked(void**) {
    std::string body =
        "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"; filename*=UTF-8''in%C3%A9.jsonl\r\n"
        "Content-Type: application/jsonl\r\n\r\n{}\r\n--b--\r\n";
    MultipartFields fields;
    std::string error;
    assert_true(read_multipart_fields(body, "b", &fields, &error));
    assert_int_equal(fields.file_name_offsets.size(), 2);
    std::vector<SpanReplacement> replacements;
    mark_upload_owner(fields.file_name_offsets, 42, &replacements);
    std::string out = spliced(body, replacements);
    assert_contains(out, "filename=\"rs-t42-in.jsonl\"; filename*=UTF-8''rs-t42-in%C3%A9.jsonl\r\n");
    assert_contains(out, "name=\"purpose\"\r\n\r\nbatch\r\n");  // fields untouched
    // unquoted filename
    std::string plain = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=a.txt\r\n\r\nx\r\n--b--";
    assert_true(read_multipart_fields(plain, "b", &fields, &error));
    replacements.clear();
    mark_upload_owner(fields.file_name_offsets, 5, &replacements);
    assert_contains(spliced(plain, replacements), "filename=rs-t5-a.txt\r\n");
}

static std::string scoped(std::string_view answer, int64_t team) {
    std::string error;
    JsonPtr root = json_parse(answer, &error);
    assert_non_null(root.get());
    scope_answer_to_owner(root.get(), ObjectOwnerScope{team});
    return json_dump_compact(root.get());
}

static void test_marks_read_and_removed(void**) {
    OwnerMarks marks(7);
    std::string error;
    auto item = [&](const char* text) { return json_parse(text, &error); };
    JsonPtr mine = item(R"({"id":"f1","object":"file","filename":"rs-t7-mine.jsonl"})");
    assert_true(owned_by(mine.get(), marks));
    remove_owner_mark(mine.get(), marks);
    assert_str_eq(json_string_view(mine.get(), "filename"), "mine.jsonl");
    assert_false(owned_by(item(R"({"id":"f","object":"file","filename":"rs-t77-other"})").get(), marks));
    assert_false(owned_by(item(R"({"id":"f","object":"file","filename":"batch_x_output.jsonl"})").get(), marks));
    assert_false(owned_by(item(R"({"id":"b","object":"batch","metadata":{"routeshift_team":7}})").get(), marks));
    assert_false(owned_by(item(R"({"id":"x","object":"thing","filename":"rs-t7-a"})").get(), marks));
    JsonPtr batch = item(R"({"id":"b","object":"batch","metadata":{"routeshift_team":"7"}})");
    assert_true(owned_by(batch.get(), marks));
    remove_owner_mark(batch.get(), marks);
    assert_true(json_is_null(json_object_get(batch.get(), "metadata")));
}

static void test_list_cursor(void**) {
    std::string cursor = list_cursor("batch_abc");
    std::string_view position;
    assert_true(list_cursor_position(cursor, &position));
    assert_str_eq(position, "batch_abc");
    assert_false(list_cursor_position("batch_abc", &position));
}

static void test_single_objects_unmarked(void**) {
    assert_str_eq(scoped(R"({"id":"f","object":"file","filename":"rs-t7-a.txt","bytes":3})", 7),
                  R"({"id":"f","object":"file","filename":"a.txt","bytes":3})");
    assert_str_eq(scoped(R"({"id":"f","object":"file","filename":"batch_out.jsonl"})", 7),
                  R"({"id":"f","object":"file","filename":"batch_out.jsonl"})");
    assert_str_eq(scoped(R"({"id":"b","object":"batch","metadata":{"routeshift_team":"7","k":"v"}})", 7),
                  R"({"id":"b","object":"batch","metadata":{"k":"v"}})");
    // through the relay's rewrite: unmarked first, then the ids become client ids
    std::string out;
    ObjectOwnerScope owner{7};
    assert_true(rewrite_answer_object_ids(
        R"({"id":"b1","object":"batch","input_file_id":"f1","metadata":{"routeshift_team":"7"}})",
        ProviderObjectKind::batch, [](ProviderObjectKind, std::string_view id) { return "c-" + std::string(id); },
        &owner, &out));
    assert_str_eq(out, R"({"id":"c-b1","object":"batch","input_file_id":"c-f1","metadata":null})");
}

static void test_list_limits(void**) {
    OwnerListLimits limits;
    assert_true(owner_list_limits(RelayEndpoint::files_list, &limits));
    assert_int_equal(limits.fetch, 10000);
    assert_int_equal(limits.client_default, 10000);
    assert_int_equal(limits.max_pages, 10);
    assert_true(owner_list_limits(RelayEndpoint::batches_list, &limits));
    assert_int_equal(limits.fetch, 100);
    assert_int_equal(limits.client_default, 20);
    assert_int_equal(limits.max_pages, 50);
    assert_false(owner_list_limits(RelayEndpoint::file_object, &limits));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_metadata_marked),
        cmocka_unit_test(test_upload_filename_marked),
        cmocka_unit_test(test_marks_read_and_removed),
        cmocka_unit_test(test_list_cursor),
        cmocka_unit_test(test_single_objects_unmarked),
        cmocka_unit_test(test_list_limits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
