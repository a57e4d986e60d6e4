// Multipart/form-data fields (see multipart_model_field.hpp).
#include "ingress/multipart_model_field.hpp"

#include <cctype>
#include <cstring>

namespace routeshift {
namespace {

constexpr size_t kMaxPartHeaderBytes = 16 * 1024;
constexpr size_t kMaxBoundaryChars = 70;

size_t find_bytes(std::string_view haystack, size_t from, std::string_view needle) {
    // an empty haystack may have no data pointer at all (memmem's arguments must not be null)
    if (from >= haystack.size() || haystack.size() - from < needle.size()) return std::string_view::npos;
    const void* hit = memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
    return hit ? (size_t)(static_cast<const char*>(hit) - haystack.data()) : std::string_view::npos;
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

bool read_multipart_fields(std::string_view body, std::string_view boundary, MultipartFields* out, std::string* error) {
    out->fields.clear();
    out->file_parts = 0;
    out->file_name_offsets.clear();
    std::string delimiter = "\r\n--";
    delimiter += boundary;
    std::string_view first(delimiter);
    first.remove_prefix(2);  // the first delimiter may open the body without a CRLF before it
    size_t pos;
    if (body.substr(0, first.size()) == first) {
        pos = first.size();
    } else {
        pos = find_bytes(body, 0, delimiter);
        if (pos == std::string_view::npos) return fail(error, "The multipart body has no part with its boundary.");
        pos += delimiter.size();
    }
    for (;;) {
        if (body.substr(pos, 2) == "--") return true;  // the closing delimiter
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) pos++;  // transport padding
        if (body.substr(pos, 2) != "\r\n") return fail(error, "The multipart body has a malformed boundary line.");
        pos += 2;
        size_t headers_end = find_bytes(body.substr(0, std::min(body.size(), pos + kMaxPartHeaderBytes)), pos, "\r\n\r\n");
        if (headers_end == std::string_view::npos) return fail(error, "A part of the multipart body has no end to its headers.");
        PartHeaders headers;
        if (!read_part_headers(body.substr(pos, headers_end - pos), &headers))
            return fail(error, "A part of the multipart body has no form-data name.");
        size_t content = headers_end + 4;
        size_t next = find_bytes(body, content, delimiter);
        if (next == std::string_view::npos) return fail(error, "The multipart body is not closed by its boundary.");
        if (headers.file) {
            out->file_parts++;
            for (std::string_view file_name : headers.file_names)
                out->file_name_offsets.push_back((size_t)(file_name.data() - body.data()));
        } else if (next - content <= kMaxMultipartFieldBytes) {
            out->fields.push_back(MultipartField{std::move(headers.name), content, next - content});
        }
        pos = next + delimiter.size();
    }
}

}  // namespace routeshift
