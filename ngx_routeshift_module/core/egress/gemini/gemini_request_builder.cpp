// Gemini request builder: OpenAI chat body -> GenerateContentRequest (contents,
// systemInstruction, tools, toolConfig, generationConfig). See the comments at each step for the
// decisions taken where the reference leaves a choice; the summary is in provider_adapter.hpp.
#include "egress/gemini/gemini_internal.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace routeshift {

using namespace gemini_internal;

namespace {

// ---- content parts -----------------------------------------------------------------------------

// Extension -> MIME type for URLs given as image_url / file ids (query and fragment ignored).
string_view mime_from_path(string_view url) {
    size_t cut = url.find_first_of("?#");
    if (cut != string_view::npos) url = url.substr(0, cut);
    size_t slash = url.rfind('/');
    if (slash != string_view::npos) url = url.substr(slash + 1);
    size_t dot = url.rfind('.');
    if (dot == string_view::npos) return {};
    string ext = to_ascii_lower(url.substr(dot + 1));
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
    JsonPtr part(require_allocated(json_object()));
    json_t* inl = require_allocated(json_object());
    set_json_member(part.get(), "inlineData", inl);
    set_json_member(inl, "mimeType", json_string_or_invalid(mime));
    set_json_member(inl, "data", json_string_or_invalid(data));
    return part.release();
}

// "data:<mime>[;param...];base64,<data>" -> inlineData. Non-base64 data URLs are refused.
json_t* inline_data_from_data_url(string_view url, const string& param) {
    size_t comma = url.find(',');
    if (comma == string_view::npos) invalid("malformed data: URL", param);
    string_view meta = url.substr(5, comma - 5);
    string_view data = url.substr(comma + 1);
    if (!to_ascii_lower(meta).ends_with(";base64")) invalid("only base64 data: URLs are supported", param);
    string_view mime = meta.substr(0, meta.find(';'));
    if (mime.empty()) mime = "text/plain";
    if (data.empty()) invalid("empty data: URL", param);
    return inline_part(to_ascii_lower(mime), data);
}

// A URL (https/http/gs, a Files API name) -> fileData with a MIME type guessed from the extension
// (`fallback_mime` when none is known; fileData.mimeType is optional, so "" omits it).
json_t* file_data_from_url(string_view url, string_view fallback_mime) {
    JsonPtr part(require_allocated(json_object()));
    json_t* fd = require_allocated(json_object());
    set_json_member(part.get(), "fileData", fd);
    string_view mime = mime_from_path(url);
    if (mime.empty()) mime = fallback_mime;
    if (!mime.empty()) set_json_member(fd, "mimeType", json_string_or_invalid(mime));
    set_json_member(fd, "fileUri", json_string_or_invalid(url));
    return part.release();
}

bool is_fetchable_uri(string_view u) {
    string l = to_ascii_lower(u.substr(0, std::min<size_t>(u.size(), 8)));
    return l.starts_with("https://") || l.starts_with("http://") || l.starts_with("gs://");
}

json_t* image_part(const json_t* image_url, const string& param) {
    const json_t* u = json_is_object(image_url) ? json_object_get(image_url, "url") : image_url;
    string_view url = json_string_view(u);
    if (url.empty()) invalid("image_url.url must be a non-empty string", param + ".image_url.url");
    if (to_ascii_lower(url.substr(0, 5)).starts_with("data:")) return inline_data_from_data_url(url, param + ".image_url.url");
    if (is_fetchable_uri(url)) return file_data_from_url(url, "image/jpeg");
    invalid("image_url.url must be an https URL or a base64 data: URL", param + ".image_url.url");
}

json_t* audio_part(const json_t* audio, const string& param) {
    string_view data = json_string_view(audio, "data");
    string format = to_ascii_lower(json_string_view(audio, "format"));
    if (data.empty() || format.empty()) invalid("input_audio needs data and format", param + ".input_audio");
    return inline_part("audio/" + format, data);
}

json_t* file_part(const json_t* file, const string& param) {
    if (!json_is_object(file)) invalid("file must be an object", param + ".file");
    string_view fdata = json_string_view(file, "file_data");
    string_view fname = json_string_view(file, "filename");
    string_view fid = json_string_view(file, "file_id");
    if (!fdata.empty()) {
        if (to_ascii_lower(fdata.substr(0, 5)).starts_with("data:")) return inline_data_from_data_url(fdata, param + ".file.file_data");
        string_view mime = mime_from_path(fname);
        if (mime.empty()) invalid("file.file_data without a data: URL needs a filename with a known extension", param + ".file.filename");
        return inline_part(mime, fdata);
    }
    if (!fid.empty()) {
        // Gemini Files API references ("files/abc" or its full URI) and fetchable URLs only:
        // an OpenAI file id means nothing to Gemini.
        if (fid.starts_with("files/") || is_fetchable_uri(fid))
            return file_data_from_url(fid, mime_from_path(fname));
        invalid("file.file_id must be a Gemini Files API name (files/...) or URI", param + ".file.file_id");
    }
    invalid("file needs file_data or file_id", param + ".file");
}

json_t* text_part(string_view text) {
    JsonPtr part(require_allocated(json_object()));
    set_json_member(part.get(), "text", json_string_or_invalid(text));
    return part.release();
}

// Appends the parts of an OpenAI message `content` (string or array of parts). `text_only`: system
// and assistant content (text / refusal parts only).
void content_parts(const json_t* content, const string& param, bool text_only, json_t* parts) {
    if (!json_present(content)) return;
    if (json_is_string(content)) {
        if (json_string_length(content) > 0) append_json_element(parts, text_part(json_string_view(content)));
        return;
    }
    if (!json_is_array(content)) invalid("content must be a string or an array of parts", param);
    for_each_object(content, param, "content parts must be objects", [&](const json_t* p, const string& pp) {
        string_view type = json_string_view(p, "type");
        if (type == "text" || (text_only && type == "refusal")) {
            const json_t* t = json_object_get(p, type == "text" ? "text" : "refusal");
            if (!json_is_string(t)) invalid("text part without a string text", pp + ".text");
            if (json_string_length(t) > 0) append_json_element(parts, text_part(json_string_view(t)));
        } else if (text_only) {
            invalid("only text content is supported here", pp + ".type");
        } else if (type == "image_url") {
            append_json_element(parts, image_part(json_object_get(p, "image_url"), pp));
        } else if (type == "input_audio") {
            append_json_element(parts, audio_part(json_object_get(p, "input_audio"), pp));
        } else if (type == "file") {
            append_json_element(parts, file_part(json_object_get(p, "file"), pp));
        } else {
            invalid("unsupported content part type \"" + string(type) + "\" for Gemini", pp + ".type");
        }
    });
}

// Tool message content -> the functionResponse `response` object {"result": <value>}: the content
// parsed as JSON when it is JSON (so {"temp_c":3} reaches the model as structure), else the text.
// Non-text parts of an array content are appended to `extra` (sent as ordinary parts next to it).
json_t* tool_response(const json_t* content, const string& param, json_t* extra) {
    string text;
    if (json_is_string(content)) {
        text.assign(json_string_view(content));
    } else if (json_is_array(content)) {
        size_t i;
        json_t* p;
        json_array_foreach(content, i, p) {
            string pp = element_param(param, i);
            string_view type = json_string_view(p, "type");
            if (type == "text") {
                text.append(json_string_view(p, "text"));
            } else if (type == "image_url") {
                append_json_element(extra, image_part(json_object_get(p, "image_url"), pp));
            } else if (type == "file") {
                append_json_element(extra, file_part(json_object_get(p, "file"), pp));
            } else {
                invalid("unsupported content part type in a tool message", pp + ".type");
            }
        }
    } else if (json_present(content)) {
        invalid("tool message content must be a string or an array of parts", param);
    }
    JsonPtr resp(require_allocated(json_object()));
    JsonPtr parsed;
    if (!text.empty()) parsed = json_parse(text, nullptr);
    set_json_member(resp.get(), "result", parsed ? parsed.release() : json_string_or_invalid(text));
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
            turns_.push_back(Turn{model_role, JsonPtr(require_allocated(json_array()))});
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
    JsonPtr system_{require_allocated(json_array())};
    std::vector<Turn> turns_;
    std::unordered_map<string, string> call_names_;  // tool_call id -> function name
};

void BodyBuilder::tool_result(string_view name, const json_t* content, const string& param) {
    JsonPtr extra(require_allocated(json_array()));
    json_t* part = require_allocated(json_object());
    json_t* parts = turn(false);
    append_json_element(parts, part);
    json_t* fr = require_allocated(json_object());
    set_json_member(part, "functionResponse", fr);
    set_json_member(fr, "name", json_string_or_invalid(name));
    set_json_member(fr, "response", tool_response(content, param, extra.get()));
    append_all(parts, extra.get());
}

void BodyBuilder::assistant(const json_t* m, const string& param) {
    JsonPtr parts(require_allocated(json_array()));
    content_parts(json_object_get(m, "content"), param + ".content", true, parts.get());
    bool first_call = true;
    auto add_call = [&](string_view id, const json_t* fn, const string& fparam) {
        if (!json_is_object(fn)) invalid("tool call without a function object", fparam);
        const json_t* name = json_object_get(fn, "name");
        if (!json_is_string(name) || json_string_length(name) == 0) invalid("tool call without a function name", fparam + ".name");
        const json_t* args = json_object_get(fn, "arguments");
        JsonPtr parsed;
        if (json_is_string(args) && json_string_length(args) > 0) {
            parsed = json_parse(json_string_view(args), nullptr);
            if (!parsed || !json_is_object(parsed.get()))
                invalid("function arguments must be a JSON object", fparam + ".arguments");
        } else if (json_is_object(args)) {
            parsed.reset(copy(args));
        } else if (json_present(args) && !json_is_string(args)) {
            invalid("function arguments must be a JSON string", fparam + ".arguments");
        }
        json_t* part = require_allocated(json_object());
        append_json_element(parts.get(), part);
        json_t* fc = require_allocated(json_object());
        set_json_member(part, "functionCall", fc);
        set_json_member(fc, "name", copy(name));
        set_json_member(fc, "args", parsed ? parsed.release() : require_allocated(json_object()));
        size_t sep = id.find(kThoughtSep);
        if (sep != string_view::npos && sep + kThoughtSep.size() < id.size()) {
            set_json_member(part, "thoughtSignature", json_string_or_invalid(id.substr(sep + kThoughtSep.size())));
        } else if (first_call && gen_ >= 3) {
            set_json_member(part, "thoughtSignature", json_string_or_invalid(kSkipSignature));
        }
        first_call = false;
        if (!id.empty()) call_names_[string(id)] = string(json_string_view(name));
    };
    const json_t* calls = json_object_get(m, "tool_calls");
    if (json_is_array(calls)) {
        for_each_object(calls, param + ".tool_calls", "tool_calls entries must be objects", [&](const json_t* c, const string& cp) {
            const json_t* id = json_object_get(c, "id");
            if (!json_is_string(id)) invalid("tool call without an id", cp + ".id");
            add_call(json_string_view(id), json_object_get(c, "function"), cp + ".function");
        });
    } else if (json_present(calls)) {
        invalid("tool_calls must be an array", param + ".tool_calls");
    }
    if (const json_t* fc = json_object_get(m, "function_call"); json_is_object(fc)) {  // legacy
        add_call("", fc, param + ".function_call");
    }
    if (json_array_size(parts.get()) == 0) return;  // nothing to say (empty assistant turn)
    append_all(turn(true), parts.get());
}

void BodyBuilder::messages() {
    const json_t* msgs = json_object_get(root_, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) invalid("messages must be a non-empty array", "messages");
    for_each_object(msgs, "messages", "messages must be objects", [&](const json_t* m, const string& param) {
        string_view role = json_string_view(m, "role");
        const json_t* content = json_object_get(m, "content");
        if (role == "system" || role == "developer") {
            content_parts(content, param + ".content", true, system_.get());
        } else if (role == "user") {
            if (!json_present(content)) invalid("user message without content", param + ".content");
            JsonPtr parts(require_allocated(json_array()));
            content_parts(content, param + ".content", false, parts.get());
            if (json_array_size(parts.get()) > 0) append_all(turn(false), parts.get());
        } else if (role == "assistant") {
            assistant(m, param);
        } else if (role == "tool") {
            const json_t* id = json_object_get(m, "tool_call_id");
            if (!json_is_string(id)) invalid("tool message without tool_call_id", param + ".tool_call_id");
            auto it = call_names_.find(string(json_string_view(id)));
            if (it == call_names_.end())
                invalid("tool message answers a tool_call_id that no earlier assistant message called", param + ".tool_call_id");
            tool_result(it->second, content, param + ".content");
        } else if (role == "function") {  // legacy function result
            string_view name = json_string_view(m, "name");
            if (name.empty()) invalid("function message without name", param + ".name");
            tool_result(name, content, param + ".content");
        } else {
            invalid("unsupported role", param + ".role");
        }
    });
}

json_t* BodyBuilder::function_declaration(const json_t* fn, const string& param) {
    if (!json_is_object(fn)) invalid("tool without a function object", param);
    const json_t* name = json_object_get(fn, "name");
    if (!json_is_string(name) || json_string_length(name) == 0) invalid("function without a name", param + ".name");
    JsonPtr decl(require_allocated(json_object()));
    set_json_member(decl.get(), "name", copy(name));
    if (const json_t* d = json_object_get(fn, "description"); json_is_string(d)) set_json_member(decl.get(), "description", copy(d));
    const json_t* params = json_object_get(fn, "parameters");
    if (json_present(params)) {
        if (!json_is_object(params)) invalid("function parameters must be a JSON Schema object", param + ".parameters");
        if (opt_.json_schema) {
            set_json_member(decl.get(), "parametersJsonSchema", copy(params));
        } else if (!is_empty_object_schema(params)) {
            set_json_member(decl.get(), "parameters", schema(params, param + ".parameters"));
        }
    }
    return decl.release();
}

// tools (and legacy functions) -> [{"functionDeclarations":[...]}]; `only`: keep these names.
json_t* BodyBuilder::tools(const std::vector<string>* only) {
    JsonPtr decls(require_allocated(json_array()));
    auto keep = [&](const json_t* decl) {
        if (!only) return true;
        string_view n = json_string_view(decl, "name");
        return std::find(only->begin(), only->end(), n) != only->end();
    };
    if (const json_t* t = json_object_get(root_, "tools"); json_is_array(t)) {
        for_each_object(t, "tools", "tools entries must be objects", [&](const json_t* tool, const string& param) {
            string_view type = json_string_view(tool, "type");
            if (type != "function") invalid("only function tools can be sent to Gemini", param + ".type");
            JsonPtr d(function_declaration(json_object_get(tool, "function"), param + ".function"));
            if (keep(d.get())) append_json_element(decls.get(), d.release());
        });
    } else if (json_present(t)) {
        invalid("tools must be an array", "tools");
    }
    if (const json_t* f = json_object_get(root_, "functions"); json_is_array(f)) {  // legacy
        size_t i;
        json_t* fn;
        json_array_foreach(f, i, fn) {
            JsonPtr d(function_declaration(fn, element_param("functions", i)));
            if (keep(d.get())) append_json_element(decls.get(), d.release());
        }
    }
    if (json_array_size(decls.get()) == 0) return nullptr;
    JsonPtr arr(require_allocated(json_array()));
    json_t* entry = require_allocated(json_object());
    append_json_element(arr.get(), entry);
    set_json_member(entry, "functionDeclarations", decls.release());
    return arr.release();
}

// tool_choice -> toolConfig.functionCallingConfig. allowed_tools with mode "auto" restricts the
// declarations instead (Gemini accepts allowedFunctionNames only with mode ANY): `filter` is set.
json_t* BodyBuilder::tool_config(const json_t* tc, std::vector<string>* filter) {
    string mode;
    std::vector<string> names;
    string param = "tool_choice";
    if (json_is_string(tc)) {
        string_view s = json_string_view(tc);
        if (s == "auto") mode = "AUTO";
        else if (s == "none") mode = "NONE";
        else if (s == "required" || s == "any") mode = "ANY";
        else invalid("tool_choice must be none, auto, required or a function", param);
    } else if (json_is_object(tc)) {
        string_view type = json_string_view(tc, "type");
        if (type == "function") {
            string_view n = json_string_view(json_object_get(tc, "function"), "name");
            if (n.empty()) invalid("tool_choice.function.name is required", param + ".function.name");
            mode = "ANY";
            names.emplace_back(n);
        } else if (type == "allowed_tools") {
            const json_t* at = json_object_get(tc, "allowed_tools");
            string_view m = json_string_view(at, "mode");
            const json_t* list = json_object_get(at, "tools");
            if (!json_is_array(list)) invalid("allowed_tools.tools must be an array", param + ".allowed_tools.tools");
            size_t i;
            json_t* t;
            json_array_foreach(list, i, t) {
                string_view n = json_string_view(json_object_get(t, "function"), "name");
                if (n.empty()) n = json_string_view(t, "name");
                if (n.empty()) invalid("allowed tool without a function name", element_param(param + ".allowed_tools.tools", i));
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
    } else if (json_present(tc)) {
        invalid("tool_choice must be a string or an object", param);
    } else {
        return nullptr;
    }
    JsonPtr cfg(require_allocated(json_object()));
    json_t* fcc = require_allocated(json_object());
    set_json_member(cfg.get(), "functionCallingConfig", fcc);
    set_json_member(fcc, "mode", json_string_or_invalid(mode));
    if (!names.empty()) {
        json_t* arr = require_allocated(json_array());
        set_json_member(fcc, "allowedFunctionNames", arr);
        for (const auto& n : names) append_json_element(arr, json_string_or_invalid(n));
    }
    return cfg.release();
}

const json_t* number_field(const json_t* root, const char* key) {
    const json_t* v = json_object_get(root, key);
    if (!json_present(v)) return nullptr;
    if (!json_is_number(v)) invalid(string(key) + " must be a number", key);
    return v;
}
const json_t* integer_field(const json_t* root, const char* key, long long min) {
    const json_t* v = json_object_get(root, key);
    if (!json_present(v)) return nullptr;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        invalid(string(key) + " must be an integer >= " + std::to_string(min), key);
    return v;
}

json_t* BodyBuilder::generation_config() {
    JsonPtr gc(require_allocated(json_object()));
    if (auto v = number_field(root_, "temperature")) set_json_member(gc.get(), "temperature", copy(v));
    if (auto v = number_field(root_, "top_p")) set_json_member(gc.get(), "topP", copy(v));
    if (auto v = number_field(root_, "top_k")) set_json_member(gc.get(), "topK", copy(v));
    // output cap: max_completion_tokens wins over the legacy max_tokens; none -> the model default
    const json_t* cap = integer_field(root_, "max_completion_tokens", 1);
    if (const json_t* legacy = integer_field(root_, "max_tokens", 1); !cap) cap = legacy;
    if (cap) set_json_member(gc.get(), "maxOutputTokens", copy(cap));

    const json_t* stop = json_object_get(root_, "stop");
    if (json_is_string(stop)) {
        json_t* arr = require_allocated(json_array());
        append_json_element(arr, copy(stop));
        set_json_member(gc.get(), "stopSequences", arr);
    } else if (json_is_array(stop)) {
        if (json_array_size(stop) > 5) invalid("Gemini accepts at most 5 stop sequences", "stop");
        size_t i;
        json_t* s;
        json_array_foreach(stop, i, s) {
            if (!json_is_string(s)) invalid("stop must be a string or an array of strings", element_param("stop", i));
        }
        if (json_array_size(stop) > 0) set_json_member(gc.get(), "stopSequences", copy(stop));
    } else if (json_present(stop)) {
        invalid("stop must be a string or an array of strings", "stop");
    }

    if (auto v = integer_field(root_, "n", 1); v && json_integer_value(v) != 1) set_json_member(gc.get(), "candidateCount", copy(v));
    if (auto v = integer_field(root_, "seed", INT64_MIN)) set_json_member(gc.get(), "seed", copy(v));
    if (auto v = number_field(root_, "presence_penalty")) set_json_member(gc.get(), "presencePenalty", copy(v));
    if (auto v = number_field(root_, "frequency_penalty")) set_json_member(gc.get(), "frequencyPenalty", copy(v));

    if (const json_t* lp = json_object_get(root_, "logprobs"); json_is_true(lp)) {
        set_json_member(gc.get(), "responseLogprobs", json_true());
        if (auto v = integer_field(root_, "top_logprobs", 0); v && json_integer_value(v) > 0) set_json_member(gc.get(), "logprobs", copy(v));
    } else if (json_present(lp) && !json_is_boolean(lp)) {
        invalid("logprobs must be a boolean", "logprobs");
    }

    if (const json_t* rf = json_object_get(root_, "response_format"); json_present(rf)) {
        if (!json_is_object(rf)) invalid("response_format must be an object", "response_format");
        string_view type = json_string_view(rf, "type");
        if (type == "json_object") {
            set_json_member(gc.get(), "responseMimeType", json_string_or_invalid("application/json"));
        } else if (type == "json_schema") {
            const json_t* js = json_object_get(rf, "json_schema");
            if (!json_is_object(js)) invalid("response_format.json_schema must be an object", "response_format.json_schema");
            set_json_member(gc.get(), "responseMimeType", json_string_or_invalid("application/json"));
            const json_t* sch = json_object_get(js, "schema");
            if (json_is_object(sch)) {
                if (opt_.json_schema) set_json_member(gc.get(), "responseJsonSchema", copy(sch));
                else set_json_member(gc.get(), "responseSchema", schema(sch, "response_format.json_schema.schema"));
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
    if (const json_t* re = json_object_get(root_, "reasoning_effort"); json_present(re)) {
        string_view e = json_string_view(re);
        effort_none = e == "none";
        static const struct {
            const char* effort;
            const char* level;
            int budget;
        } map[] = {{"none", "MINIMAL", 0},     {"minimal", "MINIMAL", 512}, {"low", "LOW", 1024},
                   {"medium", "MEDIUM", 8192}, {"high", "HIGH", 24576},     {"xhigh", "HIGH", 32768}};
        bool found = false;
        thinking = require_allocated(json_object());
        set_json_member(gc.get(), "thinkingConfig", thinking);
        for (const auto& row : map) {
            if (e != row.effort) continue;
            found = true;
            if (gen_ >= 3) {
                set_json_member(thinking, "thinkingLevel", json_string_or_invalid(row.level));
            } else {
                int budget = row.budget;
                if (budget == 0 && model_.find("pro") != string_view::npos) budget = 128;
                set_json_member(thinking, "thinkingBudget", require_allocated(json_integer(budget)));
            }
            if (e != "none") set_json_member(thinking, "includeThoughts", json_true());
        }
        if (!found) invalid("reasoning_effort must be none, minimal, low, medium, high or xhigh", "reasoning_effort");
    }
    // key metadata include_thoughts: thought summaries even without reasoning_effort (an explicit
    // "none" from the client wins)
    if (opt_.include_thoughts && !effort_none) {
        if (!thinking) {
            thinking = require_allocated(json_object());
            set_json_member(gc.get(), "thinkingConfig", thinking);
        }
        if (!json_object_get(thinking, "includeThoughts")) set_json_member(thinking, "includeThoughts", json_true());
    }

    if (json_object_size(gc.get()) == 0) return nullptr;
    return gc.release();
}

JsonPtr BodyBuilder::build() {
    messages();
    JsonPtr body(require_allocated(json_object()));

    if (turns_.empty()) {
        // Gemini needs at least one content: a request made of instructions only is sent as the
        // user turn (what an OpenAI model does with it anyway).
        if (json_array_size(system_.get()) == 0) invalid("messages contain no content to send", "messages");
        turns_.push_back(Turn{false, std::move(system_)});
        system_.reset(require_allocated(json_array()));
    }
    if (json_array_size(system_.get()) > 0) {
        json_t* si = require_allocated(json_object());
        set_json_member(body.get(), "systemInstruction", si);
        set_json_member(si, "parts", system_.release());
    }
    json_t* contents = require_allocated(json_array());
    set_json_member(body.get(), "contents", contents);
    for (auto& t : turns_) {
        json_t* c = require_allocated(json_object());
        append_json_element(contents, c);
        set_json_member(c, "role", json_string_or_invalid(t.model ? "model" : "user"));
        set_json_member(c, "parts", t.parts.release());
    }

    std::vector<string> filter;
    JsonPtr tc;
    const json_t* choice = json_object_get(root_, "tool_choice");
    if (!json_present(choice)) {  // legacy function_call: "none" | "auto" | {"name": ...}
        const json_t* fc = json_object_get(root_, "function_call");
        if (json_is_string(fc)) {
            tc.reset(tool_config(fc, &filter));
        } else if (json_is_object(fc)) {
            JsonPtr synth(require_allocated(json_object()));
            set_json_member(synth.get(), "type", json_string_or_invalid("function"));
            set_json_member(synth.get(), "function", copy(fc));
            tc.reset(tool_config(synth.get(), &filter));
        }
    } else {
        tc.reset(tool_config(choice, &filter));
    }
    JsonPtr tl(tools(filter.empty() ? nullptr : &filter));
    if (tl) {
        set_json_member(body.get(), "tools", tl.release());
        if (tc) set_json_member(body.get(), "toolConfig", tc.release());
    }

    if (json_t* gc = generation_config()) set_json_member(body.get(), "generationConfig", gc);
    if (json_is_array(opt_.safety)) set_json_member(body.get(), "safetySettings", copy(opt_.safety));
    return body;
}

}  // namespace

// ---- public API --------------------------------------------------------------------------------

bool gemini_build_body(const ChatRequest& req, std::string_view upstream_model, const ProviderKey& key,
                       std::string* out, ApiError* err) {
    return run_request_builder("Gemini", [&] {
        const json_t* root = req.dom();
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
    }, err);
}

}  // namespace routeshift
