// Anthropic Messages request builder: canonical request -> /v1/messages body, for the kinds that
// speak the Messages API (anthropic, minimax, moonshot, and zai / mimo on their
// Anthropic-compatible endpoints). The per-provider code is only what the providers document
// differently.
//
// The body is written as text: "model" and "max_tokens", then "system" and "messages" from the
// MessagesWriter (message text copied as escaped tokens, linear in the prompt size), then the
// small members (tools, tool_choice, sampling, thinking, output_config, metadata, service_tier,
// stream) built with jansson from the request's small top-level values, which do not grow with
// the prompt.
#include "egress/anthropic/anthropic_internal.hpp"

#include "config/provider_catalog.hpp"
#include "egress/anthropic/anthropic_messages_writer.hpp"
#include "egress/cannot_express.hpp"
#include "ingress/openai_chat_ingress.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace routeshift {

using namespace anthropic_internal;

namespace {

[[noreturn]] void bad(std::string param, std::string message) { cannot_express(std::move(param), std::move(message)); }

// The request's top-level values other than the messages, as a jansson object (the rules below
// read them there; their size does not grow with the prompt).
JsonPtr small_members(const CanonicalRequest& c) {
    static constexpr std::pair<const char*, JsonValue CanonicalRequest::*> kFields[] = {
        {"tools", &CanonicalRequest::tools},
        {"functions", &CanonicalRequest::functions},
        {"tool_choice", &CanonicalRequest::tool_choice},
        {"function_call", &CanonicalRequest::function_call},
        {"parallel_tool_calls", &CanonicalRequest::parallel_tool_calls},
        {"temperature", &CanonicalRequest::temperature},
        {"top_p", &CanonicalRequest::top_p},
        {"top_k", &CanonicalRequest::top_k},
        {"stop", &CanonicalRequest::stop},
        {"n", &CanonicalRequest::n},
        {"max_tokens", &CanonicalRequest::max_tokens},
        {"max_completion_tokens", &CanonicalRequest::max_completion_tokens},
        {"logprobs", &CanonicalRequest::logprobs},
        {"reasoning_effort", &CanonicalRequest::reasoning_effort},
        {"thinking", &CanonicalRequest::thinking},
        {"response_format", &CanonicalRequest::response_format},
        {"modalities", &CanonicalRequest::modalities},
        {"audio", &CanonicalRequest::audio},
        {"user", &CanonicalRequest::user},
        {"safety_identifier", &CanonicalRequest::safety_identifier},
        {"service_tier", &CanonicalRequest::service_tier},
    };
    JsonPtr obj(require_allocated(json_object()));
    for (const auto& [name, field] : kFields) {
        JsonValue v = c.*field;
        if (v.text.empty()) continue;
        JsonPtr dom = json_parse(v.text, nullptr);
        if (!dom) throw std::runtime_error("validated request value did not parse");
        set_json_member(obj.get(), name, dom.release());
    }
    if (c.stream) set_json_member(obj.get(), "stream", json_true());
    return obj;
}

class BodyBuilder {
public:
    BodyBuilder(const CanonicalRequest& req, std::string_view model, Flavor fl, const ProviderKey& key)
        : canonical_(req), small_(small_members(req)), req_(small_.get()), model_(model), fl_(fl), key_(key),
          claude_(parse_claude(model)), messages_(req) {}

    std::string build();

private:
    void convert_tools(json_t* body);
    JsonPtr convert_tool_choice(const json_t* tc, bool has_tools);
    int64_t output_cap();
    void sampling(json_t* body, bool thinking_on);
    JsonPtr thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, JsonPtr* effort);
    void response_format(json_t* output_config);

    const CanonicalRequest& canonical_;
    JsonPtr small_;
    const json_t* req_;  // small_: every top-level value but the messages
    std::string_view model_;
    Flavor fl_;
    const ProviderKey& key_;  // the body never depends on the key today; kept for per-key rules
    ClaudeModel claude_;
    MessagesWriter messages_;
};

void BodyBuilder::convert_tools(json_t* body) {
    const json_t* tools = json_object_get(req_, "tools");
    const json_t* functions = json_object_get(req_, "functions");  // legacy
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
    const json_t* tc = json_object_get(req_, "tool_choice");
    if (!json_present(tc) && !json_present(tools)) tc = json_object_get(req_, "function_call");  // legacy
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
    if (json_array_size(out.get()) > 0) set_json_member(body, "tools", out.release());
    if (choice) set_json_member(body, "tool_choice", choice.release());
}

JsonPtr BodyBuilder::convert_tool_choice(const json_t* tc, bool has_tools) {
    const json_t* ptc = json_object_get(req_, "parallel_tool_calls");
    bool no_parallel = json_is_false(ptc);
    if (!has_tools) return nullptr;  // nothing to choose from (OpenAI would have refused it)
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
    for (const char* k : {"max_completion_tokens", "max_tokens"}) {
        const json_t* v = json_object_get(req_, k);
        if (!json_present(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            bad(k, std::string("'") + k + "' must be a positive integer.");
        return json_integer_value(v);
    }
    return -1;
}

// thinking from `reasoning_effort` (or a client `thinking` object, forwarded as is).
JsonPtr BodyBuilder::thinking(int64_t* max_tokens, bool max_from_client, bool* thinking_on, JsonPtr* effort) {
    *thinking_on = false;
    const json_t* client = json_object_get(req_, "thinking");
    if (json_is_object(client)) {
        std::string_view t = json_string_view(json_object_get(client, "type"));
        *thinking_on = t == "enabled" || t == "adaptive";
        if (t == "enabled" && json_is_integer(json_object_get(client, "budget_tokens"))) {
            int64_t b = json_integer_value(json_object_get(client, "budget_tokens"));
            if (!max_from_client && *max_tokens <= b) *max_tokens = b + kDefaultMaxTokens;
        }
        return JsonPtr(share(client));
    }
    const json_t* re = json_object_get(req_, "reasoning_effort");
    if (!json_present(re)) return nullptr;
    if (!json_is_string(re)) bad("reasoning_effort", "'reasoning_effort' must be a string.");
    std::string_view e = json_string_view(re);
    int64_t budget;
    std::string level;
    if (e == "none") {
        JsonPtr t(require_allocated(json_object()));
        set_json_member(t.get(), "type", new_json_string("disabled"));
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
    JsonPtr t(require_allocated(json_object()));
    if (fl_ == Flavor::anthropic && claude_adaptive_thinking(claude_)) {
        // Adaptive thinking: the model sizes its own thinking; the effort level steers it. Thinking
        // counts against max_tokens, so a defaulted cap leaves the same room as a budget would.
        if (!max_from_client && *max_tokens <= budget) *max_tokens = budget + kDefaultMaxTokens;
        set_json_member(t.get(), "type", new_json_string("adaptive"));
        effort->reset(new_json_string(level));
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
    set_json_member(t.get(), "type", new_json_string("enabled"));
    set_json_member(t.get(), "budget_tokens", require_allocated(json_integer(budget)));
    return t;
}

double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

// temperature / top_p / top_k / stop, per provider and model (rules listed in provider_adapter.hpp).
void BodyBuilder::sampling(json_t* body, bool thinking_on) {
    const json_t* temp = json_object_get(req_, "temperature");
    const json_t* top_p = json_object_get(req_, "top_p");
    const json_t* top_k = json_object_get(req_, "top_k");  // extension some clients send
    for (auto [v, k] : {std::pair{temp, "temperature"}, std::pair{top_p, "top_p"}})
        if (json_present(v) && !json_is_number(v)) bad(k, std::string("'") + k + "' must be a number.");
    if (json_present(top_k) && !json_is_integer(top_k)) bad("top_k", "'top_k' must be an integer.");
    bool has_t = json_present(temp), has_p = json_present(top_p), has_k = json_present(top_k);
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
        set_json_member(body, "temperature", same ? share(temp) : require_allocated(json_real(t)));
    }
    if (has_p) {
        bool same = json_number_value(top_p) == p;
        set_json_member(body, "top_p", same ? share(top_p) : require_allocated(json_real(p)));
    }
    if (has_k && json_integer_value(top_k) >= 0) set_json_member(body, "top_k", share(top_k));

    const json_t* stop = json_object_get(req_, "stop");
    if (json_present(stop)) {
        JsonPtr seqs(require_allocated(json_array()));
        auto add = [&](const json_t* s, const std::string& path) {
            if (!json_is_string(s)) bad(path, "'" + path + "' must be a string.");
            if (!is_blank(json_string_view(s))) append_json_element(seqs.get(), share(s));  // whitespace-only is rejected upstream
        };
        if (json_is_string(stop)) add(stop, "stop");
        else if (json_is_array(stop))
            for (size_t i = 0; i < json_array_size(stop); ++i)
                add(json_array_get(stop, i), "stop[" + std::to_string(i) + "]");
        else bad("stop", "'stop' must be a string or an array of strings.");
        if (fl_ != Flavor::minimax && json_array_size(seqs.get()) > 0) set_json_member(body, "stop_sequences", seqs.release());
    }
}

void BodyBuilder::response_format(json_t* output_config) {
    const json_t* rf = json_object_get(req_, "response_format");
    if (!json_present(rf)) return;
    std::string_view type = json_string_view(json_object_get(rf, "type"));
    if (type == "text") return;
    if (type == "json_object") {
        messages_.add_system_text("Respond with a single valid JSON object only: no prose, no Markdown code fences.");
        return;
    }
    if (type != "json_schema") bad("response_format.type", "Unsupported 'response_format' type.");
    const json_t* js = json_object_get(rf, "json_schema");
    const json_t* schema = json_object_get(js, "schema");
    if (!json_is_object(schema)) bad("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object.");
    if (fl_ == Flavor::anthropic && claude_structured_outputs(claude_)) {
        json_t* f = require_allocated(json_object());
        JsonPtr g(f);
        set_json_member(f, "type", new_json_string("json_schema"));
        set_json_member(f, "schema", share(schema));
        set_json_member(output_config, "format", g.release());
        return;
    }
    // No native structured output on this endpoint/model: instruct.
    std::string text = "Respond with a single valid JSON object only (no prose, no Markdown code fences) that "
                       "conforms to this JSON Schema:\n";
    json_dump_append(text, schema);
    messages_.add_system_text(text);
}

std::string BodyBuilder::build() {
    if (canonical_.messages.empty()) bad("", "The request body is not available.");
    // Fields the Messages API cannot express.
    const json_t* n = json_object_get(req_, "n");
    if (json_present(n) && !(json_is_integer(n) && json_integer_value(n) == 1))
        bad("n", "This provider returns a single choice: 'n' must be 1.");
    if (json_is_true(json_object_get(req_, "logprobs")))
        bad("logprobs", "'logprobs' is not supported by this provider.");
    const json_t* modalities = json_object_get(req_, "modalities");
    for (size_t i = 0; json_is_array(modalities) && i < json_array_size(modalities); ++i)
        if (json_string_view(json_array_get(modalities, i)) == "audio") bad("modalities", "Audio output is not supported by this provider.");
    if (json_present(json_object_get(req_, "audio"))) bad("audio", "Audio output is not supported by this provider.");

    messages_.convert();

    int64_t cap = output_cap();
    bool cap_from_client = cap > 0;
    if (!cap_from_client) cap = kDefaultMaxTokens;  // the body never depends on the key
    bool thinking_on = false;
    JsonPtr effort;
    JsonPtr think = thinking(&cap, cap_from_client, &thinking_on, &effort);

    JsonPtr output_config(require_allocated(json_object()));
    response_format(output_config.get());  // may add a system instruction: before `system` is written

    // Everything after "messages", in the order the Messages body has always had.
    JsonPtr tail(require_allocated(json_object()));
    json_t* b = tail.get();
    convert_tools(b);
    sampling(b, thinking_on);
    if (think) set_json_member(b, "thinking", think.release());
    if (effort) set_json_member(output_config.get(), "effort", effort.release());
    if (json_object_size(output_config.get()) > 0) set_json_member(b, "output_config", output_config.release());

    std::string_view user = json_string_view(json_object_get(req_, "user"));
    if (user.empty()) user = json_string_view(json_object_get(req_, "safety_identifier"));
    if (!user.empty()) {
        json_t* md = require_allocated(json_object());
        set_json_member(b, "metadata", md);
        set_json_member(md, "user_id", new_json_string(user));
    }
    if (fl_ == Flavor::anthropic) {
        std::string_view tier = json_string_view(json_object_get(req_, "service_tier"));
        if (tier == "auto") set_json_member(b, "service_tier", new_json_string("auto"));
        else if (tier == "default") set_json_member(b, "service_tier", new_json_string("standard_only"));
    }
    if (canonical_.stream) set_json_member(b, "stream", json_true());

    std::string tail_json;
    json_dump_append(tail_json, b);
    std::string out;
    out.reserve(canonical_.model.text.size() + 2 * 1024 + tail_json.size() +
                static_cast<size_t>(canonical_.messages.back().raw.text.data() + canonical_.messages.back().raw.text.size() -
                                    canonical_.messages.front().raw.text.data()));
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
    if (tail_json.size() > 2) {  // the members of {...}
        out += ',';
        out.append(tail_json, 1, tail_json.size() - 2);
    }
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
