// Anthropic Messages request builder: canonical request -> /v1/messages body, for the kinds that
// speak the Messages API (anthropic, minimax, moonshot, and zai / mimo on their
// Anthropic-compatible endpoints). The per-provider code is only what the providers document
// differently.
//
// The body is written as text: "model" and "max_tokens", then "system" and "messages" from the
// MessagesWriter (message text copied as escaped tokens, linear in the prompt size), then the
// small members (tools, tool_choice, sampling, thinking, output_config, metadata, service_tier,
// stream), written from the canonical request's scanned values: numbers and strings are copied as
// the tokens the client sent. Only values with structure of their own (tools, a tool_choice
// object, a client thinking object, response_format) are parsed with jansson, and only when sent.
#include "egress/anthropic/anthropic_internal.hpp"

#include "config/provider_catalog.hpp"
#include "egress/anthropic/anthropic_messages_writer.hpp"
#include "egress/cannot_express.hpp"
#include "egress/claude_thinking.hpp"
#include "egress/json_answer_instruction.hpp"
#include "ingress/openai_chat_ingress.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace routeshift {

using namespace anthropic_internal;

namespace {

[[noreturn]] void bad(std::string param, std::string message) { cannot_express(std::move(param), std::move(message)); }

// The DOM of one small request value (tools, tool_choice, a thinking object, response_format),
// parsed only when the client sent it; null when absent or JSON null (what json_present() tests).
JsonPtr dom_of(JsonValue value) {
    if (value.absent_or_null()) return nullptr;
    JsonPtr dom = json_parse(value.text, nullptr);
    if (!dom) throw std::bad_alloc();  // scanned already: only memory can fail here
    return dom;
}

bool is_number(JsonValue v) { return v.is(JsonType::integer) || v.is(JsonType::real); }
bool is_true(JsonValue v) { return v.is(JsonType::boolean) && v.text[0] == 't'; }
bool is_false(JsonValue v) { return v.is(JsonType::boolean) && v.text[0] == 'f'; }

// A real as the DOM path wrote it (json_dump_append's form), for values the rules below changed.
void append_real(std::string& out, double value) {
    JsonPtr real(require_allocated(json_real(value)));
    json_dump_append(out, real.get());
}

class BodyBuilder {
public:
    BodyBuilder(const CanonicalRequest& req, std::string_view model, Flavor fl, const ProviderKey& key)
        : canonical_(req), model_(model), fl_(fl), key_(key), claude_(parse_claude(model)), messages_(req) {}

    std::string build();

private:
    void member(const char* name) {  // starts ,"name": in the members after "messages"
        tail_ += ",\"";
        tail_ += name;
        tail_ += "\":";
    }
    void convert_tools();
    JsonPtr convert_tool_choice(JsonValue tc, bool has_tools);
    int64_t output_cap();
    void sampling(bool thinking_on);
    std::string thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, std::string* effort);
    bool last_tool_call_lacks_thinking() const;
    std::string response_format();

    const CanonicalRequest& canonical_;
    std::string_view model_;
    Flavor fl_;
    const ProviderKey& key_;  // the body never depends on the key today; kept for per-key rules
    ClaudeModel claude_;
    MessagesWriter messages_;
    std::string tail_;  // the members after "messages", each with its leading comma
};

void BodyBuilder::convert_tools() {
    JsonPtr tools_dom = dom_of(canonical_.tools);
    const json_t* tools = tools_dom.get();
    JsonPtr functions_dom = json_present(tools) ? nullptr : dom_of(canonical_.functions);  // legacy
    const json_t* functions = functions_dom.get();
    JsonPtr out(require_allocated(json_array()));
    auto add = [&](const json_t* fn, const json_t* tool, const std::string& path) {
        const json_t* name = json_object_get(fn, "name");
        if (!json_is_string(name) || json_string_view(name).empty())
            bad(path + ".name", "'" + path + ".name' must be a non-empty string.");
        json_t* t = require_allocated(json_object());
        JsonPtr g(t);
        set_json_member(t, "name", share(name));
        std::string_view desc = json_string_view(json_object_get(fn, "description"));
        if (!desc.empty()) set_json_member(t, "description", new_json_string(desc));
        const json_t* params = json_object_get(fn, "parameters");
        if (json_is_object(params) && json_is_string(json_object_get(params, "type"))) {
            set_json_member(t, "input_schema", share(params));
        } else if (json_is_object(params)) {
            json_t* s = require_allocated(json_copy(const_cast<json_t*>(params)));
            set_json_member(s, "type", new_json_string("object"));
            set_json_member(t, "input_schema", s);
        } else if (!json_present(params)) {
            json_t* s = require_allocated(json_object());
            set_json_member(s, "type", new_json_string("object"));
            set_json_member(s, "properties", require_allocated(json_object()));
            set_json_member(t, "input_schema", s);
        } else {
            bad(path + ".parameters", "'" + path + ".parameters' must be a JSON Schema object.");
        }
        if (fl_ == Flavor::anthropic && json_is_true(json_object_get(fn, "strict"))) set_json_member(t, "strict", json_true());
        const json_t* cc = json_object_get(tool, "cache_control");
        if (json_is_object(cc)) set_json_member(t, "cache_control", share(cc));
        append_json_element(out.get(), g.release());
    };
    if (json_is_array(tools)) {
        for (size_t i = 0; i < json_array_size(tools); ++i) {
            const json_t* tool = json_array_get(tools, i);
            std::string path = "tools[" + std::to_string(i) + "]";
            if (json_string_view(json_object_get(tool, "type")) != "function" || !json_is_object(json_object_get(tool, "function")))
                bad(path + ".type", "Only function tools are supported ('" + path + "').");
            add(json_object_get(tool, "function"), tool, path + ".function");
        }
    } else if (json_present(tools)) {
        bad("tools", "'tools' must be an array.");
    } else if (json_is_array(functions)) {
        for (size_t i = 0; i < json_array_size(functions); ++i)
            add(json_array_get(functions, i), nullptr, "functions[" + std::to_string(i) + "]");
    }

    bool has_tools = json_array_size(out.get()) > 0;
    JsonValue tc = canonical_.tool_choice;
    if (tc.absent_or_null() && !json_present(tools)) tc = canonical_.function_call;  // legacy
    JsonPtr choice = convert_tool_choice(tc, has_tools);

    if (!has_tools && messages_.history_has_tools()) {
        // The Messages API refuses tool_use/tool_result blocks in a request without tool
        // definitions: declare the tools the history used, and forbid calling them.
        for (const auto& n : messages_.history_tool_names()) {
            json_t* t = require_allocated(json_object());
            JsonPtr g(t);
            set_json_member(t, "name", new_json_string(n));
            set_json_member(t, "description", new_json_string("Tool used earlier in this conversation; not available now."));
            json_t* s = require_allocated(json_object());
            set_json_member(s, "type", new_json_string("object"));
            set_json_member(t, "input_schema", s);
            append_json_element(out.get(), g.release());
        }
        if (json_array_size(out.get()) > 0) {
            choice.reset(require_allocated(json_object()));
            set_json_member(choice.get(), "type", new_json_string("none"));
        }
    }
    if (json_array_size(out.get()) > 0) {
        member("tools");
        json_dump_append(tail_, out.get());
    }
    if (choice) {
        member("tool_choice");
        json_dump_append(tail_, choice.get());
    }
}

JsonPtr BodyBuilder::convert_tool_choice(JsonValue tc_value, bool has_tools) {
    bool no_parallel = is_false(canonical_.parallel_tool_calls);
    if (!has_tools) return nullptr;  // nothing to choose from (OpenAI would have refused it)
    JsonPtr tc_dom = dom_of(tc_value);
    const json_t* tc = tc_dom.get();
    std::string type;
    std::string name;
    if (!json_present(tc)) {
        if (!no_parallel) return nullptr;
        type = "auto";
    } else if (json_is_string(tc)) {
        std::string_view v = json_string_view(tc);
        if (v == "auto") type = "auto";
        else if (v == "none") type = "none";
        else if (v == "required" || v == "any") type = "any";
        else bad("tool_choice", "Unsupported 'tool_choice' value '" + std::string(v) + "'.");
    } else if (json_is_object(tc)) {
        const json_t* fn = json_object_get(tc, "function");
        const json_t* n = json_is_object(fn) ? json_object_get(fn, "name") : json_object_get(tc, "name");  // legacy {"name":..}
        if ((json_string_view(json_object_get(tc, "type")) == "function" || !json_present(json_object_get(tc, "type"))) && json_is_string(n) && !json_string_view(n).empty()) {
            type = "tool";
            name = json_string_view(n);
        } else {
            bad("tool_choice", "Unsupported 'tool_choice': expected \"auto\", \"none\", \"required\" or "
                               "{\"type\":\"function\",\"function\":{\"name\":...}}.");
        }
    } else {
        bad("tool_choice", "'tool_choice' must be a string or an object.");
    }
    JsonPtr c(require_allocated(json_object()));
    set_json_member(c.get(), "type", new_json_string(type));
    if (type == "tool") set_json_member(c.get(), "name", new_json_string(name));
    if (no_parallel && type != "none") set_json_member(c.get(), "disable_parallel_tool_use", json_true());
    return c;
}

// max_completion_tokens (preferred) or max_tokens; -1 when the client sent neither.
int64_t BodyBuilder::output_cap() {
    for (auto [k, v] : {std::pair{"max_completion_tokens", canonical_.max_completion_tokens},
                        std::pair{"max_tokens", canonical_.max_tokens}}) {
        if (v.absent_or_null()) continue;
        int64_t cap = 0;
        if (!json_read_int(v, &cap) || cap < 1) bad(k, std::string("'") + k + "' must be a positive integer.");
        return cap;
    }
    return -1;
}

// Whether the conversation's last assistant message calls tools without replaying its thinking.
bool BodyBuilder::last_tool_call_lacks_thinking() const {
    for (auto m = canonical_.messages.rbegin(); m != canonical_.messages.rend(); ++m) {
        if (m->role != MessageRole::assistant) continue;
        const bool calls = m->call_count > 0 || m->function_call.is(JsonType::object);
        return calls && !(m->thinking_blocks.is(JsonType::array) && !json_array_empty(m->thinking_blocks));
    }
    return false;
}

// thinking from `reasoning_effort` (or a client `thinking` object, forwarded as is), as JSON text
// ("" for none); `effort` gets output_config.effort's level ("" for none).
std::string BodyBuilder::thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, std::string* effort) {
    *thinking_on = false;
    if (canonical_.thinking.is(JsonType::object)) {
        JsonPtr client = dom_of(canonical_.thinking);
        std::string_view t = json_string_view(json_object_get(client.get(), "type"));
        *thinking_on = t == "enabled" || t == "adaptive";
        if (t == "enabled" && json_is_integer(json_object_get(client.get(), "budget_tokens"))) {
            int64_t b = json_integer_value(json_object_get(client.get(), "budget_tokens"));
            if (!max_from_client && *max_tokens <= b) *max_tokens = b + kDefaultMaxTokens;
        }
        std::string text;
        json_dump_append(text, client.get());
        return text;
    }
    JsonValue re = canonical_.reasoning_effort;
    if (re.absent_or_null()) return {};
    if (!re.is(JsonType::string)) bad("reasoning_effort", "'reasoning_effort' must be a string.");
    // With thinking on, Anthropic requires the last assistant message of a tool loop to start with
    // its thinking block ("a final assistant message must start with a thinking block"). A normal
    // OpenAI client sends its tool-call message back without one: that turn goes without thinking.
    if (last_tool_call_lacks_thinking()) return {};
    std::string storage;
    ClaudeThinking mapped = claude_thinking_for_effort(json_string_text(re, &storage));
    if (mapped.disabled) return R"({"type":"disabled"})";
    int64_t budget = mapped.budget_tokens;
    *thinking_on = true;
    if (fl_ == Flavor::anthropic && claude_adaptive_thinking(claude_)) {
        // Adaptive thinking: the model sizes its own thinking; the effort level steers it. Thinking
        // counts against max_tokens, so a defaulted cap leaves the same room as a budget would.
        if (!max_from_client && *max_tokens <= budget) *max_tokens = budget + kDefaultMaxTokens;
        *effort = std::move(mapped.level);
        return R"({"type":"adaptive"})";
    }
    fit_claude_thinking_budget(&budget, max_tokens, max_from_client, kDefaultMaxTokens);
    return R"({"type":"enabled","budget_tokens":)" + std::to_string(budget) + "}";
}

double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

// temperature / top_p / top_k / stop, per provider and model (rules listed in provider_adapter.hpp).
void BodyBuilder::sampling(bool thinking_on) {
    JsonValue temp = canonical_.temperature;
    JsonValue top_p = canonical_.top_p;
    JsonValue top_k = canonical_.top_k;  // extension some clients send
    for (auto [v, k] : {std::pair{temp, "temperature"}, std::pair{top_p, "top_p"}})
        if (!v.absent_or_null() && !is_number(v)) bad(k, std::string("'") + k + "' must be a number.");
    if (!top_k.absent_or_null() && !top_k.is(JsonType::integer)) bad("top_k", "'top_k' must be an integer.");
    bool has_t = !temp.absent_or_null(), has_p = !top_p.absent_or_null(), has_k = !top_k.absent_or_null();
    double t = 0, p = 0;
    if (has_t) json_read_number(temp, &t);
    if (has_p) json_read_number(top_p, &p);

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
    // A value the rules kept is copied as the client's token; a changed one is written anew.
    double sent = 0;
    if (has_t) {
        member("temperature");
        if (json_read_number(temp, &sent) && sent == t) tail_ += temp.text;
        else append_real(tail_, t);
    }
    if (has_p) {
        member("top_p");
        if (json_read_number(top_p, &sent) && sent == p) tail_ += top_p.text;
        else append_real(tail_, p);
    }
    int64_t k = -1;
    if (has_k && json_read_int(top_k, &k) && k >= 0) {
        member("top_k");
        tail_ += top_k.text;
    }

    JsonValue stop = canonical_.stop;
    if (!stop.absent_or_null()) {
        std::string sequences;  // "," + each kept string token
        auto add = [&](JsonValue s, const std::string& path) {
            if (!s.is(JsonType::string)) bad(path, "'" + path + "' must be a string.");
            std::string storage;
            if (is_blank(json_string_text(s, &storage))) return;  // whitespace-only is rejected upstream
            sequences += ',';
            sequences += s.text;
        };
        if (stop.is(JsonType::string)) {
            add(stop, "stop");
        } else if (stop.is(JsonType::array)) {
            JsonValue element;
            size_t i = 0;
            for (JsonArrayReader elements(stop); elements.next(&element); ++i) add(element, "stop[" + std::to_string(i) + "]");
        } else {
            bad("stop", "'stop' must be a string or an array of strings.");
        }
        if (fl_ != Flavor::minimax && !sequences.empty()) {
            member("stop_sequences");
            sequences[0] = '[';
            tail_ += sequences;
            tail_ += ']';
        }
    }
}

// output_config.format as JSON text ("" for none); may add a system instruction instead.
std::string BodyBuilder::response_format() {
    JsonPtr rf_dom = dom_of(canonical_.response_format);
    const json_t* rf = rf_dom.get();
    if (!rf) return {};
    std::string_view type = json_string_view(json_object_get(rf, "type"));
    if (type == "text") return {};
    if (type == "json_object") {
        messages_.add_system_text(json_object_instruction());
        return {};
    }
    if (type != "json_schema") bad("response_format.type", "Unsupported 'response_format' type.");
    const json_t* js = json_object_get(rf, "json_schema");
    const json_t* schema = json_object_get(js, "schema");
    if (!json_is_object(schema)) bad("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object.");
    if (fl_ == Flavor::anthropic && claude_structured_outputs(claude_)) {
        std::string format = R"({"type":"json_schema","schema":)";
        json_dump_append(format, schema);
        format += '}';
        return format;
    }
    // No native structured output on this endpoint/model: instruct.
    std::string schema_text;
    json_dump_append(schema_text, schema);
    messages_.add_system_text(json_schema_instruction(schema_text));
    return {};
}

std::string BodyBuilder::build() {
    if (canonical_.messages.empty()) bad("", "The request body is not available.");
    // Fields the Messages API cannot express.
    JsonValue n = canonical_.n;
    int64_t choices = 0;
    if (!n.absent_or_null() && !(json_read_int(n, &choices) && choices == 1))
        bad("n", "This provider returns a single choice: 'n' must be 1.");
    if (is_true(canonical_.logprobs)) refuse_logprobs();
    JsonValue modality;
    for (JsonArrayReader modalities(canonical_.modalities); modalities.next(&modality);)
        if (json_string_equals(modality, "audio")) bad("modalities", "Audio output is not supported by this provider.");
    if (!canonical_.audio.absent_or_null()) bad("audio", "Audio output is not supported by this provider.");

    messages_.convert();

    int64_t cap = output_cap();
    bool cap_from_client = cap > 0;
    if (!cap_from_client) cap = kDefaultMaxTokens;  // the body never depends on the key
    bool thinking_on = false;
    std::string effort;
    std::string think = thinking(&cap, cap_from_client, &thinking_on, &effort);

    std::string format = response_format();  // may add a system instruction: before `system` is written

    // Everything after "messages", in the order the Messages body has always had.
    convert_tools();
    sampling(thinking_on);
    if (!think.empty()) {
        member("thinking");
        tail_ += think;
    }
    if (!format.empty() || !effort.empty()) {
        member("output_config");
        tail_ += '{';
        if (!format.empty()) tail_ += "\"format\":" + format;
        if (!format.empty() && !effort.empty()) tail_ += ',';
        if (!effort.empty()) {
            tail_ += "\"effort\":";
            json_quoted_append(tail_, effort);
        }
        tail_ += '}';
    }

    std::string user_storage;
    std::string_view user = json_string_text(canonical_.user, &user_storage);
    if (user.empty()) user = json_string_text(canonical_.safety_identifier, &user_storage);
    if (!user.empty()) {
        member("metadata");
        tail_ += "{\"user_id\":";
        json_quoted_append(tail_, user);
        tail_ += '}';
    }
    if (fl_ == Flavor::anthropic) {
        if (json_string_equals(canonical_.service_tier, "auto")) {
            member("service_tier");
            tail_ += "\"auto\"";
        } else if (json_string_equals(canonical_.service_tier, "default")) {
            member("service_tier");
            tail_ += "\"standard_only\"";
        }
    }
    if (canonical_.stream) {
        member("stream");
        tail_ += "true";
    }

    std::string out;
    // One allocation: the head (model, max_tokens, the member names), the conversation and the tail.
    out.reserve(64 + 2 * model_.size() + messages_.size() + tail_.size());
    out += R"({"model":)";
    json_quoted_append(out, model_);
    out += R"(,"max_tokens":)";
    out += std::to_string(cap);
    if (messages_.has_system()) {
        out += R"(,"system":)";
        messages_.append_system(out);
    }
    out += R"(,"messages":)";
    messages_.append_messages(out);
    out += tail_;
    out += '}';
    return out;
}

}  // namespace
bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model, std::string_view kind_name,
                          const ProviderKey& key, std::string* out, ApiError* err) {
    return run_request_builder("Anthropic", [&] {
        CanonicalRequest canonical = canonical_from_openai_chat(req);
        BodyBuilder b(canonical, upstream_model, flavor_of(kind_name), key);
        *out = b.build();
    }, err);
}

bool anthropic_build_body(const ChatRequest& req, std::string_view upstream_model, ProviderKind kind,
                          const ProviderKey& key, std::string* out, ApiError* err) {
    return anthropic_build_body(req, upstream_model, provider_info(kind).name, key, out, err);
}

}  // namespace routeshift
