// "systemInstruction" and "contents" of a Gemini body, written from the canonical request (see
// gemini_contents_writer.hpp). Text parts are the client's string tokens copied as they are;
// URLs, MIME types, names and ids are decoded and quoted again (small); tool call arguments and
// JSON tool results go through jansson.
#include "egress/gemini/gemini_contents_writer.hpp"

#include "egress/gemini/gemini_internal.hpp"

#include <algorithm>

namespace routeshift::gemini_internal {

namespace {

// The decoded text of a string value ("" when it is not a string), as jansson's json_string_view.
string text_of(JsonValue v) {
    string s;
    json_string_decode(v, &s);
    return s;
}

bool empty_token(JsonValue v) { return v.text == "\"\""; }

void begin_part(string& parts) {
    if (!parts.empty()) parts += ',';
}

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

// {"text":<token>}: the client's string token as sent.
void text_part(string& parts, JsonValue token) {
    begin_part(parts);
    parts += R"({"text":)";
    parts += token.text;
    parts += '}';
}

// {"inlineData":{"mimeType":...,"data":...}}
void inline_part(string& parts, string_view mime, string_view data) {
    begin_part(parts);
    parts += R"({"inlineData":{"mimeType":)";
    json_quoted_append(parts, mime);
    parts += R"(,"data":)";
    json_quoted_append(parts, data);
    parts += "}}";
}

// "data:<mime>[;param...];base64,<data>" -> inlineData. Non-base64 data URLs are refused.
void inline_data_from_data_url(string& parts, string_view url, const string& param) {
    size_t comma = url.find(',');
    if (comma == string_view::npos) invalid("malformed data: URL", param);
    string_view meta = url.substr(5, comma - 5);
    string_view data = url.substr(comma + 1);
    if (!to_ascii_lower(meta).ends_with(";base64")) invalid("only base64 data: URLs are supported", param);
    string_view mime = meta.substr(0, meta.find(';'));
    if (mime.empty()) mime = "text/plain";
    if (data.empty()) invalid("empty data: URL", param);
    inline_part(parts, to_ascii_lower(mime), data);
}

// A URL (https/http/gs, a Files API name) -> fileData with a MIME type guessed from the extension
// (`fallback_mime` when none is known; fileData.mimeType is optional, so "" omits it).
void file_data_from_url(string& parts, string_view url, string_view fallback_mime) {
    begin_part(parts);
    parts += R"({"fileData":{)";
    string_view mime = mime_from_path(url);
    if (mime.empty()) mime = fallback_mime;
    if (!mime.empty()) {
        parts += R"("mimeType":)";
        json_quoted_append(parts, mime);
        parts += ',';
    }
    parts += R"("fileUri":)";
    json_quoted_append(parts, url);
    parts += "}}";
}

bool is_fetchable_uri(string_view u) {
    string l = to_ascii_lower(u.substr(0, std::min<size_t>(u.size(), 8)));
    return l.starts_with("https://") || l.starts_with("http://") || l.starts_with("gs://");
}

void image_part(string& parts, const ContentPart& part, const string& param) {
    string url = text_of(part.url);
    if (url.empty()) invalid("image_url.url must be a non-empty string", param + ".image_url.url");
    if (to_ascii_lower(string_view(url).substr(0, 5)).starts_with("data:"))
        return inline_data_from_data_url(parts, url, param + ".image_url.url");
    if (is_fetchable_uri(url)) return file_data_from_url(parts, url, "image/jpeg");
    invalid("image_url.url must be an https URL or a base64 data: URL", param + ".image_url.url");
}

void audio_part(string& parts, const ContentPart& part, const string& param) {
    string data = text_of(json_object_find(part.input_audio, "data"));
    string format = to_ascii_lower(text_of(json_object_find(part.input_audio, "format")));
    if (data.empty() || format.empty()) invalid("input_audio needs data and format", param + ".input_audio");
    inline_part(parts, "audio/" + format, data);
}

void file_part(string& parts, const ContentPart& part, const string& param) {
    if (!part.file.is(JsonType::object)) invalid("file must be an object", param + ".file");
    string fdata = text_of(part.file_data);
    string fname = text_of(part.filename);
    string fid = text_of(part.file_id);
    if (!fdata.empty()) {
        if (to_ascii_lower(string_view(fdata).substr(0, 5)).starts_with("data:"))
            return inline_data_from_data_url(parts, fdata, param + ".file.file_data");
        string_view mime = mime_from_path(fname);
        if (mime.empty()) invalid("file.file_data without a data: URL needs a filename with a known extension", param + ".file.filename");
        return inline_part(parts, mime, fdata);
    }
    if (!fid.empty()) {
        // Gemini Files API references ("files/abc" or its full URI) and fetchable URLs only:
        // an OpenAI file id means nothing to Gemini.
        if (fid.starts_with("files/") || is_fetchable_uri(fid)) return file_data_from_url(parts, fid, mime_from_path(fname));
        invalid("file.file_id must be a Gemini Files API name (files/...) or URI", param + ".file.file_id");
    }
    invalid("file needs file_data or file_id", param + ".file");
}

// The decoded "type" of a part for messages ("" when it is not a string, or the part not an object).
string type_of(const ContentPart& part) { return part.raw.is(JsonType::object) ? text_of(part.type) : string(); }

// Appends one JSON value through jansson: the compact form the DOM path wrote.
void append_dom(string& out, const json_t* value) { json_dump_append(out, value); }

}  // namespace

string& ContentsWriter::turn(bool model_role) {
    if (turns_.empty() || turns_.back().model != model_role) turns_.push_back(Turn{model_role, {}});
    return turns_.back().parts;
}

// Appends the parts of an OpenAI message `content` (string or array of parts). `text_only`: system
// and assistant content (text / refusal parts only).
void ContentsWriter::content_parts(JsonValue content, uint32_t first_part, uint32_t part_count, const string& param,
                                   bool text_only, string& parts) {
    if (content.absent_or_null()) return;
    if (content.is(JsonType::string)) {
        if (!empty_token(content)) text_part(parts, content);
        return;
    }
    if (!content.is(JsonType::array)) invalid("content must be a string or an array of parts", param);
    for (uint32_t i = 0; i < part_count; ++i) {
        const ContentPart& p = req_.parts[first_part + i];
        string pp = element_param(param, i);
        if (!p.raw.is(JsonType::object)) invalid("content parts must be objects", pp);
        if (p.kind == PartKind::text || (text_only && p.kind == PartKind::refusal)) {
            if (!p.text.is(JsonType::string)) invalid("text part without a string text", pp + ".text");
            if (!empty_token(p.text)) text_part(parts, p.text);
        } else if (text_only) {
            invalid("only text content is supported here", pp + ".type");
        } else if (p.kind == PartKind::image_url) {
            image_part(parts, p, pp);
        } else if (p.kind == PartKind::input_audio) {
            audio_part(parts, p, pp);
        } else if (p.kind == PartKind::file) {
            file_part(parts, p, pp);
        } else {
            invalid("unsupported content part type \"" + type_of(p) + "\" for Gemini", pp + ".type");
        }
    }
}

void ContentsWriter::function_call(string& parts, string_view id, JsonValue function, JsonValue name,
                                   JsonValue arguments, const string& param, bool* first_call) {
    if (!function.is(JsonType::object)) invalid("tool call without a function object", param);
    if (!name.is(JsonType::string) || empty_token(name)) invalid("tool call without a function name", param + ".name");
    JsonPtr parsed;
    if (arguments.is(JsonType::string) && !empty_token(arguments)) {
        parsed = json_parse(text_of(arguments), nullptr);
        if (!parsed || !json_is_object(parsed.get())) invalid("function arguments must be a JSON object", param + ".arguments");
    } else if (arguments.is(JsonType::object)) {
        parsed = json_parse(arguments.text, nullptr);
        if (!parsed) throw std::bad_alloc();  // scanned already: only memory can fail here
    } else if (!arguments.absent_or_null() && !arguments.is(JsonType::string)) {
        invalid("function arguments must be a JSON string", param + ".arguments");
    }
    string plain_name = text_of(name);
    begin_part(parts);
    parts += R"({"functionCall":{"name":)";
    json_quoted_append(parts, plain_name);
    parts += R"(,"args":)";
    if (parsed) append_dom(parts, parsed.get());
    else parts += "{}";
    parts += '}';
    size_t sep = id.find(kThoughtSep);
    if (sep != string_view::npos && sep + kThoughtSep.size() < id.size()) {
        parts += R"(,"thoughtSignature":)";
        json_quoted_append(parts, id.substr(sep + kThoughtSep.size()));
    } else if (*first_call && generation_ >= 3) {
        parts += R"(,"thoughtSignature":)";
        json_quoted_append(parts, kSkipSignature);
    }
    parts += '}';
    *first_call = false;
    if (!id.empty()) call_names_[string(id)] = std::move(plain_name);
}

void ContentsWriter::assistant(const CanonicalMessage& m, const string& param) {
    string parts;
    content_parts(m.content, m.first_part, m.part_count, param + ".content", true, parts);
    bool first_call = true;
    if (m.tool_calls.is(JsonType::array)) {
        string base = param + ".tool_calls";
        for (uint32_t i = 0; i < m.call_count; ++i) {
            const ToolCall& c = req_.calls_of(m)[i];
            string cp = element_param(base, i);
            if (!c.raw.is(JsonType::object)) invalid("tool_calls entries must be objects", cp);
            if (!c.id.is(JsonType::string)) invalid("tool call without an id", cp + ".id");
            function_call(parts, text_of(c.id), c.function, c.name, c.arguments, cp + ".function", &first_call);
        }
    } else if (!m.tool_calls.absent_or_null()) {
        invalid("tool_calls must be an array", param + ".tool_calls");
    }
    if (m.function_call.is(JsonType::object)) {  // legacy
        function_call(parts, "", m.function_call, json_object_find(m.function_call, "name"),
                      json_object_find(m.function_call, "arguments"), param + ".function_call", &first_call);
    }
    if (parts.empty()) return;  // nothing to say (empty assistant turn)
    string& t = turn(true);
    begin_part(t);
    t += parts;
}

// Tool message content -> a functionResponse part whose `response` is {"result": <value>}: the
// content parsed as JSON when it is JSON (so {"temp_c":3} reaches the model as structure), else the
// text. Non-text parts of an array content follow it as ordinary parts.
void ContentsWriter::tool_result(string_view name, const CanonicalMessage& m, const string& param) {
    string extra;
    string text;
    JsonValue token;  // the content's string token, when the content is one string
    if (m.content.is(JsonType::string)) {
        token = m.content;
        json_string_decode(m.content, &text);
    } else if (m.content.is(JsonType::array)) {
        for (uint32_t i = 0; i < m.part_count; ++i) {
            const ContentPart& p = req_.parts_of(m)[i];
            string pp = element_param(param, i);
            if (p.kind == PartKind::text) {
                text += text_of(p.text);
            } else if (p.kind == PartKind::image_url) {
                image_part(extra, p, pp);
            } else if (p.kind == PartKind::file) {
                file_part(extra, p, pp);
            } else {
                invalid("unsupported content part type in a tool message", pp + ".type");
            }
        }
    } else if (!m.content.absent_or_null()) {
        invalid("tool message content must be a string or an array of parts", param);
    }
    string& parts = turn(false);
    begin_part(parts);
    parts += R"({"functionResponse":{"name":)";
    json_quoted_append(parts, name);
    parts += R"(,"response":{"result":)";
    JsonPtr parsed;
    if (!text.empty()) parsed = json_parse(text, nullptr);
    if (parsed) append_dom(parts, parsed.get());
    else if (token) parts += token.text;
    else json_quoted_append(parts, text);
    parts += "}}}";
    if (!extra.empty()) {
        parts += ',';
        parts += extra;
    }
}

void ContentsWriter::convert() {
    if (req_.messages.empty()) invalid("messages must be a non-empty array", "messages");
    for (size_t i = 0; i < req_.messages.size(); ++i) {
        const CanonicalMessage& m = req_.messages[i];
        string param = element_param("messages", i);
        if (!m.raw.is(JsonType::object)) invalid("messages must be objects", param);
        switch (m.role) {
        case MessageRole::system:
        case MessageRole::developer: content_parts(m.content, m.first_part, m.part_count, param + ".content", true, system_); break;
        case MessageRole::user: {
            if (m.content.absent_or_null()) invalid("user message without content", param + ".content");
            string parts;
            content_parts(m.content, m.first_part, m.part_count, param + ".content", false, parts);
            if (parts.empty()) break;
            string& t = turn(false);
            begin_part(t);
            t += parts;
            break;
        }
        case MessageRole::assistant: assistant(m, param); break;
        case MessageRole::tool: {
            if (!m.tool_call_id.is(JsonType::string)) invalid("tool message without tool_call_id", param + ".tool_call_id");
            auto it = call_names_.find(text_of(m.tool_call_id));
            if (it == call_names_.end())
                invalid("tool message answers a tool_call_id that no earlier assistant message called", param + ".tool_call_id");
            tool_result(it->second, m, param + ".content");
            break;
        }
        case MessageRole::function: {  // legacy function result
            string name = text_of(m.name);
            if (name.empty()) invalid("function message without name", param + ".name");
            tool_result(name, m, param + ".content");
            break;
        }
        default: invalid("unsupported role", param + ".role");
        }
    }
}

void ContentsWriter::append(string& out) {
    if (turns_.empty()) {
        // Gemini needs at least one content: a request made of instructions only is sent as the
        // user turn (what an OpenAI model does with it anyway).
        if (system_.empty()) invalid("messages contain no content to send", "messages");
        turns_.push_back(Turn{false, std::move(system_)});
        system_.clear();
    }
    if (!system_.empty()) {
        out += R"("systemInstruction":{"parts":[)";
        out += system_;
        out += "]},";
    }
    out += R"("contents":[)";
    for (size_t i = 0; i < turns_.size(); ++i) {
        if (i) out += ',';
        out += turns_[i].model ? R"({"role":"model","parts":[)" : R"({"role":"user","parts":[)";
        out += turns_[i].parts;
        out += "]}";
    }
    out += ']';
}

}  // namespace routeshift::gemini_internal
