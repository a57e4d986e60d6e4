// Incremental Server-Sent-Events framing (see sse_parser.hpp).
#include "util/sse_parser.hpp"

#include <cstring>

namespace routeshift {

namespace {

// Index of the first CR or LF in d[from, n), or n.
size_t find_eol(const char* d, size_t from, size_t n) {
    if (from >= n) return n;
    const void* lf = std::memchr(d + from, '\n', n - from);
    size_t lim = lf ? static_cast<size_t>(static_cast<const char*>(lf) - d) : n;
    const void* cr = std::memchr(d + from, '\r', lim - from);
    return cr ? static_cast<size_t>(static_cast<const char*>(cr) - d) : lim;
}

}  // namespace

bool SseParser::feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event) {
    if (bytes.empty()) return true;
    return parse(bytes, false, on_event);
}

std::string_view sse_event_terminator(std::string_view raw) {
    size_t end = raw.size();
    if (end >= 2 && raw[end - 2] == '\r' && raw[end - 1] == '\n') end -= 2;
    else if (end >= 1 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) end -= 1;
    else return "\n\n";  // not even its last line ended (the parser never delivers such an event)
    if (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) return "";  // a blank line: complete
    // one line break is missing; after a lone CR, "\n\n" reads as CRLF and then a blank line
    return raw.back() == '\n' ? "\n" : "\n\n";
}

void SseParser::flush(const std::function<void(const SseEvent&)>& on_event) {
    if (!buf_.empty()) parse({}, true, on_event);
    reset();
}

bool SseParser::parse(std::string_view bytes, bool at_eof, const std::function<void(const SseEvent&)>& on_event) {
    // Fast path: nothing pending, scan the caller's bytes in place and copy only the tail.
    const bool from_input = buf_.empty();
    std::string_view view;
    size_t pos, line_start;
    bool has_lines;
    if (from_input) {
        view = bytes;
        pos = line_start = 0;
        has_lines = false;
    } else {
        buf_.append(bytes.data(), bytes.size());
        view = buf_;
        pos = scan_;
        line_start = line_start_;
        has_lines = has_lines_;
    }
    const char* d = view.data();
    const size_t n = view.size();
    size_t ev_start = 0;

    while (pos < n) {
        size_t i = find_eol(d, pos, n);
        if (i == n) {
            pos = n;
            break;
        }
        size_t term_end;
        if (d[i] == '\r') {
            if (i + 1 == n && !at_eof) {
                pos = i;  // "\r" or "\r\n"? decided by the next byte
                break;
            }
            term_end = (i + 1 < n && d[i + 1] == '\n') ? i + 2 : i + 1;
        } else {
            term_end = i + 1;
        }
        if (i == line_start) {  // blank line
            if (has_lines) {
                if (term_end - ev_start > max_) {
                    reset();
                    return false;
                }
                dispatch(view.substr(ev_start, term_end - ev_start), on_event);
                ev_start = term_end;
                has_lines = false;
            }
            // blank lines before an event's first line stay with that event's raw bytes
        } else {
            has_lines = true;
        }
        line_start = term_end;
        pos = term_end;
    }

    if (at_eof) {
        // Body ended: an event whose lines are all terminated but which lacks the final blank
        // line is still delivered; a partial last line is not.
        if (has_lines && line_start == n && n - ev_start <= max_) dispatch(view.substr(ev_start), on_event);
        return true;  // flush() resets
    }

    if (n - ev_start > max_) {
        reset();
        return false;
    }
    if (from_input) {
        buf_.assign(view.data() + ev_start, n - ev_start);
    } else if (ev_start) {
        buf_.erase(0, ev_start);
    }
    scan_ = pos - ev_start;
    line_start_ = line_start - ev_start;
    has_lines_ = has_lines;
    consumed_ = 0;
    return true;
}

void SseParser::dispatch(std::string_view raw, const std::function<void(const SseEvent&)>& on_event) {
    SseEvent ev;
    ev.raw = raw;
    std::string_view first_data;
    size_t data_lines = 0;
    const char* d = raw.data();
    const size_t n = raw.size();
    size_t p = 0;
    while (p < n) {
        size_t i = find_eol(d, p, n);
        std::string_view line(d + p, i - p);
        p = i;
        if (p < n) p += (d[p] == '\r' && p + 1 < n && d[p + 1] == '\n') ? 2 : 1;
        if (line.size() >= 3 && std::memcmp(line.data(), "\xEF\xBB\xBF", 3) == 0) line.remove_prefix(3);  // BOM
        if (line.empty() || line.front() == ':') continue;  // blank or comment
        size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (field == "data") {
            if (data_lines == 0) {
                first_data = value;
            } else {
                if (data_lines == 1) scratch_.assign(first_data);
                scratch_ += '\n';
                scratch_.append(value.data(), value.size());
            }
            ++data_lines;
        } else if (field == "event") {
            ev.event = value;
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) ev.id = value;
        }
        // "retry" and unknown fields are ignored
    }
    ev.data = data_lines <= 1 ? first_data : std::string_view(scratch_);
    on_event(ev);
}

}  // namespace routeshift
