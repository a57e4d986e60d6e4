// Anthropic Messages request builder: OpenAI chat request DOM -> /v1/messages body, for the kinds
// that speak the Messages API (anthropic, minimax, moonshot, and zai / mimo on their
// Anthropic-compatible endpoints). The per-provider code is only what the providers document
// differently.
#include "egress/anthropic/anthropic_internal.hpp"

#include "config/provider_catalog.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace routeshift {

using namespace anthropic_internal;

namespace {

struct BadRequest {
    std::string param;
    std::string message;
};

[[noreturn]] void bad(std::string param, std::string message) { throw BadRequest{std::move(param), std::move(message)}; }

// One conversation turn being assembled. `lead` holds blocks that must come first in the turn:
// tool_result blocks in a user turn (they must lead it), thinking blocks in an assistant turn.
struct Turn {
    std::string role;
    JsonPtr lead{need(json_array())};
    JsonPtr blocks{need(json_array())};
};

class BodyBuilder {
public:
    BodyBuilder(const json_t* req, std::string_view model, Flavor fl, const ProviderKey& key)
        : req_(req), model_(model), fl_(fl), key_(key), claude_(parse_claude(model)) {}

    std::string build();

private:
    void convert_messages();
    void system_content(const json_t* content, const std::string& path);
    void user_content(const json_t* content, Turn& t, const std::string& path);
    void assistant_message(const json_t* msg, Turn& t, const std::string& path);
    void tool_message(const json_t* msg, Turn& t, const std::string& path);
    void function_message(const json_t* msg, Turn& t, const std::string& path);
    json_t* media_block(std::string_view url, const std::string& path, bool image_only);
    json_t* text_block(std::string_view text, const json_t* part);
    json_t* tool_result_content(const json_t* content, const std::string& path);
    Turn& turn(const char* role);
    JsonPtr assemble_messages();

    void convert_tools(json_t* body);
    JsonPtr convert_tool_choice(const json_t* tc, bool has_tools);
    int64_t output_cap();
    void sampling(json_t* body, bool thinking_on);
    JsonPtr thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, JsonPtr* effort);
    void response_format(json_t* output_config);
    void add_system_text(std::string_view text);

    const json_t* req_;
    std::string_view model_;
    Flavor fl_;
    const ProviderKey& key_;
    ClaudeModel claude_;

    JsonPtr system_{need(json_array())};
    std::vector<Turn> turns_;
    std::vector<std::string> history_tool_names_;   // tool_use names seen in the history
    bool history_has_tools_ = false;                 // tool_use / tool_result blocks in history
    std::vector<std::pair<std::string, std::string>> legacy_calls_;  // function_call name -> id
    size_t legacy_seq_ = 0;
};

Turn& BodyBuilder::turn(const char* role) {
    if (turns_.empty() || turns_.back().role != role) {
        turns_.emplace_back();
        turns_.back().role = role;
    }
    return turns_.back();
}

json_t* BodyBuilder::text_block(std::string_view text, const json_t* part) {
    json_t* b = need(json_object());
    put(b, "type", jstr("text"));
    put(b, "text", jstr(text));
    const json_t* cc = jget(part, "cache_control");
    if (json_is_object(cc)) put(b, "cache_control", share(cc));
    return b;
}

void BodyBuilder::add_system_text(std::string_view text) {
    if (is_blank(text)) return;
    push(system_.get(), text_block(text, nullptr));
}

void BodyBuilder::system_content(const json_t* content, const std::string& path) {
    if (json_is_string(content)) {
        add_system_text(sv(content));
        return;
    }
    if (!json_is_array(content)) {
        if (!present(content)) return;
        bad(path, "'" + path + "' must be a string or an array of text parts.");
    }
    for (size_t i = 0; i < json_array_size(content); ++i) {
        const json_t* part = json_array_get(content, i);
        std::string pp = path + "[" + std::to_string(i) + "]";
        if (sv(jget(part, "type")) != "text" || !json_is_string(jget(part, "text")))
            bad(pp, "System and developer messages may only contain text parts ('" + pp + "').");
        std::string_view text = sv(jget(part, "text"));
        if (!is_blank(text)) push(system_.get(), text_block(text, part));
    }
}

// data: URL or http(s) URL -> image or document block.
json_t* BodyBuilder::media_block(std::string_view url, const std::string& path, bool image_only) {
    JsonPtr block(need(json_object()));
    JsonPtr source(need(json_object()));
    if (starts_with(url, "data:")) {
        size_t comma = url.find(',');
        if (comma == std::string_view::npos) bad(path, "'" + path + "' is not a valid data: URL.");
        std::string_view meta = url.substr(5, comma - 5);
        std::string_view data = url.substr(comma + 1);
        size_t semi = meta.find(';');
        std::string media = lower(meta.substr(0, semi));
        bool base64 = false;
        while (semi != std::string_view::npos) {
            meta = meta.substr(semi + 1);
            semi = meta.find(';');
            if (lower(meta.substr(0, semi)) == "base64") base64 = true;
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
        put(block.get(), "type", jstr(image ? "image" : "document"));
        put(source.get(), "type", jstr("base64"));
        put(source.get(), "media_type", jstr(media));
        put(source.get(), "data", jstr(data));
    } else if (starts_with(lower(url.substr(0, 8)), "https://") || starts_with(lower(url.substr(0, 7)), "http://")) {
        put(block.get(), "type", jstr("image"));
        put(source.get(), "type", jstr("url"));
        put(source.get(), "url", jstr(url));
    } else {
        bad(path, "'" + path + "' must be an http(s) URL or a base64 data: URL.");
    }
    put(block.get(), "source", source.release());
    return block.release();
}

void BodyBuilder::user_content(const json_t* content, Turn& t, const std::string& path) {
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(t.blocks.get(), text_block(sv(content), nullptr));
        return;
    }
    if (!json_is_array(content)) {
        if (!present(content)) return;
        bad(path, "'" + path + "' must be a string or an array of content parts.");
    }
    for (size_t i = 0; i < json_array_size(content); ++i) {
        const json_t* part = json_array_get(content, i);
        std::string pp = path + "[" + std::to_string(i) + "]";
        std::string_view type = sv(jget(part, "type"));
        if (type == "text") {
            if (!json_is_string(jget(part, "text"))) bad(pp + ".text", "'" + pp + ".text' must be a string.");
            std::string_view text = sv(jget(part, "text"));
            if (!is_blank(text)) push(t.blocks.get(), text_block(text, part));
        } else if (type == "image_url") {
            const json_t* iu = jget(part, "image_url");
            const json_t* url = json_is_string(iu) ? iu : jget(iu, "url");
            if (!json_is_string(url)) bad(pp + ".image_url.url", "'" + pp + ".image_url.url' must be a string.");
            json_t* b = media_block(sv(url), pp + ".image_url.url", true);
            JsonPtr g(b);
            const json_t* cc = jget(part, "cache_control");
            if (json_is_object(cc)) put(b, "cache_control", share(cc));
            push(t.blocks.get(), g.release());
        } else if (type == "file") {
            const json_t* file = jget(part, "file");
            const json_t* data = jget(file, "file_data");
            if (!json_is_string(data)) {
                bad(pp + ".file", "'" + pp + ".file': only inline file_data (a base64 data: URL of a PDF) is "
                                  "supported by this provider; file_id is not.");
            }
            std::string_view d = sv(data);
            std::string url;
            if (!starts_with(d, "data:")) url = "data:application/pdf;base64," + std::string(d);
            else url.assign(d);
            json_t* b = media_block(url, pp + ".file.file_data", false);
            JsonPtr g(b);
            std::string_view fname = sv(jget(file, "filename"));
            if (!fname.empty() && sv(jget(b, "type")) == "document") put(b, "title", jstr(fname));
            push(t.blocks.get(), g.release());
        } else if (type == "input_audio") {
            bad(pp, "Audio input ('" + pp + "') is not supported by this provider.");
        } else {
            bad(pp + ".type", "Unsupported content part type '" + std::string(type) + "' at '" + pp + "'.");
        }
    }
}

void BodyBuilder::assistant_message(const json_t* msg, Turn& t, const std::string& path) {
    // LiteLLM-style `thinking_blocks` (what this adapter returns) replayed for multi-turn thinking.
    const json_t* tb = jget(msg, "thinking_blocks");
    if (json_is_array(tb)) {
        for (size_t i = 0; i < json_array_size(tb); ++i) {
            const json_t* b = json_array_get(tb, i);
            std::string_view type = sv(jget(b, "type"));
            json_t* o = need(json_object());
            JsonPtr g(o);
            if (type == "thinking" && json_is_string(jget(b, "signature"))) {
                put(o, "type", jstr("thinking"));
                put(o, "thinking", jstr(sv(jget(b, "thinking"))));
                put(o, "signature", share(jget(b, "signature")));
            } else if (type == "redacted_thinking" && json_is_string(jget(b, "data"))) {
                put(o, "type", jstr("redacted_thinking"));
                put(o, "data", share(jget(b, "data")));
            } else {
                continue;  // unsigned thinking cannot be replayed
            }
            push(t.lead.get(), g.release());
        }
    }

    const json_t* content = jget(msg, "content");
    if (json_is_string(content)) {
        if (!is_blank(sv(content))) push(t.blocks.get(), text_block(sv(content), nullptr));
    } else if (json_is_array(content)) {
        for (size_t i = 0; i < json_array_size(content); ++i) {
            const json_t* part = json_array_get(content, i);
            std::string pp = path + ".content[" + std::to_string(i) + "]";
            std::string_view type = sv(jget(part, "type"));
            const char* field = type == "text" ? "text" : type == "refusal" ? "refusal" : nullptr;
            if (!field || !json_is_string(jget(part, field)))
                bad(pp, "Assistant content parts must be text or refusal parts ('" + pp + "').");
            std::string_view text = sv(jget(part, field));
            if (!is_blank(text)) push(t.blocks.get(), text_block(text, part));
        }
    } else if (present(content)) {
        bad(path + ".content", "'" + path + ".content' must be a string, an array of parts or null.");
    }

    auto tool_use = [&](std::string_view id, std::string_view name, const json_t* args, const std::string& ap) {
        JsonPtr input;
        if (!present(args) || (json_is_string(args) && is_blank(sv(args)))) {
            input.reset(need(json_object()));
        } else if (json_is_string(args)) {
            std::string e;
            input = json_parse(sv(args), &e);
            if (!input) bad(ap, "'" + ap + "' is not valid JSON: " + e);
        } else if (json_is_object(args)) {
            input.reset(share(args));  // some clients send the object itself
        } else {
            bad(ap, "'" + ap + "' must be a JSON string.");
        }
        if (!json_is_object(input.get())) bad(ap, "'" + ap + "' must encode a JSON object.");
        json_t* b = need(json_object());
        JsonPtr g(b);
        put(b, "type", jstr("tool_use"));
        put(b, "id", jstr(id));
        put(b, "name", jstr(name));
        put(b, "input", input.release());
        push(t.blocks.get(), g.release());
        history_has_tools_ = true;
        if (std::find(history_tool_names_.begin(), history_tool_names_.end(), name) == history_tool_names_.end())
            history_tool_names_.emplace_back(name);
    };

    const json_t* calls = jget(msg, "tool_calls");
    if (json_is_array(calls)) {
        for (size_t i = 0; i < json_array_size(calls); ++i) {
            const json_t* c = json_array_get(calls, i);
            std::string cp = path + ".tool_calls[" + std::to_string(i) + "]";
            const json_t* fn = jget(c, "function");
            if (!json_is_string(jget(c, "id")) || sv(jget(c, "id")).empty())
                bad(cp + ".id", "'" + cp + ".id' must be a non-empty string.");
            if (!json_is_string(jget(fn, "name")) || sv(jget(fn, "name")).empty())
                bad(cp + ".function.name", "'" + cp + ".function.name' must be a non-empty string.");
            tool_use(sv(jget(c, "id")), sv(jget(fn, "name")), jget(fn, "arguments"), cp + ".function.arguments");
        }
    } else if (present(calls)) {
        bad(path + ".tool_calls", "'" + path + ".tool_calls' must be an array.");
    }

    const json_t* fc = jget(msg, "function_call");  // legacy single function call
    if (json_is_object(fc) && json_is_string(jget(fc, "name"))) {
        std::string id = "toolu_legacy_" + std::to_string(++legacy_seq_);
        legacy_calls_.emplace_back(std::string(sv(jget(fc, "name"))), id);
        tool_use(id, sv(jget(fc, "name")), jget(fc, "arguments"), path + ".function_call.arguments");
    }
}

json_t* BodyBuilder::tool_result_content(const json_t* content, const std::string& path) {
    if (json_is_string(content)) return is_blank(sv(content)) ? nullptr : share(content);
    if (!json_is_array(content)) {
        if (!present(content)) return nullptr;
        bad(path, "'" + path + "' must be a string or an array of content parts.");
    }
    JsonPtr arr(need(json_array()));
    for (size_t i = 0; i < json_array_size(content); ++i) {
        const json_t* part = json_array_get(content, i);
        std::string pp = path + "[" + std::to_string(i) + "]";
        std::string_view type = sv(jget(part, "type"));
        if (type == "text" && json_is_string(jget(part, "text"))) {
            if (!is_blank(sv(jget(part, "text")))) push(arr.get(), text_block(sv(jget(part, "text")), part));
        } else if (type == "image_url") {
            const json_t* iu = jget(part, "image_url");
            const json_t* url = json_is_string(iu) ? iu : jget(iu, "url");
            if (!json_is_string(url)) bad(pp + ".image_url.url", "'" + pp + ".image_url.url' must be a string.");
            push(arr.get(), media_block(sv(url), pp + ".image_url.url", true));
        } else {
            bad(pp, "Tool message content parts must be text or image_url parts ('" + pp + "').");
        }
    }
    if (json_array_size(arr.get()) == 0) return nullptr;
    return arr.release();
}

void BodyBuilder::tool_message(const json_t* msg, Turn& t, const std::string& path) {
    const json_t* id = jget(msg, "tool_call_id");
    if (!json_is_string(id) || sv(id).empty())
        bad(path + ".tool_call_id", "'" + path + ".tool_call_id' must be a non-empty string.");
    json_t* b = need(json_object());
    JsonPtr g(b);
    put(b, "type", jstr("tool_result"));
    put(b, "tool_use_id", share(id));
    if (json_t* c = tool_result_content(jget(msg, "content"), path + ".content")) put(b, "content", c);
    const json_t* cc = jget(msg, "cache_control");
    if (json_is_object(cc)) put(b, "cache_control", share(cc));
    push(t.lead.get(), g.release());
    history_has_tools_ = true;
}

void BodyBuilder::function_message(const json_t* msg, Turn& t, const std::string& path) {
    std::string_view name = sv(jget(msg, "name"));
    std::string id;
    for (auto it = legacy_calls_.rbegin(); it != legacy_calls_.rend(); ++it)
        if (it->first == name) {
            id = it->second;
            break;
        }
    if (id.empty())
        bad(path, "'" + path + "' (role function) does not answer a preceding assistant function_call.");
    json_t* b = need(json_object());
    JsonPtr g(b);
    put(b, "type", jstr("tool_result"));
    put(b, "tool_use_id", jstr(id));
    if (json_t* c = tool_result_content(jget(msg, "content"), path + ".content")) put(b, "content", c);
    push(t.lead.get(), g.release());
    history_has_tools_ = true;
}

void BodyBuilder::convert_messages() {
    const json_t* msgs = jget(req_, "messages");
    if (!json_is_array(msgs)) bad("messages", "'messages' must be an array.");
    for (size_t i = 0; i < json_array_size(msgs); ++i) {
        const json_t* m = json_array_get(msgs, i);
        std::string path = "messages[" + std::to_string(i) + "]";
        std::string_view role = sv(jget(m, "role"));
        if (role == "system" || role == "developer") {
            system_content(jget(m, "content"), path + ".content");
        } else if (role == "user") {
            user_content(jget(m, "content"), turn("user"), path + ".content");
        } else if (role == "assistant") {
            assistant_message(m, turn("assistant"), path);
        } else if (role == "tool") {
            tool_message(m, turn("user"), path);
        } else if (role == "function") {
            function_message(m, turn("user"), path);
        } else {
            bad(path + ".role", "Unsupported role at '" + path + ".role'.");
        }
    }
}

// Turns -> messages: empty turns dropped, same-role neighbours merged (Anthropic alternation),
// lead blocks (tool_result / thinking) before the others within each merged turn.
JsonPtr BodyBuilder::assemble_messages() {
    std::vector<Turn*> merged;
    for (Turn& t : turns_) {
        if (json_array_size(t.lead.get()) == 0 && json_array_size(t.blocks.get()) == 0) continue;
        if (!merged.empty() && merged.back()->role == t.role) {
            Turn* into = merged.back();
            if (json_array_extend(into->lead.get(), t.lead.get()) || json_array_extend(into->blocks.get(), t.blocks.get()))
                throw std::bad_alloc();
            continue;
        }
        merged.push_back(&t);
    }
    // A final assistant turn is a prefill: it must not end with whitespace.
    if (!merged.empty() && merged.back()->role == "assistant") {
        json_t* blocks = merged.back()->blocks.get();
        size_t n = json_array_size(blocks);
        json_t* last = n ? json_array_get(blocks, n - 1) : nullptr;
        if (last && sv(jget(last, "type")) == "text") {
            std::string_view text = sv(jget(last, "text"));
            size_t e = text.find_last_not_of(" \t\r\n");
            if (e != std::string_view::npos && e + 1 < text.size()) put(last, "text", jstr(text.substr(0, e + 1)));
        }
    }
    JsonPtr out(need(json_array()));
    for (Turn* t : merged) {
        json_t* content = t->lead.get();
        if (json_array_extend(content, t->blocks.get())) throw std::bad_alloc();
        json_t* m = need(json_object());
        JsonPtr g(m);
        put(m, "role", jstr(t->role));
        put(m, "content", share(content));
        push(out.get(), g.release());
    }
    return out;
}

void BodyBuilder::convert_tools(json_t* body) {
    const json_t* tools = jget(req_, "tools");
    const json_t* functions = jget(req_, "functions");  // legacy
    JsonPtr out(need(json_array()));
    auto add = [&](const json_t* fn, const json_t* tool, const std::string& path) {
        const json_t* name = jget(fn, "name");
        if (!json_is_string(name) || sv(name).empty())
            bad(path + ".name", "'" + path + ".name' must be a non-empty string.");
        json_t* t = need(json_object());
        JsonPtr g(t);
        put(t, "name", share(name));
        std::string_view desc = sv(jget(fn, "description"));
        if (!desc.empty()) put(t, "description", jstr(desc));
        const json_t* params = jget(fn, "parameters");
        if (json_is_object(params) && json_is_string(jget(params, "type"))) {
            put(t, "input_schema", share(params));
        } else if (json_is_object(params)) {
            json_t* s = need(json_copy(const_cast<json_t*>(params)));
            put(s, "type", jstr("object"));
            put(t, "input_schema", s);
        } else if (!present(params)) {
            json_t* s = need(json_object());
            put(s, "type", jstr("object"));
            put(s, "properties", need(json_object()));
            put(t, "input_schema", s);
        } else {
            bad(path + ".parameters", "'" + path + ".parameters' must be a JSON Schema object.");
        }
        if (fl_ == Flavor::anthropic && json_is_true(jget(fn, "strict"))) put(t, "strict", json_true());
        const json_t* cc = jget(tool, "cache_control");
        if (json_is_object(cc)) put(t, "cache_control", share(cc));
        push(out.get(), g.release());
    };
    if (json_is_array(tools)) {
        for (size_t i = 0; i < json_array_size(tools); ++i) {
            const json_t* tool = json_array_get(tools, i);
            std::string path = "tools[" + std::to_string(i) + "]";
            if (sv(jget(tool, "type")) != "function" || !json_is_object(jget(tool, "function")))
                bad(path + ".type", "Only function tools are supported ('" + path + "').");
            add(jget(tool, "function"), tool, path + ".function");
        }
    } else if (present(tools)) {
        bad("tools", "'tools' must be an array.");
    } else if (json_is_array(functions)) {
        for (size_t i = 0; i < json_array_size(functions); ++i)
            add(json_array_get(functions, i), nullptr, "functions[" + std::to_string(i) + "]");
    }

    bool has_tools = json_array_size(out.get()) > 0;
    const json_t* tc = jget(req_, "tool_choice");
    if (!present(tc) && !present(tools)) tc = jget(req_, "function_call");  // legacy
    JsonPtr choice = convert_tool_choice(tc, has_tools);

    if (!has_tools && history_has_tools_) {
        // The Messages API refuses tool_use/tool_result blocks in a request without tool
        // definitions: declare the tools the history used, and forbid calling them.
        for (const auto& n : history_tool_names_) {
            json_t* t = need(json_object());
            JsonPtr g(t);
            put(t, "name", jstr(n));
            put(t, "description", jstr("Tool used earlier in this conversation; not available now."));
            json_t* s = need(json_object());
            put(s, "type", jstr("object"));
            put(t, "input_schema", s);
            push(out.get(), g.release());
        }
        if (json_array_size(out.get()) > 0) {
            choice.reset(need(json_object()));
            put(choice.get(), "type", jstr("none"));
        }
    }
    if (json_array_size(out.get()) > 0) put(body, "tools", out.release());
    if (choice) put(body, "tool_choice", choice.release());
}

JsonPtr BodyBuilder::convert_tool_choice(const json_t* tc, bool has_tools) {
    const json_t* ptc = jget(req_, "parallel_tool_calls");
    bool no_parallel = json_is_false(ptc);
    if (!has_tools) return nullptr;  // nothing to choose from (OpenAI would have refused it)
    std::string type;
    std::string name;
    if (!present(tc)) {
        if (!no_parallel) return nullptr;
        type = "auto";
    } else if (json_is_string(tc)) {
        std::string_view v = sv(tc);
        if (v == "auto") type = "auto";
        else if (v == "none") type = "none";
        else if (v == "required" || v == "any") type = "any";
        else bad("tool_choice", "Unsupported 'tool_choice' value '" + std::string(v) + "'.");
    } else if (json_is_object(tc)) {
        const json_t* fn = jget(tc, "function");
        const json_t* n = json_is_object(fn) ? jget(fn, "name") : jget(tc, "name");  // legacy {"name":..}
        if ((sv(jget(tc, "type")) == "function" || !present(jget(tc, "type"))) && json_is_string(n) && !sv(n).empty()) {
            type = "tool";
            name = sv(n);
        } else {
            bad("tool_choice", "Unsupported 'tool_choice': expected \"auto\", \"none\", \"required\" or "
                               "{\"type\":\"function\",\"function\":{\"name\":...}}.");
        }
    } else {
        bad("tool_choice", "'tool_choice' must be a string or an object.");
    }
    JsonPtr c(need(json_object()));
    put(c.get(), "type", jstr(type));
    if (type == "tool") put(c.get(), "name", jstr(name));
    if (no_parallel && type != "none") put(c.get(), "disable_parallel_tool_use", json_true());
    return c;
}

// max_completion_tokens (preferred) or max_tokens; -1 when the client sent neither.
int64_t BodyBuilder::output_cap() {
    for (const char* k : {"max_completion_tokens", "max_tokens"}) {
        const json_t* v = jget(req_, k);
        if (!present(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            bad(k, std::string("'") + k + "' must be a positive integer.");
        return json_integer_value(v);
    }
    return -1;
}

// thinking from `reasoning_effort` (or a client `thinking` object, forwarded as is).
JsonPtr BodyBuilder::thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, JsonPtr* effort) {
    *thinking_on = false;
    const json_t* client = jget(req_, "thinking");
    if (json_is_object(client)) {
        std::string_view t = sv(jget(client, "type"));
        *thinking_on = t == "enabled" || t == "adaptive";
        if (t == "enabled" && json_is_integer(jget(client, "budget_tokens"))) {
            int64_t b = json_integer_value(jget(client, "budget_tokens"));
            if (!max_from_client && *max_tokens <= b) *max_tokens = b + kDefaultMaxTokens;
        }
        return JsonPtr(share(client));
    }
    const json_t* re = jget(req_, "reasoning_effort");
    if (!present(re)) return nullptr;
    if (!json_is_string(re)) bad("reasoning_effort", "'reasoning_effort' must be a string.");
    std::string_view e = sv(re);
    int64_t budget;
    std::string level;
    if (e == "none") {
        JsonPtr t(need(json_object()));
        put(t.get(), "type", jstr("disabled"));
        return t;
    } else if (e == "minimal" || e == "low") {
        budget = kThinkingMinBudget;
        level = "low";
    } else if (e == "medium") {
        budget = 4096;
        level = "medium";
    } else if (e == "high") {
        budget = 16384;
        level = "high";
    } else if (e == "xhigh" || e == "max") {
        budget = 32768;
        level = std::string(e);
    } else {
        bad("reasoning_effort", "Unsupported 'reasoning_effort' value '" + std::string(e) + "'.");
    }
    *thinking_on = true;
    JsonPtr t(need(json_object()));
    if (fl_ == Flavor::anthropic && claude_adaptive_thinking(claude_)) {
        // Adaptive thinking: the model sizes its own thinking; the effort level steers it. Thinking
        // counts against max_tokens, so a defaulted cap leaves the same room as a budget would.
        if (!max_from_client && *max_tokens <= budget) *max_tokens = budget + kDefaultMaxTokens;
        put(t.get(), "type", jstr("adaptive"));
        effort->reset(jstr(level));
        return t;
    }
    if (!max_from_client) {
        if (*max_tokens <= budget) *max_tokens = budget + kDefaultMaxTokens;
    } else if (budget >= *max_tokens) {
        budget = *max_tokens - 1;
        if (budget < kThinkingMinBudget)
            bad("max_completion_tokens", "'reasoning_effort' needs an output cap above " +
                                             std::to_string(kThinkingMinBudget) +
                                             " tokens with this provider (thinking budget minimum).");
    }
    put(t.get(), "type", jstr("enabled"));
    put(t.get(), "budget_tokens", need(json_integer(budget)));
    return t;
}

double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

// temperature / top_p / top_k / stop, per provider and model (rules listed in provider_adapter.hpp).
void BodyBuilder::sampling(json_t* body, bool thinking_on) {
    const json_t* temp = jget(req_, "temperature");
    const json_t* top_p = jget(req_, "top_p");
    const json_t* top_k = jget(req_, "top_k");  // extension some clients send
    for (auto [v, k] : {std::pair{temp, "temperature"}, std::pair{top_p, "top_p"}})
        if (present(v) && !json_is_number(v)) bad(k, std::string("'") + k + "' must be a number.");
    if (present(top_k) && !json_is_integer(top_k)) bad("top_k", "'top_k' must be an integer.");
    bool has_t = present(temp), has_p = present(top_p), has_k = present(top_k);
    double t = has_t ? json_number_value(temp) : 0, p = has_p ? json_number_value(top_p) : 0;

    switch (fl_) {
    case Flavor::anthropic:
        if (claude_post_opus46(claude_)) {
            has_t = false;              // only 1.0 is accepted: the default
            has_k = false;              // rejected
            if (has_p && p < 0.99) has_p = false;
        }
        if (thinking_on && claude_.claude) {
            has_t = false;              // extended thinking requires the default temperature
            has_k = false;
            if (has_p && p < 0.95) has_p = false;
        }
        if (has_p && p >= 1.0) has_p = false;  // the default; also avoids "temperature and top_p"
        if (has_t && has_p && claude_.claude && claude_.major >= 4) has_p = false;  // one of the two
        t = clamp(t, 0.0, 1.0);
        break;
    case Flavor::minimax:
        t = clamp(t, 0.01, 1.0);        // (0, 1]
        has_k = false;                  // ignored by MiniMax
        break;
    case Flavor::moonshot:
        if (kimi_fixed_sampling(model_)) has_t = has_p = false;
        t = clamp(t, 0.0, 1.0);
        break;
    case Flavor::zai:
        t = clamp(t, 0.01, 1.0);        // (0, 1]
        if (has_p && p <= 0) p = 0.01;
        break;
    case Flavor::mimo:
        t = clamp(t, 0.0, 1.0);
        break;
    }
    p = clamp(p, 0.0, 1.0);
    if (has_t) {
        bool same = json_is_number(temp) && json_number_value(temp) == t;
        put(body, "temperature", same ? share(temp) : need(json_real(t)));
    }
    if (has_p) {
        bool same = json_number_value(top_p) == p;
        put(body, "top_p", same ? share(top_p) : need(json_real(p)));
    }
    if (has_k && json_integer_value(top_k) >= 0) put(body, "top_k", share(top_k));

    const json_t* stop = jget(req_, "stop");
    if (present(stop)) {
        JsonPtr seqs(need(json_array()));
        auto add = [&](const json_t* s, const std::string& path) {
            if (!json_is_string(s)) bad(path, "'" + path + "' must be a string.");
            if (!is_blank(sv(s))) push(seqs.get(), share(s));  // whitespace-only is rejected upstream
        };
        if (json_is_string(stop)) add(stop, "stop");
        else if (json_is_array(stop))
            for (size_t i = 0; i < json_array_size(stop); ++i)
                add(json_array_get(stop, i), "stop[" + std::to_string(i) + "]");
        else bad("stop", "'stop' must be a string or an array of strings.");
        if (fl_ != Flavor::minimax && json_array_size(seqs.get()) > 0) put(body, "stop_sequences", seqs.release());
    }
}

void BodyBuilder::response_format(json_t* output_config) {
    const json_t* rf = jget(req_, "response_format");
    if (!present(rf)) return;
    std::string_view type = sv(jget(rf, "type"));
    if (type == "text") return;
    if (type == "json_object") {
        add_system_text("Respond with a single valid JSON object only: no prose, no Markdown code fences.");
        return;
    }
    if (type != "json_schema") bad("response_format.type", "Unsupported 'response_format' type.");
    const json_t* js = jget(rf, "json_schema");
    const json_t* schema = jget(js, "schema");
    if (!json_is_object(schema)) bad("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object.");
    if (fl_ == Flavor::anthropic && claude_structured_outputs(claude_)) {
        json_t* f = need(json_object());
        JsonPtr g(f);
        put(f, "type", jstr("json_schema"));
        put(f, "schema", share(schema));
        put(output_config, "format", g.release());
        return;
    }
    // No native structured output on this endpoint/model: instruct.
    std::string text = "Respond with a single valid JSON object only (no prose, no Markdown code fences) that "
                       "conforms to this JSON Schema:\n";
    json_dump_append(text, schema);
    add_system_text(text);
}

std::string BodyBuilder::build() {
    if (!json_is_object(req_)) bad("", "The request body is not available.");
    // Fields the Messages API cannot express.
    const json_t* n = jget(req_, "n");
    if (present(n) && !(json_is_integer(n) && json_integer_value(n) == 1))
        bad("n", "This provider returns a single choice: 'n' must be 1.");
    if (json_is_true(jget(req_, "logprobs")))
        bad("logprobs", "'logprobs' is not supported by this provider.");
    const json_t* modalities = jget(req_, "modalities");
    for (size_t i = 0; json_is_array(modalities) && i < json_array_size(modalities); ++i)
        if (sv(json_array_get(modalities, i)) == "audio") bad("modalities", "Audio output is not supported by this provider.");
    if (present(jget(req_, "audio"))) bad("audio", "Audio output is not supported by this provider.");

    convert_messages();

    JsonPtr body(need(json_object()));
    json_t* b = body.get();
    put(b, "model", jstr(model_));

    int64_t cap = output_cap();
    bool cap_from_client = cap > 0;
    if (!cap_from_client) cap = kDefaultMaxTokens;  // the body never depends on the key
    bool thinking_on = false;
    JsonPtr effort;
    JsonPtr think = thinking(&cap, cap_from_client, &thinking_on, &effort);
    put(b, "max_tokens", need(json_integer(cap)));

    JsonPtr output_config(need(json_object()));
    response_format(output_config.get());  // may add a system instruction: before `system` is placed
    if (json_array_size(system_.get()) > 0) put(b, "system", system_.release());

    JsonPtr messages = assemble_messages();
    put(b, "messages", messages.release());
    convert_tools(b);
    sampling(b, thinking_on);
    if (think) put(b, "thinking", think.release());
    if (effort) put(output_config.get(), "effort", effort.release());
    if (json_object_size(output_config.get()) > 0) put(b, "output_config", output_config.release());

    std::string_view user = sv(jget(req_, "user"));
    if (user.empty()) user = sv(jget(req_, "safety_identifier"));
    if (!user.empty()) {
        json_t* md = need(json_object());
        put(b, "metadata", md);
        put(md, "user_id", jstr(user));
    }
    if (fl_ == Flavor::anthropic) {
        std::string_view tier = sv(jget(req_, "service_tier"));
        if (tier == "auto") put(b, "service_tier", jstr("auto"));
        else if (tier == "default") put(b, "service_tier", jstr("standard_only"));
    }
    if (json_is_true(jget(req_, "stream"))) put(b, "stream", json_true());

    std::string out;
    json_dump_append(out, b);
    return out;
}

}  // namespace

bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model, std::string_view kind_name,
                          const ProviderKey& key, std::string* out, ApiError* err) {
    try {
        BodyBuilder b(req.dom(), upstream_model, flavor_of(kind_name), key);
        *out = b.build();
        return true;
    } catch (const BadRequest& e) {
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
    } catch (...) {
        if (err) {
            err->status = 400;
            err->type = "invalid_request_error";
            err->message = "The request could not be translated for this provider.";
            err->param.clear();
            err->code.clear();
        }
        return false;
    }
}

bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model, ProviderKind kind,
                          const ProviderKey& key, std::string* out, ApiError* err) {
    return anthropic_build_body(req, upstream_model, provider_info(kind).name, key, out, err);
}

}  // namespace routeshift
