// The Gemini native body converter (docs/design.md §18 "Gemini native"): any input is either
// refused with a 400 whose Google-shaped error body is valid JSON, or converted into a body the
// OpenAI ingress accepts (the handler parses the conversion next; a refusal there would be a
// gateway bug, not the client's).
#include "fuzz_support.hpp"
#include "dialect/google_error.hpp"
#include "ingress/chat_request.hpp"
#include "ingress/gemini_generate_content_ingress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace routeshift;
    if (size == 0) return 0;
    // the first byte picks the endpoint
    GeminiBodyKind kind = data[0] % 3 == 0   ? GeminiBodyKind::generate
                          : data[0] % 3 == 1 ? GeminiBodyKind::stream_generate
                                             : GeminiBodyKind::count_tokens;
    std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string openai_body;
    ApiError err;
    if (!gemini_generate_content_to_openai(body, "gem-model", kind, &openai_body, &err)) {
        fuzz::check(err.status == 400, "a refused Gemini body is not a 400", err.message);
        fuzz::check(fuzz::valid_json_document(google_error_body(err)), "the Google error body is not valid JSON", err.message);
        return 0;
    }
    ApiError parse_error;
    auto req = parse_chat_request(openai_body, &parse_error);
    fuzz::check(req.has_value(), "the OpenAI ingress refused a converted Gemini body", openai_body + "\n" + parse_error.message);
    fuzz::check(req->model == "gem-model", "the converted body lost the path's model", openai_body);
    fuzz::check(req->stream == (kind == GeminiBodyKind::stream_generate), "stream flag differs from the endpoint", openai_body);
    return 0;
}
