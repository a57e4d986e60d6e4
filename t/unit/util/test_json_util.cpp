// json_util: parsing, compact dump (order, reals, escapes), lookups.
#include "util/json_util.hpp"

#include "test_util.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

using namespace routeshift;

static void test_parse_ok_and_error(void**) {
    std::string err;
    JsonPtr j = json_parse(R"({"a":1})", &err);
    assert_non_null(j.get());
    assert_true(err.empty());

    JsonPtr bad = json_parse("{\"a\":", &err);
    assert_null(bad.get());
    assert_contains(err, "line 1 column");

    // any top-level value is accepted; callers check the type
    JsonPtr s = json_parse("\"x\"", &err);
    assert_non_null(s.get());
    assert_true(json_is_string(s.get()));
}

// jansson alone skips one raw NUL byte after a number or literal ("[1\0]" parses as [1]);
// json_parse refuses every raw NUL, as json_scan does, with json_scan's position.
static void test_parse_refuses_raw_nul(void**) {
    const std::string docs[] = {std::string("[1\0]", 4), std::string("{\"a\":true\0}", 11),
                                std::string("{\"max_tokens\":24\0,\"model\":\"m\"}", 30), std::string("\0{}", 3)};
    for (const std::string& d : docs) {
        std::string err;
        assert_null(json_parse(d, &err).get());
        assert_contains(err, "line 1 column");
    }
    std::string err;
    assert_null(json_parse(std::string("{\"a\":1\0}", 8), &err).get());
    assert_string_equal(err.c_str(), "line 1 column 7: ',' or '}' expected");
    // an escaped NUL inside a string is valid JSON (JSON_ALLOW_NUL)
    JsonPtr escaped = json_parse(R"({"a":"x\u0000y"})", &err);
    assert_non_null(escaped.get());
}

static void test_dump_keeps_order_and_reals(void**) {
    JsonPtr j = json_parse(R"({"z":1,"a":[true,false,null],"m":0.7,"n":100.0,"e":1e-7,"s":"x\"y\\z\n\u0001é"})",
                           nullptr);
    assert_non_null(j.get());
    assert_str_eq(json_dump_compact(j.get()),
                  R"({"z":1,"a":[true,false,null],"m":0.7,"n":100.0,"e":1e-07,"s":"x\"y\\z\n\u0001é"})");
}

static void test_dump_roundtrip_integers(void**) {
    JsonPtr j = json_parse(R"([-9223372036854775808,9223372036854775807,0,-1])", nullptr);
    assert_non_null(j.get());
    assert_str_eq(json_dump_compact(j.get()), "[-9223372036854775808,9223372036854775807,0,-1]");
}

static void test_dump_embedded_nul(void**) {
    JsonPtr j = json_parse(R"({"k":"a\u0000b"})", nullptr);
    assert_non_null(j.get());
    assert_int_equal(json_string_view(j.get(), "k").size(), 3);
    assert_str_eq(json_dump_compact(j.get()), R"({"k":"a\u0000b"})");
}

static void test_escape_append(void**) {
    std::string out = "<";
    json_escape_append(out, "tab\there \"q\" \\ \x1f\b\f\r");
    out += ">";
    assert_str_eq(out, "<tab\\there \\\"q\\\" \\\\ \\u001f\\b\\f\\r>");
}

// The word-at-a-time path against a byte-at-a-time reference: every byte value at every position
// of strings long enough to take both paths (8-byte words and the tail).
static std::string reference_escape(std::string_view s) {
    // RFC 8259's two-character escapes, then \u00XX for the other control characters
    static const std::pair<unsigned char, std::string_view> kShortForms[] = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}};
    std::string out;
    for (unsigned char c : s) {
        auto form = std::find_if(std::begin(kShortForms), std::end(kShortForms), [c](const auto& f) { return f.first == c; });
        if (form != std::end(kShortForms)) {
            out += form->second;
        } else if (c < 0x20) {
            char u[7];
            std::snprintf(u, sizeof u, "\\u%04x", c);
            out += u;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

static void test_escape_append_every_byte_every_position(void**) {
    for (size_t length : {1u, 7u, 8u, 9u, 16u, 23u, 40u}) {
        for (size_t at = 0; at < length; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string s(length, 'a');
                s[at] = static_cast<char>(byte);
                if (at + 1 < length) s[at + 1] = static_cast<char>(0xc3);  // high bytes next to it
                std::string out;
                json_escape_append(out, s);
                assert_str_eq(out, reference_escape(s));
            }
        }
    }
    std::string two_hits = "0123456\"0123456\x01tail";
    std::string out = "[";
    json_escape_append(out, two_hits);
    assert_str_eq(out, "[" + reference_escape(two_hits));
}

static void test_lookups(void**) {
    JsonPtr j = json_parse(R"({"s":"str","i":42,"r":1.5,"n":null})", nullptr);
    long long v = 0;
    assert_str_eq(json_string_view(j.get(), "s"), "str");
    assert_true(json_string_view(j.get(), "i").empty());
    assert_true(json_string_view(j.get(), "missing").empty());
    assert_true(json_string_view(nullptr, "s").empty());
    assert_true(json_get_int(j.get(), "i", &v));
    assert_int_equal(v, 42);
    assert_false(json_get_int(j.get(), "r", &v));
    assert_false(json_get_int(j.get(), "n", &v));
    assert_false(json_get_int(nullptr, "i", &v));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok_and_error),
        cmocka_unit_test(test_parse_refuses_raw_nul),
        cmocka_unit_test(test_dump_keeps_order_and_reals),
        cmocka_unit_test(test_dump_roundtrip_integers),
        cmocka_unit_test(test_dump_embedded_nul),
        cmocka_unit_test(test_escape_append),
        cmocka_unit_test(test_escape_append_every_byte_every_position),
        cmocka_unit_test(test_lookups),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
