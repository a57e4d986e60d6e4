// Internal to the Gemini adapter: JSON helpers, the "cannot express this request" exception, the
// tool-call id / thoughtSignature convention and the error reading that more than one of its files
// (request builder, schema conversion, response translator, errors) needs.
#pragma once
#include "egress/provider_adapter.hpp"

#include "egress/cannot_express.hpp"

#include "util/ascii_text.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <jansson.h>

#include <cstdint>
#include <new>
#include <string>
#include <string_view>

namespace routeshift::gemini_internal {

using std::string;
using std::string_view;

// ---- small helpers -----------------------------------------------------------------------------

// A request the Gemini API cannot express (or a malformed field): the shared CannotExpress (400
// invalid_request_error with param).
[[noreturn]] inline void invalid(string message, string param) { cannot_express(std::move(param), std::move(message)); }

// A new JSON string; text that is not valid UTF-8 is the client's error (400), not an allocation failure.
inline json_t* json_string_or_invalid(string_view s) {
    json_t* v = json_stringn(s.data(), s.size());
    if (!v) invalid("a string is not valid UTF-8", "");
    return v;
}
inline json_t* copy(const json_t* v) { return require_allocated(json_deep_copy(v)); }

inline string element_param(string_view base, size_t i) { return string(base) + "[" + std::to_string(i) + "]"; }

// Calls `visit(element, param)` for each element of `array`, each of which must be an object
// (else 400 `not_object` naming `<base>[i]`).
template <class Visit>
void for_each_object(const json_t* array, string_view base, const char* not_object, Visit&& visit) {
    size_t i;
    json_t* element;
    json_array_foreach(array, i, element) {
        string param = element_param(base, i);
        if (!json_is_object(element)) invalid(not_object, param);
        visit(static_cast<const json_t*>(element), param);
    }
}

// Appends every element of `elements` to `array` (shared, not copied).
inline void append_all(json_t* array, const json_t* elements) {
    size_t i;
    json_t* element;
    json_array_foreach(elements, i, element) append_json_element(array, json_incref(element));
}

// Separator between a tool-call id and the Gemini thoughtSignature carried inside it:
// `<base>__thought__<signature>`. The signature is base64 (no "_"), so splitting at the first
// occurrence is unambiguous as long as the base has none, which holds for ids we emit.
inline constexpr string_view kThoughtSep = "__thought__";
// Documented placeholder signature for function calls the model did not produce itself (history
// from another provider, hand-built transcripts); Gemini 3 answers 400 when the first functionCall
// of a step has no signature at all.
inline constexpr string_view kSkipSignature = "skip_thought_signature_validator";

// Major version of a model id such as "gemini-3-pro-preview", "models/gemini-2.5-flash"; 0 when the
// id names no version ("gemini-flash-latest", tuned models, gemma).
inline int gemini_generation(string_view model) {
    size_t p = model.find("gemini-");
    if (p == string_view::npos) return 0;
    p += 7;
    int n = 0;
    bool any = false;
    while (p < model.size() && model[p] >= '0' && model[p] <= '9' && n < 1000) {
        n = n * 10 + (model[p] - '0');
        any = true;
        ++p;
    }
    return any ? n : 0;
}

// ---- JSON Schema -> Gemini Schema (gemini_schema.cpp) ------------------------------------------

json_t* convert_schema(const json_t* s, const json_t* root, int depth, const string& param);
// True for {"type":"object"} with no (or empty) properties: Gemini rejects an OBJECT parameter
// schema without properties, and a function without parameters is what it means.
bool is_empty_object_schema(const json_t* s);

// ---- errors (gemini_errors.cpp) ----------------------------------------------------------------

struct GoogleError {
    int code = 0;
    string message;
    string status;  // RESOURCE_EXHAUSTED, ...
    int64_t retry_ms = -1;
    string reason;  // ErrorInfo.reason (API_KEY_INVALID, ...)
    bool per_day = false;   // a QuotaFailure violation on a per-day quota
    bool zero_limit = false;  // a quota whose limit is 0 (tier without access)
};

// Reads a google.rpc.Status (`{"code","message","status","details"}`).
GoogleError read_google_error(const json_t* e);

// The error object of a Gemini error body: {"error":{...}}, [{"error":{...}}], or an SSE event
// carrying one. Returns null when the body holds none.
const json_t* find_error(const json_t* root);
ErrorVerdict verdict(int http, const GoogleError& g);

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline string_view trim(string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace routeshift::gemini_internal
