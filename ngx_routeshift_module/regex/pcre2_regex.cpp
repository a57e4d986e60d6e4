// RegexEngine on libpcre2-8 (see pcre2_regex.hpp).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pcre2_regex.hpp"

#include <pcre2.h>

namespace routeshift {
namespace {

class Pcre2Matcher final : public RegexMatcher {
public:
    Pcre2Matcher(pcre2_code* code, pcre2_match_data* data, pcre2_match_context* context, bool jit)
        : code_(code), data_(data), context_(context), jit_(jit) {}
    ~Pcre2Matcher() override {
        pcre2_match_context_free(context_);
        pcre2_match_data_free(data_);
        pcre2_code_free(code_);
    }
    Pcre2Matcher(const Pcre2Matcher&) = delete;
    Pcre2Matcher& operator=(const Pcre2Matcher&) = delete;

    // The subject is valid UTF-8 by contract (util/regex.hpp), so PCRE2's own UTF check of every
    // subject (about half the cost of a short match) is skipped; the JIT fast path skips it too,
    // and honours the match limit.
    RegexResult match(std::string_view text) const override {
        auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
        int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), 0, 0, data_, context_)
                      : pcre2_match(code_, subject, text.size(), 0, PCRE2_NO_UTF_CHECK, data_, context_);
        if (rc >= 0) return RegexResult::matched;
        return rc == PCRE2_ERROR_NOMATCH ? RegexResult::no_match : RegexResult::error;
    }

private:
    pcre2_code* code_;
    pcre2_match_data* data_;
    pcre2_match_context* context_;
    bool jit_;  // compiled by the JIT: pcre2_jit_match
};

}  // namespace

std::unique_ptr<RegexMatcher> Pcre2RegexEngine::compile(std::string_view pattern, bool caseless,
                                                        std::string* error) const {
    int code_error = 0;
    PCRE2_SIZE offset = 0;
    uint32_t options = PCRE2_UTF | (caseless ? PCRE2_CASELESS : 0);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                     &code_error, &offset, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code_error, message, sizeof(message));
        *error = reinterpret_cast<const char*>(message);
        *error += " at offset " + std::to_string(offset);
        return nullptr;
    }
    bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;  // without JIT (unsupported CPU) it still matches
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    if (data == nullptr || context == nullptr) {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_code_free(code);
        *error = "out of memory";
        return nullptr;
    }
    pcre2_set_match_limit(context, kRegexMatchLimit);
    pcre2_set_depth_limit(context, kRegexDepthLimit);
    return std::make_unique<Pcre2Matcher>(code, data, context, jit);
}

}  // namespace routeshift
