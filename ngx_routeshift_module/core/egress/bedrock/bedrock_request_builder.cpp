// Bedrock Converse request builder: OpenAI chat request DOM -> Converse body. The model id goes in
// the URL (bedrock_path), never in the body.
#include "egress/bedrock/bedrock_internal.hpp"

#include "egress/bedrock/sigv4.hpp"
#include "egress/cannot_express.hpp"

#include <algorithm>
#include <vector>

namespace routeshift {

using namespace bedrock_internal;

namespace {

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

// A request Converse cannot express (or a malformed field): the shared CannotExpress.
[[noreturn]] void reject(std::string param, std::string message) { cannot_express(std::move(param), std::move(message)); }

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
    if (url.size() < 5 || to_ascii_lower(url.substr(0, 5)) != "data:") return false;
    size_t comma = url.find(',');
    if (comma == std::string_view::npos) return false;
    std::string meta = to_ascii_lower(url.substr(5, comma - 5));
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
        std::string ext = to_ascii_lower(filename.substr(dot + 1));
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
// Request body
// ------------------------------------------------------------------------------------------------

class BodyBuilder {
public:
    explicit BodyBuilder(const json_t* root) : root_(root) {}
    std::string build();

private:
    json_t* text_block(std::string_view text) { return wrap("text", new_json_string(text)); }
    // Converse rejects a blank text block, so blank text is left out instead.
    void append_text_block_unless_blank(json_t* blocks, std::string_view text) {
        if (!is_blank(text)) append_json_element(blocks, text_block(text));
    }
    // Content that is a string (one text block unless blank, appended to `blocks`) or an array of
    // parts (each given to `visit(part, part_path)`); anything else present is rejected.
    template <class Visit>
    void visit_content(const json_t* content, const std::string& path, json_t* blocks, const char* not_content, Visit&& visit) {
        if (json_is_string(content)) {
            append_text_block_unless_blank(blocks, json_string_view(content));
        } else if (json_is_array(content)) {
            size_t i;
            const json_t* part;
            json_array_foreach(content, i, part) visit(part, path + "[" + std::to_string(i) + "]");
        } else if (json_present(content)) {
            reject(path, not_content);
        }
    }
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
    JsonPtr system_{new_json_array()};
    JsonPtr messages_{new_json_array()};
    bool history_tools_ = false;  // toolUse/toolResult blocks in the conversation
    std::vector<std::string> history_tool_names_;
    size_t documents_ = 0;
    std::string last_function_call_id_;  // legacy function_call / role "function" pairing
};

json_t* BodyBuilder::media_block(const json_t* part, std::string_view type, const std::string& path,
                                 bool allow_documents) {
    if (type == "image_url") {
        const json_t* iu = json_object_get(part, "image_url");
        std::string_view url = json_is_string(iu) ? json_string_view(iu) : json_string_view(iu, "url");
        const std::string p = path + ".image_url.url";
        if (url.empty()) reject(p, "image_url.url is required");
        DataUrl d;
        if (!parse_data_url(url, &d)) {
            if (to_ascii_lower(url.substr(0, 8)) == "https://" || to_ascii_lower(url.substr(0, 7)) == "http://")
                reject(p, "Bedrock Converse does not fetch image URLs; send the image inline as a data: URL "
                          "(data:image/png;base64,...)");
            reject(p, "image_url.url must be a base64 data: URL (data:image/<png|jpeg|gif|webp>;base64,...)");
        }
        std::string_view fmt = image_format(d.mime);
        if (fmt.empty())
            reject(p, "unsupported image type '" + d.mime + "': Bedrock Converse accepts png, jpeg, gif and webp");
        if (!base64_ok(d.data)) reject(p, "the image data is not valid base64");
        json_t* img = new_json_object();
        set_json_member(img, "format", new_json_string(fmt));
        set_json_member(img, "source", wrap("bytes", new_json_string(d.data)));
        return wrap("image", img);
    }
    if (type == "file" && allow_documents) {
        const json_t* f = json_object_get(part, "file");
        const std::string p = path + ".file";
        if (json_present(json_object_get(f, "file_id")) && !json_present(json_object_get(f, "file_data")))
            reject(p + ".file_id", "file_id references are not supported by Bedrock Converse; send file_data");
        std::string_view data = json_string_view(f, "file_data");
        std::string_view filename = json_string_view(f, "filename");
        DataUrl d;
        if (!parse_data_url(data, &d)) reject(p + ".file_data", "file_data must be a base64 data: URL");
        if (!image_format(d.mime).empty()) {
            if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
            json_t* img = new_json_object();
            set_json_member(img, "format", new_json_string(image_format(d.mime)));
            set_json_member(img, "source", wrap("bytes", new_json_string(d.data)));
            return wrap("image", img);
        }
        std::string_view fmt = document_format(d.mime, filename);
        if (fmt.empty())
            reject(p + ".file_data", "unsupported document type '" + d.mime +
                                         "': Bedrock Converse accepts pdf, csv, doc, docx, xls, xlsx, html, txt, md");
        if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
        json_t* doc = new_json_object();
        set_json_member(doc, "format", new_json_string(fmt));
        set_json_member(doc, "name", new_json_string(document_name(filename, documents_++)));
        set_json_member(doc, "source", wrap("bytes", new_json_string(d.data)));
        return wrap("document", doc);
    }
    if (type == "input_audio") reject(path, "audio input is not supported by Bedrock Converse");
    reject(path + ".type", "unsupported content part type '" + std::string(type) + "' for Bedrock Converse");
}

void BodyBuilder::system_content(const json_t* content, const std::string& path) {
    visit_content(content, path, system_.get(), "content must be a string or an array of text parts",
                  [&](const json_t* part, const std::string& p) {
                      if (json_string_view(part, "type") != "text")
                          reject(p + ".type", "system and developer messages may only contain text parts");
                      append_text_block_unless_blank(system_.get(), json_string_view(part, "text"));
                  });
}

json_t* BodyBuilder::user_blocks(const json_t* content, const std::string& path) {
    JsonPtr blocks(new_json_array());
    visit_content(content, path, blocks.get(), "content must be a string or an array of content parts",
                  [&](const json_t* part, const std::string& p) {
                      std::string_view type = json_string_view(part, "type");
                      if (json_is_string(part)) append_text_block_unless_blank(blocks.get(), json_string_view(part));
                      else if (type == "text") append_text_block_unless_blank(blocks.get(), json_string_view(part, "text"));
                      else append_json_element(blocks.get(), media_block(part, type, p, true));
                  });
    return blocks.release();
}

json_t* BodyBuilder::assistant_blocks(const json_t* msg, const std::string& path) {
    JsonPtr blocks(new_json_array());
    visit_content(json_object_get(msg, "content"), path + ".content", blocks.get(),
                  "content must be a string, an array of parts or null", [&](const json_t* part, const std::string& p) {
                      std::string_view type = json_string_view(part, "type");
                      if (type != "text" && type != "refusal")
                          reject(p + ".type", "assistant messages may only contain text and refusal parts");
                      append_text_block_unless_blank(blocks.get(), json_string_view(part, type == "text" ? "text" : "refusal"));
                  });
    auto tool_use = [&](std::string_view id, const json_t* fn, const std::string& p) {
        std::string_view name = json_string_view(fn, "name");
        if (name.empty()) reject(p + ".function.name", "tool call function name is required");
        const json_t* args = json_object_get(fn, "arguments");
        JsonPtr input;
        if (json_is_string(args) && !is_blank(json_string_view(args))) {
            input = json_parse(json_string_view(args), nullptr);
            if (!input) reject(p + ".function.arguments", "tool call arguments are not valid JSON");
        } else if (json_is_object(args)) {
            input.reset(share(args));
        } else {
            input.reset(new_json_object());
        }
        json_t* tu = new_json_object();
        set_json_member(tu, "toolUseId", new_json_string(tool_use_id(id)));
        set_json_member(tu, "name", new_json_string(name));
        set_json_member(tu, "input", input.release());
        append_json_element(blocks.get(), wrap("toolUse", tu));
        history_tools_ = true;
        if (std::find(history_tool_names_.begin(), history_tool_names_.end(), name) == history_tool_names_.end())
            history_tool_names_.emplace_back(name);
    };
    const json_t* calls = json_object_get(msg, "tool_calls");
    if (json_is_array(calls)) {
        size_t i;
        const json_t* c;
        json_array_foreach(calls, i, c) {
            const std::string p = path + ".tool_calls[" + std::to_string(i) + "]";
            std::string_view type = json_string_view(c, "type");
            if (!type.empty() && type != "function") reject(p + ".type", "only function tool calls are supported");
            std::string_view id = json_string_view(c, "id");
            if (id.empty()) reject(p + ".id", "tool call id is required");
            tool_use(id, json_object_get(c, "function"), p);
        }
    } else if (json_present(calls)) {
        reject(path + ".tool_calls", "tool_calls must be an array");
    }
    const json_t* fc = json_object_get(msg, "function_call");  // legacy
    if (json_is_object(fc)) {
        last_function_call_id_ = "function_call_" + std::string(json_string_view(fc, "name"));
        tool_use(last_function_call_id_, fc, path + ".function_call");
    }
    return blocks.release();
}

json_t* BodyBuilder::tool_result_content(const json_t* content, const std::string& path) {
    JsonPtr out(new_json_array());
    visit_content(content, path, out.get(), "content must be a string or an array of parts",
                  [&](const json_t* part, const std::string& p) {
                      std::string_view type = json_string_view(part, "type");
                      if (type == "text") append_text_block_unless_blank(out.get(), json_string_view(part, "text"));
                      else if (type == "image_url") append_json_element(out.get(), media_block(part, type, p, false));
                      else reject(p + ".type", "tool results may only contain text and image parts");
                  });
    // Bedrock rejects blank text; an empty tool output still has to be answered.
    if (json_array_size(out.get()) == 0) append_json_element(out.get(), text_block("(empty)"));
    return out.release();
}

void BodyBuilder::append_turn(const char* role, json_t* blocks) {
    JsonPtr owned(blocks);
    if (json_array_size(blocks) == 0) return;
    size_t n = json_array_size(messages_.get());
    json_t* last = n ? json_array_get(messages_.get(), n - 1) : nullptr;
    if (last && json_string_view(last, "role") == role) {  // consecutive same role: merge
        if (json_array_extend(json_object_get(last, "content"), blocks) != 0) throw std::bad_alloc();
        return;
    }
    json_t* m = new_json_object();
    set_json_member(m, "role", new_json_string(role));
    set_json_member(m, "content", owned.release());
    append_json_element(messages_.get(), m);
}

void BodyBuilder::convert_messages() {
    const json_t* msgs = json_object_get(root_, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) reject("messages", "messages must be a non-empty array");
    size_t i;
    const json_t* msg;
    json_array_foreach(msgs, i, msg) {
        const std::string path = "messages[" + std::to_string(i) + "]";
        std::string_view role = json_string_view(msg, "role");
        const json_t* content = json_object_get(msg, "content");
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
                id = json_string_view(msg, "tool_call_id");
                if (id.empty()) reject(path + ".tool_call_id", "tool messages need a tool_call_id");
            } else {
                if (last_function_call_id_.empty())
                    reject(path, "function message without a preceding assistant function_call");
                id = last_function_call_id_;
            }
            JsonPtr result(tool_result_content(content, path + ".content"));  // may reject: first
            json_t* tr = new_json_object();
            set_json_member(tr, "toolUseId", new_json_string(tool_use_id(id)));
            set_json_member(tr, "content", result.release());
            set_json_member(tr, "status", new_json_string("success"));
            json_t* blocks = new_json_array();
            append_json_element(blocks, wrap("toolResult", tr));
            history_tools_ = true;
            append_turn("user", blocks);
        } else {
            reject(path + ".role", "unsupported role '" + std::string(role) + "'");
        }
    }
    if (json_array_size(messages_.get()) == 0)
        reject("messages", "Bedrock Converse needs at least one user message besides system prompts");
    if (json_string_view(json_array_get(messages_.get(), 0), "role") != "user")
        reject("messages", "Bedrock Converse requires the first non-system message to come from the user");
}

void BodyBuilder::convert_tools(json_t* body) {
    const json_t* tools = json_object_get(root_, "tools");
    const json_t* choice = json_object_get(root_, "tool_choice");
    const char* tools_name = "tools";
    bool legacy = false;
    if (!json_present(tools) && json_present(json_object_get(root_, "functions"))) {  // legacy functions / function_call
        tools = json_object_get(root_, "functions");
        tools_name = "functions";
        legacy = true;
        choice = json_object_get(root_, "function_call");
        if (json_is_object(choice)) choice = nullptr;  // handled below
    }
    JsonPtr specs(new_json_array());
    if (json_is_array(tools)) {
        size_t i;
        const json_t* t;
        json_array_foreach(tools, i, t) {
            const std::string p = std::string(tools_name) + "[" + std::to_string(i) + "]";
            std::string_view type = json_string_view(t, "type");
            if (!legacy && !type.empty() && type != "function")
                reject(p + ".type", "only function tools are supported by Bedrock");
            const json_t* fn = legacy ? t : json_object_get(t, "function");
            std::string_view name = json_string_view(fn, "name");
            if (name.empty()) reject(p + (legacy ? ".name" : ".function.name"), "tool name is required");
            json_t* spec = new_json_object();
            set_json_member(spec, "name", new_json_string(name));
            std::string_view desc = json_string_view(fn, "description");
            if (!desc.empty()) set_json_member(spec, "description", new_json_string(desc));
            const json_t* params = json_object_get(fn, "parameters");
            json_t* schema;
            if (json_is_object(params)) {
                schema = share(params);
            } else {
                schema = new_json_object();
                set_json_member(schema, "type", new_json_string("object"));
                set_json_member(schema, "properties", new_json_object());
            }
            set_json_member(spec, "inputSchema", wrap("json", schema));
            append_json_element(specs.get(), wrap("toolSpec", spec));
        }
    } else if (json_present(tools)) {
        reject(tools_name, std::string(tools_name) + " must be an array");
    }
    if (legacy && json_is_object(json_object_get(root_, "function_call"))) {
        std::string_view name = json_string_view(json_object_get(root_, "function_call"), "name");
        if (name.empty()) reject("function_call.name", "function_call name is required");
        choice = nullptr;
        JsonPtr forced(wrap("tool", wrap("name", new_json_string(name))));
        return finish_tool_config(body, specs, forced, false);
    }

    JsonPtr tc;  // toolChoice
    bool choice_none = false;
    const char* cname = legacy ? "function_call" : "tool_choice";
    if (json_is_string(choice)) {
        std::string_view c = json_string_view(choice);
        if (c == "auto") tc.reset(wrap("auto", new_json_object()));
        else if (c == "required" && !legacy) tc.reset(wrap("any", new_json_object()));
        else if (c == "none") choice_none = true;
        else reject(cname, std::string(cname) + " must be none, auto, required or a function");
    } else if (json_is_object(choice)) {
        std::string_view name = json_string_view(json_object_get(choice, "function"), "name");
        if (name.empty()) reject("tool_choice.function.name", "tool_choice function name is required");
        tc.reset(wrap("tool", wrap("name", new_json_string(name))));
    } else if (json_present(choice)) {
        reject(cname, std::string(cname) + " must be a string or an object");
    }
    finish_tool_config(body, specs, tc, choice_none);
}

void BodyBuilder::finish_tool_config(json_t* body, JsonPtr& specs, JsonPtr& tc, bool choice_none) {
    if (json_array_size(specs.get()) == 0) {
        // Bedrock rejects a conversation holding toolUse/toolResult blocks unless
        // toolConfig is present. With no tools in the request, declare a placeholder tool (the
        // LiteLLM approach) so the history stays valid; the model is told not to call it.
        if (!history_tools_) return;
        json_t* schema = new_json_object();
        set_json_member(schema, "type", new_json_string("object"));
        set_json_member(schema, "properties", new_json_object());
        json_t* spec = new_json_object();
        set_json_member(spec, "name", new_json_string(kDummyToolName));
        set_json_member(spec, "description", new_json_string("Placeholder required for conversations with earlier tool calls. Never call it."));
        set_json_member(spec, "inputSchema", wrap("json", schema));
        append_json_element(specs.get(), wrap("toolSpec", spec));
        tc.reset();
    } else if (choice_none && !history_tools_) {
        return;  // tool_choice none: no Converse equivalent; without tool history omit toolConfig
    }
    json_t* cfg = new_json_object();
    set_json_member(cfg, "tools", specs.release());
    if (tc) set_json_member(cfg, "toolChoice", tc.release());
    set_json_member(body, "toolConfig", cfg);
}

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void BodyBuilder::inference_config(json_t* body) {
    JsonPtr ic(new_json_object());
    const json_t* cap = json_object_get(root_, "max_completion_tokens");
    const char* cap_name = "max_completion_tokens";
    if (!json_present(cap)) {
        cap = json_object_get(root_, "max_tokens");
        cap_name = "max_tokens";
    }
    if (json_present(cap)) {
        if (!json_is_integer(cap) || json_integer_value(cap) < 1)
            reject(cap_name, std::string(cap_name) + " must be a positive integer");
        set_json_member(ic.get(), "maxTokens", require_allocated(json_integer(json_integer_value(cap))));
    }
    const json_t* t = json_object_get(root_, "temperature");
    if (json_present(t)) {
        if (!json_is_number(t)) reject("temperature", "temperature must be a number");
        set_json_member(ic.get(), "temperature", require_allocated(json_real(clamp01(json_number_value(t)))));  // Converse range 0..1
    }
    const json_t* tp = json_object_get(root_, "top_p");
    if (json_present(tp)) {
        if (!json_is_number(tp)) reject("top_p", "top_p must be a number");
        set_json_member(ic.get(), "topP", require_allocated(json_real(clamp01(json_number_value(tp)))));
    }
    const json_t* stop = json_object_get(root_, "stop");
    if (json_present(stop)) {
        JsonPtr seqs(new_json_array());
        if (json_is_string(stop)) {
            if (json_string_length(stop)) append_json_element(seqs.get(), share(stop));
        } else if (json_is_array(stop)) {
            size_t i;
            const json_t* s;
            json_array_foreach(stop, i, s) {
                if (!json_is_string(s)) reject("stop", "stop must be a string or an array of strings");
                if (json_string_length(s)) append_json_element(seqs.get(), share(s));
            }
        } else {
            reject("stop", "stop must be a string or an array of strings");
        }
        if (json_array_size(seqs.get())) set_json_member(ic.get(), "stopSequences", seqs.release());
    }
    if (json_object_size(ic.get())) set_json_member(body, "inferenceConfig", ic.release());

    // model-native parameters (Claude, Mistral, Llama... accept top_k under this name)
    const json_t* tk = json_object_get(root_, "top_k");
    if (json_present(tk)) {
        if (!json_is_integer(tk) || json_integer_value(tk) < 0) reject("top_k", "top_k must be a non-negative integer");
        set_json_member(body, "additionalModelRequestFields", wrap("top_k", require_allocated(json_integer(json_integer_value(tk)))));
    }
}

void BodyBuilder::check_unsupported() {
    const json_t* n = json_object_get(root_, "n");
    if (json_present(n) && (!json_is_integer(n) || json_integer_value(n) != 1))
        reject("n", "Bedrock Converse returns one choice; n must be 1");
    const json_t* rf = json_object_get(root_, "response_format");
    if (json_present(rf)) {
        std::string_view type = json_string_view(rf, "type");
        if (type != "text")
            reject("response_format", "response_format '" + std::string(type) +
                                          "' is not supported by the Bedrock Converse adapter");
    }
}

std::string BodyBuilder::build() {
    if (!json_is_object(root_)) reject("", "the request body is not a JSON object");
    check_unsupported();
    convert_messages();
    JsonPtr body(new_json_object());
    set_json_member(body.get(), "messages", messages_.release());
    if (json_array_size(system_.get())) set_json_member(body.get(), "system", system_.release());
    inference_config(body.get());
    convert_tools(body.get());
    std::string out;
    json_dump_append(out, body.get());
    return out;
}

}  // namespace

// The model id travels in the URL (bedrock_path) and the key only signs; neither shapes the body.
bool bedrock_build_body(const ChatRequest& req, std::string_view /*upstream_model*/, const ProviderKey& /*key*/,
                        std::string* out, ApiError* err) {
    return run_request_builder("Bedrock", [&] {
        BodyBuilder b(req.dom());
        *out = b.build();
    }, err);
}

}  // namespace routeshift
