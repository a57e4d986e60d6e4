// Streaming scan for the top-level "usage" of an OpenAI JSON answer (see usage_scanner.hpp).
#include "egress/openai/usage_scanner.hpp"
#include "egress/openai/stream_relay.hpp"

#include <algorithm>
#include <cstring>

namespace routeshift {

// The captured value ends right before `upto` (its bytes since `from` are still in the piece).
void UsageScanner::end_capture(const char* from, const char* upto) {
    capturing_ = false;
    value_.append(from, static_cast<size_t>(upto - from));
    if (value_.size() > kMaxUsageValue) broken_ = true;  // no real usage object is this large
    usage_value_ = std::move(value_);
    value_.clear();
}

namespace {

// The next '"' or '\\' of a string from `p` (or `end`): most strings of an answer are short keys
// and values, looked at directly; a long one (the answer's text) goes to memchr.
const char* string_stop(const char* p, const char* end) {
    const char* const near = end - p > 24 ? p + 24 : end;
    for (; p < near; ++p) {
        if (*p == '"' || *p == '\\') return p;
    }
    if (p == end) return end;
    const void* quote = std::memchr(p, '"', static_cast<size_t>(end - p));
    const char* stop = quote ? static_cast<const char*>(quote) : end;
    const void* backslash = std::memchr(p, '\\', static_cast<size_t>(stop - p));
    return backslash ? static_cast<const char*>(backslash) : stop;
}

}  // namespace

// Strings are skipped with memchr (the answer's text is most of its bytes); the "usage" value is
// captured as runs of the piece, not byte by byte.
void UsageScanner::feed(std::string_view piece) {
    if (broken_ || complete_) return;
    const char* p = piece.data();
    const char* const end = p + piece.size();
    const char* capture = p;  // while capturing_: start of the value's bytes not yet in value_
    while (p < end) {
        if (in_string_) {
            if (escape_) {
                escape_ = false;
                ++p;
                continue;
            }
            const char* stop = string_stop(p, end);
            if (key_string_ && key_.size() <= kMaxKey) {
                key_.append(p, std::min(static_cast<size_t>(stop - p), kMaxKey + 1 - key_.size()));
            }
            p = stop;
            if (p == end) break;
            if (*p == '\\') {
                escape_ = true;
                key_escaped_ = key_escaped_ || key_string_;
            } else {
                in_string_ = false;
                if (key_string_) {
                    usage_key_ = !key_escaped_ && key_ == "usage";
                    key_string_ = false;
                }
            }
            ++p;
            continue;
        }
        const char c = *p;
        switch (c) {
        case ' ': case '\t': case '\r': case '\n':
            ++p;
            continue;
        case '"':
            in_string_ = true;
            if (!capturing_ && depth_ == 1 && expect_key_) {
                key_string_ = true;
                key_escaped_ = false;
                key_.clear();
                expect_key_ = false;
            }
            break;
        case ':':
            if (!capturing_ && depth_ == 1 && usage_key_) {
                capturing_ = true;
                value_.clear();
                capture = p + 1;
            }
            usage_key_ = false;
            break;
        case '{': case '[':
            if (!started_) root_object_ = c == '{';
            depth_++;
            if (depth_ == 1) expect_key_ = true;
            break;
        case '}': case ']':
            if (depth_ == 0) {
                broken_ = true;
                return;
            }
            if (capturing_ && depth_ == 1) end_capture(capture, p);  // a scalar value closed by the root's '}'
            depth_--;
            if (capturing_ && depth_ == 1) end_capture(capture, p + 1);  // the object/array value closed
            if (depth_ == 0) {
                complete_ = true;
                return;
            }
            break;
        case ',':
            if (capturing_ && depth_ == 1) end_capture(capture, p);
            if (depth_ == 1) expect_key_ = true;
            break;
        default:
            break;
        }
        started_ = true;
        ++p;
    }
    if (capturing_) {
        value_.append(capture, static_cast<size_t>(end - capture));
        if (value_.size() > kMaxUsageValue) broken_ = true;  // no real usage object is this large
    }
}

Usage UsageScanner::usage() const {
    if (!complete_ || broken_ || !root_object_ || usage_value_.empty()) return Usage{};
    std::string doc;
    doc.reserve(usage_value_.size() + 10);
    doc += "{\"usage\":";
    doc += usage_value_;
    doc += '}';
    return usage_from_completion(doc);
}

}  // namespace routeshift
