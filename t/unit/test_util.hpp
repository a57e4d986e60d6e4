// Shared helpers for the CMocka unit tests (C++).
// cmocka.h defines a function-like macro `fail()`, which clashes with std::basic_ios::fail():
// include it last (after every C++ standard header, including the core headers).
#pragma once
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "data"
#endif

namespace test {

inline std::string read_data_file(const std::string& name) {
    std::string path = std::string(TEST_DATA_DIR) + "/" + name;
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        fail_msg("cannot open test data file %s", path.c_str());
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

inline size_t count(std::string_view hay, std::string_view needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

}  // namespace test

// Compare std::string / string_view values with a readable failure message.
#define assert_str_eq(a, b)                                                                        \
    do {                                                                                           \
        std::string a_ = std::string(a), b_ = std::string(b);                                      \
        if (a_ != b_) fail_msg("strings differ:\n  got:      \"%s\"\n  expected: \"%s\"", a_.c_str(), \
                               b_.c_str());                                                        \
    } while (0)

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        std::string h_ = std::string(hay), n_ = std::string(needle);                               \
        if (h_.find(n_) == std::string::npos) fail_msg("\"%s\"\n  does not contain \"%s\"", h_.c_str(), n_.c_str()); \
    } while (0)

#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        std::string h_ = std::string(hay), n_ = std::string(needle);                               \
        if (h_.find(n_) != std::string::npos) fail_msg("\"%s\"\n  unexpectedly contains \"%s\"", h_.c_str(), n_.c_str()); \
    } while (0)
