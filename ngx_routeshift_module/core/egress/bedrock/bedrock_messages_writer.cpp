// "messages" and "system" of a Converse body, written from the canonical request (see
// bedrock_messages_writer.hpp). Text blocks are the client's string tokens copied as they are;
// ids, names and media data are decoded, checked and quoted again; tool call arguments go through
// jansson.
#include "egress/bedrock/bedrock_messages_writer.hpp"

#include "egress/bedrock/bedrock_internal.hpp"
#include "egress/tool_call_id.hpp"

namespace routeshift::bedrock_internal {

namespace {

// The decoded text of a string value ("" when it is not a string), as jansson's json_string_view.
std::string text_of(JsonValue v) {
    std::string s;
    json_string_decode(v, &s);
    return s;
}

// True unless `v` is a string holding something besides spaces, tabs, CRs and LFs. Stops at the
// first other character: a real prompt is read only as far as its leading whitespace.
bool blank(JsonValue v) {
    bool only_whitespace = true;
    json_string_decode_pieces(v, [](void* context, std::string_view piece) {
        if (is_blank(piece)) return true;
        *static_cast<bool*>(context) = false;
        return false;
    }, &only_whitespace);
    return only_whitespace;
}

// The decoded "type" of a part, for messages ("" when it is not a string, or the part not an object).
std::string type_of(const ContentPart& part) { return part.raw.is(JsonType::object) ? text_of(part.type) : std::string(); }

void begin_block(std::string& blocks) {
    if (!blocks.empty()) blocks += ',';
}


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

// {"image":{"format":...,"source":{"bytes":...}}}
void image_block(std::string& blocks, std::string_view format, std::string_view data) {
    begin_block(blocks);
    blocks += R"({"image":{"format":)";
    json_quoted_append(blocks, format);
    blocks += R"(,"source":{"bytes":)";
    json_quoted_append(blocks, data);
    blocks += "}}}";
}

}  // namespace

void MessagesWriter::text_block(std::string& blocks, JsonValue token) {
    if (blank(token)) return;
    begin_block(blocks);
    blocks += R"({"text":)";
    blocks += token.text;
    blocks += '}';
}

void MessagesWriter::media_block(std::string& blocks, const ContentPart& part, const std::string& path,
                                 bool allow_documents) {
    if (part.kind == PartKind::image_url) {
        std::string url = text_of(part.url);
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
        return image_block(blocks, fmt, d.data);
    }
    if (part.kind == PartKind::file && allow_documents) {
        const std::string p = path + ".file";
        if (!part.file_id.absent_or_null() && part.file_data.absent_or_null())
            reject(p + ".file_id", "file_id references are not supported by Bedrock Converse; send file_data");
        std::string data = text_of(part.file_data);
        std::string filename = text_of(part.filename);
        DataUrl d;
        if (!parse_data_url(data, &d)) reject(p + ".file_data", "file_data must be a base64 data: URL");
        if (!image_format(d.mime).empty()) {
            if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
            return image_block(blocks, image_format(d.mime), d.data);
        }
        std::string_view fmt = document_format(d.mime, filename);
        if (fmt.empty())
            reject(p + ".file_data", "unsupported document type '" + d.mime +
                                         "': Bedrock Converse accepts pdf, csv, doc, docx, xls, xlsx, html, txt, md");
        if (!base64_ok(d.data)) reject(p + ".file_data", "the file data is not valid base64");
        begin_block(blocks);
        blocks += R"({"document":{"format":)";
        json_quoted_append(blocks, fmt);
        blocks += R"(,"name":)";
        json_quoted_append(blocks, document_name(filename, documents_++));
        blocks += R"(,"source":{"bytes":)";
        json_quoted_append(blocks, d.data);
        blocks += "}}}";
        return;
    }
    if (part.kind == PartKind::input_audio) reject(path, "audio input is not supported by Bedrock Converse");
    reject(path + ".type", "unsupported content part type '" + type_of(part) + "' for Bedrock Converse");
}

void MessagesWriter::system_content(const CanonicalMessage& m, const std::string& path) {
    visit_content(m, path, system_, "content must be a string or an array of text parts",
                  [&](const ContentPart& part, const std::string& p) {
                      if (part.kind != PartKind::text)
                          reject(p + ".type", "system and developer messages may only contain text parts");
                      text_block(system_, part.text);
                  });
}

void MessagesWriter::add_system_text(std::string_view text) {
    std::string token;
    json_quoted_append(token, text);
    text_block(system_, JsonValue{token, JsonType::string});
}

bool MessagesWriter::last_assistant_calls_tools() const {
    for (auto m = req_.messages.rbegin(); m != req_.messages.rend(); ++m) {
        if (m->role != MessageRole::assistant) continue;
        return m->call_count > 0 || m->function_call.is(JsonType::object);
    }
    return false;
}

std::string MessagesWriter::user_blocks(const CanonicalMessage& m, const std::string& path) {
    std::string blocks;
    visit_content(m, path, blocks, "content must be a string or an array of content parts",
                  [&](const ContentPart& part, const std::string& p) {
                      if (part.raw.is(JsonType::string)) text_block(blocks, part.raw);  // a bare string part
                      else if (part.kind == PartKind::text) text_block(blocks, part.text);
                      else media_block(blocks, part, p, true);
                  });
    return blocks;
}

void MessagesWriter::tool_use(std::string& blocks, std::string_view id, JsonValue name, JsonValue arguments,
                              const std::string& path) {
    std::string plain_name = text_of(name);
    if (plain_name.empty()) reject(path + ".function.name", "tool call function name is required");
    JsonPtr input;
    if (arguments.is(JsonType::string) && !blank(arguments)) {
        input = json_parse(text_of(arguments), nullptr);
        if (!input) reject(path + ".function.arguments", "tool call arguments are not valid JSON");
    } else if (arguments.is(JsonType::object)) {
        input = json_parse(arguments.text, nullptr);
        if (!input) throw std::bad_alloc();  // scanned already: only memory can fail here
    }
    begin_block(blocks);
    blocks += R"({"toolUse":{"toolUseId":)";
    json_quoted_append(blocks, provider_tool_call_id(id));
    blocks += R"(,"name":)";
    json_quoted_append(blocks, plain_name);
    blocks += R"(,"input":)";
    if (input) json_dump_append(blocks, input.get());
    else blocks += "{}";
    blocks += "}}";
    history_tools_ = true;
}

std::string MessagesWriter::assistant_blocks(const CanonicalMessage& m, const std::string& path) {
    std::string blocks;
    visit_content(m, path + ".content", blocks, "content must be a string, an array of parts or null",
                  [&](const ContentPart& part, const std::string& p) {
                      if (part.kind != PartKind::text && part.kind != PartKind::refusal)
                          reject(p + ".type", "assistant messages may only contain text and refusal parts");
                      text_block(blocks, part.text);
                  });
    if (m.tool_calls.is(JsonType::array)) {
        for (uint32_t i = 0; i < m.call_count; ++i) {
            const ToolCall& c = req_.calls_of(m)[i];
            const std::string p = path + ".tool_calls[" + std::to_string(i) + "]";
            std::string type = c.raw.is(JsonType::object) ? text_of(c.type) : std::string();
            if (!type.empty() && type != "function") reject(p + ".type", "only function tool calls are supported");
            std::string id = c.raw.is(JsonType::object) ? text_of(c.id) : std::string();
            if (id.empty()) reject(p + ".id", "tool call id is required");
            tool_use(blocks, id, c.name, c.arguments, p);
        }
    } else if (!m.tool_calls.absent_or_null()) {
        reject(path + ".tool_calls", "tool_calls must be an array");
    }
    if (m.function_call.is(JsonType::object)) {  // legacy
        JsonValue name = json_object_find(m.function_call, "name");
        last_function_call_id_ = "function_call_" + text_of(name);
        tool_use(blocks, last_function_call_id_, name, json_object_find(m.function_call, "arguments"),
                 path + ".function_call");
    }
    return blocks;
}

std::string MessagesWriter::tool_result_content(const CanonicalMessage& m, const std::string& path) {
    std::string blocks;
    visit_content(m, path, blocks, "content must be a string or an array of parts",
                  [&](const ContentPart& part, const std::string& p) {
                      if (part.kind == PartKind::text) text_block(blocks, part.text);
                      else if (part.kind == PartKind::image_url) media_block(blocks, part, p, false);
                      else reject(p + ".type", "tool results may only contain text and image parts");
                  });
    // Bedrock rejects blank text; an empty tool output still has to be answered.
    if (blocks.empty()) blocks = "{\"text\":\"(empty)\"}";
    return blocks;
}

void MessagesWriter::append_turn(const char* role, std::string blocks) {
    if (blocks.empty()) return;
    if (!turns_.empty() && std::string_view(turns_.back().role) == role) {  // consecutive same role: merge
        turns_.back().blocks += ',';
        turns_.back().blocks += blocks;
        return;
    }
    turns_.push_back(Turn{role, std::move(blocks)});
}

void MessagesWriter::convert() {
    if (req_.messages.empty()) reject("messages", "messages must be a non-empty array");
    for (size_t i = 0; i < req_.messages.size(); ++i) {
        const CanonicalMessage& m = req_.messages[i];
        const std::string path = "messages[" + std::to_string(i) + "]";
        switch (m.role) {
        case MessageRole::system:
        case MessageRole::developer: system_content(m, path + ".content"); break;
        case MessageRole::user: {
            std::string blocks = user_blocks(m, path + ".content");
            if (blocks.empty()) reject(path + ".content", "user message content must not be empty (Bedrock rejects blank text)");
            append_turn("user", std::move(blocks));
            break;
        }
        case MessageRole::assistant: append_turn("assistant", assistant_blocks(m, path)); break;  // an empty one is dropped
        case MessageRole::tool:
        case MessageRole::function: {
            std::string id;
            if (m.role == MessageRole::tool) {
                id = text_of(m.tool_call_id);
                if (id.empty()) reject(path + ".tool_call_id", "tool messages need a tool_call_id");
            } else {
                if (last_function_call_id_.empty()) reject(path, "function message without a preceding assistant function_call");
                id = last_function_call_id_;
            }
            std::string content = tool_result_content(m, path + ".content");  // may reject: first
            std::string block = R"({"toolResult":{"toolUseId":)";
            json_quoted_append(block, provider_tool_call_id(id));
            block += R"(,"content":[)";
            block += content;
            block += R"(],"status":"success"}})";
            history_tools_ = true;
            append_turn("user", std::move(block));
            break;
        }
        default: reject(path + ".role", "unsupported role '" + text_of(json_object_find(m.raw, "role")) + "'");
        }
    }
    if (turns_.empty()) reject("messages", "Bedrock Converse needs at least one user message besides system prompts");
    if (std::string_view(turns_.front().role) != "user")
        reject("messages", "Bedrock Converse requires the first non-system message to come from the user");
}

void MessagesWriter::append(std::string& out) const {
    out += R"("messages":[)";
    for (size_t i = 0; i < turns_.size(); ++i) {
        out += i ? R"(,{"role":")" : R"({"role":")";
        out += turns_[i].role;
        out += R"(","content":[)";
        out += turns_[i].blocks;
        out += "]}";
    }
    out += ']';
    if (!system_.empty()) {
        out += R"(,"system":[)";
        out += system_;
        out += ']';
    }
}

}  // namespace routeshift::bedrock_internal
