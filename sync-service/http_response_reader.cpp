#include "http_response_reader.hpp"

#include <limits>
#include <optional>

namespace rsync {
namespace {

constexpr size_t kMaxChunkLineBytes = 4096;  // size + extensions, or one trailer line

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Decimal digits only; nullopt on anything else or when the value exceeds `limit` (checked before
// each multiplication, so it cannot wrap).
std::optional<size_t> parse_decimal(std::string_view digits, size_t limit) {
    if (digits.empty()) return std::nullopt;
    size_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        size_t d = static_cast<size_t>(c - '0');
        if (value > (limit - d) / 10) return std::nullopt;
        value = value * 10 + d;
    }
    return value;
}

std::optional<size_t> parse_hex(std::string_view digits, size_t limit) {
    if (digits.empty()) return std::nullopt;
    size_t value = 0;
    for (char c : digits) {
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (v < 0) return std::nullopt;
        size_t d = static_cast<size_t>(v);
        if (value > (limit - d) / 16) return std::nullopt;
        value = value * 16 + d;
    }
    return value;
}

}  // namespace

HttpResponseReader::State HttpResponseReader::reject(std::string message) {
    error_ = std::move(message);
    state_ = State::failed;
    pending_.clear();
    consumed_ = 0;
    return state_;
}

HttpResponseReader::State HttpResponseReader::feed(std::string_view bytes) {
    if (state_ != State::need_more) return state_;
    pending_.append(bytes.data(), bytes.size());
    if (mode_ == Mode::header && parse_header() != State::need_more) return state_;
    if (mode_ != Mode::header) parse_body();
    if (state_ == State::need_more && consumed_ > 0) {
        // Only an unfinished line (bounded) or header (bounded) stays behind: erasing is cheap.
        pending_.erase(0, consumed_);
        header_scan_ -= std::min(header_scan_, consumed_);
        consumed_ = 0;
    }
    return state_;
}

HttpResponseReader::State HttpResponseReader::finish() {
    if (state_ != State::need_more) return state_;
    if (mode_ == Mode::header) return reject(pending_.empty() ? "connection closed without a response"
                                                            : "incomplete response header");
    if (mode_ == Mode::until_close) {
        state_ = State::complete;
        return state_;
    }
    return reject(mode_ == Mode::chunked ? "incomplete or malformed chunked body" : "incomplete body");
}

HttpResponseReader::State HttpResponseReader::parse_header() {
    size_t head_end = pending_.find("\r\n\r\n", header_scan_);
    if (head_end == std::string::npos) {
        if (pending_.size() > kMaxResponseHeaderBytes) return reject("response header too large");
        header_scan_ = pending_.size() < 3 ? 0 : pending_.size() - 3;
        return state_;
    }
    if (head_end > kMaxResponseHeaderBytes) return reject("response header too large");
    std::string_view head(pending_.data(), head_end);
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ')
        return reject("malformed status line");
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
        char c = status_line[i];
        if (c < '0' || c > '9') return reject("malformed status code");
        status = status * 10 + (c - '0');
    }
    bool chunked = false;
    std::optional<size_t> content_length;
    std::string_view headers = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    while (!headers.empty()) {
        size_t e = headers.find("\r\n");
        std::string_view line = headers.substr(0, e);
        headers = e == std::string_view::npos ? std::string_view() : headers.substr(e + 2);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (equal_ignoring_case(name, "transfer-encoding") && value.find("chunked") != std::string_view::npos)
            chunked = true;
        if (equal_ignoring_case(name, "x-routeshift-admin-proof")) response_.admin_proof.assign(value);
        if (equal_ignoring_case(name, "content-length")) {
            auto n = parse_decimal(value, std::numeric_limits<size_t>::max());
            if (!n) return reject("bad Content-Length");
            if (content_length && *content_length != *n) return reject("conflicting Content-Length headers");
            if (*n > max_body_) return reject("response body too large (Content-Length " + std::string(value) + ")");
            content_length = n;
        }
    }
    response_.status = status;
    consumed_ = head_end + 4;
    if (chunked) {
        mode_ = Mode::chunked;
    } else if (content_length) {
        mode_ = Mode::content_length;
        remaining_ = *content_length;
        response_.body.reserve(remaining_);
    } else {
        mode_ = Mode::until_close;
    }
    return state_;
}

HttpResponseReader::State HttpResponseReader::parse_body() {
    if (mode_ == Mode::chunked) return parse_chunked();
    std::string_view available(pending_.data() + consumed_, pending_.size() - consumed_);
    if (mode_ == Mode::content_length) {
        size_t n = std::min(available.size(), remaining_);
        response_.body.append(available.data(), n);
        consumed_ += n;
        remaining_ -= n;
        if (remaining_ == 0) {
            state_ = State::complete;  // anything after the declared length is ignored
            pending_.clear();
            consumed_ = 0;
        }
        return state_;
    }
    if (available.size() > max_body_ - response_.body.size()) return reject("response body too large");
    response_.body.append(available.data(), available.size());
    consumed_ = pending_.size();
    return state_;
}

bool HttpResponseReader::take_line(std::string_view* line, size_t limit) {
    size_t eol = pending_.find("\r\n", consumed_);
    if (eol == std::string::npos) {
        if (pending_.size() - consumed_ > limit) reject("chunk header or trailer line too long");
        return false;
    }
    if (eol - consumed_ > limit) {
        reject("chunk header or trailer line too long");
        return false;
    }
    *line = std::string_view(pending_.data() + consumed_, eol - consumed_);
    consumed_ = eol + 2;
    return true;
}

HttpResponseReader::State HttpResponseReader::parse_chunked() {
    for (;;) {
        std::string_view line;
        switch (chunk_phase_) {
        case ChunkPhase::size_line: {
            if (!take_line(&line, kMaxChunkLineBytes)) return state_;
            if (size_t semi = line.find(';'); semi != std::string_view::npos) line = line.substr(0, semi);
            auto size = parse_hex(trim(line), max_body_ - response_.body.size());
            if (!size) return reject("bad chunk size or response body too large");
            remaining_ = *size;
            chunk_phase_ = remaining_ == 0 ? ChunkPhase::trailers : ChunkPhase::data;
            break;
        }
        case ChunkPhase::data: {
            size_t n = std::min(pending_.size() - consumed_, remaining_);
            response_.body.append(pending_.data() + consumed_, n);
            consumed_ += n;
            remaining_ -= n;
            if (remaining_ > 0) return state_;
            chunk_phase_ = ChunkPhase::data_end;
            break;
        }
        case ChunkPhase::data_end:
            if (pending_.size() - consumed_ < 2) return state_;
            if (pending_.compare(consumed_, 2, "\r\n") != 0) return reject("malformed chunked body");
            consumed_ += 2;
            chunk_phase_ = ChunkPhase::size_line;
            break;
        case ChunkPhase::trailers:
            if (!take_line(&line, kMaxChunkLineBytes)) return state_;
            if (line.empty()) {
                state_ = State::complete;
                pending_.clear();
                consumed_ = 0;
                return state_;
            }
            break;  // trailers are ignored
        }
    }
}

}  // namespace rsync
