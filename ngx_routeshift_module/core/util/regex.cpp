// The installed regex engine (see regex.hpp).
#include "util/regex.hpp"

namespace routeshift {
namespace {
const RegexEngine* g_engine = nullptr;  // set once before any snapshot is parsed
}  // namespace

void install_regex_engine(const RegexEngine* engine) { g_engine = engine; }
const RegexEngine* installed_regex_engine() { return g_engine; }

}  // namespace routeshift
