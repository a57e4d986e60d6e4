// Incremental, bounded parser of one HTTP/1.x response as the sync's admin client receives it.
//
// Bytes are fed as they arrive; each byte is looked at a bounded number of times (no re-parse of
// the whole buffer per read), and every size is checked before it is used: the header block, a
// Content-Length, each chunk size and the decoded body are limited, and sizes that would overflow
// are refused instead of wrapping. A hostile or broken peer gets a clear error, never an exception
// or an unbounded allocation.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace rsync {

struct HttpResponse {
    int status = 0;
    std::string body;
    std::string admin_proof;  // X-RouteShift-Admin-Proof (admin_auth.hpp), empty when absent
};

inline constexpr size_t kMaxResponseHeaderBytes = 64u << 10;
inline constexpr size_t kMaxResponseBodyBytes = 16u << 20;  // /admin/status of a very large fleet fits

class HttpResponseReader {
public:
    enum class State { need_more, complete, failed };

    explicit HttpResponseReader(size_t max_body_bytes = kMaxResponseBodyBytes) : max_body_(max_body_bytes) {}

    // Consumes `bytes`; `complete` once a framed (Content-Length or chunked) response is whole.
    State feed(std::string_view bytes);
    // The peer closed: an unframed body (read until close) is complete now; anything else fails.
    State finish();

    State state() const { return state_; }
    // Whether the length was known (Content-Length or chunked) once the header was read.
    bool framed() const { return mode_ == Mode::content_length || mode_ == Mode::chunked; }
    const std::string& error() const { return error_; }
    HttpResponse& response() { return response_; }

private:
    enum class Mode { header, content_length, chunked, until_close };
    enum class ChunkPhase { size_line, data, data_end, trailers };

    State reject(std::string message);
    State parse_header();
    State parse_body();
    State parse_chunked();
    bool take_line(std::string_view* line, size_t limit);  // a CRLF-terminated line from pending_

    size_t max_body_;
    State state_ = State::need_more;
    Mode mode_ = Mode::header;
    ChunkPhase chunk_phase_ = ChunkPhase::size_line;
    std::string pending_;     // received, not yet consumed bytes
    size_t consumed_ = 0;     // prefix of pending_ already parsed
    size_t header_scan_ = 0;  // where the search for the end of the header resumes
    size_t remaining_ = 0;    // Content-Length bytes or bytes of the current chunk still expected
    std::string error_;
    HttpResponse response_;
};

}  // namespace rsync
