// The one redaction helper: after redact_secrets no secret is left (raw or JSON-escaped), valid
// JSON stays valid JSON (no escape is ever cut), and redacting twice changes nothing. Input: the
// secret (first line, kept to a realistic key alphabet), then the text.
#include "fuzz_support.hpp"
#include "util/redaction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) return 0;
    std::string_view secret = in.substr(0, nl), text = in.substr(nl + 1);
    // (a secret inside our own "[redacted]" marker would be "found" again in the output)
    if (secret.size() < 8 || secret == "redacted") return 0;
    for (char c : secret) {
        bool key_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '/' || c == '+' || c == '=' || c == '.' || c == ':';
        if (!key_char) return 0;
    }
    const std::string_view secrets[] = {secret};
    std::string out = routeshift::redact_secrets(text, secrets);
    fuzz::check(!routeshift::contains_secret(out, secrets), "a secret survives redaction", out);
    fuzz::check(routeshift::redact_secrets(out, secrets) == out, "redaction is not idempotent", out);
    if (fuzz::valid_json_document(text)) fuzz::check(fuzz::valid_json_document(out), "redaction broke valid JSON", out);
    return 0;
}
