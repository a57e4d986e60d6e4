// GenerateContentRequest -> OpenAI chat body, built with jansson (see the header).
#include "ingress/gemini_generate_content_ingress.hpp"

#include "ingress/body_conversion_error.hpp"
#include "ingress/openai_message_append.hpp"

#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cctype>
#include <string>
#include <vector>

namespace routeshift {
namespace {

std::string at(const std::string& base, size_t index) { return base + "[" + std::to_string(index) + "]"; }
std::string at(const std::string& base, const char* member) { return base.empty() ? member : base + "." + member; }

json_t* kept(const json_t* value) { return json_incref(const_cast<json_t*>(value)); }

// A tool call the conversation made, so that the function response naming it gets its id.
struct MadeCall {
    std::string id;
    std::string name;
    bool answered = false;
};

struct Conversion {
    json_t* messages = nullptr;
    std::vector<MadeCall> calls;
    size_t call_count = 0;
};

std::string data_uri(const json_t* inline_data, const std::string& where, std::string* mime_out) {
    if (!json_is_object(inline_data)) invalid(where, "Invalid value (an object is required)");
    std::string_view mime = json_string_view(inline_data, "mimeType");
    const json_t* data = json_object_get(inline_data, "data");
    if (mime.empty()) invalid(at(where, "mimeType"), "Field required");
    if (!json_is_string(data)) invalid(at(where, "data"), "Field required (base64 bytes)");
    *mime_out = std::string(mime);
    return "data:" + std::string(mime) + ";base64," + std::string(json_string_view(data));
}

// inlineData of a user turn -> an OpenAI content part (images, wav/mp3 audio, PDF files).
json_t* inline_part(const json_t* inline_data, const std::string& where) {
    std::string mime;
    std::string uri = data_uri(inline_data, where, &mime);
    json_t* part = new_json_object();
    JsonPtr guard(part);
    if (mime.starts_with("image/")) {
        set_json_member(part, "type", new_json_string("image_url"));
        json_t* image = new_json_object();
        set_json_member(part, "image_url", image);
        set_json_member(image, "url", new_json_string(uri));
    } else if (mime == "audio/wav" || mime == "audio/mp3" || mime == "audio/mpeg") {
        set_json_member(part, "type", new_json_string("input_audio"));
        json_t* audio = new_json_object();
        set_json_member(part, "input_audio", audio);
        set_json_member(audio, "data", kept(json_object_get(inline_data, "data")));
        set_json_member(audio, "format", new_json_string(mime == "audio/wav" ? "wav" : "mp3"));
    } else if (mime == "application/pdf") {
        set_json_member(part, "type", new_json_string("file"));
        json_t* file = new_json_object();
        set_json_member(part, "file", file);
        set_json_member(file, "file_data", new_json_string(uri));
        set_json_member(file, "filename", new_json_string("document.pdf"));
    } else {
        invalid(at(where, "mimeType"), "inline data of type " + mime + " is not supported by this gateway");
    }
    return guard.release();
}

std::string arguments_text(const json_t* args) {
    if (!json_present(args)) return "{}";
    return json_dump_compact(args);
}

// A function response's `response` (a Struct) -> the tool message's content: its JSON text.
std::string response_text(const json_t* response, const std::string& where) {
    if (!json_present(response)) return "{}";
    if (!json_is_object(response)) invalid(where, "Invalid value (a Struct is required)");
    return json_dump_compact(response);
}

void convert_content(const json_t* content, size_t index, Conversion& c) {
    std::string where = at("contents", index);
    if (!json_is_object(content)) invalid(where, "Invalid value (a Content object is required)");
    only_known(content, where, {"role", "parts"});
    std::string_view role = json_string_view(content, "role");
    if (role.empty()) role = "user";
    if (role != "user" && role != "model" && role != "function" && role != "tool") {
        invalid(at(where, "role"), "Please use a valid role: user, model.");
    }
    bool model_turn = role == "model";
    const json_t* parts = json_object_get(content, "parts");
    if (!json_is_array(parts) || json_array_size(parts) == 0) {
        invalid(at(where, "parts"), "must contain at least one part");
    }
    JsonPtr user_parts(new_json_array());
    JsonPtr tool_calls(new_json_array());
    std::string model_text;
    size_t i;
    const json_t* part;
    json_array_foreach(parts, i, part) {
        std::string here = at(at(where, "parts"), i);
        if (!json_is_object(part)) invalid(here, "Invalid value (a Part object is required)");
        only_known(part, here, {"text", "inlineData", "fileData", "functionCall", "functionResponse", "thought",
                                "thoughtSignature", "executableCode", "codeExecutionResult", "videoMetadata",
                                "partMetadata", "mediaResolution"});
        if (json_is_true(json_object_get(part, "thought"))) continue;  // earlier reasoning: only Gemini reads it
        if (const json_t* text = json_object_get(part, "text"); json_present(text)) {
            if (!json_is_string(text)) invalid(at(here, "text"), "Invalid value (a string is required)");
            if (model_turn) {
                model_text += json_string_view(text);
            } else {
                json_t* p = new_json_object();
                append_json_element(user_parts.get(), p);
                set_json_member(p, "type", new_json_string("text"));
                set_json_member(p, "text", kept(text));
            }
        } else if (const json_t* inline_data = json_object_get(part, "inlineData"); json_present(inline_data)) {
            if (model_turn) invalid(at(here, "inlineData"), "inline data in a model turn is not supported by this gateway");
            append_json_element(user_parts.get(), inline_part(inline_data, at(here, "inlineData")));
        } else if (const json_t* call = json_object_get(part, "functionCall"); json_present(call)) {
            if (!model_turn) invalid(at(here, "functionCall"), "a function call must be in a model turn");
            std::string cw = at(here, "functionCall");
            if (!json_is_object(call)) invalid(cw, "Invalid value (an object is required)");
            std::string_view name = json_string_view(call, "name");
            if (name.empty()) invalid(at(cw, "name"), "Field required");
            MadeCall made;
            made.name = std::string(name);
            std::string_view id = json_string_view(call, "id");
            // Gemini clients name calls only by function name: ids are minted in order, the same
            // for the call and the response that answers it
            made.id = id.empty() ? "call_" + std::to_string(c.call_count) + "_" + made.name : std::string(id);
            ++c.call_count;
            json_t* entry = new_json_object();
            append_json_element(tool_calls.get(), entry);
            set_json_member(entry, "id", new_json_string(made.id));
            set_json_member(entry, "type", new_json_string("function"));
            json_t* function = new_json_object();
            set_json_member(entry, "function", function);
            set_json_member(function, "name", new_json_string(name));
            set_json_member(function, "arguments", new_json_string(arguments_text(json_object_get(call, "args"))));
            c.calls.push_back(std::move(made));
        } else if (const json_t* response = json_object_get(part, "functionResponse"); json_present(response)) {
            std::string rw = at(here, "functionResponse");
            if (model_turn) invalid(rw, "a function response must be in a user turn");
            if (!json_is_object(response)) invalid(rw, "Invalid value (an object is required)");
            std::string_view name = json_string_view(response, "name");
            if (name.empty()) invalid(at(rw, "name"), "Field required");
            std::string_view id = json_string_view(response, "id");
            MadeCall* match = nullptr;
            for (MadeCall& made : c.calls) {
                if (made.answered) continue;
                if (id.empty() ? made.name == name : made.id == id) {
                    match = &made;
                    break;
                }
            }
            if (match == nullptr) {
                invalid(rw, "no earlier functionCall of \"" + std::string(name) + "\" matches this function response");
            }
            match->answered = true;
            json_t* m = new_json_object();
            append_json_element(c.messages, m);
            set_json_member(m, "role", new_json_string("tool"));
            set_json_member(m, "tool_call_id", new_json_string(match->id));
            set_json_member(m, "content", new_json_string(response_text(json_object_get(response, "response"), at(rw, "response"))));
        } else if (json_present(json_object_get(part, "fileData"))) {
            invalid(at(here, "fileData"), "file references are not supported by this gateway; send the bytes as inlineData");
        } else if (json_present(json_object_get(part, "executableCode")) ||
                   json_present(json_object_get(part, "codeExecutionResult"))) {
            invalid(here, "code execution parts are not supported by this gateway");
        } else if (!json_present(json_object_get(part, "thoughtSignature"))) {
            invalid(here, "the part has no data (text, inlineData, functionCall or functionResponse)");
        }
    }
    if (model_turn) append_assistant_message(c.messages, model_text, tool_calls);
    else append_user_parts_message(c.messages, user_parts);  // none when it held only function responses
}

json_t* system_message(const json_t* system) {
    const std::string where = "systemInstruction";
    std::string text;
    if (json_is_string(system)) {
        text = json_string_view(system);
    } else if (json_is_object(system)) {
        only_known(system, where, {"role", "parts"});
        const json_t* parts = json_object_get(system, "parts");
        if (!json_is_array(parts)) invalid(at(where, "parts"), "Field required (a list)");
        size_t i;
        const json_t* part;
        json_array_foreach(parts, i, part) {
            const json_t* t = json_object_get(part, "text");
            if (!json_is_string(t)) invalid(at(at(where, "parts"), i), "only text parts are allowed in a system instruction");
            if (!text.empty()) text += "\n";
            text += json_string_view(t);
        }
    } else {
        invalid(where, "Invalid value (a Content object is required)");
    }
    json_t* m = new_json_object();
    set_json_member(m, "role", new_json_string("system"));
    set_json_member(m, "content", new_json_string(text));
    return m;
}

// A Gemini Schema (OpenAPI subset, upper-case type names) -> JSON Schema (lower-case ones).
json_t* json_schema(const json_t* schema) {
    if (json_is_array(schema)) {
        json_t* out = new_json_array();
        size_t i;
        const json_t* item;
        json_array_foreach(schema, i, item) append_json_element(out, json_schema(item));
        return out;
    }
    if (!json_is_object(schema)) return kept(schema);
    json_t* out = new_json_object();
    const char* key;
    const json_t* value;
    json_object_foreach(const_cast<json_t*>(schema), key, value) {
        if (std::string_view(key) == "type" && json_is_string(value)) {
            std::string lower(json_string_view(value));
            for (char& ch : lower) ch = (char)std::tolower((unsigned char)ch);
            set_json_member(out, key, new_json_string(lower));
        } else if (std::string_view(key) == "properties" && json_is_object(value)) {
            json_t* props = new_json_object();
            set_json_member(out, key, props);
            const char* name;
            const json_t* sub;
            json_object_foreach(const_cast<json_t*>(value), name, sub) set_json_member(props, name, json_schema(sub));
        } else if (std::string_view(key) == "items" || std::string_view(key) == "anyOf") {
            set_json_member(out, key, json_schema(value));
        } else {
            set_json_member(out, key, kept(value));
        }
    }
    return out;
}

json_t* convert_tools(const json_t* tools) {
    if (!json_is_array(tools)) invalid("tools", "Invalid value (a list is required)");
    JsonPtr out(new_json_array());
    size_t i;
    const json_t* tool;
    json_array_foreach(tools, i, tool) {
        std::string where = at("tools", i);
        if (!json_is_object(tool)) invalid(where, "Invalid value (a Tool object is required)");
        const char* key;
        const json_t* value;
        json_object_foreach(const_cast<json_t*>(tool), key, value) {
            if (std::string_view(key) != "functionDeclarations") {
                invalid(at(where, key), std::string("the tool ") + key + " is not supported by this gateway");
            }
        }
        const json_t* declarations = json_object_get(tool, "functionDeclarations");
        if (!json_is_array(declarations)) invalid(at(where, "functionDeclarations"), "Field required (a list)");
        size_t k;
        const json_t* declaration;
        json_array_foreach(declarations, k, declaration) {
            std::string dw = at(at(where, "functionDeclarations"), k);
            if (!json_is_object(declaration)) invalid(dw, "Invalid value (an object is required)");
            std::string_view name = json_string_view(declaration, "name");
            if (name.empty()) invalid(at(dw, "name"), "Field required");
            json_t* entry = new_json_object();
            append_json_element(out.get(), entry);
            set_json_member(entry, "type", new_json_string("function"));
            json_t* function = new_json_object();
            set_json_member(entry, "function", function);
            set_json_member(function, "name", new_json_string(name));
            if (const json_t* d = json_object_get(declaration, "description"); json_is_string(d)) {
                set_json_member(function, "description", kept(d));
            }
            const json_t* parameters = json_object_get(declaration, "parametersJsonSchema");
            if (json_present(parameters)) {
                set_json_member(function, "parameters", kept(parameters));
            } else if (parameters = json_object_get(declaration, "parameters"); json_present(parameters)) {
                if (!json_is_object(parameters)) invalid(at(dw, "parameters"), "Invalid value (a Schema is required)");
                set_json_member(function, "parameters", json_schema(parameters));
            }
        }
    }
    return out.release();
}

// toolConfig.functionCallingConfig {mode AUTO|ANY|NONE|VALIDATED, allowedFunctionNames} -> tool_choice.
void convert_tool_config(const json_t* config, json_t* out) {
    if (!json_is_object(config)) invalid("toolConfig", "Invalid value (an object is required)");
    const json_t* calling = json_object_get(config, "functionCallingConfig");
    if (!json_present(calling)) return;
    const std::string where = "toolConfig.functionCallingConfig";
    if (!json_is_object(calling)) invalid(where, "Invalid value (an object is required)");
    std::string_view mode = json_string_view(calling, "mode");
    const json_t* allowed = json_object_get(calling, "allowedFunctionNames");
    if (mode.empty() || mode == "MODE_UNSPECIFIED" || mode == "AUTO") {
        set_json_member(out, "tool_choice", new_json_string("auto"));
    } else if (mode == "NONE") {
        set_json_member(out, "tool_choice", new_json_string("none"));
    } else if (mode == "ANY" || mode == "VALIDATED") {
        if (json_is_array(allowed) && json_array_size(allowed) == 1 && json_is_string(json_array_get(allowed, 0))) {
            json_t* named = new_json_object();
            set_json_member(out, "tool_choice", named);
            set_json_member(named, "type", new_json_string("function"));
            json_t* function = new_json_object();
            set_json_member(named, "function", function);
            set_json_member(function, "name", kept(json_array_get(allowed, 0)));
            return;
        }
        if (json_array_size(allowed) > 1) {
            invalid(at(where, "allowedFunctionNames"), "more than one allowed function name is not supported by this gateway");
        }
        set_json_member(out, "tool_choice", new_json_string("required"));
    } else {
        invalid(at(where, "mode"), "Invalid value (AUTO, ANY, NONE or VALIDATED)");
    }
}

void copy_number(const json_t* in, const char* key, const std::string& where, json_t* out, const char* out_key) {
    const json_t* v = json_object_get(in, key);
    if (!json_present(v)) return;
    if (!json_is_number(v)) invalid(at(where, key), "Invalid value (a number is required)");
    set_json_member(out, out_key, kept(v));
}

void copy_integer(const json_t* in, const char* key, const std::string& where, json_t* out, const char* out_key) {
    const json_t* v = json_object_get(in, key);
    if (!json_present(v)) return;
    if (!json_is_integer(v) || json_integer_value(v) < 0) invalid(at(where, key), "Invalid value (a non-negative integer is required)");
    set_json_member(out, out_key, kept(v));
}

void convert_generation_config(const json_t* config, json_t* out) {
    const std::string where = "generationConfig";
    if (!json_is_object(config)) invalid(where, "Invalid value (an object is required)");
    only_known(config, where, {"temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "candidateCount",
                               "responseMimeType", "responseSchema", "responseJsonSchema", "presencePenalty",
                               "frequencyPenalty", "seed", "responseLogprobs", "logprobs", "thinkingConfig",
                               "responseModalities"});
    copy_number(config, "temperature", where, out, "temperature");
    copy_number(config, "topP", where, out, "top_p");
    copy_integer(config, "topK", where, out, "top_k");
    copy_integer(config, "maxOutputTokens", where, out, "max_tokens");
    copy_integer(config, "candidateCount", where, out, "n");
    copy_number(config, "presencePenalty", where, out, "presence_penalty");
    copy_number(config, "frequencyPenalty", where, out, "frequency_penalty");
    copy_integer(config, "seed", where, out, "seed");
    if (const json_t* stop = json_object_get(config, "stopSequences"); json_present(stop)) {
        if (!json_is_array(stop)) invalid(at(where, "stopSequences"), "Invalid value (a list is required)");
        size_t k;
        const json_t* s;
        json_array_foreach(stop, k, s) {
            if (!json_is_string(s)) invalid(at(at(where, "stopSequences"), k), "Invalid value (a string is required)");
        }
        set_json_member(out, "stop", kept(stop));
    }
    if (json_is_true(json_object_get(config, "responseLogprobs"))) {
        set_json_member(out, "logprobs", json_true());
        copy_integer(config, "logprobs", where, out, "top_logprobs");
    }
    if (const json_t* modalities = json_object_get(config, "responseModalities"); json_present(modalities)) {
        size_t k;
        const json_t* m;
        json_array_foreach(modalities, k, m) {
            if (json_string_view(m) != "TEXT") {
                invalid(at(at(where, "responseModalities"), k), "only TEXT answers are supported by this gateway");
            }
        }
    }
    std::string_view mime = json_string_view(config, "responseMimeType");
    const json_t* schema = json_object_get(config, "responseJsonSchema");
    bool json_schema_given = json_present(schema);
    if (!json_schema_given) schema = json_object_get(config, "responseSchema");
    if (json_present(schema) && mime != "application/json") {
        invalid(at(where, "responseMimeType"), "a response schema requires responseMimeType application/json");
    }
    if (mime == "application/json") {
        json_t* format = new_json_object();
        set_json_member(out, "response_format", format);
        if (json_present(schema)) {
            set_json_member(format, "type", new_json_string("json_schema"));
            json_t* spec = new_json_object();
            set_json_member(format, "json_schema", spec);
            set_json_member(spec, "name", new_json_string("response"));
            set_json_member(spec, "schema", json_schema_given ? kept(schema) : json_schema(schema));
        } else {
            set_json_member(format, "type", new_json_string("json_object"));
        }
    } else if (!mime.empty() && mime != "text/plain") {
        invalid(at(where, "responseMimeType"), "only text/plain and application/json are supported by this gateway");
    }
}

JsonPtr convert(const json_t* in, std::string_view model, GeminiBodyKind kind) {
    if (kind == GeminiBodyKind::count_tokens) {
        if (const json_t* inner = json_object_get(in, "generateContentRequest"); json_present(inner)) {
            if (!json_is_object(inner)) invalid("generateContentRequest", "Invalid value (an object is required)");
            in = inner;
        }
    }
    only_known(in, "", {"contents", "systemInstruction", "system_instruction", "generationConfig", "tools",
                        "toolConfig", "safetySettings", "cachedContent", "labels", "model"});
    JsonPtr out(new_json_object());
    set_json_member(out.get(), "model", new_json_string(model));
    Conversion c;
    c.messages = new_json_array();
    set_json_member(out.get(), "messages", c.messages);
    const json_t* system = json_object_get(in, "systemInstruction");
    if (!json_present(system)) system = json_object_get(in, "system_instruction");
    if (json_present(system)) append_json_element(c.messages, system_message(system));
    const json_t* contents = json_object_get(in, "contents");
    if (!json_is_array(contents) || json_array_size(contents) == 0) {
        invalid("contents", "contents is not specified");
    }
    size_t i;
    const json_t* content;
    json_array_foreach(contents, i, content) convert_content(content, i, c);
    if (json_array_size(c.messages) == 0) invalid("contents", "no content with parts");
    if (json_present(json_object_get(in, "cachedContent"))) {
        invalid("cachedContent", "cached content is not supported by this gateway");
    }
    if (const json_t* tools = json_object_get(in, "tools"); json_present(tools)) {
        json_t* converted = convert_tools(tools);
        if (json_array_size(converted)) set_json_member(out.get(), "tools", converted);
        else json_decref(converted);
    }
    if (kind == GeminiBodyKind::count_tokens) return out;
    if (kind == GeminiBodyKind::stream_generate) set_json_member(out.get(), "stream", json_true());
    if (const json_t* config = json_object_get(in, "generationConfig"); json_present(config)) {
        convert_generation_config(config, out.get());
    }
    if (const json_t* config = json_object_get(in, "toolConfig"); json_present(config)) {
        convert_tool_config(config, out.get());
    }
    return out;
}

}  // namespace

bool gemini_generate_content_to_openai(std::string_view body, std::string_view model, GeminiBodyKind kind,
                                       std::string* openai_body, ApiError* err) {
    std::string parse_error;
    JsonPtr in = json_parse(body, &parse_error);
    try {
        if (!in) invalid("", "Invalid JSON payload received. " + parse_error);
        if (!json_is_object(in.get())) invalid("", "Invalid JSON payload received. The request body must be a JSON object.");
        JsonPtr out = convert(in.get(), model, kind);
        *openai_body = json_dump_compact(out.get());
        return true;
    } catch (InvalidRequest& e) {
        return refuse(e, err);
    }
}

}  // namespace routeshift
