// Multipart/form-data fields and the client ids of provider objects (docs/design.md §21): the
// first line of the input is a Content-Type (its boundary), the rest the body. Every listed field
// lies inside the body, starts after a blank line and ends right before a delimiter; an id parsed
// from the input is one `encode_provider_object_id` gives back byte for byte. Filename values (the
// team's mark goes before them) lie in a part's headers. Read through copied windows (as the glue
// reads nginx's temp file) the body gives the same answer as in memory.
#include "fuzz_support.hpp"
#include "ingress/multipart_model_field.hpp"
#include "ingress/provider_object_id.hpp"

namespace {

// The body as the glue's temp-file source hands it out: copies, valid until the next read.
class CopyingSource final : public routeshift::BodySource {
public:
    explicit CopyingSource(std::string_view body) : body_(body) {}
    size_t size() const override { return body_.size(); }
    bool read(size_t offset, size_t n, std::string_view* out) override {
        copy_.assign(offset >= body_.size() ? std::string_view{} : body_.substr(offset, n));
        *out = copy_;
        return true;
    }

private:
    std::string_view body_;
    std::string copy_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    size_t eol = text.find('\n');
    std::string_view content_type = text.substr(0, eol);
    std::string_view body = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    std::string boundary;
    if (routeshift::multipart_boundary(content_type, &boundary)) {
        fuzz::check(!boundary.empty() && boundary.size() <= 70, "boundary length", text);
        routeshift::MultipartFields fields;
        std::string error;
        bool accepted = routeshift::read_multipart_fields(body, boundary, &fields, &error);
        CopyingSource copying(body);
        routeshift::MultipartFields windowed;
        std::string windowed_error;
        bool windowed_accepted = routeshift::read_multipart_fields(copying, boundary, &windowed, &windowed_error);
        fuzz::check(accepted == windowed_accepted && error == windowed_error && !windowed.read_failed,
                    "windowed reading judged the body otherwise", text);
        if (accepted) {
            fuzz::check(windowed.fields.size() == fields.fields.size() &&
                            windowed.file_name_offsets == fields.file_name_offsets,
                        "windowed reading found other parts", text);
            for (size_t i = 0; i < fields.fields.size() && i < windowed.fields.size(); i++) {
                std::string value;
                fuzz::check(routeshift::multipart_field_value(copying, windowed.fields[i], &value) &&
                                value == body.substr(fields.fields[i].offset, fields.fields[i].size),
                            "windowed field value differs", text);
            }
        }
        if (accepted) {
            for (const routeshift::MultipartField& f : fields.fields) {
                fuzz::check(f.offset + f.size <= body.size(), "field outside the body", text);
                fuzz::check(f.offset >= 4 && body.substr(f.offset - 4, 4) == "\r\n\r\n", "field not after a blank line", text);
                fuzz::check(body.substr(f.offset + f.size, 4 + boundary.size()) == "\r\n--" + boundary,
                            "field not ended by a delimiter", text);
                fuzz::check(f.size <= routeshift::kMaxMultipartFieldBytes, "field over the limit", text);
            }
            // a filename value lies in a part's headers: inside the body, before a blank line
            for (size_t offset : fields.file_name_offsets) {
                fuzz::check(offset <= body.size(), "filename outside the body", text);
                fuzz::check(body.find("\r\n\r\n", offset) != std::string_view::npos, "filename after the headers", text);
            }
            fuzz::check(fields.file_name_offsets.size() >= fields.file_parts, "a file part without its filename", text);
        } else {
            fuzz::check(!error.empty(), "refused without a reason", text);
        }
    }
    for (auto kind : {routeshift::ProviderObjectKind::file, routeshift::ProviderObjectKind::batch,
                      routeshift::ProviderObjectKind::response}) {
        routeshift::ParsedProviderObjectId parsed;
        if (!routeshift::parse_provider_object_id(text, kind, &parsed)) continue;
        fuzz::check(!parsed.provider_id.empty() && parsed.provider_id.size() <= routeshift::kMaxProviderObjectIdBytes,
                    "provider id size", text);
        fuzz::check(!routeshift::provider_object_id_authentic(parsed, "fuzz-secret", 1) ||
                        routeshift::encode_provider_object_id(kind, parsed.key_id, "fuzz-secret", 1, parsed.provider_id) == text,
                    "an authentic id that does not round-trip", text);
    }
    return 0;
}
