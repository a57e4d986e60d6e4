// AWS Bedrock Runtime Converse / ConverseStream adapter (providers.md §5).
//
// Request (bedrock_build_body): OpenAI chat request DOM -> Converse body (§5.2). The model id goes
//   in the URL (bedrock_path), never in the body.
// Transport (bedrock_http_request): the complete HTTP/1.1 request, SigV4-signed (service
//   "bedrock", sigv4.*) for the time of the attempt, or sent with a Bedrock API key (Bearer).
// Response (bedrock_translator): Converse JSON -> chat.completion; ConverseStream binary
//   event-stream frames (aws_eventstream.*) -> chat.completion.chunk SSE, one frame at a time.
// Errors (bedrock_classify_error): x-amzn-ErrorType / body -> retry/park verdict and the
//   OpenAI-shaped error (§2.6, §5.7).
#include "egress/provider_adapter.hpp"

#include "egress/bedrock/aws_eventstream.hpp"
#include "util/json_util.hpp"
#include "egress/bedrock/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

namespace {

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

// The request DOM, whichever shape chat_request.hpp has (ChatRequest::dom() or ::root).
template <class R>
const json_t* request_json_impl(const R& r) {
    if constexpr (requires { r.dom(); }) return r.dom();
    else return r.root.get();
}
const json_t* request_json(const ChatRequest& r) { return request_json_impl(r); }

constexpr size_t kMaxJsonAnswer = 64u << 20;       // a non-streaming answer larger than this is refused
constexpr size_t kMaxStreamMessage = 8u << 20;     // one event-stream message
constexpr int64_t kLongParkMs = 60LL * 60 * 1000;  // broken credentials / no access: 1 hour
constexpr size_t kMaxErrorMessage = 1024;
constexpr std::string_view kDummyToolName = "dummy_tool";

std::string_view sv(const json_t* v) {
    if (!json_is_string(v)) return {};
    return {json_string_value(v), json_string_length(v)};
}

const json_t* jget(const json_t* obj, const char* key) { return json_is_object(obj) ? json_object_get(obj, key) : nullptr; }

bool present(const json_t* v) { return v && !json_is_null(v); }

json_t* need(json_t* v) {
    if (!v) throw std::bad_alloc();
    return v;
}

void put(json_t* obj, const char* key, json_t* v) {
    need(v);
    if (json_object_set_new(obj, key, v) != 0) throw std::bad_alloc();
}

void push(json_t* arr, json_t* v) {
    need(v);
    if (json_array_append_new(arr, v) != 0) throw std::bad_alloc();
}

json_t* jstr(std::string_view s) { return need(json_stringn(s.data(), s.size())); }
json_t* jobj() { return need(json_object()); }
json_t* jarr() { return need(json_array()); }
json_t* share(const json_t* v) { return json_incref(const_cast<json_t*>(v)); }

// {"key": value} with ownership of value.
json_t* wrap(const char* key, json_t* value) {
    json_t* o = jobj();
    put(o, key, value);
    return o;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool icontains(std::string_view hay, std::string_view needle) { return lower(hay).find(lower(needle)) != std::string::npos; }

bool is_blank(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

bool header_safe(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

// Provider text made safe for an error message: valid UTF-8 kept, control bytes and invalid
// sequences become spaces, at most kMaxErrorMessage bytes (never cutting a character).
std::string clean_message(std::string_view s) {
    std::string out;
    out.reserve(std::min(s.size(), kMaxErrorMessage));
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size() && !(len == 2 && c < 0xC2) && !(len == 4 && c > 0xF4);
        for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok && len == 3) {
            const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) ok = false;  // overlong, surrogate
        }
        if (ok && len == 4) {
            const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) ok = false;
        }
        if (!ok) len = 1;
        if (out.size() + (ok ? len : 1) > kMaxErrorMessage) break;
        if (!ok || (len == 1 && (c < 0x20 || c == 0x7f))) out += ' ';
        else out.append(s.data() + i, len);
        i += len;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// Bedrock toolUseId must match [a-zA-Z0-9_-]{1,64}. Valid ids pass unchanged; any other id is
// rewritten deterministically (same input -> same output), so an assistant tool call and the tool
// message answering it still match without any state.
std::string tool_use_id(std::string_view id) {
    bool ok = !id.empty() && id.size() <= 64;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) ok = false;
    if (ok) return std::string(id);
    return "rs_" + sha256_hex(id).substr(0, 40);
}

struct BuildError {
    std::string param, message;
};

[[noreturn]] void reject(std::string param, std::string message) { throw BuildError{std::move(param), std::move(message)}; }

bool base64_ok(std::string_view s) {
    if (s.empty() || s.size() % 4 != 0) return false;
    size_t pad = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '=') {
            if (i < s.size() - 2) return false;
            ++pad;
            continue;
        }
        if (pad) return false;
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
    }
    return true;
}

struct DataUrl {
    std::string mime;  // lower-case
    std::string_view data;
};

// "data:<mime>[;param...];base64,<data>"
bool parse_data_url(std::string_view url, DataUrl* out) {
    if (url.size() < 5 || lower(url.substr(0, 5)) != "data:") return false;
    size_t comma = url.find(',');
    if (comma == std::string_view::npos) return false;
    std::string meta = lower(url.substr(5, comma - 5));
    if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64") return false;
    out->mime = meta.substr(0, meta.find(';'));
    out->data = url.substr(comma + 1);
    return true;
}

std::string_view image_format(std::string_view mime) {
    if (mime == "image/png") return "png";
    if (mime == "image/jpeg" || mime == "image/jpg") return "jpeg";
    if (mime == "image/gif") return "gif";
    if (mime == "image/webp") return "webp";
    return {};
}

std::string_view document_format(std::string_view mime, std::string_view filename) {
    if (mime == "application/pdf") return "pdf";
    if (mime == "text/csv") return "csv";
    if (mime == "application/msword") return "doc";
    if (mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document") return "docx";
    if (mime == "application/vnd.ms-excel") return "xls";
    if (mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
    if (mime == "text/html") return "html";
    if (mime == "text/plain") return "txt";
    if (mime == "text/markdown") return "md";
    size_t dot = filename.rfind('.');
    if (dot != std::string_view::npos) {
        std::string ext = lower(filename.substr(dot + 1));
        for (std::string_view f : {"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"})
            if (ext == f) return f;
    }
    return {};
}

// Bedrock document names: alphanumerics, single spaces, hyphens, parentheses, square brackets.
std::string document_name(std::string_view filename, size_t n) {
    size_t dot = filename.rfind('.');
    if (dot != std::string_view::npos && dot > 0) filename = filename.substr(0, dot);
    std::string out;
    for (char c : filename) {
        if (out.size() >= 100) break;
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '(' || c == ')' || c == '[' || c == ']';
        if (ok) out += c;
        else if (!out.empty() && out.back() != ' ') out += ' ';
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.empty()) out = "document";
    if (n > 0) out += "-" + std::to_string(n + 1);
    return out;
}

// ------------------------------------------------------------------------------------------------
// Request body (§5.2)
// ------------------------------------------------------------------------------------------------

class BodyBuilder {
public:
    explicit BodyBuilder(const json_t* root) : root_(root) {}
    std::string build();

private:
    json_t* text_block(std::string_view text) { return wrap("text", jstr(text)); }
    json_t* media_block(const json_t* part, std::string_view type, const std::string& path, bool allow_documents);
    void system_content(const json_t* content, const std::string& path);
    json_t* user_blocks(const json_t* content, const std::string& path);
    json_t* assistant_blocks(const json_t* msg, const std::string& path);
    json_t* tool_result_content(const json_t* content, const std::string& path);
    void append_turn(const char* role, json_t* blocks);  // takes ownership of `blocks`
    void convert_messages();
    void convert_tools(json_t* body);
    void finish_tool_config(json_t* body, JsonPtr& specs, JsonPtr& tc, bool choice_none);
    void inference_config(json_t* body);
    void check_unsupported();

    const json_t* root_;
    JsonPtr system_{jarr()};
    JsonPtr messages_{jarr()};
    bool history_tools_ = false;  // toolUse/toolResult blocks in the conversation
    std::vector<std::string> history_tool_names_;
    size_t documents_ = 0;
    std::string last_function_call_id_;  // legacy function_call / role "function" pairing
};

json_t* BodyBuilder::media_block(const json_t* part, std::string_view type, const std::string& path,
                                 bool allow_documents) {
    if (type == "image_url") {
        const json_t* iu = jget(part, "image_url");
        std::string_view url = json_is_string(iu) ? sv(iu) : sv(jget(iu, "url"));
        const std::string p = path + ".image_url.url";
        if (url.empty()) reject(p, "image_url.url is required");
        DataUrl d;
        if (!parse_data_url(url, &d)) {
            if (lower(url.substr(0, 8)) == "https://" || lower(url.substr(0, 7)) == "http://")
                reject(p, "Bedrock Converse does not fetch image URLs; send the image inline as a data: URL "
                          "(data:image/png;base64,...)");
            reject(p, "image_url.url must be a base64 data: URL (data:image/<png|jpeg|gif|webp>;base64,...)");
        }
        std::string_view fmt = image_format(d.mime);
        if (fmt.empty())
            reject(p, "unsupported image type '" + d.mime + "': Bedrock Converse accepts png, jpeg, gif and webp");
        if (!base64_ok(d.data)) reject(p, "the image data is not valid base64");
        json_t* img = jobj();
        put(img, "format", jstr(fmt));
        put(img, "source", wrap("bytes", jstr(d.data)));
        return wrap("image", img);
    }
    if (type == "file" && allow_documents) {
        const json_t* f = jget(part, "file");
        const std::string p = path + ".file";
        if (present(jget(f, "file_id")) && !present(jget(f, "file_data")))
            reject(p + ".file_id", "file_id references are not supported by Bedrock Converse; send file_data");
        std::string_view data = sv(jget(f, "file_data"));
        std::string_view filename = sv(jget(f, "filename"));
        DataUrl d;
        if (!parse_data_url(data, &d)) reject(p + ".file_data", "file_data must be a base64 data: URL");
        if (!image_format(d.mime).empty()) {
            if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
            json_t* img = jobj();
            put(img, "format", jstr(image_format(d.mime)));
            put(img, "source", wrap("bytes", jstr(d.data)));
            return wrap("image", img);
        }
        std::string_view fmt = document_format(d.mime, filename);
        if (fmt.empty())
            reject(p + ".file_data", "unsupported document type '" + d.mime +
                                         "': Bedrock Converse accepts pdf, csv, doc, docx, xls, xlsx, html, txt, md");
        if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
        json_t* doc = jobj();
        put(doc, "format", jstr(fmt));
        put(doc, "name", jstr(document_name(filename, documents_++)));
        put(doc, "source", wrap("bytes", jstr(d.data)));
        return wrap("document", doc);
    }
    if (type == "input_audio") reject(path, "audio input is not supported by Bedrock Converse");
    reject(path + ".type", "unsupported content part type '" + std::string(type) + "' for Bedrock Converse");
}

void BodyBuilder::system_content(const json_t* content, const std::string& path) {
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(system_.get(), text_block(sv(content)));
        return;
    }
    if (!json_is_array(content)) {
        if (!present(content)) return;
        reject(path, "content must be a string or an array of text parts");
    }
    size_t i;
    const json_t* part;
    json_array_foreach(content, i, part) {
        const std::string p = path + "[" + std::to_string(i) + "]";
        std::string_view type = sv(jget(part, "type"));
        if (type != "text") reject(p + ".type", "system and developer messages may only contain text parts");
        std::string_view t = sv(jget(part, "text"));
        if (!is_blank(t)) push(system_.get(), text_block(t));
    }
}

json_t* BodyBuilder::user_blocks(const json_t* content, const std::string& path) {
    JsonPtr blocks(jarr());
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(blocks.get(), text_block(sv(content)));
    } else if (json_is_array(content)) {
        size_t i;
        const json_t* part;
        json_array_foreach(content, i, part) {
            const std::string p = path + "[" + std::to_string(i) + "]";
            if (json_is_string(part)) {
                if (!is_blank(sv(part))) push(blocks.get(), text_block(sv(part)));
                continue;
            }
            std::string_view type = sv(jget(part, "type"));
            if (type == "text") {
                std::string_view t = sv(jget(part, "text"));
                if (!is_blank(t)) push(blocks.get(), text_block(t));
            } else {
                push(blocks.get(), media_block(part, type, p, true));
            }
        }
    } else if (present(content)) {
        reject(path, "content must be a string or an array of content parts");
    }
    return blocks.release();
}

json_t* BodyBuilder::assistant_blocks(const json_t* msg, const std::string& path) {
    JsonPtr blocks(jarr());
    const json_t* content = jget(msg, "content");
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(blocks.get(), text_block(sv(content)));
    } else if (json_is_array(content)) {
        size_t i;
        const json_t* part;
        json_array_foreach(content, i, part) {
            const std::string p = path + ".content[" + std::to_string(i) + "]";
            std::string_view type = sv(jget(part, "type"));
            std::string_view t;
            if (type == "text") t = sv(jget(part, "text"));
            else if (type == "refusal") t = sv(jget(part, "refusal"));
            else reject(p + ".type", "assistant messages may only contain text and refusal parts");
            if (!is_blank(t)) push(blocks.get(), text_block(t));
        }
    } else if (present(content)) {
        reject(path + ".content", "content must be a string, an array of parts or null");
    }
    auto tool_use = [&](std::string_view id, const json_t* fn, const std::string& p) {
        std::string_view name = sv(jget(fn, "name"));
        if (name.empty()) reject(p + ".function.name", "tool call function name is required");
        const json_t* args = jget(fn, "arguments");
        JsonPtr input;
        if (json_is_string(args) && !is_blank(sv(args))) {
            input = json_parse(sv(args), nullptr);
            if (!input) reject(p + ".function.arguments", "tool call arguments are not valid JSON");
        } else if (json_is_object(args)) {
            input.reset(share(args));
        } else {
            input.reset(jobj());
        }
        json_t* tu = jobj();
        put(tu, "toolUseId", jstr(tool_use_id(id)));
        put(tu, "name", jstr(name));
        put(tu, "input", input.release());
        push(blocks.get(), wrap("toolUse", tu));
        history_tools_ = true;
        if (std::find(history_tool_names_.begin(), history_tool_names_.end(), name) == history_tool_names_.end())
            history_tool_names_.emplace_back(name);
    };
    const json_t* calls = jget(msg, "tool_calls");
    if (json_is_array(calls)) {
        size_t i;
        const json_t* c;
        json_array_foreach(calls, i, c) {
            const std::string p = path + ".tool_calls[" + std::to_string(i) + "]";
            std::string_view type = sv(jget(c, "type"));
            if (!type.empty() && type != "function") reject(p + ".type", "only function tool calls are supported");
            std::string_view id = sv(jget(c, "id"));
            if (id.empty()) reject(p + ".id", "tool call id is required");
            tool_use(id, jget(c, "function"), p);
        }
    } else if (present(calls)) {
        reject(path + ".tool_calls", "tool_calls must be an array");
    }
    const json_t* fc = jget(msg, "function_call");  // legacy
    if (json_is_object(fc)) {
        last_function_call_id_ = "function_call_" + std::string(sv(jget(fc, "name")));
        tool_use(last_function_call_id_, fc, path + ".function_call");
    }
    return blocks.release();
}

json_t* BodyBuilder::tool_result_content(const json_t* content, const std::string& path) {
    JsonPtr out(jarr());
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(out.get(), text_block(sv(content)));
    } else if (json_is_array(content)) {
        size_t i;
        const json_t* part;
        json_array_foreach(content, i, part) {
            const std::string p = path + "[" + std::to_string(i) + "]";
            std::string_view type = sv(jget(part, "type"));
            if (type == "text") {
                if (!is_blank(sv(jget(part, "text")))) push(out.get(), text_block(sv(jget(part, "text"))));
            } else if (type == "image_url") {
                push(out.get(), media_block(part, type, p, false));
            } else {
                reject(p + ".type", "tool results may only contain text and image parts");
            }
        }
    } else if (present(content)) {
        reject(path, "content must be a string or an array of parts");
    }
    // Bedrock rejects blank text; an empty tool output still has to be answered.
    if (json_array_size(out.get()) == 0) push(out.get(), text_block("(empty)"));
    return out.release();
}

void BodyBuilder::append_turn(const char* role, json_t* blocks) {
    JsonPtr owned(blocks);
    if (json_array_size(blocks) == 0) return;
    size_t n = json_array_size(messages_.get());
    json_t* last = n ? json_array_get(messages_.get(), n - 1) : nullptr;
    if (last && sv(json_object_get(last, "role")) == role) {  // consecutive same role: merge
        if (json_array_extend(json_object_get(last, "content"), blocks) != 0) throw std::bad_alloc();
        return;
    }
    json_t* m = jobj();
    put(m, "role", jstr(role));
    put(m, "content", owned.release());
    push(messages_.get(), m);
}

void BodyBuilder::convert_messages() {
    const json_t* msgs = jget(root_, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) reject("messages", "messages must be a non-empty array");
    size_t i;
    const json_t* msg;
    json_array_foreach(msgs, i, msg) {
        const std::string path = "messages[" + std::to_string(i) + "]";
        std::string_view role = sv(jget(msg, "role"));
        const json_t* content = jget(msg, "content");
        if (role == "system" || role == "developer") {
            system_content(content, path + ".content");
        } else if (role == "user") {
            json_t* b = user_blocks(content, path + ".content");
            if (json_array_size(b) == 0) {
                json_decref(b);
                reject(path + ".content", "user message content must not be empty (Bedrock rejects blank text)");
            }
            append_turn("user", b);
        } else if (role == "assistant") {
            append_turn("assistant", assistant_blocks(msg, path));  // an empty assistant turn is dropped
        } else if (role == "tool" || role == "function") {
            std::string id;
            if (role == "tool") {
                id = sv(jget(msg, "tool_call_id"));
                if (id.empty()) reject(path + ".tool_call_id", "tool messages need a tool_call_id");
            } else {
                if (last_function_call_id_.empty())
                    reject(path, "function message without a preceding assistant function_call");
                id = last_function_call_id_;
            }
            JsonPtr result(tool_result_content(content, path + ".content"));  // may reject: first
            json_t* tr = jobj();
            put(tr, "toolUseId", jstr(tool_use_id(id)));
            put(tr, "content", result.release());
            put(tr, "status", jstr("success"));
            json_t* blocks = jarr();
            push(blocks, wrap("toolResult", tr));
            history_tools_ = true;
            append_turn("user", blocks);
        } else {
            reject(path + ".role", "unsupported role '" + std::string(role) + "'");
        }
    }
    if (json_array_size(messages_.get()) == 0)
        reject("messages", "Bedrock Converse needs at least one user message besides system prompts");
    if (sv(json_object_get(json_array_get(messages_.get(), 0), "role")) != "user")
        reject("messages", "Bedrock Converse requires the first non-system message to come from the user");
}

void BodyBuilder::convert_tools(json_t* body) {
    const json_t* tools = jget(root_, "tools");
    const json_t* choice = jget(root_, "tool_choice");
    const char* tools_name = "tools";
    bool legacy = false;
    if (!present(tools) && present(jget(root_, "functions"))) {  // legacy functions / function_call
        tools = jget(root_, "functions");
        tools_name = "functions";
        legacy = true;
        choice = jget(root_, "function_call");
        if (json_is_object(choice)) choice = nullptr;  // handled below
    }
    JsonPtr specs(jarr());
    if (json_is_array(tools)) {
        size_t i;
        const json_t* t;
        json_array_foreach(tools, i, t) {
            const std::string p = std::string(tools_name) + "[" + std::to_string(i) + "]";
            std::string_view type = sv(jget(t, "type"));
            if (!legacy && !type.empty() && type != "function")
                reject(p + ".type", "only function tools are supported by Bedrock");
            const json_t* fn = legacy ? t : jget(t, "function");
            std::string_view name = sv(jget(fn, "name"));
            if (name.empty()) reject(p + (legacy ? ".name" : ".function.name"), "tool name is required");
            json_t* spec = jobj();
            put(spec, "name", jstr(name));
            std::string_view desc = sv(jget(fn, "description"));
            if (!desc.empty()) put(spec, "description", jstr(desc));
            const json_t* params = jget(fn, "parameters");
            json_t* schema;
            if (json_is_object(params)) {
                schema = share(params);
            } else {
                schema = jobj();
                put(schema, "type", jstr("object"));
                put(schema, "properties", jobj());
            }
            put(spec, "inputSchema", wrap("json", schema));
            push(specs.get(), wrap("toolSpec", spec));
        }
    } else if (present(tools)) {
        reject(tools_name, std::string(tools_name) + " must be an array");
    }
    if (legacy && json_is_object(jget(root_, "function_call"))) {
        std::string_view name = sv(jget(jget(root_, "function_call"), "name"));
        if (name.empty()) reject("function_call.name", "function_call name is required");
        choice = nullptr;
        JsonPtr forced(wrap("tool", wrap("name", jstr(name))));
        return finish_tool_config(body, specs, forced, false);
    }

    JsonPtr tc;  // toolChoice
    bool choice_none = false;
    const char* cname = legacy ? "function_call" : "tool_choice";
    if (json_is_string(choice)) {
        std::string_view c = sv(choice);
        if (c == "auto") tc.reset(wrap("auto", jobj()));
        else if (c == "required" && !legacy) tc.reset(wrap("any", jobj()));
        else if (c == "none") choice_none = true;
        else reject(cname, std::string(cname) + " must be none, auto, required or a function");
    } else if (json_is_object(choice)) {
        std::string_view name = sv(jget(jget(choice, "function"), "name"));
        if (name.empty()) reject("tool_choice.function.name", "tool_choice function name is required");
        tc.reset(wrap("tool", wrap("name", jstr(name))));
    } else if (present(choice)) {
        reject(cname, std::string(cname) + " must be a string or an object");
    }
    finish_tool_config(body, specs, tc, choice_none);
}

void BodyBuilder::finish_tool_config(json_t* body, JsonPtr& specs, JsonPtr& tc, bool choice_none) {
    if (json_array_size(specs.get()) == 0) {
        // §2.4 / §5.2: Bedrock rejects a conversation holding toolUse/toolResult blocks unless
        // toolConfig is present. With no tools in the request, declare a placeholder tool (the
        // LiteLLM approach) so the history stays valid; the model is told not to call it.
        if (!history_tools_) return;
        json_t* schema = jobj();
        put(schema, "type", jstr("object"));
        put(schema, "properties", jobj());
        json_t* spec = jobj();
        put(spec, "name", jstr(kDummyToolName));
        put(spec, "description", jstr("Placeholder required for conversations with earlier tool calls. Never call it."));
        put(spec, "inputSchema", wrap("json", schema));
        push(specs.get(), wrap("toolSpec", spec));
        tc.reset();
    } else if (choice_none && !history_tools_) {
        return;  // tool_choice none: no Converse equivalent; without tool history omit toolConfig
    }
    json_t* cfg = jobj();
    put(cfg, "tools", specs.release());
    if (tc) put(cfg, "toolChoice", tc.release());
    put(body, "toolConfig", cfg);
}

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void BodyBuilder::inference_config(json_t* body) {
    JsonPtr ic(jobj());
    const json_t* cap = jget(root_, "max_completion_tokens");
    const char* cap_name = "max_completion_tokens";
    if (!present(cap)) {
        cap = jget(root_, "max_tokens");
        cap_name = "max_tokens";
    }
    if (present(cap)) {
        if (!json_is_integer(cap) || json_integer_value(cap) < 1)
            reject(cap_name, std::string(cap_name) + " must be a positive integer");
        put(ic.get(), "maxTokens", need(json_integer(json_integer_value(cap))));
    }
    const json_t* t = jget(root_, "temperature");
    if (present(t)) {
        if (!json_is_number(t)) reject("temperature", "temperature must be a number");
        put(ic.get(), "temperature", need(json_real(clamp01(json_number_value(t)))));  // Converse range 0..1
    }
    const json_t* tp = jget(root_, "top_p");
    if (present(tp)) {
        if (!json_is_number(tp)) reject("top_p", "top_p must be a number");
        put(ic.get(), "topP", need(json_real(clamp01(json_number_value(tp)))));
    }
    const json_t* stop = jget(root_, "stop");
    if (present(stop)) {
        JsonPtr seqs(jarr());
        if (json_is_string(stop)) {
            if (json_string_length(stop)) push(seqs.get(), share(stop));
        } else if (json_is_array(stop)) {
            size_t i;
            const json_t* s;
            json_array_foreach(stop, i, s) {
                if (!json_is_string(s)) reject("stop", "stop must be a string or an array of strings");
                if (json_string_length(s)) push(seqs.get(), share(s));
            }
        } else {
            reject("stop", "stop must be a string or an array of strings");
        }
        if (json_array_size(seqs.get())) put(ic.get(), "stopSequences", seqs.release());
    }
    if (json_object_size(ic.get())) put(body, "inferenceConfig", ic.release());

    // model-native parameters (Claude, Mistral, Llama... accept top_k under this name)
    const json_t* tk = jget(root_, "top_k");
    if (present(tk)) {
        if (!json_is_integer(tk) || json_integer_value(tk) < 0) reject("top_k", "top_k must be a non-negative integer");
        put(body, "additionalModelRequestFields", wrap("top_k", need(json_integer(json_integer_value(tk)))));
    }
}

void BodyBuilder::check_unsupported() {
    const json_t* n = jget(root_, "n");
    if (present(n) && (!json_is_integer(n) || json_integer_value(n) != 1))
        reject("n", "Bedrock Converse returns one choice; n must be 1");
    const json_t* rf = jget(root_, "response_format");
    if (present(rf)) {
        std::string_view type = sv(jget(rf, "type"));
        if (type != "text")
            reject("response_format", "response_format '" + std::string(type) +
                                          "' is not supported by the Bedrock Converse adapter");
    }
}

std::string BodyBuilder::build() {
    if (!json_is_object(root_)) reject("", "the request body is not a JSON object");
    check_unsupported();
    convert_messages();
    JsonPtr body(jobj());
    put(body.get(), "messages", messages_.release());
    if (json_array_size(system_.get())) put(body.get(), "system", system_.release());
    inference_config(body.get());
    convert_tools(body.get());
    std::string out;
    json_dump_append(out, body.get());
    return out;
}

// ------------------------------------------------------------------------------------------------
// Errors (§5.7, §2.6)
// ------------------------------------------------------------------------------------------------

// "ThrottlingException:http://internal.amazon.com/..." / "com.amazon.coral.validate#ValidationException"
// -> "ThrottlingException"; a camelCase stream exception type ("throttlingException") is capitalised.
std::string normalize_error_type(std::string_view t) {
    size_t hash = t.rfind('#');
    if (hash != std::string_view::npos) t = t.substr(hash + 1);
    size_t colon = t.find(':');
    if (colon != std::string_view::npos) t = t.substr(0, colon);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    std::string out(t);
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

bool context_too_long(std::string_view msg) {
    return icontains(msg, "too long") || icontains(msg, "context length") || icontains(msg, "context window") ||
           icontains(msg, "too many input tokens") || icontains(msg, "maximum context") ||
           icontains(msg, "input length");
}

bool is_credential_error(std::string_view t) {
    return t == "UnrecognizedClientException" || t == "InvalidSignatureException" ||
           t == "IncompleteSignatureException" || t == "MissingAuthenticationTokenException" ||
           t == "ExpiredTokenException" || t == "InvalidClientTokenId" || t == "SignatureDoesNotMatch" ||
           t == "MissingAuthenticationToken" || t == "ExpiredToken";
}

// The shared mapping: AWS error type (normalised), HTTP status (0 = unknown, e.g. a stream
// exception) and the provider's message -> verdict.
ErrorVerdict classify(std::string_view type, int status, std::string_view raw_message) {
    ErrorVerdict v;
    ApiError& a = v.error;
    std::string msg = clean_message(raw_message);
    // AWS signature errors echo the canonical request, which holds the session token: never relay.
    if (type == "InvalidSignatureException" || type == "SignatureDoesNotMatch" || icontains(msg, "canonical string") ||
        icontains(msg, "string-to-sign"))
        msg = "Bedrock rejected the request signature of the configured credentials";
    auto set = [&](int st, const char* t, const char* code, bool retry, bool park, int64_t park_ms = -1) {
        a.status = st;
        a.type = t;
        a.code = code ? code : "";
        v.retry = retry;
        v.park_key = park;
        v.park_ms = park ? park_ms : -1;
    };
    if (type == "ThrottlingException") {
        set(429, "rate_limit_error", "rate_limit_exceeded", true, true);
    } else if (type == "ServiceUnavailableException") {
        set(503, "server_error", "overloaded", true, true);
    } else if (type == "ModelNotReadyException") {
        set(503, "server_error", "model_not_ready", true, true);
    } else if (type == "InternalServerException" || type == "InternalFailure") {
        set(status >= 500 && status <= 599 ? status : 500, "server_error", nullptr, true, true);
    } else if (type == "ServiceQuotaExceededException") {
        // "You can resubmit your request later": this key's account quota is used up for now.
        set(429, "rate_limit_error", "quota_exceeded", true, true);
    } else if (type == "ModelTimeoutException") {
        set(504, "timeout_error", "model_timeout", true, false);
    } else if (type == "ModelStreamErrorException") {
        set(502, "server_error", "model_stream_error", true, false);
    } else if (type == "ModelErrorException") {
        // the model failed on this input: another key runs the same model, so no retry
        set(502, "server_error", "model_error", false, false);
    } else if (type == "ValidationException") {
        set(400, "invalid_request_error", context_too_long(msg) ? "context_length_exceeded" : nullptr, false, false);
    } else if (type == "AccessDeniedException") {
        // this account cannot use the model (or the key is revoked): another key may serve it
        set(403, "permission_error", "access_denied", true, true, kLongParkMs);
    } else if (is_credential_error(type)) {
        set(401, "authentication_error", "invalid_credentials", true, true, kLongParkMs);
    } else if (type == "ResourceNotFoundException") {
        set(404, "not_found_error", icontains(msg, "model") ? "model_not_found" : nullptr, false, false);
    } else if (type == "ConflictException") {
        set(409, "conflict_error", nullptr, true, false);
    } else if (status == 429) {
        set(429, "rate_limit_error", "rate_limit_exceeded", true, true);
    } else if (status >= 500) {
        set(status <= 599 ? status : 500, "server_error", nullptr, true, true);
    } else if (status == 408) {
        set(504, "timeout_error", nullptr, true, false);
    } else if (status == 401 || status == 403) {
        set(status, status == 401 ? "authentication_error" : "permission_error", nullptr, true, true, kLongParkMs);
    } else if (status >= 400) {
        set(status, std::string(openai_error_type_for_status(status)).c_str(), nullptr, false, false);
        if (status == 400 && context_too_long(msg)) a.code = "context_length_exceeded";
    } else {
        set(502, "server_error", nullptr, true, true);  // an unnamed error signalled with a 2xx
    }
    if (msg.empty()) {
        a.message = "Bedrock request failed";
        if (!type.empty()) a.message += " (" + std::string(type) + ")";
        else if (status) a.message += " with HTTP status " + std::to_string(status);
    } else {
        a.message = msg;
        if (!type.empty() && msg.find(type) == std::string::npos) a.message += " (" + std::string(type) + ")";
    }
    return v;
}

// `data: {"error":{...}}`
std::string error_event(const ApiError& a) { return openai_error_event(a); }

std::string stream_error_event(std::string_view message, std::string_view code) {
    return OpenAIStreamRelay::error_event(message, code);
}

// ------------------------------------------------------------------------------------------------
// Response translation (§5.3, §5.5)
// ------------------------------------------------------------------------------------------------

struct UsageAcc {
    int64_t input = -1, output = -1, cache_read = -1, cache_write = -1, total = -1;

    void read(const json_t* u) {
        if (!json_is_object(u)) return;
        auto take = [&](const char* k, const char* alt, int64_t* dst) {
            const json_t* v = json_object_get(u, k);
            if (!json_is_integer(v) && alt) v = json_object_get(u, alt);
            if (json_is_integer(v)) *dst = json_integer_value(v);
        };
        take("inputTokens", nullptr, &input);
        take("outputTokens", nullptr, &output);
        take("totalTokens", nullptr, &total);
        take("cacheReadInputTokens", "cacheReadInputTokenCount", &cache_read);
        take("cacheWriteInputTokens", "cacheWriteInputTokenCount", &cache_write);
    }
    bool known() const { return input >= 0 || output >= 0; }
    // §2.2: prompt = input + cacheRead + cacheWrite (inputTokens excludes both), completion = output.
    Usage usage() const {
        Usage u;
        if (!known()) return u;
        u.prompt_tokens = std::max<int64_t>(input, 0) + std::max<int64_t>(cache_read, 0) + std::max<int64_t>(cache_write, 0);
        u.completion_tokens = std::max<int64_t>(output, 0);
        u.total_tokens = u.prompt_tokens + u.completion_tokens;
        u.cached_tokens = std::max<int64_t>(cache_read, 0);
        return u;
    }
    void append_json(std::string& out) const {
        Usage u = usage();
        auto n = [](int64_t v) { return std::to_string(v < 0 ? 0 : v); };
        out += "{\"prompt_tokens\":" + n(u.prompt_tokens) + ",\"completion_tokens\":" + n(u.completion_tokens) +
               ",\"total_tokens\":" + n(u.total_tokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":" +
               n(u.cached_tokens);
        if (cache_write >= 0) out += ",\"cache_write_tokens\":" + n(cache_write);
        out += "}}";
    }
};

std::string_view map_stop_reason(std::string_view r) {
    if (r == "tool_use") return "tool_calls";
    if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
    if (r == "guardrail_intervened" || r == "content_filtered") return "content_filter";
    return "stop";  // end_turn, stop_sequence, malformed_model_output, malformed_tool_use, unknown
}

// §2.1: a message with tool calls finishes with tool_calls -- unless it was cut short (length:
// the last call's arguments are truncated JSON) or filtered (content_filter).
std::string_view finish_reason(std::string_view stop_reason, size_t tool_calls) {
    std::string_view f = map_stop_reason(stop_reason);
    if (tool_calls > 0 && f == "stop") return "tool_calls";
    return f;
}

class BedrockTranslator final : public ResponseTranslator {
public:
    explicit BedrockTranslator(const TranslatorOptions& opt) : opt_(opt), dec_(kMaxStreamMessage) {
        if (opt_.created == 0) opt_.created = static_cast<int64_t>(std::time(nullptr));
        if (opt_.id.empty()) opt_.id = "chatcmpl-bedrock";
        prefix_ = "{\"id\":";
        append_quoted(prefix_, opt_.id);
        prefix_ += ",\"object\":\"";
        prefix_ += opt_.stream ? "chat.completion.chunk" : "chat.completion";
        prefix_ += "\",\"created\":" + std::to_string(opt_.created) + ",\"model\":";
        append_quoted(prefix_, opt_.model);
        prefix_ += ',';
    }

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }

private:
    struct Block {
        int64_t index;
        bool tool;
        size_t ordinal;      // tool-call index (tools only)
        bool args_sent;
    };

    void on_message(const EsMessage& m, std::string* out);
    void handle(std::string_view type, const json_t* d, std::string* out);
    void chunk(std::string* out, std::string_view delta, std::string_view finish = {});
    void ensure_started(std::string* out);
    void end_stream(std::string* out);
    void fail(std::string* out, const std::string& event);
    Block* block(int64_t index);
    bool finish_json(std::string* out);

    TranslatorOptions opt_;
    std::string prefix_;
    EventStreamDecoder dec_;
    std::string json_;  // non-streaming body
    bool started_ = false, stop_seen_ = false, meta_seen_ = false;
    bool complete_ = false, error_ = false, broken_ = false, done_ = false;
    std::string stop_reason_;
    std::vector<Block> blocks_;
    size_t tool_calls_ = 0;
    UsageAcc acc_;
    Usage usage_;
    std::string tmp_;
};

void BedrockTranslator::chunk(std::string* out, std::string_view delta, std::string_view finish) {
    out->append("data: ");
    out->append(prefix_);
    out->append("\"choices\":[{\"index\":0,\"delta\":");
    out->append(delta);
    out->append(",\"logprobs\":null,\"finish_reason\":");
    if (finish.empty()) {
        out->append("null");
    } else {
        out->push_back('"');
        out->append(finish);
        out->push_back('"');
    }
    out->append("}]");
    if (opt_.include_usage) out->append(",\"usage\":null");
    out->append("}\n\n");
}

void BedrockTranslator::ensure_started(std::string* out) {
    if (started_) return;
    started_ = true;
    chunk(out, "{\"role\":\"assistant\",\"content\":\"\"}");
}

void BedrockTranslator::fail(std::string* out, const std::string& event) {
    if (!error_ && !done_) out->append(event);
    error_ = true;
    broken_ = true;
}

void BedrockTranslator::end_stream(std::string* out) {
    ensure_started(out);
    chunk(out, "{}", finish_reason(stop_reason_, tool_calls_));
    usage_ = acc_.usage();
    if (opt_.include_usage) {
        out->append("data: ");
        out->append(prefix_);
        out->append("\"choices\":[],\"usage\":");
        acc_.append_json(*out);
        out->append("}\n\n");
    }
    out->append("data: [DONE]\n\n");
    done_ = complete_ = true;
}

BedrockTranslator::Block* BedrockTranslator::block(int64_t index) {
    for (auto& b : blocks_)
        if (b.index == index) return &b;
    return nullptr;
}

void BedrockTranslator::handle(std::string_view type, const json_t* d, std::string* out) {
    if (type == "messageStart") {
        ensure_started(out);
    } else if (type == "contentBlockStart") {
        const json_t* idx = jget(d, "contentBlockIndex");
        const json_t* tu = jget(jget(d, "start"), "toolUse");
        if (!json_is_object(tu)) return;  // text / other blocks need no announcement
        if (!json_is_integer(idx)) return fail(out, stream_error_event("malformed contentBlockStart", "upstream_protocol_error"));
        if (block(json_integer_value(idx))) return;  // duplicate start: keep the first
        ensure_started(out);
        Block b{json_integer_value(idx), true, tool_calls_++, false};
        blocks_.push_back(b);
        tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b.ordinal) + ",\"id\":";
        append_quoted(tmp_, sv(jget(tu, "toolUseId")));
        tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
        append_quoted(tmp_, sv(jget(tu, "name")));
        tmp_ += ",\"arguments\":\"\"}}]}";
        chunk(out, tmp_);
    } else if (type == "contentBlockDelta") {
        const json_t* delta = jget(d, "delta");
        const json_t* idx = jget(d, "contentBlockIndex");
        if (const json_t* text = jget(delta, "text"); json_is_string(text)) {
            if (json_string_length(text) == 0) return;
            ensure_started(out);
            tmp_ = "{\"content\":";
            append_quoted(tmp_, sv(text));
            tmp_ += '}';
            chunk(out, tmp_);
        } else if (const json_t* tu = jget(delta, "toolUse"); json_is_object(tu)) {
            Block* b = json_is_integer(idx) ? block(json_integer_value(idx)) : nullptr;
            if (!b || !b->tool)
                return fail(out, stream_error_event("upstream sent tool input for a block that is not a tool call",
                                                    "upstream_protocol_error"));
            std::string_view in = sv(jget(tu, "input"));
            if (in.empty()) return;
            b->args_sent = true;
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, in);
            tmp_ += "}}]}";
            chunk(out, tmp_);
        } else if (const json_t* rc = jget(delta, "reasoningContent"); json_is_object(rc)) {
            // text -> reasoning_content; signature / redactedContent are opaque and dropped
            std::string_view t = sv(jget(rc, "text"));
            if (t.empty()) return;
            ensure_started(out);
            tmp_ = "{\"reasoning_content\":";
            append_quoted(tmp_, t);
            tmp_ += '}';
            chunk(out, tmp_);
        }
        // citation, image, toolResult deltas: nothing in the OpenAI chunk shape
    } else if (type == "contentBlockStop") {
        const json_t* idx = jget(d, "contentBlockIndex");
        Block* b = json_is_integer(idx) ? block(json_integer_value(idx)) : nullptr;
        if (b && b->tool && !b->args_sent) {  // a call without arguments still gets valid JSON
            b->args_sent = true;
            chunk(out, "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":\"{}\"}}]}");
        }
    } else if (type == "messageStop") {
        stop_reason_ = sv(jget(d, "stopReason"));
        stop_seen_ = true;
        if (meta_seen_) end_stream(out);
    } else if (type == "metadata") {
        acc_.read(jget(d, "usage"));
        usage_ = acc_.usage();
        meta_seen_ = true;
        if (stop_seen_) end_stream(out);
    }
    // unknown event types are ignored (forward compatibility)
}

void BedrockTranslator::on_message(const EsMessage& m, std::string* out) {
    if (broken_ || done_) return;
    std::string_view mtype = m.string_header(":message-type");
    if (mtype == "exception") {
        std::string_view etype = m.string_header(":exception-type");
        JsonPtr p = json_parse(m.payload, nullptr);
        std::string_view msg = sv(jget(p.get(), "message"));
        if (msg.empty()) msg = sv(jget(p.get(), "Message"));
        ErrorVerdict v = classify(normalize_error_type(etype), 0, msg);
        return fail(out, error_event(v.error));
    }
    if (mtype == "error") {
        std::string code = normalize_error_type(m.string_header(":error-code"));
        ErrorVerdict v = classify(code, 0, m.string_header(":error-message"));
        return fail(out, error_event(v.error));
    }
    if (mtype != "event") return;  // unknown message types are ignored
    std::string_view etype = m.string_header(":event-type");
    std::string perr;
    JsonPtr d = json_parse(m.payload, &perr);
    if (!json_is_object(d.get()))
        return fail(out, stream_error_event("upstream sent an event whose payload is not a JSON object",
                                            "upstream_protocol_error"));
    handle(etype, d.get(), out);
}

bool BedrockTranslator::feed(std::string_view bytes, std::string* out) {
    if (broken_) return false;
    try {
        if (!opt_.stream) {
            if (json_.size() + bytes.size() > kMaxJsonAnswer) {
                broken_ = error_ = true;
                ApiError a;
                a.status = 502;
                a.type = "server_error";
                a.code = "upstream_response_too_large";
                a.message = "upstream answer too large";
                out->append(openai_error_body(a));
                json_.clear();
                return false;
            }
            json_.append(bytes);
            return true;
        }
        if (done_) return true;  // trailing bytes after a complete answer are ignored
        bool ok = dec_.feed(bytes, [this, out](const EsMessage& m) { on_message(m, out); });
        if (!ok) {
            const bool too_large = dec_.error().find("exceeds the limit") != std::string::npos;
            fail(out, stream_error_event(too_large ? "upstream sent an event larger than the gateway accepts"
                                                   : "upstream sent a corrupt event stream: " + dec_.error(),
                                         too_large ? "stream_event_too_large" : "upstream_protocol_error"));
            return false;
        }
        return !broken_;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

bool BedrockTranslator::finish_json(std::string* out) {
    JsonPtr root = json_parse(json_, nullptr);
    json_.clear();
    json_.shrink_to_fit();
    const json_t* msg = jget(jget(root.get(), "output"), "message");
    if (!json_is_object(msg)) {
        ApiError a;
        a.status = 502;
        a.type = "server_error";
        a.code = "upstream_protocol_error";
        a.message = root ? "upstream answer has no output.message" : "upstream answer is not valid JSON";
        out->append(openai_error_body(a));
        error_ = true;
        return false;
    }
    std::string text, reasoning, calls;
    size_t ncalls = 0;
    const json_t* content = jget(msg, "content");
    size_t i;
    const json_t* b;
    json_array_foreach(content, i, b) {
        if (const json_t* t = jget(b, "text"); json_is_string(t)) {
            text += sv(t);
        } else if (const json_t* tu = jget(b, "toolUse"); json_is_object(tu)) {
            calls += ncalls ? "," : "";
            calls += "{\"id\":";
            append_quoted(calls, sv(jget(tu, "toolUseId")));
            calls += ",\"type\":\"function\",\"function\":{\"name\":";
            append_quoted(calls, sv(jget(tu, "name")));
            calls += ",\"arguments\":";
            std::string args;
            const json_t* input = jget(tu, "input");
            if (present(input)) json_dump_append(args, input);
            else args = "{}";
            append_quoted(calls, args);
            calls += "}}";
            ++ncalls;
        } else if (const json_t* rc = jget(b, "reasoningContent"); json_is_object(rc)) {
            reasoning += sv(jget(jget(rc, "reasoningText"), "text"));
        }
    }
    acc_.read(jget(root.get(), "usage"));
    usage_ = acc_.usage();
    std::string& o = *out;
    o += prefix_;
    o += "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
    if (text.empty() && ncalls) o += "null";
    else append_quoted(o, text);
    if (!reasoning.empty()) {
        o += ",\"reasoning_content\":";
        append_quoted(o, reasoning);
    }
    if (ncalls) o += ",\"tool_calls\":[" + calls + "]";
    o += ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"";
    o += finish_reason(sv(jget(root.get(), "stopReason")), ncalls);
    o += "\"}]";
    if (acc_.known()) {
        o += ",\"usage\":";
        acc_.append_json(o);
    }
    o += '}';
    complete_ = true;
    return true;
}

bool BedrockTranslator::finish(std::string* out) {
    if (broken_) return false;
    try {
        if (!opt_.stream) return finish_json(out);
        if (done_) return true;
        if (dec_.pending() > 0)
            fail(out, stream_error_event("upstream stream ended in the middle of an event", "stream_truncated"));
        else
            fail(out, stream_error_event(stop_seen_ ? "upstream stream ended before its metadata event"
                                                    : "upstream stream ended before messageStop",
                                         "stream_truncated"));
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

// ------------------------------------------------------------------------------------------------
// Transport
// ------------------------------------------------------------------------------------------------

bool region_ok(std::string_view r) {
    if (r.empty() || r.size() > 32) return false;
    for (char c : r)
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
            return false;
    return true;
}

bool uses_api_key(const ProviderKey& key) {
    std::string_view auth = json_string_view(key.metadata.get(), "auth");
    return auth == "api_key" || auth == "bearer";
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------

// The model id travels in the URL (bedrock_path) and the key only signs; neither shapes the body.
bool bedrock_build_body(const ChatRequest& req, std::string_view /*upstream_model*/, const ProviderKey& /*key*/,
                        std::string* out, ApiError* err) {
    try {
        BodyBuilder b(request_json(req));
        *out = b.build();
        return true;
    } catch (const BuildError& e) {
        if (err) {
            err->status = 400;
            err->type = "invalid_request_error";
            err->param = e.param;
            err->code = "";
            err->message = e.message;
        }
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        if (err) {
            err->status = 500;
            err->type = "server_error";
            err->param = "";
            err->code = "";
            err->message = "internal error while building the Bedrock request";
        }
        return false;
    }
}

std::unique_ptr<ResponseTranslator> bedrock_translator(const TranslatorOptions& opt) {
    return std::make_unique<BedrockTranslator>(opt);
}

ErrorVerdict bedrock_classify_error(int status, std::string_view body, std::string_view amzn_error_type) {
    try {
        std::string type = normalize_error_type(amzn_error_type);
        std::string message;
        JsonPtr root = json_parse(body, nullptr);
        if (json_is_object(root.get())) {
            message = sv(jget(root.get(), "message"));
            if (message.empty()) message = sv(jget(root.get(), "Message"));
            if (message.empty()) message = sv(jget(jget(root.get(), "error"), "message"));
            if (type.empty()) type = normalize_error_type(sv(jget(root.get(), "__type")));
            if (type.empty()) type = normalize_error_type(sv(jget(root.get(), "code")));
        } else {
            std::string_view b = body.substr(0, 512);
            for (unsigned char c : b) message += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
            while (!message.empty() && message.back() == ' ') message.pop_back();
            size_t s = message.find_first_not_of(' ');
            message = s == std::string::npos ? std::string() : message.substr(s);
        }
        return classify(type, status, message);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        ErrorVerdict v;
        v.retry = status >= 500 || status == 429;
        v.park_key = v.retry;
        v.error.status = status >= 400 ? status : 502;
        v.error.type = std::string(openai_error_type_for_status(v.error.status));
        v.error.message = "Bedrock request failed with HTTP status " + std::to_string(status);
        return v;
    }
}

std::string bedrock_path(std::string_view upstream_model, bool stream) {
    std::string p = "/model/";
    sigv4_uri_encode_append(p, upstream_model, false);  // the whole id is one segment (':' '/' encoded)
    p += stream ? "/converse-stream" : "/converse";
    return p;
}

std::string bedrock_default_host(const ProviderKey& key) {
    std::string_view region = json_string_view(key.metadata.get(), "region");
    if (!region_ok(region)) return {};
    return "bedrock-runtime." + std::string(region) + ".amazonaws.com";
}

bool bedrock_validate_key(const ProviderKey& key, std::string* error) {
    auto fail = [error](std::string m) {
        if (error) *error = std::move(m);
        return false;
    };
    const json_t* md = key.metadata.get();
    const json_t* region = json_object_get(md, "region");
    if (!json_is_string(region) || json_string_length(region) == 0)
        return fail("bedrock key metadata needs \"region\" (e.g. \"us-east-1\")");
    if (!region_ok(sv(region))) return fail("bedrock key metadata \"region\" is not a valid AWS region name");
    const json_t* auth = json_object_get(md, "auth");
    if (present(auth) && !uses_api_key(key) && sv(auth) != "sigv4")
        return fail("bedrock key metadata \"auth\" must be \"sigv4\" (default) or \"api_key\"");
    if (key.secret.empty()) return fail("bedrock key has an empty secret");
    if (!header_safe(key.secret)) return fail("bedrock key secret contains control characters");
    if (uses_api_key(key)) return true;
    const json_t* akid = json_object_get(md, "access_key_id");
    if (!json_is_string(akid) || json_string_length(akid) == 0)
        return fail("bedrock key metadata needs \"access_key_id\" (the secret is the secret access key), "
                    "or \"auth\":\"api_key\" for a Bedrock API key");
    std::string_view a = sv(akid);
    for (char c : a)
        if (!std::isalnum(static_cast<unsigned char>(c))) return fail("bedrock key metadata \"access_key_id\" is malformed");
    const json_t* tok = json_object_get(md, "session_token");
    if (present(tok)) {
        if (!json_is_string(tok)) return fail("bedrock key metadata \"session_token\" must be a string");
        if (!header_safe(sv(tok))) return fail("bedrock key metadata \"session_token\" contains control characters");
    }
    return true;
}

namespace {

// The signed request; `with_body` false stops after the head (the transport sends the body from
// its own buffer).
bool bedrock_request(const std::string& host, const std::string& host_header, const std::string& path,
                     const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix, bool with_body,
                     std::string* out, std::string* error) {
    try {
        if (!bedrock_validate_key(key, error)) return false;
        std::string hh = !host_header.empty() ? host_header : !host.empty() ? host : bedrock_default_host(key);
        if (hh.empty() || !header_safe(hh) || hh.find(' ') != std::string::npos) {
            if (error) *error = "bedrock: invalid Host";
            return false;
        }
        if (path.empty() || path[0] != '/' || !header_safe(path) || path.find(' ') != std::string::npos) {
            if (error) *error = "bedrock: invalid request path";
            return false;
        }
        const std::string_view accept = stream ? "application/vnd.amazon.eventstream" : "application/json";
        std::string& o = *out;
        o.clear();
        o.reserve(body.size() + 1024);
        o += "POST ";
        o += path;
        o += " HTTP/1.1\r\nHost: ";
        o += hh;
        o += "\r\nContent-Type: application/json\r\nContent-Length: ";
        o += std::to_string(body.size());
        o += "\r\nAccept: ";
        o += accept;
        o += "\r\nUser-Agent: RouteShift/0.1\r\n";
        if (uses_api_key(key)) {
            o += "Authorization: Bearer ";
            o += key.secret;
            o += "\r\n\r\n";
            if (with_body) o += body;
            return true;
        }
        const std::string amz_date = sigv4_amz_date(now_unix);
        SigV4Request r;
        r.method = "POST";
        r.host = hh;
        std::string_view p = path;
        size_t q = p.find('?');
        r.path = p.substr(0, q);
        if (q != std::string_view::npos) r.query = p.substr(q + 1);
        r.headers = {{"Content-Type", "application/json"}, {"Accept", std::string(accept)}};
        r.payload = body;
        r.region = json_string_view(key.metadata.get(), "region");
        r.service = "bedrock";
        r.access_key_id = json_string_view(key.metadata.get(), "access_key_id");
        r.secret_key = key.secret;
        r.session_token = json_string_view(key.metadata.get(), "session_token");
        r.amz_date = amz_date;
        SigV4Result res;
        std::string serr;
        if (!sigv4_sign(r, &res, &serr)) {
            if (error) *error = "bedrock: " + serr;
            o.clear();
            return false;
        }
        o += "X-Amz-Date: ";
        o += amz_date;
        o += "\r\n";
        if (!r.session_token.empty()) {
            o += "X-Amz-Security-Token: ";
            o += r.session_token;
            o += "\r\n";
        }
        o += "Authorization: ";
        o += res.authorization;
        o += "\r\n\r\n";
        if (with_body) o += body;
        return true;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        if (error) *error = "bedrock: internal error while building the request";
        return false;
    }
}

}  // namespace

bool bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error) {
    return bedrock_request(host, host_header, path, key, stream, body, now_unix, true, out, error);
}

bool bedrock_request_head(const std::string& host, const std::string& host_header, const std::string& path,
                          const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix,
                          std::string* out, std::string* error) {
    return bedrock_request(host, host_header, path, key, stream, body, now_unix, false, out, error);
}

std::string bedrock_http_request(const std::string& host, const std::string& host_header, const std::string& path,
                                 const ProviderKey& key, bool stream, std::string_view body, int64_t now_unix) {
    std::string out, err;
    if (!bedrock_http_request(host, host_header, path, key, stream, body, now_unix, &out, &err)) return {};
    return out;
}

}  // namespace routeshift
