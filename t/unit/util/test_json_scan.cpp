// json_scan: strict validation (a JSONTestSuite-style table of y_/n_ documents), error positions,
// member spans, readers and decoding, and a randomized differential test against jansson.
//
// Acceptance must agree with jansson's json_loadb: default options = JSON_DECODE_ANY |
// JSON_ALLOW_NUL (what json_parse uses), {allow_nul=false, allow_scalar=false} = flags 0.
// The one intentional difference: jansson 2.14 skips a single raw NUL byte directly after a
// number or true/false/null ("[1\0]" parses); the scanner refuses every raw NUL byte.
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

#include <charconv>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <random>

#include "test_util.hpp"

using namespace routeshift;

#define DOC(s) std::string((s), sizeof(s) - 1)  // keeps embedded NUL bytes

static constexpr size_t kJanssonDefault = JSON_DECODE_ANY | JSON_ALLOW_NUL;
static const JsonScanOptions kStrict{false, false, kJsonMaxDepth};  // = json_loadb flags 0

static bool jansson_accepts(std::string_view d, size_t flags) {
    json_error_t e;
    json_t* j = json_loadb(d.data(), d.size(), flags, &e);
    if (!j) return false;
    json_decref(j);
    return true;
}

static std::string printable(std::string_view d) {
    std::string o;
    for (unsigned char c : d.substr(0, 300)) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            o += static_cast<char>(c);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            o += b;
        }
    }
    if (d.size() > 300) o += "...";
    return o;
}

struct Case {
    const char* name;
    std::string doc;
};

// ---- y_: valid (default options) ----------------------------------------------------------------

static const std::vector<Case>& y_cases() {
    static const std::vector<Case> v = {
        {"y_object_empty", "{}"},
        {"y_array_empty", "[]"},
        {"y_ws_everywhere", " \t\r\n{ \"a\" :\n[ 1 , { } ] , \"b\" : null }\r\n "},
        {"y_nested", "[[[[[]]]],{\"a\":{\"b\":{\"c\":[{}]}}}]"},
        {"y_members", R"({"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5e-3})"},
        {"y_top_string", "\"x\""},
        {"y_top_int", "0"},
        {"y_top_neg_zero", "-0"},
        {"y_top_true", " true "},
        {"y_top_null", "null"},
        {"y_num_exp_plus", "[1.5e+10,1E-2,-1.0e0,0e0,0.0,-0.0,2E7]"},
        {"y_int_max", "9223372036854775807"},
        {"y_int_min", "-9223372036854775808"},
        {"y_int_19_digits", "[1000000000000000000,-1000000000000000000]"},
        {"y_int_leading_zero_exp", "[0e5,0.1,0E-0]"},
        {"y_real_max", "1.7976931348623157e308"},
        {"y_real_rounds_to_max", "1.7976931348623158e308"},
        {"y_real_mag_309_fits", "123456789e300"},
        {"y_real_underflow", "[1e-400,-4e-330]"},
        {"y_real_zero_huge_exp", "[0e999999999999999999,0.000e-99999999999]"},
        {"y_real_long_mantissa", "0.00000000000000000000000000000000000000017976931348623157e348"},
        {"y_real_big_int_part", "100000000000000000000000000000.0"},
        {"y_escapes", R"("\"\\\/\b\f\n\r\t")"},
        {"y_u_escape", R"(["\u00e9\u20AC\uFFFF\uffFe\u0041"])"},
        {"y_surrogate_pair", R"("\uD83D\uDE00\udbff\udfff")"},
        {"y_utf8_2", "\"\xc3\xa9\xc2\x80\xdf\xbf\""},
        {"y_utf8_3", "\"\xe2\x82\xac\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\""},
        {"y_utf8_4", "\"\xf0\x9f\x98\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xf3\xbf\xbf\xbf\""},
        {"y_u0000_value", R"(["a\u0000b"])"},
        {"y_del_char", "\"\x7f\""},
        {"y_empty_key", R"({"":1})"},
        {"y_duplicate_keys", R"({"a":1,"a":2})"},
        {"y_escaped_key", R"({"mod\u0065l":1,"\ud83d\ude00":2})"},
        {"y_long_string", "\"" + std::string(5000, 'x') + "\\n" + std::string(3, 'y') + "\""},
        {"y_depth_2048_empty", std::string(2048, '[') + std::string(2048, ']')},
        {"y_depth_2047_scalar", std::string(2047, '[') + "1" + std::string(2047, ']')},
    };
    return v;
}

// ---- n_: invalid (default options) --------------------------------------------------------------

static const std::vector<Case>& n_cases() {
    static const std::vector<Case> v = {
        // numbers
        {"n_number_01", "01"},
        {"n_number_01_in_array", "[01]"},
        {"n_number_neg_01", "-01"},
        {"n_number_1_dot", "1."},
        {"n_number_1_dot_in_array", "[1.]"},
        {"n_number_1_dot_e", "1.e5"},
        {"n_number_minus", "-"},
        {"n_number_minus_in_array", "[-]"},
        {"n_number_double_minus", "--1"},
        {"n_number_1e", "1e"},
        {"n_number_1e_plus", "1e+"},
        {"n_number_1E_minus_in_array", "[1E-]"},
        {"n_number_dot_5", ".5"},
        {"n_number_plus_1", "+1"},
        {"n_number_hex", "0x1"},
        {"n_number_infinity", "Infinity"},
        {"n_number_nan", "[NaN]"},
        {"n_number_two_values", "1 2"},
        {"n_number_int_overflow", "9223372036854775808"},
        {"n_number_int_underflow", "-9223372036854775809"},
        {"n_number_int_20_digits", "[12345678901234567890]"},
        {"n_number_int_30_digits", "100000000000000000000000000000"},
        {"n_number_real_overflow", "1e309"},
        {"n_number_real_just_over", "1.7976931348623159e308"},
        {"n_number_real_neg_overflow", "[-1e400]"},
        {"n_number_real_mag_310", "1000e306"},
        {"n_number_real_long_over", "0.00000000000000000000000000000000000000017976931348623159e348"},
        // strings
        {"n_string_raw_control", "\"a\x01b\""},
        {"n_string_raw_newline", "\"a\nb\""},
        {"n_string_raw_tab", "[\"\t\"]"},
        {"n_string_raw_nul", DOC("[\"a\0b\"]")},
        {"n_string_bad_escape", R"("\x")"},
        {"n_string_escape_U", R"("\U0041")"},
        {"n_string_escape_apostrophe", R"("\'")"},
        {"n_string_short_u", R"("\u12")"},
        {"n_string_bad_hex", R"("\u12G4")"},
        {"n_string_lone_high", R"("\uD800")"},
        {"n_string_high_then_text", R"("\uD800abcdef")"},
        {"n_string_high_high", R"("\uD800\uD800")"},
        {"n_string_high_then_ascii", R"("\uD800\u0041")"},
        {"n_string_high_then_simple_escape", R"("\uDBFF\n")"},
        {"n_string_lone_low", R"("\uDC00")"},
        {"n_string_low_high", R"("\uDFFF\uD800")"},
        {"n_string_unterminated", "\"abc"},
        {"n_string_unterminated_escape", "\"abc\\"},
        {"n_string_single_quotes", "['a']"},
        {"n_string_u0000_key", R"({"\u0000":1})"},
        {"n_string_u0000_inside_key", R"({"a\u0000b":1})"},
        {"n_utf8_lone_continuation", "\"\x80\""},
        {"n_utf8_overlong_2_c0", "\"\xc0\xaf\""},
        {"n_utf8_overlong_2_c1", "\"\xc1\xbf\""},
        {"n_utf8_overlong_3", "\"\xe0\x80\xaf\""},
        {"n_utf8_overlong_3_edge", "\"\xe0\x9f\xbf\""},
        {"n_utf8_surrogate_encoded", "\"\xed\xa0\x80\""},
        {"n_utf8_surrogate_low_encoded", "\"\xed\xbf\xbf\""},
        {"n_utf8_overlong_4", "\"\xf0\x80\x80\xaf\""},
        {"n_utf8_overlong_4_edge", "\"\xf0\x8f\xbf\xbf\""},
        {"n_utf8_past_10ffff", "\"\xf4\x90\x80\x80\""},
        {"n_utf8_f5", "\"\xf5\x80\x80\x80\""},
        {"n_utf8_ff", "\"\xff\""},
        {"n_utf8_truncated_3", "\"\xe2\x82\""},
        {"n_utf8_truncated_2_at_end", "\"\xc3"},
        {"n_utf8_lead_then_quote", "\"\xc3\""},
        {"n_utf8_bad_continuation", "\"\xe2\x28\xa1\""},
        {"n_utf8_outside_string", "[\xc3\xa9]"},
        {"n_bom", "\xef\xbb\xbf{}"},
        // structure
        {"n_empty", ""},
        {"n_only_ws", " \n\t "},
        {"n_array_trailing_comma", "[1,]"},
        {"n_array_leading_comma", "[,1]"},
        {"n_array_double_comma", "[1,,2]"},
        {"n_array_missing_comma", "[1 2]"},
        {"n_array_unclosed", "[1"},
        {"n_array_unclosed_empty", "["},
        {"n_array_unclosed_comma", "[1,"},
        {"n_array_extra_close", "[]]"},
        {"n_array_closed_by_brace", "[}"},
        {"n_object_trailing_comma", R"({"a":1,})"},
        {"n_object_missing_colon", R"({"a" 1})"},
        {"n_object_missing_value", R"({"a":})"},
        {"n_object_key_only", R"({"a"})"},
        {"n_object_number_key", "{1:1}"},
        {"n_object_bare_key", "{a:1}"},
        {"n_object_comma_only", "{,}"},
        {"n_object_unclosed", "{"},
        {"n_object_unclosed_member", R"({"a":1)"},
        {"n_object_closed_by_bracket", R"({"a":1])"},
        {"n_object_extra_close", "{}}"},
        {"n_object_double_colon", R"({"a"::1})"},
        {"n_lone_close", "]"},
        {"n_literal_nul", "nul"},
        {"n_literal_tru", "[tru]"},
        {"n_literal_True", "True"},
        {"n_literal_nulll", "nulll"},
        {"n_literal_missing_comma", "[true false]"},
        {"n_trailing_garbage", "{}x"},
        {"n_two_objects", "{} {}"},
        {"n_comment", "/*c*/{}"},
        {"n_trailing_nul_after_object", DOC("{}\0")},
        {"n_depth_2049", std::string(2049, '[') + std::string(2049, ']')},
        {"n_depth_2048_scalar", std::string(2048, '[') + "1" + std::string(2048, ']')},
        {"n_depth_object_2049", [] {
             std::string s;
             for (int i = 0; i < 2048; ++i) s += "{\"a\":";
             s += "1";
             for (int i = 0; i < 2048; ++i) s += "}";
             return s;
         }()},
    };
    return v;
}

static void test_valid_table(void**) {
    for (const Case& c : y_cases()) {
        JsonScanError err;
        if (!json_scan(c.doc, nullptr, nullptr, &err))
            fail_msg("%s refused (%s): %s", c.name, err.to_string().c_str(), printable(c.doc).c_str());
        if (!jansson_accepts(c.doc, kJanssonDefault)) fail_msg("%s: jansson disagrees", c.name);
    }
}

static void test_invalid_table(void**) {
    for (const Case& c : n_cases()) {
        JsonScanError err;
        JsonMembers m;
        if (json_scan(c.doc, nullptr, &m, &err)) fail_msg("%s accepted: %s", c.name, printable(c.doc).c_str());
        assert_true(m.empty());
        assert_true(err.line >= 1);
        assert_true(err.column >= 1);
        assert_true(err.offset <= c.doc.size());
        assert_true(std::strlen(err.reason) > 0);
        if (jansson_accepts(c.doc, kJanssonDefault)) fail_msg("%s: jansson disagrees", c.name);
    }
}

static void test_strict_options_match_jansson_flags_0(void**) {
    const char* docs[] = {"{}", "[]", "\"x\"", "1", "null", "[\"\\u0000\"]", "{\"a\":\"\\u0000\"}", " [1] ", "true"};
    for (const char* d : docs) {
        bool ours = json_valid(d, kStrict);
        assert_int_equal(ours, jansson_accepts(d, 0));
    }
    assert_false(json_valid("\"x\"", kStrict));
    assert_false(json_valid("[\"a\\u0000\"]", kStrict));
    assert_true(json_valid("[\"a\\u0000\"]"));
    assert_false(json_valid(R"({"\u0000":1})"));  // keys never, whatever the options
    for (const Case& c : y_cases()) {
        assert_int_equal(json_valid(c.doc, kStrict), jansson_accepts(c.doc, 0));
    }
    for (const Case& c : n_cases()) assert_false(json_valid(c.doc, kStrict));
}

static void test_max_depth_option(void**) {
    JsonScanOptions o;
    o.max_depth = 3;
    assert_true(json_valid("[[[]]]", o));
    assert_true(json_valid("[[1]]", o));
    assert_false(json_valid("[[[1]]]", o));
    assert_false(json_valid("[[[[]]]]", o));
    JsonScanError err;
    assert_false(json_scan("{\"a\":{\"b\":{\"c\":{}}}}", nullptr, nullptr, &err, o));
    assert_str_eq(err.reason, "maximum nesting depth exceeded");
    o.max_depth = 100000;  // clamped to jansson's limit
    assert_false(json_valid(std::string(2049, '[') + std::string(2049, ']'), o));
}

static void test_nul_byte_quirk_is_the_only_difference(void**) {
    // jansson drops one NUL byte right after a number or literal; the scanner does not.
    const std::string docs[] = {DOC("[1\0]"), DOC("1\0"), DOC("{\"a\":true\0}"), DOC("[null\0,2.5\0]"), DOC("-0\0")};
    for (const std::string& d : docs) {
        assert_true(jansson_accepts(d, kJanssonDefault));
        assert_false(json_valid(d));
    }
    // two NULs, or a NUL anywhere else: both refuse
    const std::string both[] = {DOC("[1\0\0]"), DOC("[\0 1]"), DOC("{\0}"), DOC("\0{}"), DOC("\"\0\"")};
    for (const std::string& d : both) {
        assert_false(jansson_accepts(d, kJanssonDefault));
        assert_false(json_valid(d));
    }
}

static void test_error_positions(void**) {
    JsonScanError e;
    assert_false(json_scan("{\"a\":1,}", nullptr, nullptr, &e));
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 8);
    assert_int_equal(e.offset, 7);
    assert_str_eq(e.reason, "object key (a string) expected");
    assert_str_eq(e.to_string(), "line 1 column 8: object key (a string) expected");

    assert_false(json_scan("{\n  \"a\": \"x\\qy\"\n}", nullptr, nullptr, &e));
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 10);
    assert_str_eq(e.reason, "invalid escape");

    assert_false(json_scan("[\"\xc3\xa9\xc3\xa9\", 01]", nullptr, nullptr, &e));  // columns count characters
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 9);
    assert_str_eq(e.reason, "',' or ']' expected");

    assert_false(json_scan("[1e999]", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "real number overflow");
    assert_int_equal(e.offset, 1);
    assert_false(json_scan("[99999999999999999999]", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "integer out of range");
    assert_false(json_scan("\"\\uDC00\"", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "lone UTF-16 low surrogate");
    assert_false(json_scan("\"\\uD800x\"", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "UTF-16 high surrogate not followed by a low surrogate");
    assert_false(json_scan("\"a\x01\"", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "control character in string");
    assert_int_equal(e.offset, 2);
    assert_false(json_scan("\"\xed\xa0\x80\"", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "invalid UTF-8");
    assert_false(json_scan("{} x", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "end of input expected after the JSON value");
    assert_int_equal(e.offset, 3);
    assert_false(json_scan("", nullptr, nullptr, &e));
    assert_str_eq(e.reason, "empty document");
    assert_false(json_scan("[1", nullptr, nullptr, &e));
    assert_int_equal(e.offset, 2);
    assert_false(json_scan("1", nullptr, nullptr, &e, kStrict));
    assert_str_eq(e.reason, "'{' or '[' expected");
}

static void test_members_and_root(void**) {
    std::string doc = " { \"model\" : \"gpt\\u002d4o\",\"n\":1,\"t\":0.5,\"m\":[1, {\"x\":2}] ,\"o\":{ },"
                      "\"b\":false,\"z\":null,\"mod\\u0065l\":\"x\",\"s\":\"q\\\"\"}\n";
    JsonValue root;
    JsonMembers m;
    assert_true(json_scan(doc, &root, &m, nullptr));
    assert_true(root.is(JsonType::object));
    assert_str_eq(root.text, doc.substr(1, doc.size() - 2));
    assert_int_equal(m.size(), 9);
    assert_str_eq(m[0].key, "model");
    assert_false(m[0].key_escaped);
    assert_str_eq(m[0].value.text, "\"gpt\\u002d4o\"");
    assert_true(m[0].value.is(JsonType::string));
    assert_str_eq(m[1].value.text, "1");
    assert_true(m[1].value.is(JsonType::integer));
    assert_true(m[2].value.is(JsonType::real));
    assert_str_eq(m[3].value.text, "[1, {\"x\":2}]");
    assert_true(m[3].value.is(JsonType::array));
    assert_str_eq(m[4].value.text, "{ }");
    assert_true(m[4].value.is(JsonType::object));
    assert_true(m[5].value.is(JsonType::boolean));
    assert_true(m[6].value.is(JsonType::null));
    assert_true(m[6].value.absent_or_null());
    assert_str_eq(m[7].key, "mod\\u0065l");
    assert_true(m[7].key_escaped);
    assert_true(json_key_equals(m[7], "model"));
    assert_false(json_key_equals(m[7], "mode"));
    assert_false(json_key_equals(m[7], "models"));
    assert_str_eq(json_key_decode(m[7]), "model");
    assert_str_eq(m[8].value.text, "\"q\\\"\"");

    // the last duplicate wins, as in jansson
    assert_str_eq(json_find(m, "model").text, "\"x\"");
    assert_true(json_find(m, "absent").text.empty());
    assert_true(json_find(m, "absent").absent_or_null());

    std::string s;
    assert_true(json_string_decode(m[0].value, &s));
    assert_str_eq(s, "gpt-4o");
    assert_true(json_string_equals(m[0].value, "gpt-4o"));
    assert_false(json_string_equals(m[0].value, "gpt-4"));
    assert_false(json_string_equals(m[1].value, "1"));
    std::string_view plain;
    assert_false(json_string_plain(m[0].value, &plain));
    assert_true(json_string_plain(json_find(m, "model"), &plain));
    assert_str_eq(plain, "x");

    // scalars and arrays as root: no members
    assert_true(json_scan(" [1,2] ", &root, &m, nullptr));
    assert_true(root.is(JsonType::array));
    assert_str_eq(root.text, "[1,2]");
    assert_true(m.empty());
    assert_true(json_scan("-12.5e3", &root, &m, nullptr));
    assert_true(root.is(JsonType::real));
}

static void test_many_members_spill(void**) {
    std::string doc = "{";
    for (int i = 0; i < 100; ++i) doc += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    doc += "}";
    JsonMembers m;
    JsonValue root;
    assert_true(json_scan(doc, &root, &m, nullptr));
    assert_int_equal(m.size(), 100);
    for (int i = 0; i < 100; ++i) {
        assert_str_eq(m[i].key, "k" + std::to_string(i));
        int64_t v = -1;
        assert_true(json_read_int(m[i].value, &v));
        assert_int_equal(v, i);
    }
    // rebase onto a copy of the document
    std::string copy = doc;
    JsonMembers c = m;
    c.rebase(doc.data(), copy.data());
    for (size_t i = 0; i < c.size(); ++i) {
        assert_true(c[i].key.data() >= copy.data() && c[i].key.data() < copy.data() + copy.size());
        assert_str_eq(c[i].key, m[i].key);
    }
}

// The fast paths of the comparisons: bytes equal to the plain string only count without escapes.
static void test_equality_fast_paths(void**) {
    JsonValue v;
    // raw \\n (3 bytes) decodes to backslash-n (2 bytes): equal raw bytes are not equal text
    assert_true(json_scan(R"("\\n")", &v, nullptr, nullptr));
    assert_false(json_string_equals(v, R"(\\n)"));
    assert_true(json_string_equals(v, R"(\n)"));
    assert_true(json_scan(R"("user")", &v, nullptr, nullptr));
    assert_true(json_string_equals(v, "user"));
    assert_false(json_string_equals(v, "usex"));
    assert_false(json_string_equals(v, "assistant"));
    assert_false(json_string_equals(v, "use"));

    JsonMembers m;
    JsonValue root;
    assert_true(json_scan(R"({"mo\u0064el":1,"model":2,"a\\b":3})", &root, &m, nullptr));
    assert_int_equal(m.size(), 3);
    assert_true(json_key_equals(m[0], "model"));
    assert_false(json_key_equals(m[0], R"(mo\u0064el)"));
    assert_true(json_key_equals(m[1], "model"));
    assert_false(json_key_equals(m[1], "mode"));
    assert_true(json_key_equals(m[2], R"(a\b)"));
    assert_false(json_key_equals(m[2], R"(a\\b)"));
    int64_t n = 0;
    assert_true(json_read_int(json_find(m, "model"), &n));
    assert_int_equal(n, 2);  // the last of duplicate keys, escaped or not
}

// Copies and moves carry the used inline slots (the others are never constructed).
static void test_members_copy_and_move(void**) {
    JsonMembers m;
    JsonValue root;
    assert_true(json_scan(R"({"a":1,"b":"x"})", &root, &m, nullptr));
    JsonMembers copy(m);
    JsonMembers assigned;
    assigned = m;
    for (const JsonMembers* c : {&copy, &assigned}) {
        assert_int_equal(c->size(), 2);
        assert_str_eq((*c)[0].key, "a");
        assert_str_eq((*c)[1].key, "b");
        assert_true(json_string_equals((*c)[1].value, "x"));
    }
    JsonMembers moved(std::move(copy));
    assert_int_equal(moved.size(), 2);
    assert_str_eq(moved[1].key, "b");
    JsonMembers& self = moved;
    moved = self;
    assert_int_equal(moved.size(), 2);
    assert_str_eq(moved[0].key, "a");
    moved.clear();
    assert_true(moved.empty());
    moved.push_back(m[1]);
    assert_str_eq(moved[0].key, "b");
}

static void test_readers_and_values(void**) {
    std::string doc = R"({"o":{"a":1,"b":[true,false],"a":"two","c":{"d":null}},"arr":[ 1 , "x" , [] , {} , -0.5 ],"e":[ ]})";
    JsonMembers m;
    JsonValue root;
    assert_true(json_scan(doc, &root, &m, nullptr));
    JsonValue o = json_find(m, "o");
    JsonObjectReader r(o);
    JsonMember mem;
    std::vector<std::string> keys;
    while (r.next(&mem)) keys.push_back(std::string(mem.key));
    assert_int_equal(keys.size(), 4);
    assert_str_eq(keys[2], "a");
    assert_true(json_string_equals(json_object_find(o, "a"), "two"));
    assert_true(json_object_find(json_object_find(o, "c"), "d").is(JsonType::null));
    assert_true(json_object_find(json_find(m, "arr"), "a").text.empty());  // not an object

    JsonArrayReader ar(json_find(m, "arr"));
    std::vector<JsonValue> el;
    for (JsonValue v; ar.next(&v);) el.push_back(v);
    assert_int_equal(el.size(), 5);
    assert_str_eq(el[0].text, "1");
    assert_true(el[1].is(JsonType::string));
    assert_true(el[2].is(JsonType::array));
    assert_true(json_array_empty(el[2]));
    assert_true(el[3].is(JsonType::object));
    assert_true(el[4].is(JsonType::real));
    assert_str_eq(el[4].text, "-0.5");
    assert_true(json_array_empty(json_find(m, "e")));
    assert_false(json_array_empty(json_find(m, "arr")));
    assert_false(json_array_empty(o));
    JsonArrayReader none(o);  // not an array: no elements
    JsonValue v;
    assert_false(none.next(&v));

    bool b = false;
    JsonArrayReader bools(json_object_find(o, "b"));
    assert_true(bools.next(&v));
    assert_true(json_read_bool(v, &b));
    assert_true(b);
    assert_true(bools.next(&v));
    assert_true(json_read_bool(v, &b));
    assert_false(b);
    assert_false(bools.next(&v));
    assert_false(json_read_bool(el[0], &b));

    int64_t i = 0;
    assert_true(json_scan("[9223372036854775807,-9223372036854775808,-0,1.0,1e2]", &root, nullptr, nullptr));
    JsonArrayReader ints(root);
    assert_true(ints.next(&v));
    assert_true(json_read_int(v, &i));
    assert_true(i == INT64_MAX);
    assert_true(ints.next(&v));
    assert_true(json_read_int(v, &i));
    assert_true(i == INT64_MIN);
    assert_true(ints.next(&v));
    assert_true(json_read_int(v, &i));
    assert_int_equal(i, 0);
    assert_true(ints.next(&v));
    assert_false(json_read_int(v, &i));  // 1.0 is a real, as in jansson
    assert_true(ints.next(&v));
    assert_false(json_read_int(v, &i));
}

// Decoding in pieces gives the whole decoded string, with escapes anywhere (at the boundaries of
// the growing runs too), and a reader that stops after its first piece was handed at most 512
// bytes of a long string (the rest is never scanned).
static void test_string_decoding_in_pieces(void**) {
    auto collect = [](JsonValue v, size_t stop_after) {
        struct State {
            std::string out;
            size_t pieces = 0, stop_after;
        } state{{}, 0, stop_after};
        assert_true(json_string_decode_pieces(
            v,
            [](void* context, std::string_view piece) {
                auto* s = static_cast<State*>(context);
                s->out.append(piece);
                return ++s->pieces < s->stop_after;
            },
            &state));
        return state.out;
    };
    for (size_t length : {0u, 1u, 511u, 512u, 513u, 1536u, 3584u, 9000u}) {
        for (size_t escape_at : {0u, 1u, 511u, 512u, 1535u, 1536u, 3584u, 7680u, 8999u}) {
            std::string raw(length, 'x');
            if (escape_at < length) raw.replace(escape_at, 1, "\\u00e9");
            std::string json = "\"" + raw + "\"";
            JsonValue v;
            assert_true(json_scan(json, &v, nullptr, nullptr));
            std::string decoded;
            assert_true(json_string_decode(v, &decoded));
            assert_str_eq(collect(v, SIZE_MAX), decoded);
            assert_true(collect(v, 1).size() <= 512);
        }
    }
}

static void test_string_decoding(void**) {
    struct {
        const char* json;
        std::string decoded;
    } cases[] = {
        {R"("plain")", "plain"},
        {R"("")", ""},
        {R"("\"\\\/\b\f\n\r\t")", "\"\\/\b\f\n\r\t"},
        {R"("\u0041\u00e9\u20ac")", "A\xc3\xa9\xe2\x82\xac"},
        {R"("\ud83d\ude00!")", "\xf0\x9f\x98\x80!"},
        {R"("\uDBFF\uDFFF")", "\xf4\x8f\xbf\xbf"},
        {R"("a\u0000b")", std::string("a\0b", 3)},
        {"\"raw \xc3\xa9 \\u00e9\"", "raw \xc3\xa9 \xc3\xa9"},
        {R"("\u007f\u0080\u07ff\u0800\uffff")", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"},
    };
    for (const auto& c : cases) {
        JsonValue v;
        assert_true(json_scan(c.json, &v, nullptr, nullptr));
        std::string out = "junk";
        assert_true(json_string_decode(v, &out));
        if (out != c.decoded) fail_msg("decode %s", c.json);
        assert_true(json_string_equals(v, c.decoded));
        assert_false(json_string_equals(v, c.decoded + "x"));
        if (!c.decoded.empty()) assert_false(json_string_equals(v, c.decoded.substr(0, c.decoded.size() - 1)));
        // jansson agrees
        json_t* j = json_loadb(c.json, std::strlen(c.json), kJanssonDefault, nullptr);
        assert_non_null(j);
        assert_true(std::string(json_string_value(j), json_string_length(j)) == c.decoded);
        json_decref(j);
    }
}

// ---- randomized differential test against jansson ----------------------------------------------

struct Rng {
    std::mt19937_64 g;
    explicit Rng(uint64_t seed) : g(seed) {}
    size_t operator()(size_t n) { return static_cast<size_t>(g() % n); }
    bool pct(unsigned p) { return g() % 100 < p; }
};

static void utf8_append(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

static void gen_ws(Rng& r, std::string& s) {
    if (!r.pct(25)) return;
    for (size_t n = r(3) + 1; n > 0; --n) s += " \t\r\n"[r(4)];
}

static void gen_string(Rng& r, std::string& s, bool key) {
    static const char* kKeys[] = {"model", "messages", "role", "usage", "a", "mod\\u0065l", "", "stream", "x"};
    s += '"';
    if (key && r.pct(60)) {
        s += kKeys[r(sizeof kKeys / sizeof *kKeys)];
        s += '"';
        return;
    }
    char hex[8];
    for (size_t n = r(6); n > 0; --n) {
        switch (r(9)) {
        case 0: s += "abc xyz"[r(7)]; break;
        case 1: s += std::string("\\n\\\"\\\\\\/\\b\\f\\r\\t").substr(2 * r(8), 2); break;
        case 2: {
            uint32_t cp = static_cast<uint32_t>(r(0xD800));
            if (cp == 0 && (key || r.pct(50))) cp = 1;
            std::snprintf(hex, sizeof hex, r.pct(50) ? "\\u%04x" : "\\u%04X", cp);
            s += hex;
            break;
        }
        case 3: {
            uint32_t hi = 0xD800 + static_cast<uint32_t>(r(0x400)), lo = 0xDC00 + static_cast<uint32_t>(r(0x400));
            std::snprintf(hex, sizeof hex, "\\u%04x", hi);
            s += hex;
            std::snprintf(hex, sizeof hex, "\\u%04X", lo);
            s += hex;
            break;
        }
        case 4: utf8_append(s, 0x80 + static_cast<uint32_t>(r(0x800 - 0x80))); break;
        case 5: {
            uint32_t cp = 0x800 + static_cast<uint32_t>(r(0x10000 - 0x800 - 0x800));
            if (cp >= 0xD800) cp += 0x800;
            utf8_append(s, cp);
            break;
        }
        case 6: utf8_append(s, 0x10000 + static_cast<uint32_t>(r(0x100000))); break;
        case 7: s += "\x7f'<>{}[]:,"[r(10)]; break;
        default: s += "hello world"; break;
        }
    }
    s += '"';
}

static void gen_number(Rng& r, std::string& s) {
    static const char* kEdge[] = {"0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                                  "-9223372036854775809", "1.7976931348623157e308", "1.7976931348623159e308",
                                  "1e308", "1e309", "-1e309", "2e-400", "0e99999", "1E+2", "0.5", "-0.0"};
    if (r.pct(15)) {
        s += kEdge[r(sizeof kEdge / sizeof *kEdge)];
        return;
    }
    if (r.pct(30)) s += '-';
    size_t nd = r(5) == 0 ? 15 + r(8) : 1 + r(4);
    if (nd == 1 || r.pct(10)) {
        s += static_cast<char>('0' + r(10));
    } else {
        s += static_cast<char>('1' + r(9));
        for (size_t i = 1; i < nd; ++i) s += static_cast<char>('0' + r(10));
    }
    if (r.pct(30)) {
        s += '.';
        for (size_t i = r(4) + 1; i > 0; --i) s += static_cast<char>('0' + r(10));
    }
    if (r.pct(20)) {
        s += "eE"[r(2)];
        if (r.pct(60)) s += "+-"[r(2)];
        s += std::to_string(r(5) == 0 ? 290 + r(30) : r(40));
    }
}

static void gen_value(Rng& r, std::string& s, int depth) {
    size_t kind = depth > 5 ? 2 + r(4) : r(6);
    switch (kind) {
    case 0: {
        s += '{';
        size_t n = r(5);
        for (size_t i = 0; i < n; ++i) {
            if (i) s += ',';
            gen_ws(r, s);
            gen_string(r, s, true);
            gen_ws(r, s);
            s += ':';
            gen_ws(r, s);
            gen_value(r, s, depth + 1);
            gen_ws(r, s);
        }
        if (!n) gen_ws(r, s);
        s += '}';
        break;
    }
    case 1: {
        s += '[';
        size_t n = r(5);
        for (size_t i = 0; i < n; ++i) {
            if (i) s += ',';
            gen_ws(r, s);
            gen_value(r, s, depth + 1);
            gen_ws(r, s);
        }
        s += ']';
        break;
    }
    case 2: gen_string(r, s, false); break;
    case 3: gen_number(r, s); break;
    default: {
        static const char* kLit[] = {"true", "false", "null"};
        s += kLit[r(3)];
    }
    }
}

static void mutate(Rng& r, std::string& s) {
    static const unsigned char kBytes[] = {0,    '"',  '\\', ',',  ':',  '{',  '}',  '[',  ']',  ' ',  '0',
                                           '-',  '.',  'e',  'u',  'n',  0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3,
                                           0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 'D',  '8',  'E',  '+'};
    static const char* kPieces[] = {"\\uD800", "\\uDC00", "\\u0000", "\\", "\"", "1e999", "00", ",]", ",}", "[", "{\"\":"};
    for (size_t ops = r(3) + 1; ops > 0; --ops) {
        size_t pos = s.empty() ? 0 : r(s.size() + 1);
        switch (r(7)) {
        case 0:
            if (pos < s.size()) s[pos] = static_cast<char>(kBytes[r(sizeof kBytes)]);
            break;
        case 1: s.insert(pos, 1, static_cast<char>(kBytes[r(sizeof kBytes)])); break;
        case 2:
            if (pos < s.size()) s.erase(pos, 1);
            break;
        case 3: s.resize(pos); break;
        case 4: s.insert(pos, kPieces[r(sizeof kPieces / sizeof *kPieces)]); break;
        case 5:
            if (pos < s.size()) {
                size_t len = r(s.size() - pos) + 1;
                s.insert(r(s.size() + 1), s.substr(pos, len));
            }
            break;
        default:
            if (pos < s.size()) s[pos] = static_cast<char>(r(256));
            break;
        }
    }
}

// Our view of a value must be the value jansson builds: type, scalars, strings (decoded),
// arrays element by element, objects with jansson's last-duplicate-wins semantics.
static void compare_value(JsonValue v, const json_t* j, std::string_view doc) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (!v.is(JsonType::object)) fail_msg("not an object in %s", printable(doc).c_str());
        std::vector<std::pair<std::string, JsonValue>> last;  // unique keys, last value each
        JsonObjectReader r(v);
        for (JsonMember m; r.next(&m);) {
            std::string k = json_key_decode(m);
            bool found = false;
            for (auto& kv : last)
                if (kv.first == k) {
                    kv.second = m.value;
                    found = true;
                }
            if (!found) last.emplace_back(k, m.value);
            assert_true(json_key_equals(m, k));
        }
        if (last.size() != json_object_size(j)) fail_msg("member count differs in %s", printable(doc).c_str());
        for (auto& kv : last) {
            const json_t* jv = json_object_getn(j, kv.first.data(), kv.first.size());
            if (!jv) fail_msg("key missing in %s", printable(doc).c_str());
            compare_value(kv.second, jv, doc);
            assert_true(json_object_find(v, kv.first).text.data() == kv.second.text.data());
        }
        break;
    }
    case JSON_ARRAY: {
        if (!v.is(JsonType::array)) fail_msg("not an array in %s", printable(doc).c_str());
        JsonArrayReader r(v);
        size_t i = 0;
        for (JsonValue e; r.next(&e); ++i) {
            if (i >= json_array_size(j)) fail_msg("too many elements in %s", printable(doc).c_str());
            compare_value(e, json_array_get(j, i), doc);
        }
        if (i != json_array_size(j)) fail_msg("element count differs in %s", printable(doc).c_str());
        assert_int_equal(json_array_empty(v), i == 0);
        // the keyed reader: same elements, and the member json_object_find finds
        for (const char* key : {"a", "role", "model", ""}) {
            JsonArrayReader plain(v), keyed(v);
            JsonValue e1, e2, mv;
            while (plain.next(&e1)) {
                assert_true(keyed.next(&e2, key, &mv));
                assert_true(e1.text.data() == e2.text.data() && e1.text.size() == e2.text.size());
                assert_true(e1.type == e2.type);
                JsonValue want = json_object_find(e1, key);
                assert_true(mv.text.data() == want.text.data() && mv.text.size() == want.text.size());
                assert_true(mv.text.empty() || mv.type == want.type);
            }
            assert_false(keyed.next(&e2, key, &mv));
        }
        // the several-keys reader: the member json_object_find finds, for each key
        {
            constexpr std::string_view keys[] = {"role", "model", "a", ""};  // "model" is also spelt escaped
            JsonArrayReader plain(v), keyed(v);
            JsonValue e1, e2, found[std::size(keys)];
            while (plain.next(&e1)) {
                assert_true(keyed.next(&e2, keys, found));
                assert_true(e1.text.data() == e2.text.data() && e1.text.size() == e2.text.size());
                for (size_t k = 0; k < std::size(keys); k++) {
                    JsonValue want = json_object_find(e1, keys[k]);
                    assert_true(found[k].text.data() == want.text.data() && found[k].text.size() == want.text.size());
                    assert_true(found[k].text.empty() || found[k].type == want.type);
                }
            }
            assert_false(keyed.next(&e2, keys, found));
        }
        break;
    }
    case JSON_STRING: {
        std::string s;
        if (!json_string_decode(v, &s)) fail_msg("not a string in %s", printable(doc).c_str());
        if (s != std::string_view(json_string_value(j), json_string_length(j)))
            fail_msg("string differs in %s", printable(doc).c_str());
        break;
    }
    case JSON_INTEGER: {
        int64_t i;
        if (!json_read_int(v, &i) || i != json_integer_value(j)) fail_msg("integer differs in %s", printable(doc).c_str());
        break;
    }
    case JSON_REAL: {
        double d = 0;
        if (!v.is(JsonType::real)) fail_msg("not a real in %s", printable(doc).c_str());
        std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
        if (d != json_real_value(j)) fail_msg("real differs in %s", printable(doc).c_str());
        break;
    }
    case JSON_TRUE:
    case JSON_FALSE: {
        bool b;
        if (!json_read_bool(v, &b) || b != json_is_true(j)) fail_msg("boolean differs in %s", printable(doc).c_str());
        break;
    }
    case JSON_NULL:
        if (!v.is(JsonType::null)) fail_msg("not null in %s", printable(doc).c_str());
        break;
    }
}

struct DiffStats {
    size_t docs = 0, accepted = 0, nul_quirk = 0;
};

static void differential(std::string_view doc, DiffStats& st) {
    ++st.docs;
    JsonValue root;
    JsonMembers members;
    JsonScanError err;
    bool ours = json_scan(doc, &root, &members, &err);
    json_error_t jerr;
    json_t* j = json_loadb(doc.data(), doc.size(), kJanssonDefault, &jerr);
    bool theirs = j != nullptr;
    bool strict = json_valid(doc, kStrict);
    bool theirs_strict = jansson_accepts(doc, 0);
    if (ours != theirs || strict != theirs_strict) {
        // the documented difference: jansson skips one NUL byte after a number or literal
        if (!ours && theirs && doc.find('\0') != std::string_view::npos && strict == false) {
            // jansson accepted, so every NUL byte in it was a skipped one: without them we agree
            std::string cleaned;
            for (char c : doc)
                if (c != '\0') cleaned += c;
            JsonValue croot;
            if (!json_scan(cleaned, &croot, nullptr, nullptr)) fail_msg("NUL-less copy refused: %s", printable(doc).c_str());
            compare_value(croot, j, cleaned);
            ++st.nul_quirk;
            json_decref(j);
            return;
        }
        fail_msg("disagreement (ours %d/%d, jansson %d/%d; %s / jansson: %s) on: %s", ours, strict, theirs,
                 theirs_strict, ours ? "" : err.to_string().c_str(), theirs ? "" : jerr.text, printable(doc).c_str());
    }
    if (ours) {
        ++st.accepted;
        compare_value(root, j, doc);
        if (root.is(JsonType::object)) {
            // top-level members: same spans as the reader gives
            JsonObjectReader r(root);
            size_t i = 0;
            for (JsonMember m; r.next(&m); ++i) {
                assert_true(i < members.size());
                assert_true(members[i].key.data() == m.key.data() && members[i].key.size() == m.key.size());
                assert_true(members[i].value.text.data() == m.value.text.data());
                assert_true(members[i].value.text.size() == m.value.text.size());
                assert_true(members[i].value.type == m.value.type);
                assert_true(members[i].key_escaped == m.key_escaped);
            }
            assert_int_equal(i, members.size());
        } else {
            assert_true(members.empty());
        }
    }
    if (j) json_decref(j);
}

static void test_differential_vs_jansson(void**) {
    uint64_t seed = 20250101;
    size_t rounds = 3000;
    if (const char* e = std::getenv("RS_FUZZ_SEED")) seed = std::strtoull(e, nullptr, 10);
    if (const char* e = std::getenv("RS_FUZZ_ROUNDS")) rounds = std::strtoull(e, nullptr, 10);
    Rng r(seed);
    DiffStats st;
    for (size_t i = 0; i < rounds; ++i) {
        std::string doc;
        gen_ws(r, doc);
        gen_value(r, doc, 0);
        gen_ws(r, doc);
        differential(doc, st);
        for (int k = 0; k < 8; ++k) {
            std::string m = doc;
            mutate(r, m);
            differential(m, st);
        }
    }
    // the table documents too
    for (const Case& c : y_cases()) differential(c.doc, st);
    for (const Case& c : n_cases()) differential(c.doc, st);
    std::printf("differential: %zu documents (seed %" PRIu64 "), %zu valid, %zu hit the documented NUL-byte difference\n",
                st.docs, seed, st.accepted, st.nul_quirk);
    assert_true(st.accepted > st.docs / 10);         // the generator produces plenty of valid documents
    assert_true(st.docs - st.accepted > st.docs / 10);  // and the mutator plenty of invalid ones
}

static void test_real_boundary_exhaustive(void**) {
    // around DBL_MAX with different spellings and digit counts: must match strtod/jansson
    const char* mant[] = {"1.7976931348623157", "1.79769313486231570", "1.7976931348623158", "1.79769313486231580814",
                          "1.797693134862315807937", "1.7976931348623159", "1.797693134862315708145274237317043567981",
                          "179769313486231570814527423731704356798070", "0.000179769313486231580793728971405301",
                          "9.9999999999999999999", "1", "1.0000000000000000000000000001"};
    const int exps[] = {302, 304, 306, 307, 308, 309, 310, 312, 345};
    for (const char* m : mant) {
        for (int e : exps) {
            for (const char* sign : {"", "-"}) {
                char doc[128];
                std::snprintf(doc, sizeof doc, "%s%se%d", sign, m, e);
                if (json_valid(doc) != jansson_accepts(doc, kJanssonDefault)) fail_msg("disagree on %s", doc);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_invalid_table),
        cmocka_unit_test(test_strict_options_match_jansson_flags_0),
        cmocka_unit_test(test_max_depth_option),
        cmocka_unit_test(test_nul_byte_quirk_is_the_only_difference),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_members_and_root),
        cmocka_unit_test(test_many_members_spill),
        cmocka_unit_test(test_equality_fast_paths),
        cmocka_unit_test(test_members_copy_and_move),
        cmocka_unit_test(test_readers_and_values),
        cmocka_unit_test(test_string_decoding),
        cmocka_unit_test(test_string_decoding_in_pieces),
        cmocka_unit_test(test_real_boundary_exhaustive),
        cmocka_unit_test(test_differential_vs_jansson),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
