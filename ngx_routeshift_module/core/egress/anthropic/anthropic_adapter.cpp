// Anthropic Messages API adapter (providers.md §3) for the kinds that speak it: anthropic, minimax
// (§11), moonshot (§12), and zai (§9) / mimo (§10) on their Anthropic-compatible endpoints.
// One adapter; the per-provider code is only what the providers document differently.
//
// Request (anthropic_build_body): OpenAI chat request DOM -> /v1/messages body.
// Response (anthropic_translator): Messages JSON or SSE -> chat.completion / chat.completion.chunk,
//   incrementally, one upstream event at a time.
// Errors (anthropic_classify_error): status + Anthropic error body -> retry/park verdict and the
//   OpenAI-shaped error (§2.6, §3.5).
#include "egress/provider_adapter.hpp"

#include "util/json_util.hpp"
#include "config/provider_catalog.hpp"
#include "util/sse_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

namespace {

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

// The request DOM. chat_request.hpp is being rewritten (ChatRequest::root -> dom()); this compiles
// against either shape.
template <class R>
const json_t* request_json_impl(const R& r) {
    if constexpr (requires { r.dom(); }) return r.dom();
    else return r.root.get();
}
const json_t* request_json(const ChatRequest& r) { return request_json_impl(r); }

constexpr int64_t kDefaultMaxTokens = 4096;      // when the client sends no output cap
constexpr int64_t kThinkingMinBudget = 1024;      // Anthropic's minimum budget_tokens
constexpr int64_t kLongParkMs = 60LL * 60 * 1000; // spend cap / broken credentials: 1 hour
constexpr size_t kMaxJsonAnswer = 64u << 20;      // a non-streaming answer larger than this is refused
constexpr std::string_view kAnthropicVersion = "2023-06-01";

enum class Flavor { anthropic, minimax, moonshot, zai, mimo };

Flavor flavor_of(std::string_view kind_name) {
    if (kind_name == "minimax") return Flavor::minimax;
    if (kind_name == "moonshot") return Flavor::moonshot;
    if (kind_name == "zai") return Flavor::zai;
    if (kind_name == "mimo") return Flavor::mimo;
    return Flavor::anthropic;  // "anthropic" and any other kind configured with the Messages API
}

std::string_view sv(const json_t* v) {
    if (!json_is_string(v)) return {};
    return {json_string_value(v), json_string_length(v)};
}

const json_t* jget(const json_t* obj, const char* key) {
    return json_is_object(obj) ? json_object_get(obj, key) : nullptr;
}

bool present(const json_t* v) { return v && !json_is_null(v); }

json_t* need(json_t* v) {
    if (!v) throw std::bad_alloc();
    return v;
}

// Takes ownership of `v`.
void put(json_t* obj, const char* key, json_t* v) {
    need(v);
    if (json_object_set_new(obj, key, v) != 0) throw std::bad_alloc();
}

void push(json_t* arr, json_t* v) {
    need(v);
    if (json_array_append_new(arr, v) != 0) throw std::bad_alloc();
}

json_t* jstr(std::string_view s) { return need(json_stringn(s.data(), s.size())); }

// Borrowed value -> new reference (for sharing subtrees of the request DOM in the output tree).
json_t* share(const json_t* v) { return json_incref(const_cast<json_t*>(v)); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool icontains(std::string_view hay, std::string_view needle) {
    return lower(hay).find(lower(needle)) != std::string::npos;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

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

// Masks anything that looks like a provider credential ("sk-...", "sk-ant-...", "tp-..." with a
// long tail) in a message taken from an upstream body, plus the given secrets verbatim.
std::string scrub(std::string_view text, std::span<const std::string_view> secrets = {}) {
    std::string s(text);
    for (auto sec : secrets) {
        if (sec.size() < 4) continue;
        for (size_t p; (p = s.find(sec)) != std::string::npos;) s.replace(p, sec.size(), "[redacted]");
        if (sec.size() > 16) {
            std::string_view head = sec.substr(0, 12);
            for (size_t p; (p = s.find(head)) != std::string::npos;) s.replace(p, head.size(), "[redacted]");
        }
    }
    auto keych = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        bool boundary = i == 0 || !keych(s[i - 1]);
        std::string_view rest(s.data() + i, s.size() - i);
        if (boundary && (starts_with(rest, "sk-") || starts_with(rest, "tp-"))) {
            size_t j = i + 3;
            while (j < s.size() && keych(s[j])) ++j;
            if (j - i >= 20) {
                out.append(s, i, 3);
                out += "[redacted]";
                i = j;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

// ------------------------------------------------------------------------------------------------
// Model-name rules (deterministic; providers.md §2.7, §3.2, §12.3, §17.1)
// ------------------------------------------------------------------------------------------------

struct ClaudeModel {
    bool claude = false;
    int major = 0, minor = 0;
    bool mythos = false;
};

// "claude-opus-4-7", "claude-sonnet-4-5-20250929", "claude-3-5-sonnet-20241022",
// "us.anthropic.claude-opus-4-8-v1:0", "claude-mythos-preview", "claude-sonnet-5".
ClaudeModel parse_claude(std::string_view model) {
    ClaudeModel m;
    std::string name = lower(model);
    size_t p = name.find("claude-");
    if (p == std::string::npos) return m;
    m.claude = true;
    std::string_view rest = std::string_view(name).substr(p + 7);
    bool have_major = false, have_minor = false;
    while (!rest.empty()) {
        size_t dash = rest.find_first_of("-:.@");
        std::string_view tok = rest.substr(0, dash);
        rest = dash == std::string_view::npos ? std::string_view() : rest.substr(dash + 1);
        bool digits = !tok.empty() && std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (tok == "mythos") m.mythos = true;
        if (!digits) {
            if (have_major) have_minor = true;  // version tokens are over once a word follows them
            continue;
        }
        if (tok.size() > 2) break;  // a date (20250929): no more version tokens
        if (!have_major) {
            m.major = std::stoi(std::string(tok));
            have_major = true;
        } else if (!have_minor) {
            m.minor = std::stoi(std::string(tok));
            have_minor = true;
        }
    }
    return m;
}

// Models released after Claude Opus 4.6 (SDK docstrings, §3.2): only temperature 1.0, no top_k,
// top_p >= 0.99. Rule: Claude major >= 5, or 4.7+, or any "mythos" model.
bool claude_post_opus46(const ClaudeModel& m) {
    return m.claude && (m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 7));
}

// Adaptive thinking + output_config.effort (the SDK deprecates thinking.type=enabled from 4.6 on).
bool claude_adaptive_thinking(const ClaudeModel& m) {
    return m.claude && (m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 6));
}

// Structured outputs (output_config.format): Claude 4.1 and later.
bool claude_structured_outputs(const ClaudeModel& m) {
    return !m.claude || m.mythos || m.major >= 5 || (m.major == 4 && m.minor >= 1);
}

// Kimi models whose sampling parameters are fixed (§12.3: kimi-k2.5-class): kimi-k<version> with
// version >= 2.5.
bool kimi_fixed_sampling(std::string_view model) {
    std::string name = lower(model);
    size_t p = name.find("kimi-k");
    if (p == std::string::npos) return false;
    const char* s = name.c_str() + p + 6;
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s) return false;
    return v >= 2.5 - 1e-9;
}

// ------------------------------------------------------------------------------------------------
// Request body
// ------------------------------------------------------------------------------------------------

struct BadRequest {
    std::string param;
    std::string message;
};

[[noreturn]] void bad(std::string param, std::string message) { throw BadRequest{std::move(param), std::move(message)}; }

// One conversation turn being assembled. `lead` holds blocks that must come first in the turn:
// tool_result blocks in a user turn (§2.4), thinking blocks in an assistant turn.
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
        // definitions (§2.4): declare the tools the history used, and forbid calling them.
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

// ------------------------------------------------------------------------------------------------
// Error mapping shared by the classifier and the translator
// ------------------------------------------------------------------------------------------------

int status_for_error_type(std::string_view t) {
    if (t == "invalid_request_error") return 400;
    if (t == "authentication_error") return 401;
    if (t == "billing_error") return 402;
    if (t == "permission_error") return 403;
    if (t == "not_found_error") return 404;
    if (t == "request_too_large") return 413;
    if (t == "rate_limit_error") return 429;
    if (t == "timeout_error") return 504;
    if (t == "overloaded_error") return 529;
    return 500;  // api_error and anything unknown
}

struct ErrorInfo {
    std::string type;        // Anthropic error.type (or a compatible provider's)
    std::string message;
    std::string detail_code; // error.details.error_code
    std::string code;        // error.code (string or integer, as text) / base_resp.status_code
};

std::string scalar_text(const json_t* v) {
    if (json_is_string(v)) return std::string(sv(v));
    if (json_is_integer(v)) return std::to_string(json_integer_value(v));
    return {};
}

ErrorInfo error_info(const json_t* root) {
    ErrorInfo e;
    const json_t* err = jget(root, "error");
    if (json_is_object(err)) {
        e.type = sv(jget(err, "type"));
        e.message = sv(jget(err, "message"));
        e.detail_code = scalar_text(jget(jget(err, "details"), "error_code"));
        e.code = scalar_text(jget(err, "code"));
    } else if (json_is_string(err)) {
        e.message = sv(err);
    }
    if (e.message.empty()) e.message = sv(jget(root, "message"));
    if (e.type.empty() && sv(jget(root, "type")) != "error") e.type = sv(jget(root, "type"));
    const json_t* br = jget(root, "base_resp");  // MiniMax native shape
    if (json_is_object(br) && json_is_integer(jget(br, "status_code")) && json_integer_value(jget(br, "status_code")) != 0) {
        if (e.code.empty()) e.code = scalar_text(jget(br, "status_code"));
        if (e.message.empty()) e.message = sv(jget(br, "status_msg"));
    }
    return e;
}

enum class ErrorClass { billing, overloaded, rate_limit, auth, permission, server, timeout_retry, content_filter, invalid };

ErrorClass classify_info(int status, const ErrorInfo& e) {
    const std::string& t = e.type;
    const std::string& c = e.code;
    bool billing = status == 402 || t == "billing_error" || e.detail_code == "enforced_spend_limit_reached" ||
                   t == "insufficient_quota" || c == "insufficient_quota" || t == "exceeded_current_quota_error" ||
                   c == "1113" || c == "1008" || icontains(e.message, "credit balance") ||
                   icontains(e.message, "spend limit") || icontains(e.message, "insufficient balance") ||
                   icontains(e.message, "insufficient_quota");
    if (billing) return ErrorClass::billing;
    if (status == 529 || t == "overloaded_error" || t == "engine_overloaded_error") return ErrorClass::overloaded;
    if (c == "1301" || c == "1026" || c == "1027") return ErrorClass::content_filter;
    if (status == 429 || t == "rate_limit_error" || t == "rate_limit_reached_error" || c == "1302" || c == "1303" ||
        c == "1002" || c == "1039")
        return ErrorClass::rate_limit;
    if (status == 401 || t == "authentication_error" || c == "1004") return ErrorClass::auth;
    if (status == 403 || t == "permission_error") return ErrorClass::permission;
    if (status >= 500 || t == "api_error" || t == "timeout_error") return ErrorClass::server;
    if (status == 408 || status == 409) return ErrorClass::timeout_retry;
    return ErrorClass::invalid;
}

bool context_too_long(std::string_view msg) {
    return icontains(msg, "prompt is too long") || icontains(msg, "context length") ||
           icontains(msg, "context window") || icontains(msg, "too many tokens") ||
           icontains(msg, "maximum context");
}

// The OpenAI-shaped error for a classified upstream error.
ApiError openai_error_for(int status, ErrorClass cls, const ErrorInfo& e, std::span<const std::string_view> secrets) {
    ApiError a;
    a.message = scrub(e.message, secrets);
    switch (cls) {
    case ErrorClass::billing:
        a.status = 429;
        a.type = "insufficient_quota";
        a.code = "insufficient_quota";
        if (a.message.empty()) a.message = "The provider account's credit or spend limit is exhausted.";
        break;
    case ErrorClass::overloaded:
        a.status = 503;
        a.type = "server_error";
        a.code = "overloaded";
        if (a.message.empty()) a.message = "The provider is overloaded.";
        break;
    case ErrorClass::rate_limit:
        a.status = 429;
        a.type = "rate_limit_error";
        a.code = "rate_limit_exceeded";
        break;
    case ErrorClass::auth:
        a.status = 401;
        a.type = "authentication_error";
        break;
    case ErrorClass::permission:
        a.status = 403;
        a.type = "permission_error";
        break;
    case ErrorClass::server:
        a.status = status >= 500 && status <= 599 && status != 529 ? status : 500;
        if (e.type == "timeout_error" && status < 500) a.status = 504;
        a.type = std::string(openai_error_type_for_status(a.status));
        break;
    case ErrorClass::timeout_retry:
        a.status = status;
        a.type = std::string(openai_error_type_for_status(status));
        break;
    case ErrorClass::content_filter:
        a.status = 400;
        a.type = "invalid_request_error";
        a.code = "content_filter";
        break;
    case ErrorClass::invalid:
        a.status = status >= 400 && status <= 499 ? status : 400;
        a.type = std::string(openai_error_type_for_status(a.status));
        if (a.status == 400 && context_too_long(e.message)) a.code = "context_length_exceeded";
        else if (a.status == 413 || e.type == "request_too_large") a.code = "request_too_large";
        else if (a.status == 404 && icontains(e.message, "model")) a.code = "model_not_found";
        break;
    }
    if (a.message.empty()) a.message = "upstream request failed with HTTP status " + std::to_string(status);
    return a;
}

// `data: {"error":{...}}` for an error inside a stream.
std::string error_event(const ApiError& a) { return openai_error_event(a); }

std::string stream_error_event(std::string_view message, std::string_view code) {
    return OpenAIStreamRelay::error_event(message, code);
}

// ------------------------------------------------------------------------------------------------
// Response translation
// ------------------------------------------------------------------------------------------------

struct UsageAcc {
    int64_t input = -1, cache_read = -1, cache_creation = -1, output = -1, thinking = -1;

    // Non-null integer fields override (message_delta.usage is cumulative, §3.4).
    void merge(const json_t* u) {
        if (!json_is_object(u)) return;
        auto take = [&](const char* k, int64_t* dst) {
            const json_t* v = json_object_get(u, k);
            if (json_is_integer(v)) *dst = json_integer_value(v);
        };
        take("input_tokens", &input);
        take("cache_read_input_tokens", &cache_read);
        take("cache_creation_input_tokens", &cache_creation);
        take("output_tokens", &output);
        const json_t* d = json_object_get(u, "output_tokens_details");
        if (json_is_integer(jget(d, "thinking_tokens"))) thinking = json_integer_value(jget(d, "thinking_tokens"));
    }
    bool known() const { return input >= 0 || output >= 0; }
    Usage usage() const {
        Usage u;
        if (!known()) return u;
        u.prompt_tokens = std::max<int64_t>(input, 0) + std::max<int64_t>(cache_read, 0) + std::max<int64_t>(cache_creation, 0);
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
        if (cache_creation >= 0) out += ",\"cache_write_tokens\":" + n(cache_creation);
        out += "}";
        if (thinking >= 0) out += ",\"completion_tokens_details\":{\"reasoning_tokens\":" + n(thinking) + "}";
        out += "}";
    }
};

std::string_view map_stop_reason(std::string_view r) {
    if (r == "tool_use") return "tool_calls";
    if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
    if (r == "refusal") return "content_filter";
    return "stop";  // end_turn, stop_sequence, pause_turn, null, unknown
}

// §2.1: a message with tool calls finishes with tool_calls -- unless it was cut short (length: the
// arguments of the last call are truncated JSON) or refused (content_filter).
std::string_view finish_reason(std::string_view stop_reason, size_t tool_calls) {
    std::string_view f = map_stop_reason(stop_reason);
    if (tool_calls > 0 && f == "stop") return "tool_calls";
    return f;
}

// A whole Messages object, as collected for the non-streaming answer (or a JSON answer to a
// streaming request).
struct Collected {
    std::string id, model, text, reasoning, stop_reason, refusal;
    struct Call {
        std::string id, name, args;
    };
    std::vector<Call> calls;
    std::string thinking_blocks;  // JSON array text ("" if none)
    UsageAcc usage;
};

Collected collect(const json_t* msg) {
    Collected c;
    c.id = sv(jget(msg, "id"));
    c.model = sv(jget(msg, "model"));
    c.stop_reason = sv(jget(msg, "stop_reason"));
    c.usage.merge(jget(msg, "usage"));
    if (c.stop_reason == "refusal") c.refusal = sv(jget(jget(msg, "stop_details"), "explanation"));
    const json_t* content = jget(msg, "content");
    std::string tb;
    for (size_t i = 0; json_is_array(content) && i < json_array_size(content); ++i) {
        const json_t* b = json_array_get(content, i);
        std::string_view type = sv(jget(b, "type"));
        if (type == "text") {
            c.text += sv(jget(b, "text"));
        } else if (type == "thinking") {
            c.reasoning += sv(jget(b, "thinking"));
            tb += tb.empty() ? "[" : ",";
            tb += "{\"type\":\"thinking\",\"thinking\":";
            append_quoted(tb, sv(jget(b, "thinking")));
            tb += ",\"signature\":";
            append_quoted(tb, sv(jget(b, "signature")));
            tb += "}";
        } else if (type == "redacted_thinking") {
            tb += tb.empty() ? "[" : ",";
            tb += "{\"type\":\"redacted_thinking\",\"data\":";
            append_quoted(tb, sv(jget(b, "data")));
            tb += "}";
        } else if (type == "tool_use") {
            Collected::Call call;
            call.id = sv(jget(b, "id"));
            call.name = sv(jget(b, "name"));
            const json_t* in = jget(b, "input");
            if (present(in)) json_dump_append(call.args, in);
            else call.args = "{}";
            c.calls.push_back(std::move(call));
        }
        // server_tool_use, web_search_tool_result, ...: executed by the provider, not client tools
    }
    if (!tb.empty()) c.thinking_blocks = tb + "]";
    return c;
}

class AnthropicTranslator final : public ResponseTranslator {
public:
    explicit AnthropicTranslator(const TranslatorOptions& opt) : opt_(opt) {}

    bool feed(std::string_view bytes, std::string* out) override;
    bool finish(std::string* out) override;
    const Usage& usage() const override { return usage_; }
    bool complete() const override { return complete_; }
    bool saw_error() const override { return error_; }

private:
    enum class Mode { undecided, sse, json };

    struct Block {
        int64_t index = 0;
        std::string type;   // tool_use, text, thinking, ...
        size_t ordinal = 0; // tool-call ordinal
        bool args_sent = false;
        std::string start_input;  // compact JSON of content_block_start.input
    };

    void on_event(const SseEvent& ev, std::string* out);
    void handle(std::string_view type, const json_t* data, std::string* out);
    void ensure_prefix(std::string_view upstream_id, std::string_view upstream_model);
    void ensure_started(std::string* out);
    void chunk(std::string* out, std::string_view delta, std::string_view finish = {});
    void end_stream(std::string* out);
    void fail(std::string* out, const std::string& event);
    bool finish_json(std::string* out);
    void render_completion(const Collected& c, std::string* out);
    void render_as_stream(const Collected& c, std::string* out);
    Block* block(int64_t index);

    TranslatorOptions opt_;
    Mode mode_ = Mode::undecided;
    SseParser parser_;
    std::string buf_;        // JSON answers
    std::string prefix_;     // `{"id":..,"object":"chat.completion.chunk","created":..,"model":..,`
    bool started_ = false;
    bool done_ = false;      // message_stop seen (stream) / whole answer rendered
    bool complete_ = false;
    bool error_ = false;
    bool broken_ = false;    // terminal: ignore further input
    size_t tool_calls_ = 0;
    std::vector<Block> blocks_;
    std::string stop_reason_;
    UsageAcc acc_;
    Usage usage_;
    std::string tmp_;
};

void AnthropicTranslator::ensure_prefix(std::string_view upstream_id, std::string_view upstream_model) {
    if (!prefix_.empty()) return;
    std::string id = !opt_.id.empty() ? opt_.id : !upstream_id.empty() ? std::string(upstream_id) : "chatcmpl-anthropic";
    std::string model = !opt_.model.empty() ? opt_.model : std::string(upstream_model);
    if (opt_.created == 0) opt_.created = static_cast<int64_t>(std::time(nullptr));
    prefix_ = "{\"id\":";
    append_quoted(prefix_, id);
    prefix_ += ",\"object\":\"";
    prefix_ += opt_.stream ? "chat.completion.chunk" : "chat.completion";
    prefix_ += "\",\"created\":" + std::to_string(opt_.created) + ",\"model\":";
    append_quoted(prefix_, model);
    prefix_ += ',';
}

void AnthropicTranslator::chunk(std::string* out, std::string_view delta, std::string_view finish) {
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

void AnthropicTranslator::ensure_started(std::string* out) {
    if (started_) return;
    ensure_prefix({}, {});
    started_ = true;
    chunk(out, "{\"role\":\"assistant\",\"content\":\"\"}");
}

AnthropicTranslator::Block* AnthropicTranslator::block(int64_t index) {
    for (auto& b : blocks_)
        if (b.index == index) return &b;
    return nullptr;
}

void AnthropicTranslator::fail(std::string* out, const std::string& event) {
    if (!error_) out->append(event);
    error_ = true;
    broken_ = true;
}

void AnthropicTranslator::end_stream(std::string* out) {
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

void AnthropicTranslator::handle(std::string_view type, const json_t* d, std::string* out) {
    if (type == "ping") {
        out->append(": ping\n\n");  // keeps idle client connections and proxies alive
        return;
    }
    if (type == "error") {
        ErrorInfo e = error_info(d);
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        fail(out, error_event(a));
        return;
    }
    if (type == "message_start") {
        const json_t* msg = jget(d, "message");
        ensure_prefix(sv(jget(msg, "id")), sv(jget(msg, "model")));
        acc_.merge(jget(msg, "usage"));
        ensure_started(out);
        return;
    }
    if (type == "content_block_start") {
        ensure_started(out);
        const json_t* cb = jget(d, "content_block");
        const json_t* idx = jget(d, "index");
        Block b;
        b.index = json_is_integer(idx) ? json_integer_value(idx) : -1;
        b.type = sv(jget(cb, "type"));
        tmp_.clear();
        if (b.type == "tool_use") {
            b.ordinal = tool_calls_++;
            const json_t* in = jget(cb, "input");
            if (json_is_object(in) && json_object_size(in) > 0) json_dump_append(b.start_input, in);
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b.ordinal) + ",\"id\":";
            append_quoted(tmp_, sv(jget(cb, "id")));
            tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
            append_quoted(tmp_, sv(jget(cb, "name")));
            tmp_ += ",\"arguments\":\"\"}}]}";
            chunk(out, tmp_);
        } else if (b.type == "text") {
            std::string_view text = sv(jget(cb, "text"));
            if (!text.empty()) {
                tmp_ = "{\"content\":";
                append_quoted(tmp_, text);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        } else if (b.type == "thinking") {
            std::string_view text = sv(jget(cb, "thinking"));
            if (!text.empty()) {
                tmp_ = "{\"reasoning_content\":";
                append_quoted(tmp_, text);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        } else if (b.type == "redacted_thinking") {
            tmp_ = "{\"thinking_blocks\":[{\"type\":\"redacted_thinking\",\"data\":";
            append_quoted(tmp_, sv(jget(cb, "data")));
            tmp_ += "}]}";
            chunk(out, tmp_);
        }
        if (Block* old = block(b.index)) *old = std::move(b);
        else blocks_.push_back(std::move(b));
        return;
    }
    if (type == "content_block_delta") {
        ensure_started(out);
        const json_t* delta = jget(d, "delta");
        std::string_view dt = sv(jget(delta, "type"));
        const json_t* idx = jget(d, "index");
        Block* b = block(json_is_integer(idx) ? json_integer_value(idx) : -1);
        tmp_.clear();
        if (dt == "text_delta") {
            std::string_view text = sv(jget(delta, "text"));
            if (text.empty()) return;
            tmp_ = "{\"content\":";
            append_quoted(tmp_, text);
            tmp_ += "}";
        } else if (dt == "input_json_delta") {
            std::string_view part = sv(jget(delta, "partial_json"));
            if (part.empty() || !b || b->type != "tool_use") return;
            b->args_sent = true;
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, part);
            tmp_ += "}}]}";
        } else if (dt == "thinking_delta") {
            std::string_view text = sv(jget(delta, "thinking"));
            if (text.empty()) return;
            tmp_ = "{\"reasoning_content\":";
            append_quoted(tmp_, text);
            tmp_ += "}";
        } else if (dt == "signature_delta") {
            std::string_view sig = sv(jget(delta, "signature"));
            if (sig.empty()) return;
            tmp_ = "{\"thinking_blocks\":[{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":";
            append_quoted(tmp_, sig);
            tmp_ += "}]}";
        } else {
            return;  // citations_delta and future delta types
        }
        chunk(out, tmp_);
        return;
    }
    if (type == "content_block_stop") {
        const json_t* idx = jget(d, "index");
        int64_t index = json_is_integer(idx) ? json_integer_value(idx) : -1;
        Block* b = block(index);
        if (b && b->type == "tool_use" && !b->args_sent) {
            // No input_json_delta carried anything: the arguments are the start input ("{}").
            tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(b->ordinal) + ",\"function\":{\"arguments\":";
            append_quoted(tmp_, b->start_input.empty() ? std::string_view("{}") : std::string_view(b->start_input));
            tmp_ += "}}]}";
            chunk(out, tmp_);
        }
        blocks_.erase(std::remove_if(blocks_.begin(), blocks_.end(), [&](const Block& x) { return x.index == index; }),
                      blocks_.end());
        return;
    }
    if (type == "message_delta") {
        ensure_started(out);
        const json_t* delta = jget(d, "delta");
        if (json_is_string(jget(delta, "stop_reason"))) stop_reason_ = sv(jget(delta, "stop_reason"));
        acc_.merge(jget(d, "usage"));
        usage_ = acc_.usage();
        if (stop_reason_ == "refusal") {
            std::string_view expl = sv(jget(jget(delta, "stop_details"), "explanation"));
            if (!expl.empty()) {
                tmp_ = "{\"refusal\":";
                append_quoted(tmp_, expl);
                tmp_ += "}";
                chunk(out, tmp_);
            }
        }
        return;
    }
    if (type == "message_stop") {
        end_stream(out);
        return;
    }
    // unknown event types: ignored (forward compatibility)
}

void AnthropicTranslator::on_event(const SseEvent& ev, std::string* out) {
    if (broken_ || done_) return;
    std::string_view data = ev.data;
    while (!data.empty() && (data.front() == ' ' || data.front() == '\t' || data.front() == '\r' || data.front() == '\n'))
        data.remove_prefix(1);
    if (data.empty()) {
        if (ev.event == "ping") handle("ping", nullptr, out);
        return;  // comments, keep-alives
    }
    std::string perr;
    JsonPtr d = json_parse(data, &perr);
    if (!d || !json_is_object(d.get())) {
        fail(out, stream_error_event("upstream sent an invalid stream event", "upstream_protocol_error"));
        return;
    }
    std::string_view type = sv(jget(d.get(), "type"));
    if (type.empty()) type = ev.event;
    if (ev.event == "error") type = "error";
    handle(type, d.get(), out);
}

bool AnthropicTranslator::feed(std::string_view bytes, std::string* out) {
    try {
        if (broken_) return false;
        if (done_) return true;  // trailing bytes after message_stop / after the answer
        if (mode_ == Mode::undecided) {
            size_t i = 0;
            while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
            if (i == bytes.size()) {
                buf_.append(bytes);  // whitespace only so far
                return true;
            }
            mode_ = (!opt_.stream || bytes[i] == '{' || bytes[i] == '[') ? Mode::json : Mode::sse;
            if (mode_ == Mode::sse && !buf_.empty()) {
                std::string lead;
                lead.swap(buf_);
                if (!parser_.feed(lead, [this, out](const SseEvent& ev) { on_event(ev, out); })) {
                    fail(out, stream_error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
                    return false;
                }
            }
        }
        if (mode_ == Mode::json) {
            if (buf_.size() + bytes.size() > kMaxJsonAnswer) {
                broken_ = true;
                error_ = true;
                if (opt_.stream) {
                    out->append(stream_error_event("upstream answer too large", "upstream_response_too_large"));
                } else {
                    ApiError a;
                    a.status = 502;
                    a.type = "server_error";
                    a.code = "upstream_response_too_large";
                    a.message = "upstream answer too large";
                    out->append(openai_error_body(a));
                }
                return false;
            }
            buf_.append(bytes);
            return true;
        }
        if (!parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); })) {
            fail(out, stream_error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large"));
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

void AnthropicTranslator::render_completion(const Collected& c, std::string* out) {
    ensure_prefix(c.id, c.model);
    out->append(prefix_);
    out->append("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (!c.text.empty()) append_quoted(*out, c.text);
    else if (!c.calls.empty() || !c.refusal.empty()) out->append("null");
    else out->append("\"\"");
    out->append(",\"refusal\":");
    if (c.refusal.empty()) out->append("null");
    else append_quoted(*out, c.refusal);
    if (!c.reasoning.empty()) {
        out->append(",\"reasoning_content\":");
        append_quoted(*out, c.reasoning);
    }
    if (!c.thinking_blocks.empty()) {
        out->append(",\"thinking_blocks\":");
        out->append(c.thinking_blocks);
    }
    if (!c.calls.empty()) {
        out->append(",\"tool_calls\":[");
        for (size_t i = 0; i < c.calls.size(); ++i) {
            if (i) out->push_back(',');
            out->append("{\"id\":");
            append_quoted(*out, c.calls[i].id);
            out->append(",\"type\":\"function\",\"function\":{\"name\":");
            append_quoted(*out, c.calls[i].name);
            out->append(",\"arguments\":");
            append_quoted(*out, c.calls[i].args);
            out->append("}}");
        }
        out->push_back(']');
    }
    out->append("},\"logprobs\":null,\"finish_reason\":\"");
    out->append(finish_reason(c.stop_reason, c.calls.size()));
    out->append("\"}],\"usage\":");
    c.usage.append_json(*out);
    out->push_back('}');
}

void AnthropicTranslator::render_as_stream(const Collected& c, std::string* out) {
    ensure_prefix(c.id, c.model);
    ensure_started(out);
    if (!c.reasoning.empty()) {
        tmp_ = "{\"reasoning_content\":";
        append_quoted(tmp_, c.reasoning);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    if (!c.thinking_blocks.empty()) chunk(out, "{\"thinking_blocks\":" + c.thinking_blocks + "}");
    if (!c.text.empty()) {
        tmp_ = "{\"content\":";
        append_quoted(tmp_, c.text);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    for (const auto& call : c.calls) {
        tmp_ = "{\"tool_calls\":[{\"index\":" + std::to_string(tool_calls_++) + ",\"id\":";
        append_quoted(tmp_, call.id);
        tmp_ += ",\"type\":\"function\",\"function\":{\"name\":";
        append_quoted(tmp_, call.name);
        tmp_ += ",\"arguments\":";
        append_quoted(tmp_, call.args);
        tmp_ += "}}]}";
        chunk(out, tmp_);
    }
    if (!c.refusal.empty()) {
        tmp_ = "{\"refusal\":";
        append_quoted(tmp_, c.refusal);
        tmp_ += "}";
        chunk(out, tmp_);
    }
    stop_reason_ = c.stop_reason;
    acc_ = c.usage;
    end_stream(out);
}

bool AnthropicTranslator::finish_json(std::string* out) {
    std::string perr;
    JsonPtr root = json_parse(buf_, &perr);
    std::string().swap(buf_);
    const json_t* r = root.get();
    if (json_is_object(r) && (sv(jget(r, "type")) == "error" || present(jget(r, "error")) ||
                              (json_is_object(jget(r, "base_resp")) && json_integer_value(jget(jget(r, "base_resp"), "status_code")) != 0))) {
        ErrorInfo e = error_info(r);
        int status = status_for_error_type(e.type);
        ApiError a = openai_error_for(status, classify_info(status, e), e, {});
        error_ = broken_ = true;
        out->append(opt_.stream ? error_event(a) : openai_error_body(a));
        return false;
    }
    if (!json_is_object(r) || !json_is_array(jget(r, "content"))) {
        error_ = broken_ = true;
        ApiError a;
        a.status = 502;
        a.type = "server_error";
        a.code = "upstream_protocol_error";
        a.message = r ? "upstream answer is not a Messages API message" : "upstream answer is incomplete or not valid JSON";
        out->append(opt_.stream ? error_event(a) : openai_error_body(a));
        return false;
    }
    Collected c = collect(r);
    if (opt_.stream) {
        render_as_stream(c, out);
    } else {
        render_completion(c, out);
        usage_ = c.usage.usage();
        done_ = complete_ = true;
    }
    return true;
}

bool AnthropicTranslator::finish(std::string* out) {
    try {
        if (broken_) return false;
        if (mode_ == Mode::undecided) mode_ = opt_.stream ? Mode::sse : Mode::json;
        if (mode_ == Mode::json) {
            if (done_) return complete_;
            return finish_json(out);
        }
        parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
        if (done_) return true;
        if (!error_) {
            out->append(stream_error_event("upstream stream ended before message_stop", "stream_truncated"));
            error_ = true;
        }
        broken_ = true;
        return false;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        fail(out, stream_error_event("internal error while translating the upstream answer", "translation_error"));
        return false;
    }
}

// The first error object of an SSE body (a 2xx stream that failed before anything was relayed).
JsonPtr first_sse_error(std::string_view body) {
    SseParser p;
    JsonPtr found;
    auto cb = [&](const SseEvent& ev) {
        if (found) return;
        JsonPtr d = json_parse(ev.data, nullptr);
        if (json_is_object(d.get()) && (ev.event == "error" || sv(jget(d.get(), "type")) == "error" || present(jget(d.get(), "error"))))
            found = std::move(d);
    };
    p.feed(body, cb);
    p.flush(cb);
    return found;
}

std::string base_url_for(std::string_view kind_name, const ProviderKey& key) {
    std::string_view region = json_string_view(key.metadata.get(), "region");
    bool cn = region == "cn" || region == "china";
    switch (flavor_of(kind_name)) {
    case Flavor::anthropic: return "https://api.anthropic.com";
    case Flavor::minimax: return cn ? "https://api.minimaxi.com/anthropic" : "https://api.minimax.io/anthropic";
    case Flavor::moonshot: return cn ? "https://api.moonshot.cn/anthropic" : "https://api.moonshot.ai/anthropic";
    case Flavor::zai: return cn ? "https://open.bigmodel.cn/api/anthropic" : "https://api.z.ai/api/anthropic";
    case Flavor::mimo:
        // Token Plan clusters (§10.1, host names from client code): region "token-plan-cn|sgp|ams".
        if (region == "token-plan-cn" || region == "token-plan-sgp" || region == "token-plan-ams")
            return "https://" + std::string(region) + ".xiaomimimo.com/anthropic";
        return "https://api.xiaomimimo.com/anthropic";
    }
    return "https://api.anthropic.com";
}

std::string headers_for(std::string_view kind_name, const ProviderKey& key) {
    Flavor fl = flavor_of(kind_name);
    std::string_view mode = json_string_view(key.metadata.get(), "auth_header");
    std::string m = lower(mode);
    if (m.empty()) m = fl == Flavor::mimo ? "api-key" : "x-api-key";
    std::string out;
    if (!header_safe(key.secret)) {
        // A secret with control characters would split the header block: send no credential
        // (the provider answers 401 and the key is parked) rather than inject headers.
    } else if (m == "authorization" || m == "bearer") {
        out += "Authorization: Bearer " + key.secret + "\r\n";
    } else if (m == "api-key") {
        out += "api-key: " + key.secret + "\r\n";
    } else if (m != "none") {
        out += "x-api-key: " + key.secret + "\r\n";
    }
    std::string_view ver = json_string_view(key.metadata.get(), "anthropic_version");
    if (ver.empty() || !header_safe(ver)) ver = kAnthropicVersion;
    out += "anthropic-version: ";
    out += ver;
    out += "\r\n";
    const json_t* beta = json_object_get(key.metadata.get(), "anthropic_beta");
    std::string betas;
    if (json_is_string(beta)) {
        betas = sv(beta);
    } else if (json_is_array(beta)) {
        for (size_t i = 0; i < json_array_size(beta); ++i) {
            std::string_view b = sv(json_array_get(beta, i));
            if (b.empty()) continue;
            if (!betas.empty()) betas += ',';
            betas += b;
        }
    }
    if (!betas.empty() && header_safe(betas)) out += "anthropic-beta: " + betas + "\r\n";
    return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------

bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model, std::string_view kind_name,
                          const ProviderKey& key, std::string* out, ApiError* err) {
    try {
        BodyBuilder b(request_json(req), upstream_model, flavor_of(kind_name), key);
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

std::unique_ptr<ResponseTranslator> anthropic_translator(const TranslatorOptions& opt) {
    return std::make_unique<AnthropicTranslator>(opt);
}

ErrorVerdict anthropic_classify_error(int status, std::string_view body, std::span<const std::string_view> secrets) {
    ErrorVerdict v;
    try {
        std::string_view trimmed = body;
        while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\r' || trimmed.front() == '\n' ||
                                    trimmed.front() == '\t'))
            trimmed.remove_prefix(1);
        JsonPtr root;
        if (starts_with(trimmed, "event:") || starts_with(trimmed, "data:")) root = first_sse_error(trimmed);
        else root = json_parse(trimmed, nullptr);
        ErrorInfo e = error_info(root.get());
        if (!root && !trimmed.empty()) {
            std::string text(trimmed.substr(0, 512));
            e.message = text;
        }
        int eff = status;
        if (eff < 400) eff = status_for_error_type(e.type);  // an error signalled inside a 2xx body
        ErrorClass cls = classify_info(eff, e);
        switch (cls) {
        case ErrorClass::billing:
            v.retry = false;
            v.park_key = true;
            v.park_ms = kLongParkMs;
            break;
        case ErrorClass::auth:
        case ErrorClass::permission:
            // The credential is broken or lacks access: another key can serve this request (the
            // gateway-wide policy for provider 401/403), and this one is parked for long.
            v.retry = true;
            v.park_key = true;
            v.park_ms = kLongParkMs;
            break;
        case ErrorClass::overloaded:
        case ErrorClass::rate_limit:
        case ErrorClass::server:
        case ErrorClass::timeout_retry:
            v.retry = true;
            v.park_key = true;
            v.park_ms = -1;
            break;
        case ErrorClass::content_filter:
        case ErrorClass::invalid:
            v.retry = false;
            v.park_key = false;
            break;
        }
        v.error = openai_error_for(eff, cls, e, secrets);
        // Make sure no invalid UTF-8 from a non-JSON body breaks the envelope: json_escape_append
        // copies bytes; keep only printable ASCII and valid JSON-parsed text.
        if (!root) {
            std::string clean;
            for (unsigned char c : v.error.message) clean += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
            v.error.message = clean;
        }
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        v = ErrorVerdict{};
        v.retry = status >= 500 || status == 429;
        v.park_key = v.retry;
        v.error.status = status >= 400 ? status : 502;
        v.error.type = std::string(openai_error_type_for_status(v.error.status));
        v.error.message = "upstream request failed with HTTP status " + std::to_string(status);
    }
    return v;
}

ErrorVerdict anthropic_classify_error(int status, std::string_view body) {
    return anthropic_classify_error(status, body, std::span<const std::string_view>{});
}

std::string anthropic_request_headers(std::string_view kind_name, const ProviderKey& key) {
    return headers_for(kind_name, key);
}

std::string anthropic_request_headers(ProviderKind kind, const ProviderKey& key) {
    return headers_for(provider_info(kind).name, key);
}

std::string anthropic_default_base_url(std::string_view kind_name, const ProviderKey& key) {
    return base_url_for(kind_name, key);
}

std::string anthropic_default_base_url(ProviderKind kind, const ProviderKey& key) {
    return base_url_for(provider_info(kind).name, key);
}

}  // namespace routeshift
