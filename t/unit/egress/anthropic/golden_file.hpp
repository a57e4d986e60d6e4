// A golden-file check for the Anthropic byte tests: `now` must equal data/<name>; UPDATE_GOLDEN=1
// rewrites the file instead (only for an intended change of output). On a difference the message
// names the first differing byte and the golden file's line (or "=== " section) around it.
#pragma once
#include <cstdlib>
#include <fstream>
#include <string>

#include "test_util.hpp"

namespace test {

inline void check_golden_file(const std::string& name, const std::string& now, const char* section_marker = "\n") {
    const char* update = std::getenv("UPDATE_GOLDEN");
    if (update && *update == '1') {
        std::ofstream(std::string(TEST_DATA_DIR) + "/" + name, std::ios::binary) << now;
        return;
    }
    std::string golden = read_data_file(name);
    if (now == golden) return;
    size_t at = 0;
    while (at < now.size() && at < golden.size() && now[at] == golden[at]) ++at;
    size_t from = golden.rfind(section_marker, at);
    from = from == std::string::npos ? 0 : from;
    fail_msg("output differs from %s at byte %zu (in: %s)\n  golden: %s\n  now:    %s", name.c_str(), at,
             golden.substr(from, golden.find('\n', from + 1) - from).c_str(), golden.substr(at, 120).c_str(),
             now.substr(at, 120).c_str());
}

}  // namespace test
