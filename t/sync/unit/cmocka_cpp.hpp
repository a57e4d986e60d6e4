// CMocka from C++: cmocka 1.1.5's header is C-only and needs these includes first.
#pragma once
// cmocka defines a fail() macro that breaks std::basic_ios::fail: pull the C++ headers in first.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
extern "C" {
#include <cmocka.h>
}
#include <string>
#include <string_view>

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }
