// The small text fields of a multipart/form-data body (RFC 7578): `model` for routing, `stream`,
// and the others the relay may rewrite, found without copying or parsing the file parts (an audio
// upload of megabytes is skipped with memmem between boundaries, window by window: the body may be
// nginx's temp file, read through a BodySource). docs/design.md §21.
#pragma once
#include "util/body_source.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not). False when
// the type is not multipart/form-data or the boundary is missing or invalid (RFC 2046: 1..70
// characters).
bool multipart_boundary(std::string_view content_type, std::string* boundary);

// One part that is not a file (no `filename`), with its value as a span of the body.
struct MultipartField {
    std::string name;    // the Content-Disposition name, unquoted
    size_t offset = 0;   // of the value in the body
    size_t size = 0;
};

struct MultipartFields {
    std::vector<MultipartField> fields;  // in body order
    size_t file_parts = 0;               // parts with a filename
    std::vector<size_t> file_name_offsets;  // where each file part's filename value starts in the body
                                            // (`filename=`, and `filename*=` after its charset'lang')
    bool read_failed = false;               // the body could not be read (not the client's fault)

    // The value of the last field named `name` (absent: nullptr).
    const MultipartField* find(std::string_view name) const;
};

// Text fields longer than this are not read as routing fields (a prompt may be long, a model name
// is not): they stay in the body, untouched, and are not listed.
inline constexpr size_t kMaxMultipartFieldBytes = 64 * 1024;

// Reads the parts of `body`. False + `error` (for a 400) when the body is not well-formed
// multipart with that boundary: no first delimiter, a part without a blank line after its headers
// (within 16 KiB) or without a form-data name, no closing delimiter; false with `read_failed` when
// the body could not be read. Memory use is bounded (windows of at most 128 KiB) whatever the
// body's size: file contents are searched for the next delimiter, never kept.
bool read_multipart_fields(BodySource& body, std::string_view boundary, MultipartFields* out, std::string* error);
bool read_multipart_fields(std::string_view body, std::string_view boundary, MultipartFields* out, std::string* error);

// A listed field's value, read from the body. False when it could not be read.
bool multipart_field_value(BodySource& body, const MultipartField& field, std::string* out);

}  // namespace routeshift
