// owner_list_pages: one client page of a team-scoped files/batches list gathered over the
// provider's pages (docs/design.md §21).
#include "egress/openai/owner_list_pages.hpp"
#include "egress/openai/relay_answer.hpp"

#include "test_util.hpp"

using namespace routeshift;

// A provider page of batches: `teams` the owner of each (0: no mark), ids "b<first + i>".
static std::string batch_page(const std::vector<int>& teams, int first, bool has_more) {
    std::string out = R"({"object":"list","data":[)";
    for (size_t i = 0; i < teams.size(); i++) {
        if (i) out += ',';
        out += R"({"id":"b)" + std::to_string(first + (int)i) + R"(","object":"batch","metadata":)";
        out += teams[i] ? R"({"routeshift_team":")" + std::to_string(teams[i]) + R"("})" : std::string("null");
        out += '}';
    }
    out += R"(],"first_id":"b)" + std::to_string(first) + R"(","last_id":"b)" +
           std::to_string(first + (int)teams.size() - 1) + R"(","has_more":)" + (has_more ? "true" : "false") + "}";
    return out;
}

static void add(OwnerListPager& pager, const std::string& page) {
    std::string error;
    JsonPtr root = json_parse(page, &error);
    assert_non_null(root.get());
    assert_true(pager.add_page(root.get()));
}

static std::string answer(const OwnerListPager& pager, bool interrupted = false) {
    JsonPtr out = pager.answer(interrupted);
    assert_non_null(out.get());
    return json_dump_compact(out.get());
}

// A client page of the one batch `id` (marks removed).
static std::string one_kept(const char* id, bool has_more) {
    return std::string(R"({"object":"list","data":[{"id":")") + id + R"(","object":"batch","metadata":null}],"first_id":")" +
           id + R"(","last_id":")" + id + R"(","has_more":)" + (has_more ? "true" : "false") + "}";
}

static void test_pages_until_the_team_s_objects_fill_the_page(void**) {
    OwnerListPager pager(2, 3, 50);
    add(pager, batch_page({1, 1, 1}, 1, true));  // none of team 2's
    assert_true(pager.wants_next_page());
    assert_str_eq(pager.next_after(), "b3");
    add(pager, batch_page({1, 2, 1}, 4, true));
    assert_true(pager.wants_next_page());
    assert_str_eq(pager.next_after(), "b6");
    add(pager, batch_page({2, 2, 2}, 7, true));  // fills the page with one left over
    assert_false(pager.wants_next_page());
    assert_int_equal(pager.pages(), 3);
    assert_str_eq(answer(pager),
                  R"({"object":"list","data":[{"id":"b5","object":"batch","metadata":null},)"
                  R"({"id":"b7","object":"batch","metadata":null},{"id":"b8","object":"batch","metadata":null}],)"
                  R"("first_id":"b5","last_id":"b8","has_more":true})");
}

static void test_the_provider_s_end_ends_the_page(void**) {
    OwnerListPager pager(2, 20, 50);
    add(pager, batch_page({1, 1}, 1, true));
    add(pager, batch_page({1, 2}, 3, false));
    assert_false(pager.wants_next_page());
    assert_str_eq(answer(pager), one_kept("b4", false));
    // a full page at the provider's end: nothing more
    OwnerListPager exact(2, 1, 50);
    add(exact, batch_page({2, 1}, 1, false));
    assert_str_eq(answer(exact), one_kept("b1", false));
    // nothing at all
    OwnerListPager none(3, 20, 50);
    add(none, batch_page({1}, 1, false));
    assert_str_eq(answer(none), R"({"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false})");
}

static void test_the_bound(void**) {
    // some kept: has_more, the SDK goes on after the last kept id
    OwnerListPager some(2, 20, 2);
    add(some, batch_page({2, 1}, 1, true));
    assert_true(some.wants_next_page());
    add(some, batch_page({1, 1}, 3, true));
    assert_false(some.wants_next_page());
    assert_str_eq(answer(some), one_kept("b1", true));
    // none kept: an empty page whose last_id is a cursor at the last object scanned
    OwnerListPager none(2, 20, 2);
    add(none, batch_page({1, 1}, 1, true));
    add(none, batch_page({1, 1}, 3, true));
    assert_false(none.wants_next_page());
    assert_str_eq(answer(none), R"({"object":"list","data":[],"first_id":null,"last_id":")" + list_cursor("b4") +
                                    R"(","has_more":true})");
    // an answer that cannot be followed by another page ends the scan there
    OwnerListPager ending(2, 20, 50);
    add(ending, batch_page({1}, 1, true));
    ending.end_with_next_page();
    add(ending, batch_page({1}, 2, true));
    assert_false(ending.wants_next_page());
}

static void test_interrupted_and_files(void**) {
    OwnerListPager pager(2, 20, 50);
    add(pager, batch_page({2, 1}, 1, true));
    assert_true(pager.wants_next_page());
    assert_true(pager.kept_any());
    assert_str_eq(answer(pager, true), one_kept("b1", true));
    // files: marked filenames, the provider without first_id/last_id (its last object's id is the cursor)
    OwnerListPager files(4, 10, 10);
    add(files, R"({"object":"list","data":[{"id":"f1","object":"file","filename":"rs-t4-a.txt"},)"
               R"({"id":"f2","object":"file","filename":"rs-t5-b.txt"}],"has_more":true})");
    assert_str_eq(files.next_after(), "f2");
    // the client's page in client ids (the relay's rewrite)
    std::string out = client_list_page(files, false, ProviderObjectKind::file,
                                       [](ProviderObjectKind, std::string_view id) { return "c-" + std::string(id); });
    assert_str_eq(out, R"({"object":"list","data":[{"id":"c-f1","object":"file","filename":"a.txt"}],"has_more":true,)"
                       R"("first_id":"c-f1","last_id":"c-f1"})");
    // not a list
    std::string error;
    JsonPtr bad = json_parse(R"({"object":"list"})", &error);
    assert_false(files.add_page(bad.get()));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_until_the_team_s_objects_fill_the_page),
        cmocka_unit_test(test_the_provider_s_end_ends_the_page),
        cmocka_unit_test(test_the_bound),
        cmocka_unit_test(test_interrupted_and_files),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
