// Every wire's error classifier and client error body (the OpenAI normaliser included): whatever
// a provider sends, the client gets one valid UTF-8 JSON document in which no secret survives,
// neither raw nor JSON-escaped. In the input, "@S@" stands for the key's secret and "@E@" for it
// with '/' written "\/" and its first character as a \u escape, so the fuzzer reaches the
// redaction paths at once. The first byte picks the HTTP status.
#include "fuzz_support.hpp"
#include "egress/wire_adapter.hpp"
#include "util/redaction.hpp"

namespace {

constexpr int kStatuses[] = {400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 498, 500, 502, 503, 504, 529, 200, 0};

std::string escaped_secret() {
    std::string s = "\\u00";
    const char* hex = "0123456789abcdef";
    s += hex[static_cast<unsigned char>(fuzz::kSecret[0]) >> 4];
    s += hex[static_cast<unsigned char>(fuzz::kSecret[0]) & 15];
    for (char c : fuzz::kSecret.substr(1)) {
        if (c == '/') s += "\\/";
        else s += c;
    }
    return s;
}

std::string expand(std::string_view in) {
    static const std::string escaped = escaped_secret();
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in.substr(i, 3) == "@S@") {
            out += fuzz::kSecret;
            i += 2;
        } else if (in.substr(i, 3) == "@E@") {
            out += escaped;
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

// No string of the document (keys included) holds the secret.
void check_no_secret_inside(const json_t* v, std::string_view doc) {
    const std::string_view secrets[] = {fuzz::kSecret};
    if (json_is_string(v)) {
        fuzz::check(!routeshift::contains_secret(routeshift::json_string_view(v), secrets), "a secret survives", doc);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); ++i) check_no_secret_inside(json_array_get(v, i), doc);
    } else if (json_is_object(v)) {
        const char* key;
        size_t key_len;
        json_t* val;
        json_object_keylen_foreach(const_cast<json_t*>(v), key, key_len, val) {
            fuzz::check(!routeshift::contains_secret(std::string_view(key, key_len), secrets), "a secret survives in a key", doc);
            check_no_secret_inside(val, doc);
        }
    }
}

void check_client_body(std::string_view out) {
    fuzz::check(fuzz::valid_json_document(out), "error body is not one valid UTF-8 JSON document", out);
    const std::string_view secrets[] = {fuzz::kSecret};
    fuzz::check(!routeshift::contains_secret(out, secrets), "a secret survives in the error body", out);
    routeshift::JsonPtr doc = routeshift::json_parse(out, nullptr);
    check_no_secret_inside(doc.get(), out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    int status = kStatuses[data[0] % (sizeof kStatuses / sizeof kStatuses[0])];
    std::string body = expand(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    const std::string_view secrets[] = {fuzz::kSecret};
    // x-amzn-ErrorType: the body's first line, so header bytes are fuzzed too
    std::string_view amzn = std::string_view(body).substr(0, std::min<size_t>(body.find('\n'), 200));
    routeshift::ErrorContext ctx{secrets, amzn};
    check_client_body(routeshift::normalize_upstream_error(status, body, secrets));
    for (auto wire : {routeshift::WireFormat::openai, routeshift::WireFormat::anthropic, routeshift::WireFormat::gemini,
                      routeshift::WireFormat::bedrock}) {
        const routeshift::WireAdapter& adapter = routeshift::wire_adapter(wire);
        check_client_body(adapter.client_error_body(status, body, ctx));
        routeshift::ErrorVerdict v = adapter.classify_error(status, body, ctx);
        fuzz::check(fuzz::valid_json_document(routeshift::openai_error_body(v.error)), "verdict error is not valid JSON");
    }
    return 0;
}
