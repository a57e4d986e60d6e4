// Bedrock Converse request builder: OpenAI chat request -> Converse body. The model id goes in
// the URL (bedrock_path), never in the body.
//
// The conversation ("messages", "system") is written as text by the MessagesWriter, linear in the
// prompt size; the members after it come from a DOM of the other top-level members only (tools,
// tool_choice, sampling: small), dumped and appended.
#include "egress/bedrock/bedrock_internal.hpp"

#include "egress/anthropic/anthropic_internal.hpp"
#include "egress/bedrock/bedrock_messages_writer.hpp"
#include "egress/cannot_express.hpp"
#include "egress/claude_thinking.hpp"
#include "egress/json_answer_instruction.hpp"
#include "egress/members_dom.hpp"
#include "ingress/openai_chat_ingress.hpp"

namespace routeshift {

using namespace bedrock_internal;

namespace {

// ------------------------------------------------------------------------------------------------
// Request body
// ------------------------------------------------------------------------------------------------

// Claude's extended thinking as Converse passes it (additionalModelRequestFields), from
// reasoning_effort with the Anthropic adapter's mapping (egress/claude_thinking.hpp).
struct Thinking {
    JsonPtr thinking;    // the "thinking" object; null: none sent
    std::string effort;  // output_config.effort for adaptive thinking ("" = none)
    bool on = false;     // thinking enabled: Claude then takes no temperature / top_k
    int64_t budget = 0;  // budget_tokens of type "enabled" (0 = adaptive or none)
};

class BodyBuilder {
public:
    BodyBuilder(const json_t* root, const CanonicalRequest& canonical, std::string_view model, MessagesWriter& messages)
        : root_(root), canonical_(canonical), claude_(anthropic_internal::parse_claude(model)), messages_(messages) {}
    std::string build();

private:
    void convert_tools(json_t* body);
    void finish_tool_config(json_t* body, JsonPtr& specs, JsonPtr& tc, bool choice_none);
    void inference_config(json_t* body, const Thinking& thinking);
    void check_unsupported();
    Thinking thinking();
    void output_config(json_t* body);

    const json_t* root_;  // the top-level members but "messages"
    const CanonicalRequest& canonical_;
    anthropic_internal::ClaudeModel claude_;  // the model id read as a Claude model name (claude=false otherwise)
    MessagesWriter& messages_;
};

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
        if (!messages_.history_has_tools()) return;
        json_t* schema = new_json_object();
        set_json_member(schema, "type", new_json_string("object"));
        set_json_member(schema, "properties", new_json_object());
        json_t* spec = new_json_object();
        set_json_member(spec, "name", new_json_string(kDummyToolName));
        set_json_member(spec, "description", new_json_string("Placeholder required for conversations with earlier tool calls. Never call it."));
        set_json_member(spec, "inputSchema", wrap("json", schema));
        append_json_element(specs.get(), wrap("toolSpec", spec));
        tc.reset();
    } else if (choice_none && !messages_.history_has_tools()) {
        return;  // tool_choice none: no Converse equivalent; without tool history omit toolConfig
    }
    json_t* cfg = new_json_object();
    set_json_member(cfg, "tools", specs.release());
    if (tc) set_json_member(cfg, "toolChoice", tc.release());
    set_json_member(body, "toolConfig", cfg);
}

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void BodyBuilder::inference_config(json_t* body, const Thinking& thinking) {
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
    }
    int64_t max_tokens = json_present(cap) ? json_integer_value(cap) : 0;
    int64_t budget = thinking.budget;
    if (budget > 0) {  // budget_tokens < maxTokens, as the Anthropic adapter keeps it
        if (!json_present(cap)) max_tokens = anthropic_internal::kDefaultMaxTokens;
        fit_claude_thinking_budget(&budget, &max_tokens, json_present(cap), anthropic_internal::kDefaultMaxTokens);
        set_json_member(thinking.thinking.get(), "budget_tokens", require_allocated(json_integer(budget)));
    }
    if (max_tokens > 0) set_json_member(ic.get(), "maxTokens", require_allocated(json_integer(max_tokens)));
    const json_t* t = json_object_get(root_, "temperature");
    if (json_present(t)) {
        if (!json_is_number(t)) reject("temperature", "temperature must be a number");
        // Claude with thinking on takes only its default temperature
        if (!thinking.on)
            set_json_member(ic.get(), "temperature", require_allocated(json_real(clamp01(json_number_value(t)))));  // Converse range 0..1
    }
    const json_t* tp = json_object_get(root_, "top_p");
    if (json_present(tp)) {
        if (!json_is_number(tp)) reject("top_p", "top_p must be a number");
        double p = clamp01(json_number_value(tp));
        if (!thinking.on || p >= 0.95) set_json_member(ic.get(), "topP", require_allocated(json_real(p)));
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
    JsonPtr extra(new_json_object());
    const json_t* tk = json_object_get(root_, "top_k");
    if (json_present(tk)) {
        if (!json_is_integer(tk) || json_integer_value(tk) < 0) reject("top_k", "top_k must be a non-negative integer");
        if (!thinking.on) set_json_member(extra.get(), "top_k", require_allocated(json_integer(json_integer_value(tk))));
    }
    if (thinking.thinking) set_json_member(extra.get(), "thinking", share(thinking.thinking.get()));
    if (!thinking.effort.empty()) set_json_member(extra.get(), "output_config", wrap("effort", new_json_string(thinking.effort)));
    if (json_object_size(extra.get())) set_json_member(body, "additionalModelRequestFields", extra.release());
}

// reasoning_effort for Claude models; other Bedrock models have no common switch (left to the model).
// A turn whose last assistant message calls tools goes without thinking: Converse gets no thinking
// blocks replayed and Claude refuses such a turn with thinking on.
Thinking BodyBuilder::thinking() {
    Thinking t;
    JsonValue re = canonical_.reasoning_effort;
    if (re.absent_or_null()) return t;
    if (!re.is(JsonType::string)) reject("reasoning_effort", "'reasoning_effort' must be a string.");
    if (!claude_.claude) return t;
    std::string storage;
    ClaudeThinking mapped = claude_thinking_for_effort(json_string_text(re, &storage));
    if (mapped.disabled) {
        t.thinking.reset(wrap("type", new_json_string("disabled")));
        return t;
    }
    if (messages_.last_assistant_calls_tools()) return t;
    t.on = true;
    if (anthropic_internal::claude_adaptive_thinking(claude_)) {  // the model sizes its thinking; effort steers it
        t.thinking.reset(wrap("type", new_json_string("adaptive")));
        t.effort = std::move(mapped.level);
        return t;
    }
    t.thinking.reset(wrap("type", new_json_string("enabled")));
    t.budget = mapped.budget_tokens;
    return t;
}

// response_format: json_schema -> Converse structured output (outputConfig.textFormat; the schema
// travels as a JSON string), except for Claude models before 4.1, which have none; json_object
// (Converse has no schema-less JSON mode) and those get the Anthropic adapter's instruction.
void BodyBuilder::output_config(json_t* body) {
    const json_t* rf = json_object_get(root_, "response_format");
    if (!json_present(rf)) return;
    if (!json_is_object(rf)) reject("response_format", "'response_format' must be an object.");
    std::string_view type = json_string_view(rf, "type");
    if (type == "text") return;
    if (type == "json_object") {
        messages_.add_system_text(json_object_instruction());
        return;
    }
    if (type != "json_schema") reject("response_format.type", "Unsupported 'response_format' type.");
    const json_t* js = json_object_get(rf, "json_schema");
    const json_t* schema = json_object_get(js, "schema");
    if (!json_is_object(schema)) reject("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object.");
    std::string schema_text;
    json_dump_append(schema_text, schema);
    if (claude_.claude && !anthropic_internal::claude_structured_outputs(claude_)) {
        messages_.add_system_text(json_schema_instruction(schema_text));
        return;
    }
    json_t* definition = new_json_object();
    set_json_member(definition, "schema", new_json_string(schema_text));
    std::string_view name = json_string_view(js, "name");
    if (!name.empty()) set_json_member(definition, "name", new_json_string(name));
    std::string_view description = json_string_view(js, "description");
    if (!description.empty()) set_json_member(definition, "description", new_json_string(description));
    json_t* format = new_json_object();
    set_json_member(format, "type", new_json_string("json_schema"));
    set_json_member(format, "structure", wrap("jsonSchema", definition));
    set_json_member(body, "outputConfig", wrap("textFormat", format));
}

void BodyBuilder::check_unsupported() {
    const json_t* n = json_object_get(root_, "n");
    if (json_present(n) && (!json_is_integer(n) || json_integer_value(n) != 1))
        reject("n", "Bedrock Converse returns one choice; n must be 1");
    const json_t* lp = json_object_get(root_, "logprobs");
    if (json_is_true(lp)) refuse_logprobs();  // Converse has no token log probabilities
}

std::string BodyBuilder::build() {
    if (!json_is_object(root_)) reject("", "the request body is not a JSON object");
    check_unsupported();
    messages_.convert();
    JsonPtr rest(new_json_object());  // the members after "messages" and "system"
    Thinking think = thinking();
    inference_config(rest.get(), think);
    convert_tools(rest.get());
    output_config(rest.get());  // may add a system instruction: before the conversation is written
    std::string out = "{";
    messages_.append(out);
    if (json_object_size(rest.get()) > 0) {
        std::string tail;
        json_dump_append(tail, rest.get());
        out += ',';
        out.append(tail, 1);  // without its '{'
    } else {
        out += '}';
    }
    return out;
}

}  // namespace

// The model id travels in the URL (bedrock_path); it shapes the body only through the Claude rules
// (thinking, structured output). The key only signs.
bool bedrock_build_body(const ChatRequest& req, std::string_view upstream_model, const ProviderKey& /*key*/,
                        std::string* out, ApiError* err) {
    return run_request_builder("Bedrock", [&] {
        if (req.body.empty()) reject("", "the request body is not a JSON object");
        JsonPtr root = dom_without_messages(req.members);
        CanonicalRequest canonical = canonical_from_openai_chat(req);
        MessagesWriter messages(canonical);
        BodyBuilder b(root.get(), canonical, upstream_model, messages);
        *out = b.build();
    }, err);
}

}  // namespace routeshift
