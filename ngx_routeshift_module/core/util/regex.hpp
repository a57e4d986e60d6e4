// Regular expressions as the core sees them: an engine compiles a pattern into a matcher, a
// matcher says matched / no match / error. The core has no regex library of its own: the nginx
// glue implements the engine with nginx's PCRE2 API (glue/ngx_routeshift_regex.cpp), routeshift-sync
// and the unit tests with libpcre2-8 (sync-service/pcre2_regex.cpp). Either way a matcher runs with
// a match limit, so a pathological pattern ends in `error` instead of stalling a worker.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace routeshift {

enum class RegexResult { matched, no_match, error };  // error: match limit hit or engine failure

class RegexMatcher {
public:
    virtual ~RegexMatcher() = default;
    // Searches `text` anywhere; anchor the pattern with ^...$ for a whole-text match. `text` must
    // be valid UTF-8, which the engine does not check again (the rule engine's subjects are
    // decoded from JSON the scanner validated; a check per match was half the cost of a short one).
    // Not thread-safe: a matcher belongs to one config, used by one worker.
    virtual RegexResult match(std::string_view text) const = 0;
};

class RegexEngine {
public:
    virtual ~RegexEngine() = default;
    // Null + `error` (the engine's message with the offset) when the pattern does not compile.
    virtual std::unique_ptr<RegexMatcher> compile(std::string_view pattern, bool caseless,
                                                  std::string* error) const = 0;
};

// The engine parse_snapshot compiles routing-rule regexes with. Installed once at start-up by the
// host (module init, routeshift-sync main, a test's setup); without one, a snapshot with a regex is
// rejected. Not owned.
void install_regex_engine(const RegexEngine* engine);
const RegexEngine* installed_regex_engine();

}  // namespace routeshift
