// Gemini request builder: OpenAI chat body -> GenerateContentRequest (contents,
// systemInstruction, tools, toolConfig, generationConfig). See the comments at each step for the
// decisions taken where the reference leaves a choice; the summary is in provider_adapter.hpp.
//
// The conversation ("systemInstruction", "contents") is written as text by the ContentsWriter,
// linear in the prompt size; the members after it come from a DOM of the other top-level members
// only (tools, tool_choice, sampling: small), dumped and appended.
#include "egress/gemini/gemini_internal.hpp"

#include "egress/gemini/gemini_contents_writer.hpp"
#include "egress/members_dom.hpp"
#include "ingress/openai_chat_ingress.hpp"

#include <algorithm>
#include <vector>

namespace routeshift {

using namespace gemini_internal;

namespace {

// ---- the request builder -----------------------------------------------------------------------

struct Options {
    bool json_schema = false;      // key metadata "json_schema": true
    bool include_thoughts = false; // key metadata "include_thoughts": true
    const json_t* safety = nullptr;
};

class BodyBuilder {
public:
    BodyBuilder(const json_t* root, string_view model, const Options& o)
        : root_(root), model_(model), gen_(gemini_generation(model)), opt_(o) {}

    JsonPtr build();

private:
    json_t* tools(const std::vector<string>* only);
    json_t* function_declaration(const json_t* fn, const string& param);
    json_t* tool_config(const json_t* tool_choice, std::vector<string>* filter);
    json_t* generation_config();
    json_t* schema(const json_t* s, const string& param) {
        return convert_schema(s, s, 0, param);
    }

    const json_t* root_;
    string_view model_;
    int gen_;
    Options opt_;
};

json_t* BodyBuilder::function_declaration(const json_t* fn, const string& param) {
    if (!json_is_object(fn)) invalid("tool without a function object", param);
    const json_t* name = json_object_get(fn, "name");
    if (!json_is_string(name) || json_string_length(name) == 0) invalid("function without a name", param + ".name");
    JsonPtr decl(require_allocated(json_object()));
    set_json_member(decl.get(), "name", copy(name));
    if (const json_t* d = json_object_get(fn, "description"); json_is_string(d)) set_json_member(decl.get(), "description", copy(d));
    const json_t* params = json_object_get(fn, "parameters");
    if (json_present(params)) {
        if (!json_is_object(params)) invalid("function parameters must be a JSON Schema object", param + ".parameters");
        if (opt_.json_schema) {
            set_json_member(decl.get(), "parametersJsonSchema", copy(params));
        } else if (!is_empty_object_schema(params)) {
            set_json_member(decl.get(), "parameters", schema(params, param + ".parameters"));
        }
    }
    return decl.release();
}

// tools (and legacy functions) -> [{"functionDeclarations":[...]}]; `only`: keep these names.
json_t* BodyBuilder::tools(const std::vector<string>* only) {
    JsonPtr decls(require_allocated(json_array()));
    auto keep = [&](const json_t* decl) {
        if (!only) return true;
        string_view n = json_string_view(decl, "name");
        return std::find(only->begin(), only->end(), n) != only->end();
    };
    if (const json_t* t = json_object_get(root_, "tools"); json_is_array(t)) {
        for_each_object(t, "tools", "tools entries must be objects", [&](const json_t* tool, const string& param) {
            string_view type = json_string_view(tool, "type");
            if (type != "function") invalid("only function tools can be sent to Gemini", param + ".type");
            JsonPtr d(function_declaration(json_object_get(tool, "function"), param + ".function"));
            if (keep(d.get())) append_json_element(decls.get(), d.release());
        });
    } else if (json_present(t)) {
        invalid("tools must be an array", "tools");
    }
    if (const json_t* f = json_object_get(root_, "functions"); json_is_array(f)) {  // legacy
        size_t i;
        json_t* fn;
        json_array_foreach(f, i, fn) {
            JsonPtr d(function_declaration(fn, element_param("functions", i)));
            if (keep(d.get())) append_json_element(decls.get(), d.release());
        }
    }
    if (json_array_size(decls.get()) == 0) return nullptr;
    JsonPtr arr(require_allocated(json_array()));
    json_t* entry = require_allocated(json_object());
    append_json_element(arr.get(), entry);
    set_json_member(entry, "functionDeclarations", decls.release());
    return arr.release();
}

// tool_choice -> toolConfig.functionCallingConfig. allowed_tools with mode "auto" restricts the
// declarations instead (Gemini accepts allowedFunctionNames only with mode ANY): `filter` is set.
json_t* BodyBuilder::tool_config(const json_t* tc, std::vector<string>* filter) {
    string mode;
    std::vector<string> names;
    string param = "tool_choice";
    if (json_is_string(tc)) {
        string_view s = json_string_view(tc);
        if (s == "auto") mode = "AUTO";
        else if (s == "none") mode = "NONE";
        else if (s == "required" || s == "any") mode = "ANY";
        else invalid("tool_choice must be none, auto, required or a function", param);
    } else if (json_is_object(tc)) {
        string_view type = json_string_view(tc, "type");
        if (type == "function") {
            string_view n = json_string_view(json_object_get(tc, "function"), "name");
            if (n.empty()) invalid("tool_choice.function.name is required", param + ".function.name");
            mode = "ANY";
            names.emplace_back(n);
        } else if (type == "allowed_tools") {
            const json_t* at = json_object_get(tc, "allowed_tools");
            string_view m = json_string_view(at, "mode");
            const json_t* list = json_object_get(at, "tools");
            if (!json_is_array(list)) invalid("allowed_tools.tools must be an array", param + ".allowed_tools.tools");
            size_t i;
            json_t* t;
            json_array_foreach(list, i, t) {
                string_view n = json_string_view(json_object_get(t, "function"), "name");
                if (n.empty()) n = json_string_view(t, "name");
                if (n.empty()) invalid("allowed tool without a function name", element_param(param + ".allowed_tools.tools", i));
                names.emplace_back(n);
            }
            if (m == "required") {
                mode = "ANY";
            } else if (m == "auto" || m.empty()) {
                mode = "AUTO";
                *filter = names;
                names.clear();
            } else {
                invalid("allowed_tools.mode must be auto or required", param + ".allowed_tools.mode");
            }
        } else {
            invalid("unsupported tool_choice type for Gemini", param + ".type");
        }
    } else if (json_present(tc)) {
        invalid("tool_choice must be a string or an object", param);
    } else {
        return nullptr;
    }
    JsonPtr cfg(require_allocated(json_object()));
    json_t* fcc = require_allocated(json_object());
    set_json_member(cfg.get(), "functionCallingConfig", fcc);
    set_json_member(fcc, "mode", json_string_or_invalid(mode));
    if (!names.empty()) {
        json_t* arr = require_allocated(json_array());
        set_json_member(fcc, "allowedFunctionNames", arr);
        for (const auto& n : names) append_json_element(arr, json_string_or_invalid(n));
    }
    return cfg.release();
}

const json_t* number_field(const json_t* root, const char* key) {
    const json_t* v = json_object_get(root, key);
    if (!json_present(v)) return nullptr;
    if (!json_is_number(v)) invalid(string(key) + " must be a number", key);
    return v;
}
const json_t* integer_field(const json_t* root, const char* key, long long min) {
    const json_t* v = json_object_get(root, key);
    if (!json_present(v)) return nullptr;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        invalid(string(key) + " must be an integer >= " + std::to_string(min), key);
    return v;
}

json_t* BodyBuilder::generation_config() {
    JsonPtr gc(require_allocated(json_object()));
    if (auto v = number_field(root_, "temperature")) set_json_member(gc.get(), "temperature", copy(v));
    if (auto v = number_field(root_, "top_p")) set_json_member(gc.get(), "topP", copy(v));
    if (auto v = number_field(root_, "top_k")) set_json_member(gc.get(), "topK", copy(v));
    // output cap: max_completion_tokens wins over the legacy max_tokens; none -> the model default
    const json_t* cap = integer_field(root_, "max_completion_tokens", 1);
    if (const json_t* legacy = integer_field(root_, "max_tokens", 1); !cap) cap = legacy;
    if (cap) set_json_member(gc.get(), "maxOutputTokens", copy(cap));

    const json_t* stop = json_object_get(root_, "stop");
    if (json_is_string(stop)) {
        json_t* arr = require_allocated(json_array());
        append_json_element(arr, copy(stop));
        set_json_member(gc.get(), "stopSequences", arr);
    } else if (json_is_array(stop)) {
        if (json_array_size(stop) > 5) invalid("Gemini accepts at most 5 stop sequences", "stop");
        size_t i;
        json_t* s;
        json_array_foreach(stop, i, s) {
            if (!json_is_string(s)) invalid("stop must be a string or an array of strings", element_param("stop", i));
        }
        if (json_array_size(stop) > 0) set_json_member(gc.get(), "stopSequences", copy(stop));
    } else if (json_present(stop)) {
        invalid("stop must be a string or an array of strings", "stop");
    }

    if (auto v = integer_field(root_, "n", 1); v && json_integer_value(v) != 1) set_json_member(gc.get(), "candidateCount", copy(v));
    if (auto v = integer_field(root_, "seed", INT64_MIN)) set_json_member(gc.get(), "seed", copy(v));
    if (auto v = number_field(root_, "presence_penalty")) set_json_member(gc.get(), "presencePenalty", copy(v));
    if (auto v = number_field(root_, "frequency_penalty")) set_json_member(gc.get(), "frequencyPenalty", copy(v));

    if (const json_t* lp = json_object_get(root_, "logprobs"); json_is_true(lp)) {
        set_json_member(gc.get(), "responseLogprobs", json_true());
        if (auto v = integer_field(root_, "top_logprobs", 0); v && json_integer_value(v) > 0) set_json_member(gc.get(), "logprobs", copy(v));
    } else if (json_present(lp) && !json_is_boolean(lp)) {
        invalid("logprobs must be a boolean", "logprobs");
    }

    if (const json_t* rf = json_object_get(root_, "response_format"); json_present(rf)) {
        if (!json_is_object(rf)) invalid("response_format must be an object", "response_format");
        string_view type = json_string_view(rf, "type");
        if (type == "json_object") {
            set_json_member(gc.get(), "responseMimeType", json_string_or_invalid("application/json"));
        } else if (type == "json_schema") {
            const json_t* js = json_object_get(rf, "json_schema");
            if (!json_is_object(js)) invalid("response_format.json_schema must be an object", "response_format.json_schema");
            set_json_member(gc.get(), "responseMimeType", json_string_or_invalid("application/json"));
            const json_t* sch = json_object_get(js, "schema");
            if (json_is_object(sch)) {
                if (opt_.json_schema) set_json_member(gc.get(), "responseJsonSchema", copy(sch));
                else set_json_member(gc.get(), "responseSchema", schema(sch, "response_format.json_schema.schema"));
            }
        } else if (type != "text") {
            invalid("response_format.type must be text, json_object or json_schema", "response_format.type");
        }
    }

    // reasoning_effort -> thinkingConfig: thinkingLevel on Gemini 3+, thinkingBudget (tokens) on
    // 2.5 and unversioned ids (3+ still accepts a budget). "none" cannot turn thinking off on
    // Gemini 3 (MINIMAL is the floor) nor on 2.5 Pro (128 tokens is its minimum).
    json_t* thinking = nullptr;
    bool effort_none = false;
    if (const json_t* re = json_object_get(root_, "reasoning_effort"); json_present(re)) {
        string_view e = json_string_view(re);
        effort_none = e == "none";
        static const struct {
            const char* effort;
            const char* level;
            int budget;
        } map[] = {{"none", "MINIMAL", 0},     {"minimal", "MINIMAL", 512}, {"low", "LOW", 1024},
                   {"medium", "MEDIUM", 8192}, {"high", "HIGH", 24576},     {"xhigh", "HIGH", 32768}};
        bool found = false;
        thinking = require_allocated(json_object());
        set_json_member(gc.get(), "thinkingConfig", thinking);
        for (const auto& row : map) {
            if (e != row.effort) continue;
            found = true;
            if (gen_ >= 3) {
                set_json_member(thinking, "thinkingLevel", json_string_or_invalid(row.level));
            } else {
                int budget = row.budget;
                if (budget == 0 && model_.find("pro") != string_view::npos) budget = 128;
                set_json_member(thinking, "thinkingBudget", require_allocated(json_integer(budget)));
            }
            if (e != "none") set_json_member(thinking, "includeThoughts", json_true());
        }
        if (!found) invalid("reasoning_effort must be none, minimal, low, medium, high or xhigh", "reasoning_effort");
    }
    // key metadata include_thoughts: thought summaries even without reasoning_effort (an explicit
    // "none" from the client wins)
    if (opt_.include_thoughts && !effort_none) {
        if (!thinking) {
            thinking = require_allocated(json_object());
            set_json_member(gc.get(), "thinkingConfig", thinking);
        }
        if (!json_object_get(thinking, "includeThoughts")) set_json_member(thinking, "includeThoughts", json_true());
    }

    if (json_object_size(gc.get()) == 0) return nullptr;
    return gc.release();
}

// The members after "contents" (tools, toolConfig, generationConfig, safetySettings), as an object.
JsonPtr BodyBuilder::build() {
    JsonPtr body(require_allocated(json_object()));
    std::vector<string> filter;
    JsonPtr tc;
    const json_t* choice = json_object_get(root_, "tool_choice");
    if (!json_present(choice)) {  // legacy function_call: "none" | "auto" | {"name": ...}
        const json_t* fc = json_object_get(root_, "function_call");
        if (json_is_string(fc)) {
            tc.reset(tool_config(fc, &filter));
        } else if (json_is_object(fc)) {
            JsonPtr synth(require_allocated(json_object()));
            set_json_member(synth.get(), "type", json_string_or_invalid("function"));
            set_json_member(synth.get(), "function", copy(fc));
            tc.reset(tool_config(synth.get(), &filter));
        }
    } else {
        tc.reset(tool_config(choice, &filter));
    }
    JsonPtr tl(tools(filter.empty() ? nullptr : &filter));
    if (tl) {
        set_json_member(body.get(), "tools", tl.release());
        if (tc) set_json_member(body.get(), "toolConfig", tc.release());
    }

    if (json_t* gc = generation_config()) set_json_member(body.get(), "generationConfig", gc);
    if (json_is_array(opt_.safety)) set_json_member(body.get(), "safetySettings", copy(opt_.safety));
    return body;
}

}  // namespace

// ---- public API --------------------------------------------------------------------------------

bool gemini_build_body(const ChatRequest& req, std::string_view upstream_model, const ProviderKey& key,
                       std::string* out, ApiError* err) {
    return run_request_builder("Gemini", [&] {
        if (req.body.empty()) invalid("request body must be a JSON object", "");
        CanonicalRequest canonical = canonical_from_openai_chat(req);
        ContentsWriter contents(canonical, gemini_generation(upstream_model));
        contents.convert();
        std::string conversation;
        conversation.reserve(req.body.size() + 256);
        contents.append(conversation);  // may refuse a request without content: before the rest

        Options o;
        const json_t* md = key.metadata.get();
        o.json_schema = json_is_true(json_object_get(md, "json_schema"));
        o.include_thoughts = json_is_true(json_object_get(md, "include_thoughts"));
        o.safety = json_object_get(md, "safety_settings");
        JsonPtr root = dom_without_messages(req.members);
        BodyBuilder b(root.get(), upstream_model, o);
        JsonPtr rest = b.build();
        out->clear();
        out->reserve(conversation.size() + 512);
        *out += '{';
        *out += conversation;
        if (json_object_size(rest.get()) > 0) {
            std::string tail;
            json_dump_append(tail, rest.get());
            *out += ',';
            out->append(tail, 1);  // without its '{'
        } else {
            *out += '}';
        }
    }, err);
}

}  // namespace routeshift
