// Streaming scan for the top-level "usage" of an OpenAI JSON answer (see usage_scanner.hpp).
#include "egress/openai/usage_scanner.hpp"
#include "egress/openai/stream_relay.hpp"

namespace routeshift {

void UsageScanner::end_capture() {
    capturing_ = false;
    usage_value_ = std::move(value_);
    value_.clear();
}

void UsageScanner::feed(std::string_view piece) {
    if (broken_ || complete_) return;
    for (size_t i = 0; i < piece.size(); i++) {
        char c = piece[i];
        if (in_string_) {
            if (capturing_) value_ += c;
            if (escape_) {
                escape_ = false;
            } else if (c == '\\') {
                escape_ = true;
                key_escaped_ = key_escaped_ || key_string_;
            } else if (c == '"') {
                in_string_ = false;
                if (key_string_) {
                    usage_key_ = !key_escaped_ && key_ == "usage";
                    key_string_ = false;
                }
            } else if (key_string_ && key_.size() <= kMaxKey) {
                key_ += c;
            }
            continue;
        }
        switch (c) {
        case ' ': case '\t': case '\r': case '\n':
            if (capturing_) value_ += c;
            continue;
        case '"':
            in_string_ = true;
            if (capturing_) {
                value_ += c;
            } else if (depth_ == 1 && expect_key_) {
                key_string_ = true;
                key_escaped_ = false;
                key_.clear();
                expect_key_ = false;
            }
            break;
        case ':':
            if (capturing_) {
                value_ += c;
            } else if (depth_ == 1 && usage_key_) {
                capturing_ = true;
                value_.clear();
            }
            usage_key_ = false;
            break;
        case '{': case '[':
            if (!started_) root_object_ = c == '{';
            if (capturing_) value_ += c;
            depth_++;
            if (depth_ == 1) expect_key_ = true;
            break;
        case '}': case ']':
            if (depth_ == 0) {
                broken_ = true;
                return;
            }
            if (capturing_ && depth_ == 1) end_capture();  // a scalar value closed by the root's '}'
            if (capturing_) value_ += c;
            depth_--;
            if (capturing_ && depth_ == 1) end_capture();  // the object/array value closed
            if (depth_ == 0) {
                complete_ = true;
                return;
            }
            break;
        case ',':
            if (capturing_ && depth_ == 1) end_capture();
            if (capturing_) value_ += c;
            if (depth_ == 1) expect_key_ = true;
            break;
        default:
            if (capturing_) value_ += c;
            break;
        }
        started_ = true;
        if (capturing_ && value_.size() > kMaxUsageValue) {
            broken_ = true;  // no real usage object is this large
            return;
        }
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
