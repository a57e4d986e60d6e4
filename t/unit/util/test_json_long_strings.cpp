// json_scan's list of long string values (JsonMembers::long_string_close) and the readers that step
// over them with it: same elements as without the list, the list really used (a reader given it
// never reads a listed string's bytes), limits, copies and rebasing, a failed scan.
#include "util/json_scan.hpp"

#include "test_util.hpp"

#include <string>
#include <vector>

using namespace routeshift;

namespace {

// A chat body whose message contents have the given lengths (ASCII prose with an escaped quote and
// an escaped backslash near the end, so a string end found by bytes must skip both).
std::string chat_body(const std::vector<size_t>& content_lengths) {
    std::string doc = R"({"model":"m","messages":[)";
    for (size_t i = 0; i < content_lengths.size(); ++i) {
        if (i) doc += ',';
        std::string content(content_lengths[i], 'x');
        if (content.size() >= 8) content.replace(content.size() - 8, 4, "\\\"\\\\");
        doc += R"({"role":"user","content":")" + content + R"(","name":"n)" + std::to_string(i) + R"("})";
    }
    doc += R"(],"tail":true})";
    return doc;
}

struct Element {
    std::string text;
    JsonType type;
    std::string role, content, name;
};

// Every message with its role, content and name, read with or without the document's list.
std::vector<Element> read_messages(const JsonMembers& members, bool with_document) {
    std::vector<Element> out;
    JsonValue messages = json_find(members, "messages");
    static constexpr std::string_view kKeys[] = {"role", "content", "name"};
    JsonValue found[3];
    JsonArrayReader reader = with_document ? JsonArrayReader(messages, members) : JsonArrayReader(messages);
    for (JsonValue v; reader.next(&v, kKeys, found);) {
        out.push_back({std::string(v.text), v.type, std::string(found[0].text), std::string(found[1].text),
                       std::string(found[2].text)});
    }
    return out;
}

// The members of every message read with JsonObjectReader, with or without the list.
std::vector<std::string> object_members(const JsonMembers& members, bool with_document) {
    std::vector<std::string> out;
    JsonArrayReader reader(json_find(members, "messages"));
    for (JsonValue v; reader.next(&v);) {
        JsonObjectReader object = with_document ? JsonObjectReader(v, members) : JsonObjectReader(v);
        for (JsonMember m; object.next(&m);) out.push_back(std::string(m.key) + "=" + std::string(m.value.text));
    }
    return out;
}

void assert_same_elements(const std::vector<Element>& a, const std::vector<Element>& b) {
    assert_int_equal(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        assert_str_eq(a[i].text, b[i].text);
        assert_int_equal((int)a[i].type, (int)b[i].type);
        assert_str_eq(a[i].role, b[i].role);
        assert_str_eq(a[i].content, b[i].content);
        assert_str_eq(a[i].name, b[i].name);
    }
}

// The opening quote of the n-th "content" value in `doc`.
const char* content_quote(const std::string& doc, size_t n) {
    size_t at = 0;
    for (size_t i = 0; i <= n; ++i) at = doc.find(R"("content":")", at) + 1;
    return doc.data() + at - 1 + std::string_view(R"("content":)").size();
}

}  // namespace

static void test_listed_from_1024_bytes_values_only(void**) {
    std::string doc = chat_body({10, 1023, 1024, 5000});
    doc.insert(1, "\"" + std::string(2000, 'k') + "\":1,");  // a long key is not a value: not listed
    JsonMembers members;
    JsonValue root;
    assert_true(json_scan(doc, &root, &members, nullptr));
    assert_null(members.long_string_close(content_quote(doc, 0)));
    assert_null(members.long_string_close(content_quote(doc, 1)));  // 1023 bytes between the quotes
    const char* open = content_quote(doc, 2);
    const char* close = members.long_string_close(open);
    assert_non_null(close);
    assert_int_equal(close - open - 1, 1024);
    assert_int_equal(*close, '"');
    open = content_quote(doc, 3);
    close = members.long_string_close(open);
    assert_non_null(close);
    assert_int_equal(close - open - 1, 5000);
    assert_null(members.long_string_close(doc.data() + 1));  // the long key's quote
    assert_same_elements(read_messages(members, true), read_messages(members, false));
    assert_true(object_members(members, true) == object_members(members, false));
}

// A reader given the list does not read a listed string's bytes: with a quote planted inside one
// after the scan, it still finds the elements the scan saw; a reader without the list does not.
static void test_list_is_used(void**) {
    std::string doc = chat_body({3000, 12});
    JsonMembers members;
    JsonValue root;
    assert_true(json_scan(doc, &root, &members, nullptr));
    std::vector<Element> before = read_messages(members, true);
    assert_int_equal(before.size(), 2);
    doc[content_quote(doc, 0) - doc.data() + 100] = '"';  // in place: the views stay valid
    std::vector<Element> with_list = read_messages(members, true);
    assert_int_equal(with_list.size(), 2);
    assert_str_eq(with_list[1].name, "\"n1\"");
    assert_int_equal(with_list[0].content.size(), 3002);
    std::vector<Element> without = read_messages(members, false);
    assert_true(without.size() != 2 || without[0].content.size() != 3002);
}

// At most kLongStrings are listed; the others are found by their bytes, with the same results.
static void test_more_than_the_list_holds(void**) {
    std::vector<size_t> lengths(JsonMembers::kLongStrings + 3, 2048);
    lengths[4] = 7;
    std::string doc = chat_body(lengths);
    JsonMembers members;
    JsonValue root;
    assert_true(json_scan(doc, &root, &members, nullptr));
    size_t listed = 0;
    for (size_t i = 0; i < lengths.size(); ++i) listed += members.long_string_close(content_quote(doc, i)) != nullptr;
    assert_int_equal(listed, JsonMembers::kLongStrings);
    assert_null(members.long_string_close(content_quote(doc, lengths.size() - 1)));  // the last ones are not
    assert_same_elements(read_messages(members, true), read_messages(members, false));
}

// Long strings inside nested arrays and objects (content parts) are stepped over by the
// container skip too.
static void test_nested_long_strings(void**) {
    std::string text(4096, 'p');
    std::string doc = R"({"messages":[{"role":"user","content":[{"type":"text","text":")" + text +
                      R"("},{"type":"image_url","image_url":{"url":"data:)" + std::string(3000, 'A') +
                      R"("}}],"name":"z"},{"role":"assistant","content":"ok"}]})";
    JsonMembers members;
    JsonValue root;
    assert_true(json_scan(doc, &root, &members, nullptr));
    assert_non_null(members.long_string_close(doc.data() + doc.find(text) - 1));
    std::vector<Element> with_list = read_messages(members, true);
    assert_same_elements(with_list, read_messages(members, false));
    assert_int_equal(with_list.size(), 2);
    assert_str_eq(with_list[0].name, "\"z\"");
    assert_true(object_members(members, true) == object_members(members, false));
}

// Copies keep the list; rebasing onto a copy of the document moves it with the members; a scan
// that fails, and clear(), empty it.
static void test_copy_rebase_and_failed_scan(void**) {
    std::string doc = chat_body({1500, 20, 9000});
    JsonMembers members;
    JsonValue root;
    assert_true(json_scan(doc, &root, &members, nullptr));
    JsonMembers copied(members);
    JsonMembers assigned;
    assigned = members;
    for (const JsonMembers* m : {&copied, &assigned})
        assert_ptr_equal(m->long_string_close(content_quote(doc, 2)), members.long_string_close(content_quote(doc, 2)));

    std::string moved_doc = doc;
    JsonMembers rebased(members);
    rebased.rebase(doc.data(), moved_doc.data());
    const char* close = rebased.long_string_close(content_quote(moved_doc, 0));
    assert_non_null(close);
    assert_ptr_equal(close, moved_doc.data() + (members.long_string_close(content_quote(doc, 0)) - doc.data()));
    assert_null(rebased.long_string_close(content_quote(doc, 0)));  // not the old document's any more
    assert_same_elements(read_messages(rebased, true), read_messages(members, false));

    JsonMembers moved(std::move(copied));
    assert_non_null(moved.long_string_close(content_quote(doc, 2)));
    moved.clear();
    assert_null(moved.long_string_close(content_quote(doc, 2)));

    std::string broken = doc.substr(0, doc.size() - 1);  // the closing brace is missing
    assert_false(json_scan(broken, &root, &members, nullptr));
    assert_null(members.long_string_close(content_quote(doc, 0)));
    assert_null(members.long_string_close(content_quote(broken, 0)));
}

// A reader given another document's members finds nothing in its list and reads the bytes.
static void test_other_document(void**) {
    std::string a = chat_body({2000}), b = chat_body({2000, 1});
    JsonMembers ma, mb;
    JsonValue root;
    assert_true(json_scan(a, &root, &ma, nullptr));
    assert_true(json_scan(b, &root, &mb, nullptr));
    JsonArrayReader reader(json_find(mb, "messages"), ma);
    size_t n = 0;
    for (JsonValue v; reader.next(&v);) ++n;
    assert_int_equal(n, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_from_1024_bytes_values_only),
        cmocka_unit_test(test_list_is_used),
        cmocka_unit_test(test_more_than_the_list_holds),
        cmocka_unit_test(test_nested_long_strings),
        cmocka_unit_test(test_copy_rebase_and_failed_scan),
        cmocka_unit_test(test_other_document),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
