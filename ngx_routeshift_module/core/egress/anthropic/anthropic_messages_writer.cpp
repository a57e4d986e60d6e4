// The "system" and "messages" of an Anthropic Messages body, written from the canonical request
// (see anthropic_messages_writer.hpp). Text is copied as the escaped string token; only small
// values (ids, names, media types, cache_control objects) are decoded or go through jansson.
#include "egress/anthropic/anthropic_messages_writer.hpp"

#include "egress/anthropic/anthropic_internal.hpp"
#include "egress/cannot_express.hpp"
#include "egress/tool_call_id.hpp"

#include <algorithm>

namespace routeshift::anthropic_internal {

namespace {

[[noreturn]] void bad(std::string param, std::string message) {
    cannot_express(std::move(param), std::move(message));
}

bool is_string(JsonValue v) { return v.is(JsonType::string); }
bool given(JsonValue v) { return !v.absent_or_null(); }
bool empty_string(JsonValue v) { return v.text == "\"\""; }

// The decoded value of a string token ("" when `v` is not a string).
std::string decode(JsonValue v) {
    std::string s;
    json_string_decode(v, &s);
    return s;
}

// A tool-call id (a string token) as Anthropic accepts it, quoted: the client's token itself when it
// fits, else the deterministic rewrite (the same for the tool_use and the tool_result naming it).
std::string tool_id_json(JsonValue id) {
    if (portable_tool_call_id(id.text.substr(1, id.text.size() - 2))) return std::string(id.text);
    std::string out;
    json_quoted_append(out, provider_tool_call_id(decode(id)));
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// True when a string token decodes to nothing but spaces, tabs, CRs and LFs. Reads the token as
// is: only the leading run of whitespace is looked at in a real prompt.
bool blank_token(JsonValue s) {
    std::string_view in = s.text.substr(1, s.text.size() - 2);
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == ' ') continue;
        if (c != '\\' || i + 1 >= in.size()) return false;
        char e = in[++i];
        if (e == 't' || e == 'r' || e == 'n') continue;
        if (e != 'u' || i + 4 >= in.size()) return false;
        int v = 0;
        for (size_t k = 1; k <= 4; ++k) v = v * 16 + hex_value(in[i + k]);
        if (v != ' ' && v != '\t' && v != '\r' && v != '\n') return false;
        i += 4;
    }
    return true;
}

// A string value as text: a view of the token's inside when it has no escapes (then that view is
// also valid JSON string content), the decoded text otherwise.
class StringValue {
public:
    explicit StringValue(JsonValue v) {
        if (!json_string_plain(v, &text_)) {
            plain_ = false;
            json_string_decode(v, &decoded_);
            text_ = decoded_;
        }
    }
    StringValue(const StringValue&) = delete;
    StringValue& operator=(const StringValue&) = delete;
    std::string_view text() const { return text_; }
    bool plain() const { return plain_; }

private:
    std::string_view text_;
    std::string decoded_;
    bool plain_ = true;
};

// Appends `s` as a JSON string; `plain`: it came from a token without escapes (copied as is);
// `in_body`: `s` lies in the client's body (then the body is where it is copied from).
void append_string(BlockList& out, std::string_view s, bool plain, bool in_body) {
    if (!plain) return out.write([s](std::string& o) { json_quoted_append(o, s); });
    out += '"';
    if (in_body) out.borrow(s);
    else out += s;
    out += '"';
}

// An object value through jansson (compact, the last of duplicate keys kept), as before.
void append_object(BlockList& out, JsonValue v) {
    JsonPtr dom = json_parse(v.text, nullptr);
    if (!dom) throw std::bad_alloc();  // the body was validated: only memory can fail here
    out.write([&dom](std::string& o) { json_dump_append(o, dom.get()); });
}

bool same_key(const JsonMember& a, const JsonMember& b) {
    if (!a.key_escaped && !b.key_escaped) return a.key == b.key;
    return json_key_decode(a) == json_key_decode(b);
}

// True when some object in `v` (at any depth) repeats a key, or `v` is too large or deep to check
// cheaply: then only jansson's DOM gives what the provider always got (the last duplicate).
bool may_repeat_keys(JsonValue v, unsigned depth = 0) {
    constexpr size_t kMaxMembers = 32;  // members of one object compared pairwise
    constexpr unsigned kMaxDepth = 32;
    if (!v.is(JsonType::object) && !v.is(JsonType::array)) return false;
    if (depth > kMaxDepth) return true;
    if (v.is(JsonType::array)) {
        JsonArrayReader elements(v);
        JsonValue e;
        while (elements.next(&e))
            if (may_repeat_keys(e, depth + 1)) return true;
        return false;
    }
    JsonMember members[kMaxMembers];
    size_t n = 0;
    JsonObjectReader reader(v);
    JsonMember m;
    while (reader.next(&m)) {
        if (n == kMaxMembers) return true;
        for (size_t i = 0; i < n; ++i)
            if (same_key(members[i], m)) return true;
        if (may_repeat_keys(m.value, depth + 1)) return true;
        members[n++] = m;
    }
    return false;
}

// Appends a JSON object text as is when jansson would keep all of it: it scans (jansson's
// acceptance), is an object, and repeats no key. False (nothing appended) otherwise: the caller
// takes the jansson path, which also words the error.
bool append_object_verbatim(std::string& out, std::string_view text) {
    JsonValue root;
    if (!json_scan(text, &root, nullptr, nullptr) || !root.is(JsonType::object) || may_repeat_keys(root)) return false;
    out += root.text;
    return true;
}

void begin_block(BlockList& list) {
    if (!list.empty()) list += ',';
}

// {"type":"text","text":<token>[,"cache_control":{...}]}, the token a string of the client's body;
// returns the token's piece.
size_t text_block(BlockList& list, std::string_view token, JsonValue cache_control) {
    begin_block(list);
    list += R"({"type":"text","text":)";
    size_t at = list.borrow(token);
    if (cache_control.is(JsonType::object)) {
        list += R"(,"cache_control":)";
        append_object(list, cache_control);
    }
    list += '}';
    return at;
}

// An image or document block from a data: URL or an http(s) URL, without the closing brace (the
// caller may add "cache_control" / "title"). True for a document (PDF). `plain`, `in_body`: as for
// append_string.
bool media_block(BlockList& list, std::string_view url, bool plain, bool in_body, const std::string& path,
                 bool image_only) {
    begin_block(list);
    if (starts_with(url, "data:")) {
        size_t comma = url.find(',');
        if (comma == std::string_view::npos) bad(path, "'" + path + "' is not a valid data: URL.");
        std::string_view meta = url.substr(5, comma - 5);
        std::string_view data = url.substr(comma + 1);
        size_t semi = meta.find(';');
        std::string media = to_ascii_lower(meta.substr(0, semi));
        bool base64 = false;
        while (semi != std::string_view::npos) {
            meta = meta.substr(semi + 1);
            semi = meta.find(';');
            if (to_ascii_lower(meta.substr(0, semi)) == "base64") base64 = true;
        }
        if (!base64) bad(path, "'" + path + "': only base64-encoded data: URLs are supported.");
        if (media == "image/jpg") media = "image/jpeg";
        bool image = media == "image/jpeg" || media == "image/png" || media == "image/gif" || media == "image/webp";
        bool pdf = media == "application/pdf";
        if (!image && !(pdf && !image_only)) {
            bad(path, "'" + path + "': unsupported media type '" + media +
                          "' (supported: image/jpeg, image/png, image/gif, image/webp" +
                          (image_only ? "" : ", application/pdf") + ").");
        }
        if (data.empty()) bad(path, "'" + path + "': the data: URL carries no data.");
        list += image ? R"({"type":"image")" : R"({"type":"document")";
        list += R"(,"source":{"type":"base64","media_type":)";
        list.write([&media](std::string& o) { json_quoted_append(o, media); });
        list += R"(,"data":)";
        append_string(list, data, plain, in_body);
        list += '}';
        return !image;
    } else if (starts_with(to_ascii_lower(url.substr(0, 8)), "https://") || starts_with(to_ascii_lower(url.substr(0, 7)), "http://")) {
        list += R"({"type":"image","source":{"type":"url","url":)";
        append_string(list, url, plain, in_body);
        list += '}';
        return false;
    }
    bad(path, "'" + path + "' must be an http(s) URL or a base64 data: URL.");
}

void image_url_block(BlockList& list, const ContentPart& part, const std::string& pp, bool with_cache_control) {
    if (!is_string(part.url)) bad(pp + ".image_url.url", "'" + pp + ".image_url.url' must be a string.");
    StringValue url(part.url);
    media_block(list, url.text(), url.plain(), url.plain(), pp + ".image_url.url", true);
    if (with_cache_control && part.cache_control.is(JsonType::object)) {
        list += R"(,"cache_control":)";
        append_object(list, part.cache_control);
    }
    list += '}';
}

std::string type_name(const ContentPart& part) { return decode(part.type); }

}  // namespace

MessagesWriter::Turn& MessagesWriter::turn(const char* role) {
    if (turns_.empty() || std::string_view(turns_.back().role) != role) turns_.emplace_back(role, &own_);
    return turns_.back();
}

void MessagesWriter::add_system_text(std::string_view text) {
    if (is_blank(text)) return;
    begin_block(system_);
    system_ += R"({"type":"text","text":)";
    system_.write([text](std::string& o) { json_quoted_append(o, text); });
    system_ += '}';
}

void MessagesWriter::system_content(const CanonicalMessage& m, std::string_view message_path) {
    if (is_string(m.content)) {
        if (!blank_token(m.content)) text_block(system_, m.content.text, {});
        return;
    }
    const std::string path = std::string(message_path) + ".content";  // not made for string content
    if (!m.content.is(JsonType::array)) {
        if (!given(m.content)) return;
        bad(path, "'" + path + "' must be a string or an array of text parts.");
    }
    const ContentPart* parts = req_.parts_of(m);
    for (uint32_t i = 0; i < m.part_count; ++i) {
        const ContentPart& part = parts[i];
        if (part.kind != PartKind::text || !is_string(part.text)) {
            std::string pp = path + "[" + std::to_string(i) + "]";
            bad(pp, "System and developer messages may only contain text parts ('" + pp + "').");
        }
        if (!blank_token(part.text)) text_block(system_, part.text.text, part.cache_control);
    }
}

void MessagesWriter::user_content(const CanonicalMessage& m, Turn& t, std::string_view message_path) {
    auto text = [&](JsonValue token, JsonValue cache_control) { t.last_text_piece = text_block(t.blocks, token.text, cache_control); };
    if (is_string(m.content)) {
        if (!blank_token(m.content)) text(m.content, {});
        return;
    }
    const std::string path = std::string(message_path) + ".content";  // not made for string content
    if (!m.content.is(JsonType::array)) {
        if (!given(m.content)) return;
        bad(path, "'" + path + "' must be a string or an array of content parts.");
    }
    const ContentPart* parts = req_.parts_of(m);
    for (uint32_t i = 0; i < m.part_count; ++i) {
        const ContentPart& part = parts[i];
        std::string pp = path + "[" + std::to_string(i) + "]";
        switch (part.kind) {
        case PartKind::text:
            if (!is_string(part.text)) bad(pp + ".text", "'" + pp + ".text' must be a string.");
            if (!blank_token(part.text)) text(part.text, part.cache_control);
            break;
        case PartKind::image_url:
            image_url_block(t.blocks, part, pp, true);
            t.last_text_piece = std::string::npos;
            break;
        case PartKind::file: {
            if (!is_string(part.file_data)) {
                bad(pp + ".file", "'" + pp + ".file': only inline file_data (a base64 data: URL of a PDF) is "
                                  "supported by this provider; file_id is not.");
            }
            StringValue data(part.file_data);
            std::string prefixed;
            std::string_view url = data.text();
            if (!starts_with(url, "data:")) {
                prefixed = "data:application/pdf;base64,";
                prefixed += url;
                url = prefixed;
            }
            bool document = media_block(t.blocks, url, data.plain(), data.plain() && prefixed.empty(), pp + ".file.file_data", false);
            if (document && is_string(part.filename) && !empty_string(part.filename)) {
                t.blocks += R"(,"title":)";
                t.blocks += part.filename.text;
            }
            t.blocks += '}';
            t.last_text_piece = std::string::npos;
            break;
        }
        case PartKind::input_audio:
            bad(pp, "Audio input ('" + pp + "') is not supported by this provider.");
        default:
            bad(pp + ".type", "Unsupported content part type '" + type_name(part) + "' at '" + pp + "'.");
        }
    }
}

void MessagesWriter::assistant_message(const CanonicalMessage& m, Turn& t, const std::string& path) {
    // LiteLLM-style `thinking_blocks` (what this adapter returns) replayed for multi-turn thinking.
    JsonArrayReader blocks(m.thinking_blocks);
    JsonValue block;
    while (blocks.next(&block)) {
        JsonValue type, thinking, signature, data;
        JsonObjectReader reader(block);
        JsonMember member;
        while (reader.next(&member)) {
            if (json_key_equals(member, "type")) type = member.value;
            else if (json_key_equals(member, "thinking")) thinking = member.value;
            else if (json_key_equals(member, "signature")) signature = member.value;
            else if (json_key_equals(member, "data")) data = member.value;
        }
        if (json_string_equals(type, "thinking") && is_string(signature)) {
            begin_block(t.lead);
            t.lead += R"({"type":"thinking","thinking":)";
            if (is_string(thinking)) t.lead.borrow(thinking.text);
            else t.lead += "\"\"";
            t.lead += R"(,"signature":)";
            t.lead.borrow(signature.text);
            t.lead += '}';
        } else if (json_string_equals(type, "redacted_thinking") && is_string(data)) {
            begin_block(t.lead);
            t.lead += R"({"type":"redacted_thinking","data":)";
            t.lead.borrow(data.text);
            t.lead += '}';
        }  // unsigned thinking cannot be replayed
    }

    auto text = [&](JsonValue token, JsonValue cache_control) { t.last_text_piece = text_block(t.blocks, token.text, cache_control); };
    if (is_string(m.content)) {
        if (!blank_token(m.content)) text(m.content, {});
    } else if (m.content.is(JsonType::array)) {
        const ContentPart* parts = req_.parts_of(m);
        for (uint32_t i = 0; i < m.part_count; ++i) {
            const ContentPart& part = parts[i];
            if ((part.kind != PartKind::text && part.kind != PartKind::refusal) || !is_string(part.text)) {
                std::string pp = path + ".content[" + std::to_string(i) + "]";
                bad(pp, "Assistant content parts must be text or refusal parts ('" + pp + "').");
            }
            if (!blank_token(part.text)) text(part.text, part.cache_control);
        }
    } else if (given(m.content)) {
        bad(path + ".content", "'" + path + ".content' must be a string, an array of parts or null.");
    }

    if (m.tool_calls.is(JsonType::array)) {
        const ToolCall* calls = req_.calls_of(m);
        for (uint32_t i = 0; i < m.call_count; ++i) {
            const ToolCall& c = calls[i];
            std::string cp = path + ".tool_calls[" + std::to_string(i) + "]";
            if (!is_string(c.id) || empty_string(c.id)) bad(cp + ".id", "'" + cp + ".id' must be a non-empty string.");
            if (!is_string(c.name) || empty_string(c.name))
                bad(cp + ".function.name", "'" + cp + ".function.name' must be a non-empty string.");
            tool_use(t, tool_id_json(c.id), c.name, c.arguments, cp + ".function.arguments");
        }
    } else if (given(m.tool_calls)) {
        bad(path + ".tool_calls", "'" + path + ".tool_calls' must be an array.");
    }

    if (m.function_call.is(JsonType::object)) {  // legacy single function call
        JsonValue name = json_object_find(m.function_call, "name");
        if (is_string(name)) {
            std::string id = "toolu_legacy_" + std::to_string(++legacy_seq_);
            legacy_calls_.emplace_back(decode(name), id);
            std::string id_json;
            json_quoted_append(id_json, id);
            tool_use(t, id_json, name, json_object_find(m.function_call, "arguments"),
                     path + ".function_call.arguments");
        }
    }
}

void MessagesWriter::tool_use(Turn& t, std::string_view id_json, JsonValue name, JsonValue args,
                              const std::string& path) {
    std::string input;
    if (!given(args) || (is_string(args) && blank_token(args))) {
        input = "{}";
    } else if (is_string(args) || args.is(JsonType::object)) {
        // Arguments are JSON text (some clients send the object itself): copied as they are when
        // jansson would keep all of them; the DOM only for the odd duplicate key or an error.
        std::string decoded;
        std::string_view text = args.text;
        if (is_string(args)) {
            decoded = decode(args);
            text = decoded;
        }
        if (!append_object_verbatim(input, text)) {
            std::string error;
            JsonPtr dom = json_parse(text, &error);
            if (!dom) bad(path, "'" + path + "' is not valid JSON: " + error);
            if (!json_is_object(dom.get())) bad(path, "'" + path + "' must encode a JSON object.");
            json_dump_append(input, dom.get());
        }
    } else {
        bad(path, "'" + path + "' must be a JSON string.");
    }
    begin_block(t.blocks);
    t.blocks += R"({"type":"tool_use","id":)";
    t.blocks += id_json;
    t.blocks += R"(,"name":)";
    t.blocks += name.text;
    t.blocks += R"(,"input":)";
    t.blocks += input;
    t.blocks += '}';
    t.last_text_piece = std::string::npos;
    history_has_tools_ = true;
    std::string plain_name = decode(name);
    if (std::find(history_tool_names_.begin(), history_tool_names_.end(), plain_name) == history_tool_names_.end())
        history_tool_names_.push_back(std::move(plain_name));
}

void MessagesWriter::tool_result_content(BlockList& out, const CanonicalMessage& m, const std::string& path) {
    if (is_string(m.content)) {
        if (blank_token(m.content)) return;
        out += R"(,"content":)";
        out.borrow(m.content.text);
        return;
    }
    if (!m.content.is(JsonType::array)) {
        if (!given(m.content)) return;
        bad(path, "'" + path + "' must be a string or an array of content parts.");
    }
    BlockList list(&own_);
    const ContentPart* parts = req_.parts_of(m);
    for (uint32_t i = 0; i < m.part_count; ++i) {
        const ContentPart& part = parts[i];
        std::string pp = path + "[" + std::to_string(i) + "]";
        if (part.kind == PartKind::text && is_string(part.text)) {
            if (!blank_token(part.text)) text_block(list, part.text.text, part.cache_control);
        } else if (part.kind == PartKind::image_url) {
            image_url_block(list, part, pp, false);
        } else {
            bad(pp, "Tool message content parts must be text or image_url parts ('" + pp + "').");
        }
    }
    if (list.empty()) return;
    out += R"(,"content":[)";
    out.append(list);
    out += ']';
}

void MessagesWriter::tool_message(const CanonicalMessage& m, Turn& t, const std::string& path) {
    if (!is_string(m.tool_call_id) || empty_string(m.tool_call_id))
        bad(path + ".tool_call_id", "'" + path + ".tool_call_id' must be a non-empty string.");
    BlockList block(&own_);
    block += R"({"type":"tool_result","tool_use_id":)";
    block += tool_id_json(m.tool_call_id);
    tool_result_content(block, m, path + ".content");
    if (m.cache_control.is(JsonType::object)) {
        block += R"(,"cache_control":)";
        append_object(block, m.cache_control);
    }
    block += '}';
    begin_block(t.lead);
    t.lead.append(block);
    history_has_tools_ = true;
}

void MessagesWriter::function_message(const CanonicalMessage& m, Turn& t, const std::string& path) {
    std::string name = decode(m.name);
    const std::string* id = nullptr;
    for (auto it = legacy_calls_.rbegin(); it != legacy_calls_.rend(); ++it)
        if (it->first == name) {
            id = &it->second;
            break;
        }
    if (!id) bad(path, "'" + path + "' (role function) does not answer a preceding assistant function_call.");
    BlockList block(&own_);
    block += R"({"type":"tool_result","tool_use_id":)";
    block.write([id](std::string& o) { json_quoted_append(o, *id); });
    tool_result_content(block, m, path + ".content");
    block += '}';
    begin_block(t.lead);
    t.lead.append(block);
    history_has_tools_ = true;
}

void MessagesWriter::convert() {
    own_.reserve(256 + 64 * req_.messages.size());  // the blocks' own bytes: markup, ids, small values
    for (size_t i = 0; i < req_.messages.size(); ++i) {
        const CanonicalMessage& m = req_.messages[i];
        std::string path = "messages[" + std::to_string(i) + "]";
        switch (m.role) {
        case MessageRole::system:
        case MessageRole::developer: system_content(m, path); break;
        case MessageRole::user: user_content(m, turn("user"), path); break;
        case MessageRole::assistant: assistant_message(m, turn("assistant"), path); break;
        case MessageRole::tool: tool_message(m, turn("user"), path); break;
        case MessageRole::function: function_message(m, turn("user"), path); break;
        default: bad(path + ".role", "Unsupported role at '" + path + ".role'.");
        }
    }
}

void MessagesWriter::append_system(std::string& out) const {
    out += '[';
    system_.append_to(out);
    out += ']';
}

void MessagesWriter::merge_turns() {
    if (merged_done_) return;
    merged_done_ = true;
    for (Turn& t : turns_) {
        if (t.lead.empty() && t.blocks.empty()) continue;
        if (merged_.empty() || std::string_view(merged_.back()->role) != t.role) {
            merged_.push_back(&t);
            continue;
        }
        Turn* into = merged_.back();
        if (!t.lead.empty()) {
            begin_block(into->lead);
            into->lead.append(t.lead);
        }
        if (!t.blocks.empty()) {
            begin_block(into->blocks);
            size_t shift = into->blocks.piece_count();
            into->blocks.append(t.blocks);
            into->last_text_piece = t.last_text_piece == std::string::npos ? std::string::npos : t.last_text_piece + shift;
        }
    }
    // A final assistant turn is a prefill: it must not end with whitespace.
    if (!merged_.empty() && std::string_view(merged_.back()->role) == "assistant" &&
        merged_.back()->last_text_piece != std::string::npos) {
        Turn* last = merged_.back();
        std::string text = decode(JsonValue{last->blocks.piece(last->last_text_piece), JsonType::string});
        size_t e = text.find_last_not_of(" \t\r\n");
        if (e != std::string::npos && e + 1 < text.size()) {
            std::string trimmed;
            json_quoted_append(trimmed, std::string_view(text).substr(0, e + 1));
            last->blocks.replace(last->last_text_piece, trimmed);
        }
    }
}

size_t MessagesWriter::size() {
    merge_turns();
    constexpr size_t kTurnMarkup = 40;  // ,{"role":"assistant","content":[ ... , ... ]}
    size_t n = system_.size() + 4;
    for (const Turn* t : merged_) n += kTurnMarkup + t->lead.size() + t->blocks.size();
    return n;
}

void MessagesWriter::append_messages(std::string& out) {
    merge_turns();
    out += '[';
    for (size_t i = 0; i < merged_.size(); ++i) {
        const Turn* t = merged_[i];
        out += i ? R"(,{"role":")" : R"({"role":")";
        out += t->role;
        out += R"(","content":[)";
        t->lead.append_to(out);
        if (!t->lead.empty() && !t->blocks.empty()) out += ',';
        t->blocks.append_to(out);
        out += "]}";
    }
    out += ']';
}

}  // namespace routeshift::anthropic_internal
