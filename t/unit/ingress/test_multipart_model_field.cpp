// multipart_model_field: the small fields of a multipart/form-data body (docs/design.md §21).
#include "ingress/multipart_model_field.hpp"

#include "test_util.hpp"

using namespace routeshift;

static std::string form(const std::string& boundary, const std::string& audio) {
    std::string b;
    b += "--" + boundary + "\r\n";
    b += "Content-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n";
    b += audio + "\r\n";
    b += "--" + boundary + "\r\n";
    b += "Content-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-alias\r\n";
    b += "--" + boundary + "\r\n";
    b += "content-disposition: form-data; name=stream\r\n\r\ntrue\r\n";
    b += "--" + boundary + "--\r\n";
    return b;
}

static void test_boundary(void**) {
    std::string b;
    assert_true(multipart_boundary("multipart/form-data; boundary=abc123", &b));
    assert_str_eq(b, "abc123");
    assert_true(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\"", &b));
    assert_str_eq(b, "a b:c");
    assert_true(multipart_boundary("multipart/form-data; charset=utf-8; boundary=----x", &b));
    assert_str_eq(b, "----x");
    assert_false(multipart_boundary("application/json", &b));
    assert_false(multipart_boundary("multipart/form-data", &b));
    assert_false(multipart_boundary("multipart/form-data; boundary=", &b));
    assert_false(multipart_boundary("multipart/mixed; boundary=x", &b));
    assert_false(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x'), &b));
}

static void test_fields_after_a_large_file(void**) {
    // the file holds bytes that look like a boundary without the CRLF before it, and NULs
    std::string audio(1 << 20, '\0');
    for (size_t i = 0; i < audio.size(); i++) audio[i] = (char)(i * 31);
    audio.replace(1000, 12, "--XyZ--\r\nmod");
    std::string body = form("XyZ", audio);
    MultipartFields fields;
    std::string error;
    assert_true(read_multipart_fields(body, "XyZ", &fields, &error));
    assert_int_equal(fields.file_parts, 1);
    assert_int_equal(fields.fields.size(), 2);
    const MultipartField* model = fields.find("model");
    assert_non_null(model);
    assert_str_eq(body.substr(model->offset, model->size), "whisper-alias");
    const MultipartField* stream = fields.find("stream");
    assert_non_null(stream);
    assert_str_eq(body.substr(stream->offset, stream->size), "true");
    assert_null(fields.find("file"));
}

static void test_preamble_and_padding(void**) {
    std::string body = "preamble\r\n--b  \r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm1\r\n--b--";
    MultipartFields fields;
    std::string error;
    assert_true(read_multipart_fields(body, "b", &fields, &error));
    assert_str_eq(body.substr(fields.find("model")->offset, fields.find("model")->size), "m1");
    // the last of repeated fields counts
    body = "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm1\r\n--b\r\n"
           "Content-Disposition: form-data; name=\"model\"\r\n\r\nm2\r\n--b--\r\n";
    assert_true(read_multipart_fields(body, "b", &fields, &error));
    assert_str_eq(body.substr(fields.find("model")->offset, fields.find("model")->size), "m2");
}

static void test_malformed(void**) {
    const char* bad[] = {
        "",                                                                      // nothing
        "--other\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nv\r\n--other--",  // wrong boundary
        "--b\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nv",           // never closed
        "--b\r\nContent-Disposition: form-data; name=\"m\"\r\nv\r\n--b--",     // no blank line
        "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",                    // no disposition
        "--b\r\nContent-Disposition: attachment; name=\"m\"\r\n\r\nv\r\n--b--", // not form-data
        "--b\r\nContent-Disposition: form-data; name=\"m\r\n\r\nv\r\n--b--",    // unclosed quote
        "--bX\r\n",                                                              // boundary run-on
    };
    for (const char* body : bad) {
        MultipartFields fields;
        std::string error;
        if (read_multipart_fields(body, "b", &fields, &error)) fail_msg("accepted: %s", body);
        assert_false(error.empty());
    }
}

static void test_long_fields_are_not_listed(void**) {
    std::string prompt(kMaxMultipartFieldBytes + 1, 'p');
    std::string body = "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n" + prompt +
                       "\r\n--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--\r\n";
    MultipartFields fields;
    std::string error;
    assert_true(read_multipart_fields(body, "b", &fields, &error));
    assert_null(fields.find("prompt"));
    assert_non_null(fields.find("model"));
}

// A body read the way the glue reads nginx's temp file: copies of at most `window` bytes, and a
// read that fails on demand.
class CopyingSource final : public BodySource {
public:
    CopyingSource(std::string body, size_t window) : body_(std::move(body)), window_(window) {}
    size_t size() const override { return body_.size(); }
    bool read(size_t offset, size_t n, std::string_view* out) override {
        if (fail_) return false;
        largest_ = std::max(largest_, n);
        copy_ = offset >= body_.size() ? std::string() : body_.substr(offset, std::min(n, window_));
        *out = copy_;
        return true;
    }
    std::string body_;
    size_t window_;
    size_t largest_ = 0;
    bool fail_ = false;

private:
    std::string copy_;
};

static void test_windowed_reads_find_delimiters_across_windows(void**) {
    // a 1 MiB file part, then the model field whose delimiter straddles the 128 KiB windows' seams
    for (size_t shift : {0, 1, 3, 7, 60}) {
        std::string audio((1 << 20) + shift, 'a');
        std::string body = form("XyZ", audio);
        body.insert(0, std::string(131072 - 10, ' ') + "\r\n");  // a preamble ending near a seam
        CopyingSource source(body, 1 << 20);
        MultipartFields fields;
        std::string error;
        assert_true(read_multipart_fields(source, "XyZ", &fields, &error));
        assert_int_equal(fields.file_parts, 1);
        assert_int_equal(fields.file_name_offsets.size(), 1);
        assert_str_eq(body.substr(fields.file_name_offsets[0], 5), "a.mp3");
        std::string model;
        assert_true(multipart_field_value(source, *fields.find("model"), &model));
        assert_str_eq(model, "whisper-alias");
        assert_true(source.largest_ <= 128 * 1024);  // never more than a window at once
    }
}

static void test_read_failure_is_not_the_clients(void**) {
    CopyingSource source(form("b", "data"), 64);
    source.fail_ = true;
    MultipartFields fields;
    std::string error;
    assert_false(read_multipart_fields(source, "b", &fields, &error));
    assert_true(fields.read_failed);
    // a malformed body is the client's
    CopyingSource bad("--b\r\nno colon\r\n\r\nv\r\n--b--", 64);
    assert_false(read_multipart_fields(bad, "b", &fields, &error));
    assert_false(fields.read_failed);
}

static void test_filename_star(void**) {
    std::string body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jsonl\"; "
                       "filename*=UTF-8''%C3%A9.jsonl\r\n\r\ndata\r\n--b\r\n"
                       "Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b--\r\n";
    MultipartFields fields;
    std::string error;
    assert_true(read_multipart_fields(body, "b", &fields, &error));
    assert_int_equal(fields.file_name_offsets.size(), 2);
    assert_str_eq(body.substr(fields.file_name_offsets[0], 7), "x.jsonl");
    assert_str_eq(body.substr(fields.file_name_offsets[1], 6), "%C3%A9");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_fields_after_a_large_file),
        cmocka_unit_test(test_preamble_and_padding),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_long_fields_are_not_listed),
        cmocka_unit_test(test_windowed_reads_find_delimiters_across_windows),
        cmocka_unit_test(test_read_failure_is_not_the_clients),
        cmocka_unit_test(test_filename_star),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
