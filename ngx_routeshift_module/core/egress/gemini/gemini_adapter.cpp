// Google Gemini API adapter: generateContent / streamGenerateContent?alt=sse (providers.md §4).
//
// Request: OpenAI chat body -> GenerateContentRequest (contents/systemInstruction/tools/toolConfig/
// generationConfig). Response: GenerateContentResponse JSON or SSE events -> chat.completion /
// chat.completion.chunk, one upstream event at a time. Errors: google.rpc.Status bodies ->
// ErrorVerdict. See the comments at each step for the decisions taken where the reference leaves a
// choice; the summary is in provider_adapter.hpp (Gemini section).
#include "egress/provider_adapter.hpp"

#include "util/json_util.hpp"
#include "util/sse_parser.hpp"

#include <jansson.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace routeshift {

namespace {

using std::string;
using std::string_view;

// ---- the request DOM ---------------------------------------------------------------------------

// ChatRequest exposes its jansson DOM as dom() (lazily parsed); older trees had `root`.
template <class R>
const json_t* request_json_of(const R& r) {
    if constexpr (requires { r.dom(); }) return r.dom();
    else return r.root.get();
}
const json_t* request_json(const ChatRequest& r) { return request_json_of(r); }

// ---- small helpers -----------------------------------------------------------------------------

// A request the Gemini API cannot express (or a malformed field): 400 invalid_request_error.
struct Invalid {
    string message;
    string param;
};

[[noreturn]] void invalid(string message, string param) { throw Invalid{std::move(message), std::move(param)}; }

json_t* must(json_t* v) {
    if (!v) throw std::bad_alloc();
    return v;
}
void set(json_t* obj, const char* key, json_t* v) {
    if (!v || json_object_set_new(obj, key, v) != 0) throw std::bad_alloc();
}
void push(json_t* arr, json_t* v) {
    if (!v || json_array_append_new(arr, v) != 0) throw std::bad_alloc();
}
json_t* jstr(string_view s) {
    json_t* v = json_stringn(s.data(), s.size());
    if (!v) invalid("a string is not valid UTF-8", "");
    return v;
}
json_t* copy(const json_t* v) { return must(json_deep_copy(v)); }

string_view sv(const json_t* s) {
    if (!json_is_string(s)) return {};
    return string_view(json_string_value(s), json_string_length(s));
}
bool is_absent(const json_t* v) { return !v || json_is_null(v); }

bool starts_with(string_view s, string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }
bool ends_with(string_view s, string_view p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
string to_lower(string_view s) {
    string o(s);
    for (char& c : o) c = lower(c);
    return o;
}
bool icontains(string_view hay, string_view needle) {
    if (needle.empty()) return true;
    if (hay.size() < needle.size()) return false;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        size_t k = 0;
        while (k < needle.size() && lower(hay[i + k]) == lower(needle[k])) ++k;
        if (k == needle.size()) return true;
    }
    return false;
}

string idx_param(string_view base, size_t i) { return string(base) + "[" + std::to_string(i) + "]"; }

// Separator between a tool-call id and the Gemini thoughtSignature carried inside it (§2.4):
// `<base>__thought__<signature>`. The signature is base64 (no "_"), so splitting at the first
// occurrence is unambiguous as long as the base has none, which holds for ids we emit.
constexpr string_view kThoughtSep = "__thought__";
// Documented placeholder signature for function calls the model did not produce itself (history
// from another provider, hand-built transcripts); Gemini 3 answers 400 when the first functionCall
// of a step has no signature at all.
constexpr string_view kSkipSignature = "skip_thought_signature_validator";

// Major version of a model id such as "gemini-3-pro-preview", "models/gemini-2.5-flash"; 0 when the
// id names no version ("gemini-flash-latest", tuned models, gemma).
int gemini_generation(string_view model) {
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

// ---- JSON Schema -> Gemini Schema (OpenAPI 3.0 subset) ----------------------------------------
//
// The legacy `parameters` / `responseSchema` fields accept only an OpenAPI subset: keep the keywords
// Gemini documents (type, format, title, description, nullable, enum, properties, required, items,
// anyOf, min/max*, pattern, default, example, propertyOrdering), inline $ref, turn type arrays and
// {"type":"null"} alternatives into `nullable`, oneOf into anyOf, const into a one-value enum, and
// drop the rest ($schema, additionalProperties, strict, $id, $defs, examples, exclusiveMinimum,
// multipleOf, uniqueItems, patternProperties, not, if/then/else, ...). Key metadata
// {"json_schema": true} sends the schema verbatim as parametersJsonSchema / responseJsonSchema.

constexpr int kMaxSchemaDepth = 48;

const json_t* resolve_ref(const json_t* root, string_view ref, const string& param) {
    if (!starts_with(ref, "#/")) invalid("only local $ref (\"#/...\") can be sent to Gemini", param);
    const json_t* cur = root;
    string_view path = ref.substr(2);
    while (!path.empty()) {
        size_t slash = path.find('/');
        string_view tok = path.substr(0, slash);
        path = slash == string_view::npos ? string_view() : path.substr(slash + 1);
        string key;  // JSON Pointer unescaping: ~1 -> '/', ~0 -> '~'
        for (size_t i = 0; i < tok.size(); ++i) {
            if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
                key += tok[i + 1] == '1' ? '/' : '~';
                ++i;
            } else {
                key += tok[i];
            }
        }
        cur = json_is_object(cur) ? json_object_getn(cur, key.data(), key.size()) : nullptr;
        if (!cur) invalid("$ref \"" + string(ref) + "\" does not resolve", param);
    }
    return cur;
}

bool is_null_type_schema(const json_t* s) {
    return json_is_object(s) && sv(json_object_get(s, "type")) == "null";
}

void append_description(json_t* out, string_view extra) {
    string d(sv(json_object_get(out, "description")));
    if (!d.empty()) d += ' ';
    d += extra;
    set(out, "description", jstr(d));
}

json_t* convert_schema(const json_t* s, const json_t* root, int depth, const string& param);

// Copies the members of `from` into `into` unless `into` already has them (used for $ref siblings
// and allOf members).
void merge_schema(json_t* into, const json_t* from) {
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(from), k, v) {
        if (!strcmp(k, "properties") && json_is_object(json_object_get(into, "properties"))) {
            json_t* props = json_object_get(into, "properties");
            const char* pk;
            json_t* pv;
            json_object_foreach(v, pk, pv) {
                if (!json_object_get(props, pk)) set(props, pk, copy(pv));
            }
        } else if (!strcmp(k, "required") && json_is_array(json_object_get(into, "required"))) {
            json_t* req = json_object_get(into, "required");
            size_t i;
            json_t* r;
            json_array_foreach(v, i, r) push(req, copy(r));
        } else if (!json_object_get(into, k)) {
            set(into, k, copy(v));
        }
    }
}

json_t* convert_schema(const json_t* s, const json_t* root, int depth, const string& param) {
    if (depth > kMaxSchemaDepth) invalid("schema is nested too deeply (or has a recursive $ref)", param);
    JsonPtr out(must(json_object()));
    if (!json_is_object(s)) return out.release();  // `true` / `{}`: any value

    // $ref: the target, with the sibling keywords (description, ...) taking precedence.
    if (const json_t* ref = json_object_get(s, "$ref"); json_is_string(ref)) {
        const json_t* target = resolve_ref(root, sv(ref), param);
        JsonPtr base(convert_schema(target, root, depth + 1, param));
        JsonPtr rest(must(json_object()));
        const char* k;
        json_t* v;
        json_object_foreach(const_cast<json_t*>(s), k, v) {
            if (strcmp(k, "$ref") != 0) set(rest.get(), k, copy(v));
        }
        JsonPtr conv_rest(convert_schema(rest.get(), root, depth + 1, param));
        merge_schema(conv_rest.get(), base.get());
        return conv_rest.release();
    }

    bool nullable = false;
    // type: "x" | ["x","null"] | ["a","b"]
    const json_t* type = json_object_get(s, "type");
    string type_name;
    if (json_is_string(type)) {
        type_name = sv(type);
        if (type_name == "null") nullable = true;
    } else if (json_is_array(type)) {
        std::vector<string> types;
        size_t i;
        json_t* t;
        json_array_foreach(type, i, t) {
            if (sv(t) == "null") nullable = true;
            else if (json_is_string(t)) types.emplace_back(sv(t));
        }
        if (types.size() == 1) {
            type_name = types[0];
        } else if (types.size() > 1) {
            json_t* any = must(json_array());
            set(out.get(), "anyOf", any);
            for (const auto& tn : types) {
                json_t* alt = must(json_object());
                push(any, alt);
                set(alt, "type", jstr(tn));
            }
        }
    }
    if (!type_name.empty() && type_name != "null") set(out.get(), "type", jstr(type_name));

    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(s), k, v) {
        string_view key(k);
        if (key == "title" || key == "description" || key == "pattern") {
            if (json_is_string(v)) set(out.get(), k, copy(v));
        } else if (key == "default" || key == "example") {
            set(out.get(), k, copy(v));
        } else if (key == "nullable") {
            if (json_is_true(v)) nullable = true;
        } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
                   key == "minProperties" || key == "maxProperties" || key == "minimum" || key == "maximum") {
            if (json_is_number(v)) set(out.get(), k, copy(v));
        } else if (key == "format") {
            string_view f = sv(v);
            bool ok = (type_name == "string" && (f == "enum" || f == "date-time")) ||
                      (type_name == "integer" && (f == "int32" || f == "int64")) ||
                      (type_name == "number" && (f == "float" || f == "double"));
            if (ok) set(out.get(), k, copy(v));
        } else if (key == "properties") {
            if (!json_is_object(v)) continue;
            json_t* props = must(json_object());
            set(out.get(), "properties", props);
            const char* pk;
            json_t* pv;
            json_object_foreach(v, pk, pv) {
                set(props, pk, convert_schema(pv, root, depth + 1, param));
            }
        } else if (key == "items") {
            if (json_is_object(v)) set(out.get(), "items", convert_schema(v, root, depth + 1, param));
            else if (json_is_array(v) && json_array_size(v) > 0)  // tuple form: first item type
                set(out.get(), "items", convert_schema(json_array_get(v, 0), root, depth + 1, param));
        } else if (key == "anyOf" || key == "oneOf") {
            if (!json_is_array(v)) continue;
            std::vector<const json_t*> alts;
            size_t i;
            json_t* a;
            json_array_foreach(v, i, a) {
                if (is_null_type_schema(a)) nullable = true;
                else alts.push_back(a);
            }
            if (alts.size() == 1) {
                JsonPtr one(convert_schema(alts[0], root, depth + 1, param));
                merge_schema(out.get(), one.get());
            } else if (!alts.empty()) {
                json_t* any = must(json_array());
                set(out.get(), "anyOf", any);
                for (const json_t* alt : alts) push(any, convert_schema(alt, root, depth + 1, param));
            }
        } else if (key == "allOf") {
            if (!json_is_array(v)) continue;
            size_t i;
            json_t* a;
            json_array_foreach(v, i, a) {
                JsonPtr one(convert_schema(a, root, depth + 1, param));
                merge_schema(out.get(), one.get());
            }
        } else if (key == "const") {
            if (json_is_string(v)) {
                json_t* e = must(json_array());
                set(out.get(), "enum", e);
                push(e, copy(v));
                if (!json_object_get(out.get(), "type")) set(out.get(), "type", jstr("string"));
            } else {
                append_description(out.get(), "Must be " + json_dump_compact(v) + ".");
            }
        } else if (key == "propertyOrdering") {
            if (json_is_array(v)) set(out.get(), k, copy(v));
        }
        // everything else is dropped (see the comment above)
    }

    // enum: Gemini only has string enums. Other values are described instead of silently lost.
    if (const json_t* en = json_object_get(s, "enum"); json_is_array(en)) {
        bool all_strings = true;
        size_t i;
        json_t* e;
        json_array_foreach(en, i, e) {
            if (!json_is_string(e) && !json_is_null(e)) all_strings = false;
            if (json_is_null(e)) nullable = true;
        }
        if (all_strings) {
            json_t* arr = must(json_array());
            set(out.get(), "enum", arr);
            json_array_foreach(en, i, e) {
                if (json_is_string(e)) push(arr, copy(e));
            }
            if (!json_object_get(out.get(), "type")) set(out.get(), "type", jstr("string"));
        } else {
            append_description(out.get(), "Allowed values: " + json_dump_compact(en) + ".");
        }
    }

    // required: only names that exist in properties (Gemini rejects dangling ones)
    if (const json_t* req = json_object_get(s, "required"); json_is_array(req)) {
        const json_t* props = json_object_get(out.get(), "properties");
        JsonPtr arr(must(json_array()));
        size_t i;
        json_t* r;
        json_array_foreach(req, i, r) {
            if (json_is_string(r) && json_is_object(props) && json_object_getn(props, json_string_value(r), json_string_length(r)))
                push(arr.get(), copy(r));
        }
        if (json_array_size(arr.get()) > 0) set(out.get(), "required", arr.release());
    }
    if (nullable) set(out.get(), "nullable", json_true());
    return out.release();
}

// True for {"type":"object"} with no (or empty) properties: Gemini rejects an OBJECT parameter
// schema without properties, and a function without parameters is what it means.
bool is_empty_object_schema(const json_t* s) {
    if (!json_is_object(s)) return true;
    string_view t = sv(json_object_get(s, "type"));
    if (!t.empty() && t != "object") return false;
    const json_t* props = json_object_get(s, "properties");
    if (json_is_object(props) && json_object_size(props) > 0) return false;
    for (const char* k : {"anyOf", "oneOf", "allOf", "$ref", "enum", "items"}) {
        if (json_object_get(s, k)) return false;
    }
    return true;
}

// ---- content parts -----------------------------------------------------------------------------

// Extension -> MIME type for URLs given as image_url / file ids (query and fragment ignored).
string_view mime_from_path(string_view url) {
    size_t cut = url.find_first_of("?#");
    if (cut != string_view::npos) url = url.substr(0, cut);
    size_t slash = url.rfind('/');
    if (slash != string_view::npos) url = url.substr(slash + 1);
    size_t dot = url.rfind('.');
    if (dot == string_view::npos) return {};
    string ext = to_lower(url.substr(dot + 1));
    static const std::pair<const char*, const char*> table[] = {
        {"png", "image/png"},   {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"},  {"gif", "image/gif"},
        {"webp", "image/webp"}, {"heic", "image/heic"},      {"heif", "image/heif"},  {"pdf", "application/pdf"},
        {"txt", "text/plain"},  {"md", "text/md"},           {"html", "text/html"},   {"csv", "text/csv"},
        {"xml", "text/xml"},    {"json", "application/json"}, {"wav", "audio/wav"},    {"mp3", "audio/mp3"},
        {"aac", "audio/aac"},   {"ogg", "audio/ogg"},         {"flac", "audio/flac"},  {"aiff", "audio/aiff"},
        {"mp4", "video/mp4"},   {"mpeg", "video/mpeg"},       {"mov", "video/mov"},    {"webm", "video/webm"},
        {"avi", "video/avi"},   {"wmv", "video/wmv"},         {"3gp", "video/3gpp"},   {"flv", "video/x-flv"},
    };
    for (const auto& [e, m] : table) {
        if (ext == e) return m;
    }
    return {};
}

json_t* inline_part(string_view mime, string_view data) {
    JsonPtr part(must(json_object()));
    json_t* inl = must(json_object());
    set(part.get(), "inlineData", inl);
    set(inl, "mimeType", jstr(mime));
    set(inl, "data", jstr(data));
    return part.release();
}

// "data:<mime>[;param...];base64,<data>" -> inlineData. Non-base64 data URLs are refused.
json_t* inline_data_from_data_url(string_view url, const string& param) {
    size_t comma = url.find(',');
    if (comma == string_view::npos) invalid("malformed data: URL", param);
    string_view meta = url.substr(5, comma - 5);
    string_view data = url.substr(comma + 1);
    if (!ends_with(to_lower(meta), ";base64")) invalid("only base64 data: URLs are supported", param);
    string_view mime = meta.substr(0, meta.find(';'));
    if (mime.empty()) mime = "text/plain";
    if (data.empty()) invalid("empty data: URL", param);
    return inline_part(to_lower(mime), data);
}

// A URL (https/http/gs, a Files API name) -> fileData with a MIME type guessed from the extension
// (`fallback_mime` when none is known; fileData.mimeType is optional, so "" omits it).
json_t* file_data_from_url(string_view url, string_view fallback_mime) {
    JsonPtr part(must(json_object()));
    json_t* fd = must(json_object());
    set(part.get(), "fileData", fd);
    string_view mime = mime_from_path(url);
    if (mime.empty()) mime = fallback_mime;
    if (!mime.empty()) set(fd, "mimeType", jstr(mime));
    set(fd, "fileUri", jstr(url));
    return part.release();
}

bool is_fetchable_uri(string_view u) {
    string l = to_lower(u.substr(0, std::min<size_t>(u.size(), 8)));
    return starts_with(l, "https://") || starts_with(l, "http://") || starts_with(l, "gs://");
}

json_t* image_part(const json_t* image_url, const string& param) {
    const json_t* u = json_is_object(image_url) ? json_object_get(image_url, "url") : image_url;
    string_view url = sv(u);
    if (url.empty()) invalid("image_url.url must be a non-empty string", param + ".image_url.url");
    if (starts_with(to_lower(url.substr(0, 5)), "data:")) return inline_data_from_data_url(url, param + ".image_url.url");
    if (is_fetchable_uri(url)) return file_data_from_url(url, "image/jpeg");
    invalid("image_url.url must be an https URL or a base64 data: URL", param + ".image_url.url");
}

json_t* audio_part(const json_t* audio, const string& param) {
    string_view data = sv(json_object_get(audio, "data"));
    string format = to_lower(sv(json_object_get(audio, "format")));
    if (data.empty() || format.empty()) invalid("input_audio needs data and format", param + ".input_audio");
    return inline_part("audio/" + format, data);
}

json_t* file_part(const json_t* file, const string& param) {
    if (!json_is_object(file)) invalid("file must be an object", param + ".file");
    string_view fdata = sv(json_object_get(file, "file_data"));
    string_view fname = sv(json_object_get(file, "filename"));
    string_view fid = sv(json_object_get(file, "file_id"));
    if (!fdata.empty()) {
        if (starts_with(to_lower(fdata.substr(0, 5)), "data:")) return inline_data_from_data_url(fdata, param + ".file.file_data");
        string_view mime = mime_from_path(fname);
        if (mime.empty()) invalid("file.file_data without a data: URL needs a filename with a known extension", param + ".file.filename");
        return inline_part(mime, fdata);
    }
    if (!fid.empty()) {
        // Gemini Files API references ("files/abc" or its full URI) and fetchable URLs only:
        // an OpenAI file id means nothing to Gemini.
        if (starts_with(fid, "files/") || is_fetchable_uri(fid))
            return file_data_from_url(fid, mime_from_path(fname));
        invalid("file.file_id must be a Gemini Files API name (files/...) or URI", param + ".file.file_id");
    }
    invalid("file needs file_data or file_id", param + ".file");
}

json_t* text_part(string_view text) {
    JsonPtr part(must(json_object()));
    set(part.get(), "text", jstr(text));
    return part.release();
}

// Appends the parts of an OpenAI message `content` (string or array of parts). `text_only`: system
// and assistant content (text / refusal parts only).
void content_parts(const json_t* content, const string& param, bool text_only, json_t* parts) {
    if (is_absent(content)) return;
    if (json_is_string(content)) {
        if (json_string_length(content) > 0) push(parts, text_part(sv(content)));
        return;
    }
    if (!json_is_array(content)) invalid("content must be a string or an array of parts", param);
    size_t i;
    json_t* p;
    json_array_foreach(content, i, p) {
        string pp = idx_param(param, i);
        if (!json_is_object(p)) invalid("content parts must be objects", pp);
        string_view type = sv(json_object_get(p, "type"));
        if (type == "text" || (text_only && type == "refusal")) {
            const json_t* t = json_object_get(p, type == "text" ? "text" : "refusal");
            if (!json_is_string(t)) invalid("text part without a string text", pp + ".text");
            if (json_string_length(t) > 0) push(parts, text_part(sv(t)));
        } else if (text_only) {
            invalid("only text content is supported here", pp + ".type");
        } else if (type == "image_url") {
            push(parts, image_part(json_object_get(p, "image_url"), pp));
        } else if (type == "input_audio") {
            push(parts, audio_part(json_object_get(p, "input_audio"), pp));
        } else if (type == "file") {
            push(parts, file_part(json_object_get(p, "file"), pp));
        } else {
            invalid("unsupported content part type \"" + string(type) + "\" for Gemini", pp + ".type");
        }
    }
}

// Tool message content -> the functionResponse `response` object {"result": <value>}: the content
// parsed as JSON when it is JSON (so {"temp_c":3} reaches the model as structure), else the text.
// Non-text parts of an array content are appended to `extra` (sent as ordinary parts next to it).
json_t* tool_response(const json_t* content, const string& param, json_t* extra) {
    string text;
    if (json_is_string(content)) {
        text.assign(sv(content));
    } else if (json_is_array(content)) {
        size_t i;
        json_t* p;
        json_array_foreach(content, i, p) {
            string pp = idx_param(param, i);
            string_view type = sv(json_object_get(p, "type"));
            if (type == "text") {
                text.append(sv(json_object_get(p, "text")));
            } else if (type == "image_url") {
                push(extra, image_part(json_object_get(p, "image_url"), pp));
            } else if (type == "file") {
                push(extra, file_part(json_object_get(p, "file"), pp));
            } else {
                invalid("unsupported content part type in a tool message", pp + ".type");
            }
        }
    } else if (!is_absent(content)) {
        invalid("tool message content must be a string or an array of parts", param);
    }
    JsonPtr resp(must(json_object()));
    JsonPtr parsed;
    if (!text.empty()) parsed = json_parse(text, nullptr);
    set(resp.get(), "result", parsed ? parsed.release() : jstr(text));
    return resp.release();
}

// ---- the request builder -----------------------------------------------------------------------

struct Options {
    bool json_schema = false;      // key metadata "json_schema": true
    bool include_thoughts = false; // key metadata "include_thoughts": true
    const json_t* safety = nullptr;
};

class BodyBuilder {
public:
    BodyBuilder(const json_t* root, string_view model, const Options& o)
        : root_(root), model_(model), gen_(gemini_generation(model)), opt_(o) {}

    JsonPtr build();

private:
    json_t* turn(bool model_role) {
        if (turns_.empty() || turns_.back().model != model_role) {
            turns_.push_back(Turn{model_role, JsonPtr(must(json_array()))});
        }
        return turns_.back().parts.get();
    }
    void messages();
    void assistant(const json_t* m, const string& param);
    void tool_result(string_view name, const json_t* content, const string& param);
    json_t* tools(const std::vector<string>* only);
    json_t* function_declaration(const json_t* fn, const string& param);
    json_t* tool_config(const json_t* tool_choice, std::vector<string>* filter);
    json_t* generation_config();
    json_t* schema(const json_t* s, const string& param) {
        return convert_schema(s, s, 0, param);
    }

    struct Turn {
        bool model;
        JsonPtr parts;
    };

    const json_t* root_;
    string_view model_;
    int gen_;
    Options opt_;
    JsonPtr system_{must(json_array())};
    std::vector<Turn> turns_;
    std::unordered_map<string, string> call_names_;  // tool_call id -> function name
};

void BodyBuilder::tool_result(string_view name, const json_t* content, const string& param) {
    JsonPtr extra(must(json_array()));
    json_t* part = must(json_object());
    json_t* parts = turn(false);
    push(parts, part);
    json_t* fr = must(json_object());
    set(part, "functionResponse", fr);
    set(fr, "name", jstr(name));
    set(fr, "response", tool_response(content, param, extra.get()));
    size_t i;
    json_t* e;
    json_array_foreach(extra.get(), i, e) push(parts, json_incref(e));
}

void BodyBuilder::assistant(const json_t* m, const string& param) {
    JsonPtr parts(must(json_array()));
    content_parts(json_object_get(m, "content"), param + ".content", true, parts.get());
    bool first_call = true;
    auto add_call = [&](string_view id, const json_t* fn, const string& fparam) {
        if (!json_is_object(fn)) invalid("tool call without a function object", fparam);
        const json_t* name = json_object_get(fn, "name");
        if (!json_is_string(name) || json_string_length(name) == 0) invalid("tool call without a function name", fparam + ".name");
        const json_t* args = json_object_get(fn, "arguments");
        JsonPtr parsed;
        if (json_is_string(args) && json_string_length(args) > 0) {
            parsed = json_parse(sv(args), nullptr);
            if (!parsed || !json_is_object(parsed.get()))
                invalid("function arguments must be a JSON object", fparam + ".arguments");
        } else if (json_is_object(args)) {
            parsed.reset(copy(args));
        } else if (!is_absent(args) && !json_is_string(args)) {
            invalid("function arguments must be a JSON string", fparam + ".arguments");
        }
        json_t* part = must(json_object());
        push(parts.get(), part);
        json_t* fc = must(json_object());
        set(part, "functionCall", fc);
        set(fc, "name", copy(name));
        set(fc, "args", parsed ? parsed.release() : must(json_object()));
        size_t sep = id.find(kThoughtSep);
        if (sep != string_view::npos && sep + kThoughtSep.size() < id.size()) {
            set(part, "thoughtSignature", jstr(id.substr(sep + kThoughtSep.size())));
        } else if (first_call && gen_ >= 3) {
            set(part, "thoughtSignature", jstr(kSkipSignature));
        }
        first_call = false;
        if (!id.empty()) call_names_[string(id)] = string(sv(name));
    };
    const json_t* calls = json_object_get(m, "tool_calls");
    if (json_is_array(calls)) {
        size_t i;
        json_t* c;
        json_array_foreach(calls, i, c) {
            string cp = idx_param(param + ".tool_calls", i);
            if (!json_is_object(c)) invalid("tool_calls entries must be objects", cp);
            const json_t* id = json_object_get(c, "id");
            if (!json_is_string(id)) invalid("tool call without an id", cp + ".id");
            add_call(sv(id), json_object_get(c, "function"), cp + ".function");
        }
    } else if (!is_absent(calls)) {
        invalid("tool_calls must be an array", param + ".tool_calls");
    }
    if (const json_t* fc = json_object_get(m, "function_call"); json_is_object(fc)) {  // legacy
        add_call("", fc, param + ".function_call");
    }
    if (json_array_size(parts.get()) == 0) return;  // nothing to say (empty assistant turn)
    json_t* dst = turn(true);
    size_t i;
    json_t* p;
    json_array_foreach(parts.get(), i, p) push(dst, json_incref(p));
}

void BodyBuilder::messages() {
    const json_t* msgs = json_object_get(root_, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) invalid("messages must be a non-empty array", "messages");
    size_t i;
    json_t* m;
    json_array_foreach(msgs, i, m) {
        string param = idx_param("messages", i);
        if (!json_is_object(m)) invalid("messages must be objects", param);
        string_view role = sv(json_object_get(m, "role"));
        const json_t* content = json_object_get(m, "content");
        if (role == "system" || role == "developer") {
            content_parts(content, param + ".content", true, system_.get());
        } else if (role == "user") {
            if (is_absent(content)) invalid("user message without content", param + ".content");
            JsonPtr parts(must(json_array()));
            content_parts(content, param + ".content", false, parts.get());
            if (json_array_size(parts.get()) == 0) continue;
            json_t* dst = turn(false);
            size_t k;
            json_t* p;
            json_array_foreach(parts.get(), k, p) push(dst, json_incref(p));
        } else if (role == "assistant") {
            assistant(m, param);
        } else if (role == "tool") {
            const json_t* id = json_object_get(m, "tool_call_id");
            if (!json_is_string(id)) invalid("tool message without tool_call_id", param + ".tool_call_id");
            auto it = call_names_.find(string(sv(id)));
            if (it == call_names_.end())
                invalid("tool message answers a tool_call_id that no earlier assistant message called", param + ".tool_call_id");
            tool_result(it->second, content, param + ".content");
        } else if (role == "function") {  // legacy function result
            string_view name = sv(json_object_get(m, "name"));
            if (name.empty()) invalid("function message without name", param + ".name");
            tool_result(name, content, param + ".content");
        } else {
            invalid("unsupported role", param + ".role");
        }
    }
}

json_t* BodyBuilder::function_declaration(const json_t* fn, const string& param) {
    if (!json_is_object(fn)) invalid("tool without a function object", param);
    const json_t* name = json_object_get(fn, "name");
    if (!json_is_string(name) || json_string_length(name) == 0) invalid("function without a name", param + ".name");
    JsonPtr decl(must(json_object()));
    set(decl.get(), "name", copy(name));
    if (const json_t* d = json_object_get(fn, "description"); json_is_string(d)) set(decl.get(), "description", copy(d));
    const json_t* params = json_object_get(fn, "parameters");
    if (!is_absent(params)) {
        if (!json_is_object(params)) invalid("function parameters must be a JSON Schema object", param + ".parameters");
        if (opt_.json_schema) {
            set(decl.get(), "parametersJsonSchema", copy(params));
        } else if (!is_empty_object_schema(params)) {
            set(decl.get(), "parameters", schema(params, param + ".parameters"));
        }
    }
    return decl.release();
}

// tools (and legacy functions) -> [{"functionDeclarations":[...]}]; `only`: keep these names.
json_t* BodyBuilder::tools(const std::vector<string>* only) {
    JsonPtr decls(must(json_array()));
    auto keep = [&](const json_t* decl) {
        if (!only) return true;
        string_view n = sv(json_object_get(decl, "name"));
        return std::find(only->begin(), only->end(), n) != only->end();
    };
    if (const json_t* t = json_object_get(root_, "tools"); json_is_array(t)) {
        size_t i;
        json_t* tool;
        json_array_foreach(t, i, tool) {
            string param = idx_param("tools", i);
            if (!json_is_object(tool)) invalid("tools entries must be objects", param);
            string_view type = sv(json_object_get(tool, "type"));
            if (type != "function") invalid("only function tools can be sent to Gemini", param + ".type");
            JsonPtr d(function_declaration(json_object_get(tool, "function"), param + ".function"));
            if (keep(d.get())) push(decls.get(), d.release());
        }
    } else if (!is_absent(t)) {
        invalid("tools must be an array", "tools");
    }
    if (const json_t* f = json_object_get(root_, "functions"); json_is_array(f)) {  // legacy
        size_t i;
        json_t* fn;
        json_array_foreach(f, i, fn) {
            JsonPtr d(function_declaration(fn, idx_param("functions", i)));
            if (keep(d.get())) push(decls.get(), d.release());
        }
    }
    if (json_array_size(decls.get()) == 0) return nullptr;
    JsonPtr arr(must(json_array()));
    json_t* entry = must(json_object());
    push(arr.get(), entry);
    set(entry, "functionDeclarations", decls.release());
    return arr.release();
}

// tool_choice -> toolConfig.functionCallingConfig. allowed_tools with mode "auto" restricts the
// declarations instead (Gemini accepts allowedFunctionNames only with mode ANY): `filter` is set.
json_t* BodyBuilder::tool_config(const json_t* tc, std::vector<string>* filter) {
    string mode;
    std::vector<string> names;
    string param = "tool_choice";
    if (json_is_string(tc)) {
        string_view s = sv(tc);
        if (s == "auto") mode = "AUTO";
        else if (s == "none") mode = "NONE";
        else if (s == "required" || s == "any") mode = "ANY";
        else invalid("tool_choice must be none, auto, required or a function", param);
    } else if (json_is_object(tc)) {
        string_view type = sv(json_object_get(tc, "type"));
        if (type == "function") {
            string_view n = sv(json_object_get(json_object_get(tc, "function"), "name"));
            if (n.empty()) invalid("tool_choice.function.name is required", param + ".function.name");
            mode = "ANY";
            names.emplace_back(n);
        } else if (type == "allowed_tools") {
            const json_t* at = json_object_get(tc, "allowed_tools");
            string_view m = sv(json_object_get(at, "mode"));
            const json_t* list = json_object_get(at, "tools");
            if (!json_is_array(list)) invalid("allowed_tools.tools must be an array", param + ".allowed_tools.tools");
            size_t i;
            json_t* t;
            json_array_foreach(list, i, t) {
                string_view n = sv(json_object_get(json_object_get(t, "function"), "name"));
                if (n.empty()) n = sv(json_object_get(t, "name"));
                if (n.empty()) invalid("allowed tool without a function name", idx_param(param + ".allowed_tools.tools", i));
                names.emplace_back(n);
            }
            if (m == "required") {
                mode = "ANY";
            } else if (m == "auto" || m.empty()) {
                mode = "AUTO";
                *filter = names;
                names.clear();
            } else {
                invalid("allowed_tools.mode must be auto or required", param + ".allowed_tools.mode");
            }
        } else {
            invalid("unsupported tool_choice type for Gemini", param + ".type");
        }
    } else if (!is_absent(tc)) {
        invalid("tool_choice must be a string or an object", param);
    } else {
        return nullptr;
    }
    JsonPtr cfg(must(json_object()));
    json_t* fcc = must(json_object());
    set(cfg.get(), "functionCallingConfig", fcc);
    set(fcc, "mode", jstr(mode));
    if (!names.empty()) {
        json_t* arr = must(json_array());
        set(fcc, "allowedFunctionNames", arr);
        for (const auto& n : names) push(arr, jstr(n));
    }
    return cfg.release();
}

const json_t* number_field(const json_t* root, const char* key) {
    const json_t* v = json_object_get(root, key);
    if (is_absent(v)) return nullptr;
    if (!json_is_number(v)) invalid(string(key) + " must be a number", key);
    return v;
}
const json_t* integer_field(const json_t* root, const char* key, long long min) {
    const json_t* v = json_object_get(root, key);
    if (is_absent(v)) return nullptr;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        invalid(string(key) + " must be an integer >= " + std::to_string(min), key);
    return v;
}

json_t* BodyBuilder::generation_config() {
    JsonPtr gc(must(json_object()));
    if (auto v = number_field(root_, "temperature")) set(gc.get(), "temperature", copy(v));
    if (auto v = number_field(root_, "top_p")) set(gc.get(), "topP", copy(v));
    if (auto v = number_field(root_, "top_k")) set(gc.get(), "topK", copy(v));
    // output cap: max_completion_tokens wins over the legacy max_tokens; none -> the model default
    const json_t* cap = integer_field(root_, "max_completion_tokens", 1);
    if (const json_t* legacy = integer_field(root_, "max_tokens", 1); !cap) cap = legacy;
    if (cap) set(gc.get(), "maxOutputTokens", copy(cap));

    const json_t* stop = json_object_get(root_, "stop");
    if (json_is_string(stop)) {
        json_t* arr = must(json_array());
        push(arr, copy(stop));
        set(gc.get(), "stopSequences", arr);
    } else if (json_is_array(stop)) {
        if (json_array_size(stop) > 5) invalid("Gemini accepts at most 5 stop sequences", "stop");
        size_t i;
        json_t* s;
        json_array_foreach(stop, i, s) {
            if (!json_is_string(s)) invalid("stop must be a string or an array of strings", idx_param("stop", i));
        }
        if (json_array_size(stop) > 0) set(gc.get(), "stopSequences", copy(stop));
    } else if (!is_absent(stop)) {
        invalid("stop must be a string or an array of strings", "stop");
    }

    if (auto v = integer_field(root_, "n", 1); v && json_integer_value(v) != 1) set(gc.get(), "candidateCount", copy(v));
    if (auto v = integer_field(root_, "seed", INT64_MIN)) set(gc.get(), "seed", copy(v));
    if (auto v = number_field(root_, "presence_penalty")) set(gc.get(), "presencePenalty", copy(v));
    if (auto v = number_field(root_, "frequency_penalty")) set(gc.get(), "frequencyPenalty", copy(v));

    if (const json_t* lp = json_object_get(root_, "logprobs"); json_is_true(lp)) {
        set(gc.get(), "responseLogprobs", json_true());
        if (auto v = integer_field(root_, "top_logprobs", 0); v && json_integer_value(v) > 0) set(gc.get(), "logprobs", copy(v));
    } else if (!is_absent(lp) && !json_is_boolean(lp)) {
        invalid("logprobs must be a boolean", "logprobs");
    }

    if (const json_t* rf = json_object_get(root_, "response_format"); !is_absent(rf)) {
        if (!json_is_object(rf)) invalid("response_format must be an object", "response_format");
        string_view type = sv(json_object_get(rf, "type"));
        if (type == "json_object") {
            set(gc.get(), "responseMimeType", jstr("application/json"));
        } else if (type == "json_schema") {
            const json_t* js = json_object_get(rf, "json_schema");
            if (!json_is_object(js)) invalid("response_format.json_schema must be an object", "response_format.json_schema");
            set(gc.get(), "responseMimeType", jstr("application/json"));
            const json_t* sch = json_object_get(js, "schema");
            if (json_is_object(sch)) {
                if (opt_.json_schema) set(gc.get(), "responseJsonSchema", copy(sch));
                else set(gc.get(), "responseSchema", schema(sch, "response_format.json_schema.schema"));
            }
        } else if (type != "text") {
            invalid("response_format.type must be text, json_object or json_schema", "response_format.type");
        }
    }

    // reasoning_effort -> thinkingConfig: thinkingLevel on Gemini 3+, thinkingBudget (tokens) on
    // 2.5 and unversioned ids (3+ still accepts a budget). "none" cannot turn thinking off on
    // Gemini 3 (MINIMAL is the floor) nor on 2.5 Pro (128 tokens is its minimum).
    json_t* thinking = nullptr;
    bool effort_none = false;
    if (const json_t* re = json_object_get(root_, "reasoning_effort"); !is_absent(re)) {
        string_view e = sv(re);
        effort_none = e == "none";
        static const struct {
            const char* effort;
            const char* level;
            int budget;
        } map[] = {{"none", "MINIMAL", 0},     {"minimal", "MINIMAL", 512}, {"low", "LOW", 1024},
                   {"medium", "MEDIUM", 8192}, {"high", "HIGH", 24576},     {"xhigh", "HIGH", 32768}};
        bool found = false;
        thinking = must(json_object());
        set(gc.get(), "thinkingConfig", thinking);
        for (const auto& row : map) {
            if (e != row.effort) continue;
            found = true;
            if (gen_ >= 3) {
                set(thinking, "thinkingLevel", jstr(row.level));
            } else {
                int budget = row.budget;
                if (budget == 0 && model_.find("pro") != string_view::npos) budget = 128;
                set(thinking, "thinkingBudget", must(json_integer(budget)));
            }
            if (e != "none") set(thinking, "includeThoughts", json_true());
        }
        if (!found) invalid("reasoning_effort must be none, minimal, low, medium, high or xhigh", "reasoning_effort");
    }
    // key metadata include_thoughts: thought summaries even without reasoning_effort (an explicit
    // "none" from the client wins)
    if (opt_.include_thoughts && !effort_none) {
        if (!thinking) {
            thinking = must(json_object());
            set(gc.get(), "thinkingConfig", thinking);
        }
        if (!json_object_get(thinking, "includeThoughts")) set(thinking, "includeThoughts", json_true());
    }

    if (json_object_size(gc.get()) == 0) return nullptr;
    return gc.release();
}

JsonPtr BodyBuilder::build() {
    messages();
    JsonPtr body(must(json_object()));

    if (turns_.empty()) {
        // Gemini needs at least one content: a request made of instructions only is sent as the
        // user turn (what an OpenAI model does with it anyway).
        if (json_array_size(system_.get()) == 0) invalid("messages contain no content to send", "messages");
        turns_.push_back(Turn{false, std::move(system_)});
        system_.reset(must(json_array()));
    }
    if (json_array_size(system_.get()) > 0) {
        json_t* si = must(json_object());
        set(body.get(), "systemInstruction", si);
        set(si, "parts", system_.release());
    }
    json_t* contents = must(json_array());
    set(body.get(), "contents", contents);
    for (auto& t : turns_) {
        json_t* c = must(json_object());
        push(contents, c);
        set(c, "role", jstr(t.model ? "model" : "user"));
        set(c, "parts", t.parts.release());
    }

    std::vector<string> filter;
    JsonPtr tc;
    const json_t* choice = json_object_get(root_, "tool_choice");
    if (is_absent(choice)) {  // legacy function_call: "none" | "auto" | {"name": ...}
        const json_t* fc = json_object_get(root_, "function_call");
        if (json_is_string(fc)) {
            tc.reset(tool_config(fc, &filter));
        } else if (json_is_object(fc)) {
            JsonPtr synth(must(json_object()));
            set(synth.get(), "type", jstr("function"));
            set(synth.get(), "function", copy(fc));
            tc.reset(tool_config(synth.get(), &filter));
        }
    } else {
        tc.reset(tool_config(choice, &filter));
    }
    JsonPtr tl(tools(filter.empty() ? nullptr : &filter));
    if (tl) {
        set(body.get(), "tools", tl.release());
        if (tc) set(body.get(), "toolConfig", tc.release());
    }

    if (json_t* gc = generation_config()) set(body.get(), "generationConfig", gc);
    if (json_is_array(opt_.safety)) set(body.get(), "safetySettings", copy(opt_.safety));
    return body;
}

// ---- errors ------------------------------------------------------------------------------------

// Google API keys ("AIza" + 35 characters): never let one through in a message.
string scrub_keys(string_view msg) {
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
    if (ends_with(d, "ms")) {
        mult = 1;
        d.remove_suffix(2);
    } else if (ends_with(d, "s")) {
        d.remove_suffix(1);
    } else if (ends_with(d, "m")) {
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
GoogleError read_google_error(const json_t* e) {
    GoogleError g;
    if (json_is_string(e)) {
        g.message = sv(e);
        return g;
    }
    if (!json_is_object(e)) return g;
    if (json_is_integer(json_object_get(e, "code"))) g.code = static_cast<int>(json_integer_value(json_object_get(e, "code")));
    g.message = sv(json_object_get(e, "message"));
    g.status = sv(json_object_get(e, "status"));
    const json_t* details = json_object_get(e, "details");
    size_t i;
    json_t* d;
    json_array_foreach(details, i, d) {
        string_view type = sv(json_object_get(d, "@type"));
        if (ends_with(type, "google.rpc.RetryInfo")) {
            g.retry_ms = parse_duration_ms(sv(json_object_get(d, "retryDelay")));
        } else if (ends_with(type, "google.rpc.ErrorInfo")) {
            g.reason = sv(json_object_get(d, "reason"));
        } else if (ends_with(type, "google.rpc.QuotaFailure")) {
            size_t k;
            json_t* v;
            json_array_foreach(json_object_get(d, "violations"), k, v) {
                string_view id = sv(json_object_get(v, "quotaId"));
                string_view metric = sv(json_object_get(v, "quotaMetric"));
                if (id.find("PerDay") != string_view::npos || metric.find("per_day") != string_view::npos) g.per_day = true;
                if (sv(json_object_get(v, "quotaValue")) == "0") g.zero_limit = true;
            }
        }
    }
    if (g.retry_ms < 0) g.retry_ms = retry_from_message(g.message);
    return g;
}

// The error object of a Gemini error body: {"error":{...}}, [{"error":{...}}], or an SSE event
// carrying one. Returns null when the body holds none.
const json_t* find_error(const json_t* root) {
    if (json_is_array(root) && json_array_size(root) > 0) root = json_array_get(root, 0);
    if (!json_is_object(root)) return nullptr;
    const json_t* e = json_object_get(root, "error");
    return is_absent(e) ? nullptr : e;
}

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
    string msg = scrub_keys(g.message);
    if (msg.empty()) msg = "Gemini request failed with HTTP status " + std::to_string(code) + (st.empty() ? "" : " (" + st + ")");
    v.error.message = msg;
    v.error.status = code;
    v.error.code = to_lower(st);
    v.park_ms = g.retry_ms;

    const bool bad_key = g.reason == "API_KEY_INVALID" || g.reason == "API_KEY_EXPIRED" ||
                         icontains(g.message, "API key not valid") || icontains(g.message, "API key expired") ||
                         icontains(g.message, "unregistered callers");
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
        if (icontains(g.message, "model")) v.error.code = "model_not_found";
    } else if (st == "FAILED_PRECONDITION") {
        // billing not enabled / free tier not available in the region: a property of the key
        v.error.status = 400;
        v.error.type = "invalid_request_error";
        if (icontains(g.message, "billing") || icontains(g.message, "location") || icontains(g.message, "country"))
            v.park_key = true;
    } else if (st == "ABORTED" || code == 409 || code == 408) {
        v.retry = v.park_key = true;
        v.error.status = code == 408 ? 408 : 409;
        v.error.type = string(openai_error_type_for_status(v.error.status));
    } else {
        // INVALID_ARGUMENT, OUT_OF_RANGE and other 4xx: the request itself is at fault
        v.error.status = code >= 400 && code < 500 ? code : 400;
        v.error.type = string(openai_error_type_for_status(v.error.status));
        if (icontains(g.message, "exceeds the maximum number of tokens") || icontains(g.message, "input token count") ||
            icontains(g.message, "context window"))
            v.error.code = "context_length_exceeded";
    }
    if (!v.park_key) v.park_ms = -1;
    return v;
}

// ---- response translation ----------------------------------------------------------------------

constexpr size_t kMaxJsonBody = 64u << 20;  // non-streaming answer (may carry generated images)
constexpr size_t kMaxChoices = 16;          // candidateCount is at most 8

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
string_view trim(string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

void append_json_string(string& out, string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

// FNV-1a 64 + the splitmix64 finalizer (full avalanche), for deterministic synthesized tool-call ids.
uint64_t fnv1a(string_view s, uint64_t h) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

// Gemini finishReason -> OpenAI finish_reason (§2.1). RECITATION withholds the rest of the answer
// because of a citation filter, so it is reported as content_filter (the reference leaves this
// open; "stop" would make a cut answer look complete).
string_view map_finish(string_view f) {
    if (f == "MAX_TOKENS") return "length";
    static const char* const filtered[] = {"SAFETY",      "BLOCKLIST",         "PROHIBITED_CONTENT",
                                           "SPII",        "IMAGE_SAFETY",      "IMAGE_PROHIBITED_CONTENT",
                                           "LANGUAGE",    "RECITATION",        "IMAGE_RECITATION",
                                           "MODEL_ARMOR", "JAILBREAK"};
    for (const char* x : filtered) {
        if (f == x) return "content_filter";
    }
    return "stop";  // STOP, OTHER, IMAGE_OTHER, NO_IMAGE, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, ...
}

class GeminiTranslator final : public ResponseTranslator {
public:
    explicit GeminiTranslator(const TranslatorOptions& opt) : opt_(opt) {}

    bool feed(string_view bytes, string* out) override;
    bool finish(string* out) override;
    const Usage& usage() const override { return usage_; }
    // Gemini's only end-of-answer signal is finishReason *plus* the clean end of the body (a
    // finishReason may be followed by more data or an error, as recorded): complete once finish()
    // has produced the finish/usage/[DONE] tail. Until then an interrupted stream needs the
    // glue's error event.
    bool complete() const override { return finish_result_; }
    bool saw_error() const override { return error_; }

private:
    struct Choice {
        bool started = false;   // role chunk sent (stream)
        bool seen = false;      // a candidate with this index arrived
        string finish;          // last Gemini finishReason ("" = none yet)
        int tool_calls = 0;
        int images = 0;
        // non-streaming accumulation
        string content, reasoning, tools_json, images_json, logprobs_json;
        bool has_content = false, has_reasoning = false, has_logprobs = false;
    };

    void on_event(const SseEvent& ev, string* out);
    void process(const json_t* resp, string* out);
    void process_candidate(const json_t* cand, string* out);
    void tool_call(size_t idx, Choice& ch, const json_t* part, string* out);
    void image(size_t idx, Choice& ch, const json_t* inl, string* out);
    void text_run(size_t idx, Choice& ch, bool thought, string_view text, string* out, const string* logprobs);
    string logprobs_entries(const json_t* lr) const;
    void read_usage(const json_t* um);
    void ensure_meta(const json_t* resp);
    Choice& choice(size_t idx, string* out);
    void chunk_open(string& out) const;
    void chunk_close(string& out) const;
    void role_chunk(size_t idx, string* out);
    void fail(string* out, const ApiError& e);
    void fail_truncated(string* out, string_view message);
    bool signalled_complete() const;
    bool blocked() const { return !block_reason_.empty() || (feedback_only_ && !any_seen()); }
    bool any_seen() const {
        for (const auto& c : choices_) {
            if (c.seen) return true;
        }
        return false;
    }
    string_view finish_of(const Choice& c) const {
        if (c.tool_calls > 0) return "tool_calls";
        if (c.finish.empty()) return blocked() ? "content_filter" : "stop";
        return map_finish(c.finish);
    }
    string usage_json() const;
    string completion_json() const;

    TranslatorOptions opt_;
    SseParser parser_;
    string body_;                  // non-streaming answer
    std::vector<Choice> choices_;
    Usage usage_;
    int64_t reasoning_tokens_ = 0;
    bool have_usage_ = false;
    string block_reason_;
    bool feedback_only_ = false;   // a promptFeedback arrived in an event without candidates
    bool meta_ = false;            // id/model fixed
    string prefix_;                // `data: {"id":...,"choices":[` of every chunk
    string id_, model_;
    int64_t created_ = 0;
    bool error_ = false;
    bool broken_ = false;          // no more input is accepted
    bool finished_ = false;
    bool finish_result_ = false;
    // truncation tracking (streams): position after the last non-blank byte fed, and the number
    // of bytes the SSE parser delivered as events
    uint64_t fed_ = 0, last_text_end_ = 0, dispatched_ = 0;
};

void GeminiTranslator::ensure_meta(const json_t* resp) {
    if (meta_) return;
    meta_ = true;
    string_view rid = sv(json_object_get(resp, "responseId"));
    string_view mv = sv(json_object_get(resp, "modelVersion"));
    id_ = !opt_.id.empty() ? opt_.id : ("chatcmpl-" + (rid.empty() ? string("gemini") : string(rid)));
    model_ = !opt_.model.empty() ? opt_.model : string(mv);
    created_ = opt_.created ? opt_.created : static_cast<int64_t>(std::time(nullptr));
    prefix_ = "data: {\"id\":";
    append_json_string(prefix_, id_);
    prefix_ += ",\"object\":\"chat.completion.chunk\",\"created\":";
    prefix_ += std::to_string(created_);
    prefix_ += ",\"model\":";
    append_json_string(prefix_, model_);
    prefix_ += ",\"choices\":[";
}

void GeminiTranslator::chunk_open(string& out) const { out += prefix_; }
void GeminiTranslator::chunk_close(string& out) const {
    out += opt_.include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";
}

void GeminiTranslator::role_chunk(size_t idx, string* out) {
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) +
            ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

GeminiTranslator::Choice& GeminiTranslator::choice(size_t idx, string* out) {
    if (choices_.size() <= idx) choices_.resize(idx + 1);
    Choice& ch = choices_[idx];
    if (opt_.stream && !ch.started) {
        ch.started = true;
        role_chunk(idx, out);
    }
    return ch;
}

void GeminiTranslator::fail(string* out, const ApiError& e) {
    error_ = true;
    broken_ = true;
    if (opt_.stream) {
        *out += "data: ";
        *out += openai_error_body(e);
        *out += "\n\n";
    } else {
        *out += openai_error_body(e);
    }
}

void GeminiTranslator::fail_truncated(string* out, string_view message) {
    error_ = true;
    broken_ = true;
    if (opt_.stream) {
        *out += OpenAIStreamRelay::error_event(message, "stream_truncated");
    } else {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = string(message);
        *out += openai_error_body(e);
    }
}

void GeminiTranslator::read_usage(const json_t* um) {
    auto get = [&](const char* k) -> int64_t {
        const json_t* v = json_object_get(um, k);
        return json_is_integer(v) ? static_cast<int64_t>(json_integer_value(v)) : 0;  // proto3 omits zeros
    };
    int64_t prompt = get("promptTokenCount") + get("toolUsePromptTokenCount");
    int64_t thoughts = get("thoughtsTokenCount");
    int64_t completion = get("candidatesTokenCount") + thoughts;
    usage_.prompt_tokens = prompt;
    usage_.completion_tokens = completion;
    usage_.total_tokens = prompt + completion;
    usage_.cached_tokens = get("cachedContentTokenCount");
    reasoning_tokens_ = thoughts;
    have_usage_ = true;
}

string GeminiTranslator::usage_json() const {
    auto n = [](int64_t v) { return std::to_string(v < 0 ? 0 : v); };
    string u = "{\"prompt_tokens\":" + n(usage_.prompt_tokens) + ",\"completion_tokens\":" + n(usage_.completion_tokens) +
               ",\"total_tokens\":" + n(usage_.total_tokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":" +
               n(usage_.cached_tokens) + "},\"completion_tokens_details\":{\"reasoning_tokens\":" + n(reasoning_tokens_) + "}}";
    return u;
}

// logprobsResult -> the entries of OpenAI `logprobs.content` (comma-separated, no brackets).
string GeminiTranslator::logprobs_entries(const json_t* lr) const {
    const json_t* chosen = json_object_get(lr, "chosenCandidates");
    const json_t* top = json_object_get(lr, "topCandidates");
    string out;
    auto entry = [](string& o, const json_t* c) {
        string_view tok = sv(json_object_get(c, "token"));
        const json_t* lp = json_object_get(c, "logProbability");
        o += "{\"token\":";
        append_json_string(o, tok);
        o += ",\"logprob\":";
        if (json_is_number(lp)) json_dump_append(o, lp);
        else o += "0";
        o += ",\"bytes\":[";
        for (size_t i = 0; i < tok.size(); ++i) {
            if (i) o += ',';
            o += std::to_string(static_cast<unsigned char>(tok[i]));
        }
        o += ']';
    };
    size_t i;
    json_t* c;
    json_array_foreach(chosen, i, c) {
        if (!out.empty()) out += ',';
        entry(out, c);
        out += ",\"top_logprobs\":[";
        const json_t* alts = json_object_get(json_array_get(top, i), "candidates");
        size_t k;
        json_t* a;
        json_array_foreach(alts, k, a) {
            if (k) out += ',';
            entry(out, a);
            out += '}';
        }
        out += "]}";
    }
    return out;
}

void GeminiTranslator::text_run(size_t idx, Choice& ch, bool thought, string_view text, string* out,
                                const string* logprobs) {
    if (!opt_.stream) {
        if (thought) {
            ch.reasoning.append(text);
            ch.has_reasoning = true;
        } else {
            ch.content.append(text);
            ch.has_content = true;
        }
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{";
    *out += thought ? "\"reasoning_content\":" : "\"content\":";
    append_json_string(*out, text);
    *out += "},\"logprobs\":";
    if (logprobs) *out += "{\"content\":[" + *logprobs + "],\"refusal\":null}";
    else *out += "null";
    *out += ",\"finish_reason\":null}";
    chunk_close(*out);
}

void GeminiTranslator::tool_call(size_t idx, Choice& ch, const json_t* part, string* out) {
    const json_t* fc = json_object_get(part, "functionCall");
    string_view name = sv(json_object_get(fc, "name"));
    const json_t* args = json_object_get(fc, "args");
    string args_text;
    if (json_is_object(args)) json_dump_append(args_text, args);
    else args_text = "{}";
    int ordinal = ch.tool_calls++;
    string id(sv(json_object_get(fc, "id")));
    if (id.empty()) {
        // Gemini usually sends no id: derive one from the response id, choice and ordinal so it
        // is unique per response and identical however the stream was split.
        string seed = id_ + "/" + std::to_string(idx) + "/" + std::to_string(ordinal);
        static const char hex[] = "0123456789abcdef";
        uint64_t a = fnv1a(seed, 14695981039346656037ULL), b = fnv1a(seed, 0x9e3779b97f4a7c15ULL);
        id = "call_";
        for (int i = 0; i < 12; ++i) id += hex[(a >> (60 - 4 * i)) & 15];
        for (int i = 0; i < 12; ++i) id += hex[(b >> (60 - 4 * i)) & 15];
    }
    string_view sig = sv(json_object_get(part, "thoughtSignature"));
    if (!sig.empty()) {
        id += kThoughtSep;
        id += sig;
    }
    string call;
    if (opt_.stream) call = "{\"index\":" + std::to_string(ordinal) + ",";
    else call = "{";
    call += "\"id\":";
    append_json_string(call, id);
    call += ",\"type\":\"function\",\"function\":{\"name\":";
    append_json_string(call, name);
    call += ",\"arguments\":";
    append_json_string(call, args_text);
    call += "}}";
    if (!opt_.stream) {
        if (!ch.tools_json.empty()) ch.tools_json += ',';
        ch.tools_json += call;
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{\"tool_calls\":[" + call +
            "]},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

// Generated media (image models): OpenRouter's convention, `images: [{type:"image_url",
// image_url:{url:"data:..."}}]` on the message / delta, so the bytes are not silently dropped.
void GeminiTranslator::image(size_t idx, Choice& ch, const json_t* inl, string* out) {
    string_view mime = sv(json_object_get(inl, "mimeType"));
    string_view data = sv(json_object_get(inl, "data"));
    if (data.empty()) return;
    int ordinal = ch.images++;
    string img;
    if (opt_.stream) img = "{\"index\":" + std::to_string(ordinal) + ",";
    else img = "{";
    img += "\"type\":\"image_url\",\"image_url\":{\"url\":\"data:";
    json_escape_append(img, mime.empty() ? string_view("application/octet-stream") : mime);
    img += ";base64,";
    json_escape_append(img, data);
    img += "\"}}";
    if (!opt_.stream) {
        if (!ch.images_json.empty()) ch.images_json += ',';
        ch.images_json += img;
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{\"images\":[" + img +
            "]},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

void GeminiTranslator::process_candidate(const json_t* cand, string* out) {
    if (!json_is_object(cand)) return;
    const json_t* ix = json_object_get(cand, "index");
    json_int_t raw_idx = json_is_integer(ix) ? json_integer_value(ix) : 0;
    if (raw_idx < 0 || static_cast<size_t>(raw_idx) >= kMaxChoices) {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = "Gemini sent a candidate index the gateway does not accept";
        fail(out, e);
        return;
    }
    size_t idx = static_cast<size_t>(raw_idx);
    Choice* ch = &choice(idx, out);
    ch->seen = true;

    string lp;
    const json_t* lr = json_object_get(cand, "logprobsResult");
    if (json_is_object(lr)) lp = logprobs_entries(lr);
    bool lp_used = lp.empty();

    const json_t* parts = json_object_get(json_object_get(cand, "content"), "parts");
    int run_kind = 0;  // 0 none, 1 text, 2 thought
    string run;
    auto flush = [&]() {
        if (run_kind != 0 && !run.empty()) {
            bool attach = run_kind == 1 && !lp_used;
            text_run(idx, *ch, run_kind == 2, run, out, attach ? &lp : nullptr);
            if (attach) lp_used = true;
        }
        run.clear();
        run_kind = 0;
    };
    size_t i;
    json_t* part;
    json_array_foreach(parts, i, part) {
        if (!json_is_object(part)) continue;
        const json_t* text = json_object_get(part, "text");
        if (json_is_string(text)) {
            if (json_string_length(text) == 0) continue;  // e.g. a bare thoughtSignature carrier
            int kind = json_is_true(json_object_get(part, "thought")) ? 2 : 1;
            if (kind != run_kind) flush();
            run_kind = kind;
            run.append(sv(text));
        } else if (json_is_object(json_object_get(part, "functionCall"))) {
            flush();
            tool_call(idx, *ch, part, out);
        } else if (const json_t* inl = json_object_get(part, "inlineData"); json_is_object(inl)) {
            flush();
            if (!json_is_true(json_object_get(part, "thought"))) image(idx, *ch, inl, out);
        }
        // executableCode / codeExecutionResult / fileData: only produced by tools this adapter
        // never enables
    }
    flush();
    if (!lp_used) {  // logprobs without text in this event
        if (opt_.stream) {
            chunk_open(*out);
            *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{},\"logprobs\":{\"content\":[" + lp +
                    "],\"refusal\":null},\"finish_reason\":null}";
            chunk_close(*out);
        }
    }
    if (!opt_.stream && !lp.empty()) {
        if (!ch->logprobs_json.empty()) ch->logprobs_json += ',';
        ch->logprobs_json += lp;
        ch->has_logprobs = true;
    } else if (!opt_.stream && json_is_object(lr)) {
        ch->has_logprobs = true;
    }
    if (const json_t* fr = json_object_get(cand, "finishReason"); json_is_string(fr) && json_string_length(fr) > 0)
        ch->finish = sv(fr);
}

void GeminiTranslator::process(const json_t* resp, string* out) {
    if (json_is_array(resp)) {  // a JSON array of responses (streamGenerateContent without alt=sse)
        size_t i;
        json_t* r;
        json_array_foreach(resp, i, r) {
            if (broken_) return;
            process(r, out);
        }
        return;
    }
    if (!json_is_object(resp)) {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = "Gemini sent an event that is not a JSON object";
        fail(out, e);
        return;
    }
    if (const json_t* err = find_error(resp)) {
        GoogleError g = read_google_error(err);
        fail(out, verdict(0, g).error);
        return;
    }
    ensure_meta(resp);
    if (opt_.stream && choices_.empty()) choice(0, out);  // the role chunk leads
    const json_t* cands = json_object_get(resp, "candidates");
    size_t i;
    json_t* c;
    json_array_foreach(cands, i, c) {
        process_candidate(c, out);
        if (broken_) return;
    }
    if (const json_t* pf = json_object_get(resp, "promptFeedback"); json_is_object(pf)) {
        string_view br = sv(json_object_get(pf, "blockReason"));
        if (!br.empty() && br != "BLOCKED_REASON_UNSPECIFIED") block_reason_ = br;
        if (json_array_size(cands) == 0) feedback_only_ = true;
    }
    if (const json_t* um = json_object_get(resp, "usageMetadata"); json_is_object(um)) read_usage(um);
}

// One SSE event. Gemini sends `data: <GenerateContentResponse>`; an error may also arrive as a raw
// JSON object outside any data: field (recorded: firebase-vertexai_streaming-failure-error-mid-
// stream.sse), which the SSE parser sees as lines of unknown fields.
void GeminiTranslator::on_event(const SseEvent& ev, string* out) {
    dispatched_ += ev.raw.size();
    if (broken_) return;
    // lines that are not SSE fields (data/event/id/retry) or comments
    size_t foreign = string_view::npos;
    {
        string_view r = ev.raw;
        size_t p = 0;
        while (p < r.size()) {
            size_t e = r.find_first_of("\r\n", p);
            if (e == string_view::npos) e = r.size();
            string_view line = r.substr(p, e - p);
            if (!line.empty() && line.front() != ':') {
                string_view field = line.substr(0, line.find(':'));
                if (starts_with(field, "\xEF\xBB\xBF")) field.remove_prefix(3);
                if (field != "data" && field != "event" && field != "id" && field != "retry") {
                    foreign = p;
                    break;
                }
            }
            p = e;
            if (p < r.size() && r[p] == '\r') ++p;
            if (p < r.size() && r[p] == '\n') ++p;
        }
    }
    string_view data = trim(ev.data);
    if (!data.empty()) {
        JsonPtr j = json_parse(data, nullptr);
        if (!j) {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "invalid_upstream_response";
            e.message = "Gemini sent a stream event that is not valid JSON";
            fail(out, e);
            return;
        }
        process(j.get(), out);
        if (broken_) return;
    }
    if (foreign != string_view::npos) {
        JsonPtr j = json_parse(trim(ev.raw.substr(foreign)), nullptr);
        const json_t* err = j ? find_error(j.get()) : nullptr;
        if (err) {
            fail(out, verdict(0, read_google_error(err)).error);
        } else {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "invalid_upstream_response";
            e.message = "Gemini sent data outside the SSE framing";
            fail(out, e);
        }
    }
}

bool GeminiTranslator::feed(string_view bytes, string* out) {
    if (broken_ || finished_) return false;
    if (!opt_.stream) {
        if (body_.size() + bytes.size() > kMaxJsonBody) {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "upstream_response_too_large";
            e.message = "Gemini answer is larger than the gateway accepts";
            fail(out, e);
            return false;
        }
        body_.append(bytes);
        return true;
    }
    for (size_t i = bytes.size(); i > 0; --i) {
        if (!is_ws(bytes[i - 1])) {
            last_text_end_ = fed_ + i;
            break;
        }
    }
    fed_ += bytes.size();
    bool ok = parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); });
    if (!ok && !broken_) {
        broken_ = error_ = true;
        *out += OpenAIStreamRelay::error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large");
    }
    return !broken_;
}

bool GeminiTranslator::signalled_complete() const {
    if (blocked()) return true;
    bool any = false;
    for (const auto& c : choices_) {
        if (!c.seen) continue;
        any = true;
        if (c.finish.empty()) return false;
    }
    return any;
}

string GeminiTranslator::completion_json() const {
    string o = "{\"id\":";
    append_json_string(o, id_);
    o += ",\"object\":\"chat.completion\",\"created\":" + std::to_string(created_) + ",\"model\":";
    append_json_string(o, model_);
    o += ",\"choices\":[";
    bool first = true;
    for (size_t i = 0; i < choices_.size(); ++i) {
        const Choice& c = choices_[i];
        if (!c.seen && !(i == 0 && blocked())) continue;
        if (!first) o += ',';
        first = false;
        o += "{\"index\":" + std::to_string(i) + ",\"message\":{\"role\":\"assistant\",\"content\":";
        if (c.has_content) append_json_string(o, c.content);
        else o += c.tool_calls > 0 ? "null" : "\"\"";
        if (c.has_reasoning) {
            o += ",\"reasoning_content\":";
            append_json_string(o, c.reasoning);
        }
        if (c.tool_calls > 0) o += ",\"tool_calls\":[" + c.tools_json + "]";
        if (c.images > 0) o += ",\"images\":[" + c.images_json + "]";
        o += ",\"refusal\":null},\"logprobs\":";
        if (c.has_logprobs) o += "{\"content\":[" + c.logprobs_json + "],\"refusal\":null}";
        else o += "null";
        o += ",\"finish_reason\":\"";
        o += finish_of(c);
        o += "\"}";
    }
    o += "],\"usage\":" + usage_json() + "}";
    return o;
}

bool GeminiTranslator::finish(string* out) {
    if (finished_) return finish_result_;
    finished_ = true;
    if (broken_) return false;

    if (!opt_.stream) {
        string_view body = trim(body_);
        JsonPtr root = json_parse(body, nullptr);
        if (!root) {
            fail_truncated(out, body.empty() ? "Gemini sent an empty answer" : "Gemini sent an answer that is not valid JSON");
            return false;
        }
        process(root.get(), out);  // non-streaming: only an error writes to `out` here
        if (broken_) return false;
        if (!meta_ || (!any_seen() && !blocked())) {
            fail_truncated(out, "Gemini sent an answer without candidates");
            return false;
        }
        if (choices_.empty()) choices_.resize(1);
        // A unary answer is complete by construction (the HTTP body ended cleanly); a candidate
        // without finishReason is reported as "stop".
        *out += completion_json();
        finish_result_ = true;
        return true;
    }

    parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
    if (broken_) return false;
    if (last_text_end_ > dispatched_) {
        fail_truncated(out, "upstream stream ended in the middle of an event");
        return false;
    }
    if (!signalled_complete()) {
        fail_truncated(out, "upstream stream ended before completion");
        return false;
    }
    if (choices_.empty()) choice(0, out);
    for (size_t i = 0; i < choices_.size(); ++i) {
        const Choice& c = choices_[i];
        if (!c.started) continue;
        chunk_open(*out);
        *out += "{\"index\":" + std::to_string(i) + ",\"delta\":{},\"logprobs\":null,\"finish_reason\":\"";
        *out += finish_of(c);
        *out += "\"}";
        chunk_close(*out);
    }
    if (opt_.include_usage) {
        chunk_open(*out);
        *out += "],\"usage\":" + usage_json() + "}\n\n";
    }
    *out += "data: [DONE]\n\n";
    finish_result_ = true;
    return true;
}

// Percent-encodes a path segment (RFC 3986 unreserved characters are kept; ':' and '/' are not).
void append_segment(string& out, string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
}

}  // namespace

// ---- public API --------------------------------------------------------------------------------

bool gemini_build_body(const ChatRequest& req, std::string_view upstream_model, const ProviderKey& key,
                       std::string* out, ApiError* err) {
    try {
        const json_t* root = request_json(req);
        if (!json_is_object(root)) invalid("request body must be a JSON object", "");
        Options o;
        const json_t* md = key.metadata.get();
        o.json_schema = json_is_true(json_object_get(md, "json_schema"));
        o.include_thoughts = json_is_true(json_object_get(md, "include_thoughts"));
        o.safety = json_object_get(md, "safety_settings");
        string_view model = upstream_model;
        BodyBuilder b(root, model, o);
        JsonPtr body = b.build();
        out->clear();
        json_dump_append(*out, body.get());
        return true;
    } catch (const Invalid& e) {
        if (err) {
            err->status = 400;
            err->type = "invalid_request_error";
            err->message = e.message;
            err->param = e.param;
            err->code.clear();
        }
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception&) {
        if (err) {
            err->status = 500;
            err->type = "server_error";
            err->message = "could not build the Gemini request";
            err->param.clear();
            err->code.clear();
        }
        return false;
    }
}

std::unique_ptr<ResponseTranslator> gemini_translator(const TranslatorOptions& opt) {
    return std::make_unique<GeminiTranslator>(opt);
}

ErrorVerdict gemini_classify_error(int status, std::string_view body) {
    GoogleError g;
    string_view b = trim(body);
    if (starts_with(b, "data:")) {  // an SSE event carrying the error
        b.remove_prefix(5);
        size_t end = b.find("\n\n");
        size_t end2 = b.find("\r\n\r\n");
        b = trim(b.substr(0, std::min(end, end2)));
    }
    JsonPtr root = b.empty() ? nullptr : json_parse(b, nullptr);
    if (const json_t* e = root ? find_error(root.get()) : nullptr) {
        g = read_google_error(e);
    } else if (!b.empty() && b.front() != '<' && b.front() != '{' && b.front() != '[') {
        g.message = string(b.substr(0, 512));  // plain-text error from a proxy in front of Google
    }
    return verdict(status, g);
}

std::string gemini_request_path(std::string_view base_path, std::string_view upstream_model, bool stream) {
    string out(base_path);
    while (!out.empty() && out.back() == '/') out.pop_back();
    string_view m = upstream_model;
    if (starts_with(m, "models/")) {
        m.remove_prefix(7);
        out += "/models/";
    } else if (starts_with(m, "tunedModels/")) {
        m.remove_prefix(12);
        out += "/tunedModels/";
    } else {
        out += "/models/";
    }
    append_segment(out, m);
    out += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
    return out;
}

std::string gemini_request_headers(const ProviderKey& key) {
    string out = "x-goog-api-key: ";
    for (char c : key.secret) {
        if (c != '\r' && c != '\n' && c != '\0') out += c;  // never let a secret split the header block
    }
    out += "\r\n";
    return out;
}

}  // namespace routeshift
