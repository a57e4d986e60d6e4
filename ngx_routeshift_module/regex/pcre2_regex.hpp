// The core's RegexEngine (util/regex.hpp) on libpcre2-8 — the library nginx itself links for its
// PCRE2 support. One implementation for the nginx module (glue/ngx_routeshift_regex.cpp wraps it
// to log match-limit hits), routeshift-sync (rule validation before a push or an insert) and the
// unit tests: UTF-8, JIT when the CPU allows, a match and depth limit per match.
// Not in core/: the core has no regex library of its own, and not ngx_regex_compile: its code
// lives in a pool and, at configuration time, on nginx's study list, while a snapshot's regexes
// must live exactly as long as that snapshot (even one the master parses and drops).
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
