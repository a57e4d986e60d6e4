// The regex engine of the nginx module: PCRE2 (nginx's own libpcre2-8) through the shared
// implementation (regex/pcre2_regex.cpp: JIT, match and depth limits), with every match that ends
// in an error — a pathological pattern hitting its match limit — logged; the rule engine counts it
// as no match, so the worker moves on instead of stalling.
#include "ngx_routeshift.hpp"
#include "pcre2_regex.hpp"

namespace routeshift {
namespace {

class LoggedMatcher final : public RegexMatcher {
public:
    LoggedMatcher(std::unique_ptr<RegexMatcher> inner, std::string pattern)
        : inner_(std::move(inner)), pattern_(std::move(pattern)) {}

    RegexResult match(std::string_view text) const override {
        RegexResult result = inner_->match(text);
        if (result == RegexResult::error) {
            // The pattern is configuration, never a secret; the text (a prompt) is not logged.
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "routeshift: routing-rule regex \"%*s\" hit its match limit on %uz bytes; "
                          "counted as no match",
                          (size_t)std::min<size_t>(pattern_.size(), 128), pattern_.data(), text.size());
        }
        return result;
    }

private:
    std::unique_ptr<RegexMatcher> inner_;
    std::string pattern_;
};

class NginxRegexEngine final : public RegexEngine {
public:
    std::unique_ptr<RegexMatcher> compile(std::string_view pattern, bool caseless, std::string* error) const override {
        auto inner = pcre2_.compile(pattern, caseless, error);
        if (!inner) return nullptr;
        return std::make_unique<LoggedMatcher>(std::move(inner), std::string(pattern));
    }

private:
    Pcre2RegexEngine pcre2_;
};

const NginxRegexEngine g_engine;

}  // namespace

void regex_engine_install() { install_regex_engine(&g_engine); }

}  // namespace routeshift
