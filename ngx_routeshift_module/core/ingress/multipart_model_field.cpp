// Multipart/form-data fields (see multipart_model_field.hpp).
#include "ingress/multipart_model_field.hpp"

#include <cctype>
#include <cstring>

namespace routeshift {
namespace {

constexpr size_t kMaxPartHeaderBytes = 16 * 1024;
constexpr size_t kMaxBoundaryChars = 70;
// Whitespace after a delimiter (RFC 2046 transport padding) read with a part's headers.
constexpr size_t kMaxPaddingBytes = 1024;
// How much of the body one delimiter search reads at a time.
constexpr size_t kSearchWindowBytes = 128 * 1024;

size_t find_bytes(std::string_view haystack, size_t from, std::string_view needle) {
    // an empty haystack may have no data pointer at all (memmem's arguments must not be null)
    if (from >= haystack.size() || haystack.size() - from < needle.size()) return std::string_view::npos;
    const void* hit = memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
    return hit ? (size_t)(static_cast<const char*>(hit) - haystack.data()) : std::string_view::npos;
}

// Where `needle` next starts in `body` at or after `from` (npos: nowhere), read window by window;
// consecutive windows overlap by the needle's length less one, so no occurrence falls between
// them. False when the body could not be read.
bool find_in_body(BodySource& body, size_t from, std::string_view needle, size_t* at) {
    *at = std::string_view::npos;
    while (from < body.size() && body.size() - from >= needle.size()) {
        std::string_view window;
        if (!body.read(from, kSearchWindowBytes, &window)) return false;
        size_t hit = find_bytes(window, 0, needle);
        if (hit != std::string_view::npos) {
            *at = from + hit;
            return true;
        }
        if (window.size() < needle.size()) return true;  // the body ended
        from += window.size() - (needle.size() - 1);
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
    return true;
}

// The value of parameter `name` in `; a=b; c="d"` (quoted values end at the next quote), viewing
// `params`.
bool header_parameter(std::string_view params, std::string_view name, std::string_view* value) {
    while (!params.empty()) {
        size_t semi = params.find(';');
        if (semi == std::string_view::npos) return false;
        params.remove_prefix(semi + 1);
        params = trim(params);
        size_t eq = params.find('=');
        if (eq == std::string_view::npos) return false;
        std::string_view key = trim(params.substr(0, eq));
        std::string_view rest = trim(params.substr(eq + 1));
        std::string_view v;
        if (!rest.empty() && rest.front() == '"') {
            size_t close = rest.find('"', 1);
            if (close == std::string_view::npos) return false;
            v = rest.substr(1, close - 1);
            params = rest.substr(close + 1);
        } else {
            size_t end = rest.find(';');
            v = trim(rest.substr(0, end));
            params = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        }
        if (iequals(key, name)) {
            *value = v;
            return true;
        }
    }
    return false;
}

struct PartHeaders {
    bool form_data = false;
    bool file = false;
    std::string name;
    std::vector<std::string_view> file_names;  // the filename= and filename*= values (after charset'lang')
};

bool read_part_headers(std::string_view headers, PartHeaders* out) {
    while (!headers.empty()) {
        size_t eol = headers.find("\r\n");
        std::string_view line = headers.substr(0, eol);
        headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return false;
        if (!iequals(trim(line.substr(0, colon)), "content-disposition")) continue;
        std::string_view value = trim(line.substr(colon + 1));
        size_t semi = value.find(';');
        if (!iequals(trim(value.substr(0, semi)), "form-data")) return false;
        out->form_data = true;
        std::string_view params = semi == std::string_view::npos ? std::string_view{} : value.substr(semi);
        std::string_view file_name;
        if (header_parameter(params, "filename", &file_name)) out->file_names.push_back(file_name);
        if (header_parameter(params, "filename*", &file_name)) {  // RFC 5987: charset'language'value
            size_t first = file_name.find('\'');
            size_t second = first == std::string_view::npos ? first : file_name.find('\'', first + 1);
            out->file_names.push_back(second == std::string_view::npos ? file_name : file_name.substr(second + 1));
        }
        out->file = !out->file_names.empty();
        std::string_view name;
        if (!header_parameter(params, "name", &name)) return false;
        out->name.assign(name);
    }
    return out->form_data && !out->name.empty();
}

bool fail(std::string* error, std::string message) {
    *error = std::move(message);
    return false;
}

}  // namespace

bool multipart_boundary(std::string_view content_type, std::string* boundary) {
    size_t semi = content_type.find(';');
    if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return false;
    if (semi == std::string_view::npos) return false;
    std::string_view value;
    if (!header_parameter(content_type.substr(semi), "boundary", &value)) return false;
    if (value.empty() || value.size() > kMaxBoundaryChars) return false;
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f || c == '"') return false;
    boundary->assign(value);
    return true;
}

const MultipartField* MultipartFields::find(std::string_view name) const {
    const MultipartField* found = nullptr;
    for (const MultipartField& f : fields)
        if (f.name == name) found = &f;
    return found;
}

bool read_multipart_fields(BodySource& body, std::string_view boundary, MultipartFields* out, std::string* error) {
    out->fields.clear();
    out->file_parts = 0;
    out->file_name_offsets.clear();
    out->read_failed = false;
    auto read_failed = [&] {
        out->read_failed = true;
        return fail(error, "The request body could not be read.");
    };
    std::string delimiter = "\r\n--";
    delimiter += boundary;
    std::string_view first(delimiter);
    first.remove_prefix(2);  // the first delimiter may open the body without a CRLF before it
    std::string_view window;
    if (!body.read(0, first.size(), &window)) return read_failed();
    size_t pos;
    if (window == first) {
        pos = first.size();
    } else {
        if (!find_in_body(body, 0, delimiter, &pos)) return read_failed();
        if (pos == std::string_view::npos) return fail(error, "The multipart body has no part with its boundary.");
        pos += delimiter.size();
    }
    for (;;) {
        // the rest of the boundary line and the part's headers, read at once (bounded)
        if (!body.read(pos, 2 + kMaxPaddingBytes + 2 + kMaxPartHeaderBytes, &window)) return read_failed();
        if (window.substr(0, 2) == "--") return true;  // the closing delimiter
        size_t at = 0;
        while (at < window.size() && at < kMaxPaddingBytes && (window[at] == ' ' || window[at] == '\t')) at++;
        if (window.substr(at, 2) != "\r\n") return fail(error, "The multipart body has a malformed boundary line.");
        at += 2;
        size_t headers_end = find_bytes(window.substr(0, at + kMaxPartHeaderBytes), at, "\r\n\r\n");
        if (headers_end == std::string_view::npos) return fail(error, "A part of the multipart body has no end to its headers.");
        PartHeaders headers;
        if (!read_part_headers(window.substr(at, headers_end - at), &headers))
            return fail(error, "A part of the multipart body has no form-data name.");
        if (headers.file) {  // offsets now: the next read replaces the window the names view
            out->file_parts++;
            for (std::string_view file_name : headers.file_names)
                out->file_name_offsets.push_back(pos + (size_t)(file_name.data() - window.data()));
        }
        size_t content = pos + headers_end + 4;
        size_t next;
        if (!find_in_body(body, content, delimiter, &next)) return read_failed();
        if (next == std::string_view::npos) return fail(error, "The multipart body is not closed by its boundary.");
        if (!headers.file && next - content <= kMaxMultipartFieldBytes)
            out->fields.push_back(MultipartField{std::move(headers.name), content, next - content});
        pos = next + delimiter.size();
    }
}

bool read_multipart_fields(std::string_view body, std::string_view boundary, MultipartFields* out, std::string* error) {
    MemoryBodySource source(body);
    return read_multipart_fields(source, boundary, out, error);
}

bool multipart_field_value(BodySource& body, const MultipartField& field, std::string* out) {
    std::string_view value;
    if (!body.read(field.offset, field.size, &value) || value.size() != field.size) return false;
    out->assign(value);
    return true;
}

}  // namespace routeshift
