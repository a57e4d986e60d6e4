// find_bytes: the same answers as memmem, at every alignment, with the needle at either end, split
// across a 16-byte step, or absent; the redaction check's needle in real answers.
#include "util/byte_search.hpp"

#include "test_util.hpp"

#include <cstring>
#include <random>

using namespace routeshift;

static const char* reference(std::string_view h, std::string_view n) {
    if (n.empty()) return h.data();
    return static_cast<const char*>(memmem(h.data(), h.size(), n.data(), n.size()));
}

static void test_fixed_cases(void**) {
    const std::string answer = R"({"id":"x","object":"chat.completion","choices":[{"index":0}],"usage":{"total_tokens":3}})";
    assert_null(find_bytes(answer, "\"error\""));
    const std::string error = R"({"error":{"message":"bad key sk-123","type":"invalid_request_error"}})";
    assert_ptr_equal(find_bytes(error, "\"error\""), error.data() + 1);
    assert_ptr_equal(find_bytes(error, ""), error.data());
    assert_null(find_bytes("short", "longer needle"));
    assert_null(find_bytes("", "x"));
    // a needle ending on the haystack's last byte, for every haystack length around the step
    for (size_t len = 7; len < 70; ++len) {
        std::string h(len - 7, 'e');
        h += "\"error\"";
        assert_ptr_equal(find_bytes(h, "\"error\""), h.data() + len - 7);
        h.back() = 'x';
        assert_null(find_bytes(h, "\"error\""));
    }
}

// Random haystacks over a 3-letter alphabet (many partial matches), every needle length from 0 to
// 20, every start offset in an aligned buffer: each answer is memmem's.
static void test_differential(void**) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> letter(0, 2);
    for (int round = 0; round < 400; ++round) {
        size_t size = (size_t)(rng() % 120);
        std::string buffer(size + 16, 'z');
        for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = (char)('a' + letter(rng));
        for (size_t offset = 0; offset < 16; ++offset) {
            std::string_view h(buffer.data() + offset, size);
            size_t n = (size_t)(rng() % 21);
            std::string needle;
            if (n <= size && rng() % 2 == 0) {
                needle = std::string(h.substr((size_t)(rng() % (size - n + 1)), n));  // present
            } else {
                for (size_t i = 0; i < n; ++i) needle.push_back((char)('a' + letter(rng)));
            }
            if (find_bytes(h, needle) != reference(h, needle))
                fail_msg("round %d offset %zu size %zu needle '%s'", round, offset, size, needle.c_str());
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_cases),
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
