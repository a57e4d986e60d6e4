// json_scan's string-scanning kernels (util/json_scan_simd): every kernel this build and CPU have
// (AVX2, SSE2, SWAR, bytewise) must find the same first special byte ('"', '\\', control,
// non-ASCII) at every position mod 16/32/128, across vector boundaries and at the end of the
// buffer, and json_scan() must accept and reject exactly the same documents, with the same error
// offsets, whichever kernel runs. Buffers are heap blocks of the exact size, so a kernel reading
// one byte past the end is an ASan error. The validated-text readers' string-end search (memchr +
// backslash parity) is checked with quotes and backslash runs at every position too.
#include "util/json_scan.hpp"
#include "util/json_scan_simd.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace routeshift;
using json_scan_detail::uchar;

static const JsonScanKernel kAllKernels[] = {JsonScanKernel::bytewise, JsonScanKernel::swar, JsonScanKernel::sse2,
                                             JsonScanKernel::avx2};

// The kernels available here (bytewise always is).
static std::vector<JsonScanKernel> available_kernels() {
    const JsonScanKernel original = json_scan_kernel();
    std::vector<JsonScanKernel> out;
    for (JsonScanKernel k : kAllKernels)
        if (json_scan_use_kernel(k)) out.push_back(k);
    json_scan_use_kernel(original);
    return out;
}

// Restores the load-time kernel when a test ends, even a failing one.
struct KernelGuard {
    JsonScanKernel original = json_scan_kernel();
    ~KernelGuard() { json_scan_use_kernel(original); }
};

// A heap block of exactly n bytes (ASan flags any read past it).
struct ExactBuffer {
    explicit ExactBuffer(size_t n) : size(n), data(static_cast<uchar*>(std::malloc(n ? n : 1))) {}
    ~ExactBuffer() { std::free(data); }
    size_t size;
    uchar* data;
};

static bool is_special_byte(unsigned c) { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80; }

static void test_kernels_available(void**) {
    std::vector<JsonScanKernel> ks = available_kernels();
    assert_true(ks.size() >= 1);
    assert_int_equal(static_cast<int>(ks[0]), static_cast<int>(JsonScanKernel::bytewise));
#if defined(__x86_64__) && !defined(RS_JSON_NO_SIMD)
    bool sse2 = false;
    for (JsonScanKernel k : ks) sse2 |= k == JsonScanKernel::sse2;
    assert_true(sse2);  // the x86-64 baseline
#endif
    // the load-time choice is the best available one
    assert_int_equal(static_cast<int>(json_scan_kernel()), static_cast<int>(ks.back()));
    std::string names;
    for (JsonScanKernel k : ks) names += std::string(" ") + json_scan_kernel_name(k);
    print_message("kernels here:%s (default %s)\n", names.c_str(), json_scan_kernel_name(json_scan_kernel()));
}

// One special byte `x` at every position of plain buffers of every length up to 300 (past two
// 128-byte AVX2 turns), every start alignment mod 32: each kernel reports exactly that position;
// with no special byte, the end.
static void test_first_special_byte_every_position(void**) {
    KernelGuard guard;
    const uchar specials[] = {'"', '\\', 0x00, 0x01, 0x0A, 0x1F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF};
    for (JsonScanKernel k : available_kernels()) {
        assert_true(json_scan_use_kernel(k));
        for (size_t align = 0; align < 32; align += 7) {
            for (size_t len = 0; len <= 300; ++len) {
                ExactBuffer buf(align + len);
                std::memset(buf.data, 'a', buf.size);
                const uchar* begin = buf.data + align;
                const uchar* end = begin + len;
                const uchar* got = json_scan_detail::skip_plain(begin, end);
                if (got != end)
                    fail_msg("%s: plain buffer of %zu reported a hit at %td", json_scan_kernel_name(k), len,
                             got - begin);
                for (size_t i = 0; i < len; ++i) {
                    for (uchar x : specials) {
                        buf.data[align + i] = x;
                        got = json_scan_detail::skip_plain(begin, end);
                        if (got != begin + i)
                            fail_msg("%s: byte 0x%02x at %zu of %zu (align %zu) found at %td", json_scan_kernel_name(k),
                                     x, i, len, align, got - begin);
                    }
                    buf.data[align + i] = 'a';
                }
            }
        }
    }
}

// Every byte value at every position mod 128 (+ a second special further on, which must not
// win): the kernels' classification equals the definition, byte for byte.
static void test_every_byte_value(void**) {
    KernelGuard guard;
    const size_t len = 200;
    ExactBuffer buf(len);
    for (JsonScanKernel k : available_kernels()) {
        assert_true(json_scan_use_kernel(k));
        for (unsigned v = 0; v < 256; ++v) {
            for (size_t i = 0; i < 140; ++i) {
                std::memset(buf.data, ' ', len);
                buf.data[i] = static_cast<uchar>(v);
                buf.data[len - 1] = '"';
                const uchar* got = json_scan_detail::skip_plain(buf.data, buf.data + len);
                const uchar* want = is_special_byte(v) ? buf.data + i : buf.data + len - 1;
                if (got != want)
                    fail_msg("%s: byte 0x%02x at %zu: found %td, expected %td", json_scan_kernel_name(k), v, i,
                             got - buf.data, want - buf.data);
            }
        }
    }
}

// json_scan with each kernel on documents holding a long string with one interesting byte
// sequence at every position: same verdict, same error offset and reason as the bytewise kernel,
// and the verdict the grammar asks for.
struct Insert {
    const char* bytes;
    size_t size;
    bool valid;
    const char* reason;  // when invalid
};

static void test_json_scan_same_verdict_every_kernel(void**) {
    KernelGuard guard;
    const Insert inserts[] = {
        {"\x01", 1, false, "control character in string"},
        {"\x1f", 1, false, "control character in string"},
        {"\t", 1, false, "control character in string"},
        {"\xff", 1, false, "invalid UTF-8"},
        {"\x80", 1, false, "invalid UTF-8"},
        {"\xc3", 1, false, "invalid UTF-8"},             // truncated sequence
        {"\xed\xa0\x80", 3, false, "invalid UTF-8"},     // surrogate
        {"\xc0\xaf", 2, false, "invalid UTF-8"},         // overlong
        {"\xc3\xa9", 2, true, nullptr},                  // é
        {"\xe2\x82\xac\xe2\x82\xac", 6, true, nullptr},  // €€ (a run)
        {"\xf0\x9f\x98\x80", 4, true, nullptr},          // emoji
        {"\\n", 2, true, nullptr},
        {"\\\"", 2, true, nullptr},
        {"\\\\", 2, true, nullptr},
        {"\\u00e9", 6, true, nullptr},
        {"\\ud83d\\ude00", 12, true, nullptr},
        {"\\q", 2, false, "invalid escape"},
        {"\\u12", 4, false, "invalid \\u escape"},
        {"\x7f", 1, true, nullptr},  // DEL is not a control character for JSON
    };
    std::vector<JsonScanKernel> kernels = available_kernels();
    for (size_t len : {0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 127, 128, 129, 200, 300}) {
        for (size_t pos = 0; pos <= len; ++pos) {
            for (const Insert& ins : inserts) {
                std::string text(len, 'x');
                text.insert(pos, ins.bytes, ins.size);
                // the string as an array element and as an object key's value, then a short tail
                std::string doc = "[\"" + text + "\",{\"k\":\"" + text + "\"},1]";
                for (int unterminated = 0; unterminated < 2; ++unterminated) {
                    std::string d = unterminated ? "[\"" + text : doc;
                    ExactBuffer buf(d.size());
                    std::memcpy(buf.data, d.data(), d.size());
                    std::string_view view(reinterpret_cast<const char*>(buf.data), buf.size);
                    bool first_ok = false;
                    JsonScanError first_err;
                    for (size_t ki = 0; ki < kernels.size(); ++ki) {
                        assert_true(json_scan_use_kernel(kernels[ki]));
                        JsonScanError err;
                        bool ok = json_scan(view, nullptr, nullptr, &err);
                        if (ki == 0) {
                            first_ok = ok;
                            first_err = err;
                            bool want = ins.valid && !unterminated;
                            if (ok != want)
                                fail_msg("len %zu pos %zu insert %zu bytes%s: %s", len, pos, ins.size,
                                         unterminated ? " unterminated" : "",
                                         ok ? "accepted" : err.to_string().c_str());
                            if (!ok && !unterminated && std::strcmp(err.reason, ins.reason) != 0)
                                fail_msg("len %zu pos %zu: reason \"%s\", expected \"%s\"", len, pos, err.reason,
                                         ins.reason);
                            if (!ok && !unterminated && err.offset < 2 + pos)
                                fail_msg("len %zu pos %zu: error offset %zu before the insert", len, pos, err.offset);
                            if (!ok && unterminated && ins.valid &&
                                (std::strcmp(err.reason, "unterminated string") != 0 || err.offset != d.size()))
                                fail_msg("len %zu pos %zu: unterminated string reported as %s at %zu", len, pos,
                                         err.reason, err.offset);
                            continue;
                        }
                        if (ok != first_ok ||
                            (!ok && (err.offset != first_err.offset || std::strcmp(err.reason, first_err.reason) != 0)))
                            fail_msg("%s disagrees with bytewise: len %zu pos %zu insert %zu bytes%s: %s vs %s",
                                     json_scan_kernel_name(kernels[ki]), len, pos, ins.size,
                                     unterminated ? " unterminated" : "", ok ? "ok" : err.to_string().c_str(),
                                     first_ok ? "ok" : first_err.to_string().c_str());
                    }
                }
            }
        }
    }
}

// Members found by json_scan and strings skipped by the readers (memchr + backslash parity):
// an escaped quote or a run of backslashes at every position of a long value never ends the
// string early; the closing quote right after an even run does end it.
static void test_readers_find_string_end_every_position(void**) {
    for (size_t len : {0, 1, 7, 15, 16, 17, 31, 32, 33, 64, 127, 128, 129, 200}) {
        for (size_t pos = 0; pos <= len; ++pos) {
            for (const char* piece : {"\\\"", "\\\\", "\\\\\\\"", "\\\\\\\\", "\\\\\\\"\\\\"}) {
                std::string text(len, 'y');
                text.insert(pos, piece);
                const std::string value = "\"" + text + "\"";
                const std::string doc = "{\"a\":" + value + ",\"list\":[" + value + ",{\"k\\\"ey\":" + value +
                                        ",\"role\":\"user\"},\"end\"]}";
                ExactBuffer buf(doc.size());
                std::memcpy(buf.data, doc.data(), doc.size());
                std::string_view view(reinterpret_cast<const char*>(buf.data), buf.size);
                JsonValue root;
                JsonMembers members;
                if (!json_scan(view, &root, &members, nullptr)) fail_msg("refused: %s", doc.c_str());
                assert_int_equal(members.size(), 2);
                if (json_find(members, "a").text != value) fail_msg("member a of %s", doc.c_str());

                JsonObjectReader object_reader(root);
                JsonMember m;
                assert_true(object_reader.next(&m));
                assert_true(m.value.text == value);
                assert_false(m.key_escaped);
                assert_true(object_reader.next(&m));
                assert_true(json_key_equals(m, "list"));
                assert_false(object_reader.next(&m));

                JsonArrayReader list(json_find(members, "list"));
                JsonValue element, role;
                assert_true(list.next(&element));
                assert_true(element.text == value);
                assert_true(list.next(&element, "role", &role));
                assert_true(json_string_equals(role, "user"));
                JsonObjectReader inner(element);
                assert_true(inner.next(&m));
                assert_true(m.key_escaped);
                assert_true(json_key_equals(m, "k\"ey"));
                assert_true(m.value.text == value);
                assert_true(json_object_find(element, "k\"ey").text == value);
                assert_true(list.next(&element));
                assert_true(json_string_equals(element, "end"));
                assert_false(list.next(&element));
            }
        }
    }
}

// Random strings dense in special bytes: every kernel agrees with bytewise on verdict and offset.
static void test_random_strings_every_kernel(void**) {
    KernelGuard guard;
    std::vector<JsonScanKernel> kernels = available_kernels();
    std::mt19937_64 rng(20251202);
    const char* pieces[] = {"a",
                            "bcdefgh",
                            "\"",
                            "\\n",
                            "\\\"",
                            "\\\\",
                            "\xc3\xa9",
                            "\xe2\x82\xac",
                            "\x01",
                            "\xff",
                            " ",
                            "\\u0041",
                            "\xf0\x9f\x98\x80",
                            "\x7f",
                            "\xed\xa0\x80"};
    for (int round = 0; round < 20000; ++round) {
        std::string doc = "[\"";
        size_t n = rng() % 120;
        for (size_t i = 0; i < n; ++i) {
            // mostly plain runs, so that vector steps and special bytes both occur
            if (rng() % 4) doc += std::string(rng() % 40, 'p');
            doc += pieces[rng() % (sizeof pieces / sizeof *pieces)];
        }
        if (rng() % 8) doc += "\"]";
        ExactBuffer buf(doc.size());
        std::memcpy(buf.data, doc.data(), doc.size());
        std::string_view view(reinterpret_cast<const char*>(buf.data), buf.size);
        bool first_ok = false;
        JsonScanError first_err;
        for (size_t ki = 0; ki < kernels.size(); ++ki) {
            assert_true(json_scan_use_kernel(kernels[ki]));
            JsonScanError err;
            bool ok = json_scan(view, nullptr, nullptr, &err);
            if (ki == 0) {
                first_ok = ok;
                first_err = err;
            } else if (ok != first_ok ||
                       (!ok && (err.offset != first_err.offset || std::strcmp(err.reason, first_err.reason) != 0))) {
                fail_msg("%s disagrees with bytewise on round %d: %s vs %s", json_scan_kernel_name(kernels[ki]), round,
                         ok ? "ok" : err.to_string().c_str(), first_ok ? "ok" : first_err.to_string().c_str());
            }
        }
    }
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_available),
        cmocka_unit_test(test_first_special_byte_every_position),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_json_scan_same_verdict_every_kernel),
        cmocka_unit_test(test_readers_find_string_end_every_position),
        cmocka_unit_test(test_random_strings_every_kernel),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
