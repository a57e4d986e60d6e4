// Gemini error classification: google.rpc.Status bodies -> retry/park verdict and the OpenAI-shaped
// error the client gets.
#include "egress/error_class.hpp"
#include "egress/gemini/gemini_internal.hpp"
#include "util/redaction.hpp"
#include "util/utf8_text.hpp"

#include <algorithm>
#include <cctype>

namespace routeshift {

using namespace gemini_internal;

namespace {

// Google API keys ("AIza" + 35 characters): never let one through in a message.
string mask_google_api_keys(string_view msg) {
    string out(msg);
    size_t p = 0;
    while ((p = out.find("AIza", p)) != string::npos) {
        size_t e = p + 4;
        while (e < out.size() && (isalnum(static_cast<unsigned char>(out[e])) || out[e] == '_' || out[e] == '-')) ++e;
        if (e - p >= 20) {
            out.replace(p, e - p, "[redacted]");
            p += 10;
        } else {
            p = e;
        }
    }
    return out;
}

// "38s", "0.5s", "1.250s", "2m" (protobuf Duration JSON is seconds with an "s" suffix).
int64_t parse_duration_ms(string_view d) {
    if (d.empty()) return -1;
    double mult = 1000;
    if (d.ends_with("ms")) {
        mult = 1;
        d.remove_suffix(2);
    } else if (d.ends_with("s")) {
        d.remove_suffix(1);
    } else if (d.ends_with("m")) {
        mult = 60000;
        d.remove_suffix(1);
    }
    double v = 0, frac = 0.1;
    bool any = false, dot = false;
    for (char c : d) {
        if (c >= '0' && c <= '9') {
            any = true;
            if (dot) {
                v += (c - '0') * frac;
                frac /= 10;
            } else {
                v = v * 10 + (c - '0');
            }
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return -1;
        }
        if (v > 1e9) return -1;
    }
    if (!any) return -1;
    return static_cast<int64_t>(v * mult + 0.5);
}

// "Please retry in 40.5s." / "retry in 2.1s" in the message text.
int64_t retry_from_message(string_view msg) {
    size_t p = msg.find("retry in ");
    if (p == string_view::npos) return -1;
    p += 9;
    size_t e = p;
    while (e < msg.size() && ((msg[e] >= '0' && msg[e] <= '9') || msg[e] == '.')) ++e;
    if (e == p || e >= msg.size()) return -1;
    size_t u = e;
    while (u < msg.size() && (msg[u] == 'm' || msg[u] == 's')) ++u;
    return parse_duration_ms(msg.substr(p, u - p));
}

}  // namespace

namespace gemini_internal {

// Reads a google.rpc.Status (`{"code","message","status","details"}`).
GoogleError read_google_error(const json_t* e) {
    GoogleError g;
    if (json_is_string(e)) {
        g.message = json_string_view(e);
        return g;
    }
    if (!json_is_object(e)) return g;
    if (json_is_integer(json_object_get(e, "code"))) g.code = static_cast<int>(json_integer_value(json_object_get(e, "code")));
    g.message = json_string_view(e, "message");
    g.status = json_string_view(e, "status");
    const json_t* details = json_object_get(e, "details");
    size_t i;
    json_t* d;
    json_array_foreach(details, i, d) {
        string_view type = json_string_view(d, "@type");
        if (type.ends_with("google.rpc.RetryInfo")) {
            g.retry_ms = parse_duration_ms(json_string_view(d, "retryDelay"));
        } else if (type.ends_with("google.rpc.ErrorInfo")) {
            g.reason = json_string_view(d, "reason");
        } else if (type.ends_with("google.rpc.QuotaFailure")) {
            size_t k;
            json_t* v;
            json_array_foreach(json_object_get(d, "violations"), k, v) {
                string_view id = json_string_view(v, "quotaId");
                string_view metric = json_string_view(v, "quotaMetric");
                if (id.find("PerDay") != string_view::npos || metric.find("per_day") != string_view::npos) g.per_day = true;
                if (json_string_view(v, "quotaValue") == "0") g.zero_limit = true;
            }
        }
    }
    if (g.retry_ms < 0) g.retry_ms = retry_from_message(g.message);
    return g;
}

const json_t* find_error(const json_t* root) {
    if (json_is_array(root) && json_array_size(root) > 0) root = json_array_get(root, 0);
    if (!json_is_object(root)) return nullptr;
    const json_t* e = json_object_get(root, "error");
    return !json_present(e) ? nullptr : e;
}

constexpr size_t kMaxPlainTextError = 512;  // bytes of a plain-text error body kept as message

constexpr int64_t kLongParkMs = 60LL * 60 * 1000;  // broken key / exhausted daily quota: 1 hour

ErrorVerdict verdict(int http, const GoogleError& g) {
    ErrorVerdict v;
    string st = g.status;
    int code = (http >= 400) ? http : (g.code >= 400 ? g.code : 500);
    if (st.empty()) {
        switch (code) {
        case 400: st = "INVALID_ARGUMENT"; break;
        case 401: st = "UNAUTHENTICATED"; break;
        case 403: st = "PERMISSION_DENIED"; break;
        case 404: st = "NOT_FOUND"; break;
        case 409: st = "ABORTED"; break;
        case 429: st = "RESOURCE_EXHAUSTED"; break;
        case 499: st = "CANCELLED"; break;
        case 503: st = "UNAVAILABLE"; break;
        case 504: st = "DEADLINE_EXCEEDED"; break;
        default: st = code >= 500 ? "INTERNAL" : "";
        }
    }
    string msg = mask_google_api_keys(g.message);
    if (msg.empty()) msg = "Gemini request failed with HTTP status " + std::to_string(code) + (st.empty() ? "" : " (" + st + ")");
    v.error.message = msg;
    v.error.status = code;
    v.error.code = to_ascii_lower(st);
    v.park_ms = g.retry_ms;

    const bool bad_key = g.reason == "API_KEY_INVALID" || g.reason == "API_KEY_EXPIRED" ||
                         contains_ignoring_case(g.message, "API key not valid") || contains_ignoring_case(g.message, "API key expired") ||
                         contains_ignoring_case(g.message, "unregistered callers");
    if (st == "RESOURCE_EXHAUSTED" || code == 429) {
        v.error.status = 429;
        v.park_key = true;
        if (g.per_day || g.zero_limit) {
            // a per-day quota (or a tier without access to the model): not a "slow down"
            v.retry = false;
            if (v.park_ms < 0) v.park_ms = kLongParkMs;
            v.error.type = "insufficient_quota";
            v.error.code = "insufficient_quota";
        } else {
            v.retry = true;
            v.error.type = "rate_limit_error";
            v.error.code = "rate_limit_exceeded";
        }
    } else if (st == "UNAVAILABLE" || code == 503) {
        v.retry = v.park_key = true;
        v.error.status = 503;
        v.error.type = "server_error";
        v.error.code = "overloaded";
    } else if (st == "DEADLINE_EXCEEDED" || code == 504) {
        v.retry = v.park_key = true;
        v.error.status = 504;
        v.error.type = string(openai_error_type_for_status(504));
    } else if (st == "CANCELLED" || code == 499) {
        v.retry = true;
        v.error.status = 500;
        v.error.type = "server_error";
    } else if (st == "INTERNAL" || st == "UNKNOWN" || st == "DATA_LOSS" || code >= 500) {
        v.retry = v.park_key = true;
        v.error.status = code >= 500 ? code : 500;
        v.error.type = "server_error";
    } else if (bad_key || st == "UNAUTHENTICATED" || code == 401) {
        // a broken or revoked key (Gemini says so with a 400 API_KEY_INVALID too): it fails every
        // request until someone fixes it, and another key can serve this one (gateway policy for
        // provider 401/403)
        v.retry = v.park_key = true;
        v.park_ms = kLongParkMs;
        v.error.status = (code == 403) ? 403 : 401;
        v.error.type = "authentication_error";
        v.error.code = "invalid_api_key";
    } else if (st == "PERMISSION_DENIED" || code == 403) {
        v.retry = v.park_key = true;
        v.park_ms = kLongParkMs;
        v.error.status = 403;
        v.error.type = "permission_error";
    } else if (st == "NOT_FOUND" || code == 404) {
        v.error.status = 404;
        v.error.type = "not_found_error";
        if (contains_ignoring_case(g.message, "model")) v.error.code = "model_not_found";
    } else if (st == "FAILED_PRECONDITION") {
        // billing not enabled / free tier not available in the region: a property of the key
        v.error.status = 400;
        v.error.type = "invalid_request_error";
        if (contains_ignoring_case(g.message, "billing") || contains_ignoring_case(g.message, "location") || contains_ignoring_case(g.message, "country"))
            v.park_key = true;
    } else if (st == "ABORTED" || code == 409 || code == 408) {
        v.retry = v.park_key = true;
        v.error.status = code == 408 ? 408 : 409;
        v.error.type = string(openai_error_type_for_status(v.error.status));
    } else {
        // INVALID_ARGUMENT, OUT_OF_RANGE and other 4xx: the request itself is at fault
        v.error.status = code >= 400 && code < 500 ? code : 400;
        v.error.type = string(openai_error_type_for_status(v.error.status));
        if (says_context_length_exceeded(g.message)) v.error.code = std::string(kContextLengthCode);
    }
    if (!v.park_key) v.park_ms = -1;
    return v;
}

}  // namespace gemini_internal

ErrorVerdict gemini_classify_error(int status, std::string_view body) { return gemini_classify_error(status, body, {}); }

ErrorVerdict gemini_classify_error(int status, std::string_view body, std::span<const std::string_view> secrets) {
    GoogleError g;
    string_view b = trim(body);
    if (b.starts_with("data:")) {  // an SSE event carrying the error
        b.remove_prefix(5);
        size_t end = b.find("\n\n");
        size_t end2 = b.find("\r\n\r\n");
        b = trim(b.substr(0, std::min(end, end2)));
    }
    JsonPtr root = b.empty() ? nullptr : json_parse(b, nullptr);
    if (const json_t* e = root ? find_error(root.get()) : nullptr) {
        g = read_google_error(e);
        g.message = redact_secrets(g.message, secrets);
    } else if (!b.empty() && b.front() != '<' && b.front() != '{' && b.front() != '[') {
        // plain-text error from a proxy in front of Google: redacted BEFORE the cut, so a key
        // across the cut cannot leave its first characters behind; the cut keeps whole characters
        g.message = string(utf8_prefix(redact_secrets(b, secrets), kMaxPlainTextError));
    }
    return verdict(status, g);
}

}  // namespace routeshift
