// The core's RegexEngine (util/regex.hpp) on libpcre2-8, for routeshift-sync (rule validation
// before a push or an insert) and the unit tests. Same options as the nginx glue's engine
// (glue/ngx_routeshift_regex.cpp): UTF-8, JIT when available, a match limit.
#pragma once
#include "util/regex.hpp"

namespace routeshift {

// Backtracking steps one match may take before it counts as an error (shared with the glue).
inline constexpr unsigned kRegexMatchLimit = 1000000;
inline constexpr unsigned kRegexDepthLimit = 10000;

class Pcre2RegexEngine final : public RegexEngine {
public:
    std::unique_ptr<RegexMatcher> compile(std::string_view pattern, bool caseless,
                                          std::string* error) const override;
};

}  // namespace routeshift
