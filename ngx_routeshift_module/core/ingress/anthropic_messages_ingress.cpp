// Anthropic Messages body -> OpenAI chat body. Built with jansson: the Anthropic body is converted
// once per request and the result parsed by the OpenAI ingress like any client body, so every
// later stage (rules, planner, request builders, accounting) serves both dialects unchanged.
#include "ingress/anthropic_messages_ingress.hpp"

#include "ingress/body_conversion_error.hpp"
#include "ingress/openai_message_append.hpp"

#include "util/json_builder.hpp"
#include "util/json_scan.hpp"
#include "util/json_util.hpp"

#include <string>

namespace routeshift {
namespace {

std::string path(const std::string& base, size_t index) { return base + "." + std::to_string(index); }
std::string path(const std::string& base, const char* member) { return base + "." + member; }

const json_t* require_string(const json_t* object, const char* key, const std::string& where) {
    const json_t* v = json_object_get(object, key);
    if (!json_is_string(v)) invalid(path(where, key), "Field required (a string)");
    return v;
}

json_t* text_part(const json_t* text) {
    json_t* part = new_json_object();
    set_json_member(part, "type", new_json_string("text"));
    set_json_member(part, "text", json_incref(const_cast<json_t*>(text)));
    return part;
}

// An image block's source -> an OpenAI image_url part (base64 -> data URI).
json_t* image_part(const json_t* block, const std::string& where) {
    const json_t* source = json_object_get(block, "source");
    if (!json_is_object(source)) invalid(path(where, "source"), "Field required");
    std::string_view type = json_string_view(source, "type");
    std::string url;
    if (type == "base64") {
        std::string_view media = json_string_view(require_string(source, "media_type", path(where, "source")));
        std::string_view data = json_string_view(require_string(source, "data", path(where, "source")));
        url.append("data:").append(media).append(";base64,").append(data);
    } else if (type == "url") {
        url = json_string_view(require_string(source, "url", path(where, "source")));
    } else {
        invalid(path(path(where, "source"), "type"), "Input should be 'base64' or 'url'");
    }
    json_t* image_url = new_json_object();
    json_t* part = new_json_object();
    set_json_member(part, "type", new_json_string("image_url"));
    set_json_member(part, "image_url", image_url);
    set_json_member(image_url, "url", new_json_string(url));
    return part;
}

// A tool_result's content (string or text/image blocks) -> the OpenAI tool message's content.
json_t* tool_result_content(const json_t* content, const std::string& where) {
    if (content == nullptr || json_is_null(content)) return new_json_string("");
    if (json_is_string(content)) return json_incref(const_cast<json_t*>(content));
    if (!json_is_array(content)) invalid(where, "Input should be a valid string or list");
    std::string text;
    size_t i;
    const json_t* block;
    json_array_foreach(content, i, block) {
        std::string at = path(where, i);
        if (!json_is_object(block)) invalid(at, "Input should be an object");
        std::string_view type = json_string_view(block, "type");
        if (type != "text") invalid(path(at, "type"), "only text blocks are supported in a tool_result by this gateway");
        if (!text.empty()) text += "\n";
        text += json_string_view(require_string(block, "text", at));
    }
    return new_json_string(text);
}

std::string arguments_text(const json_t* input) {
    if (input == nullptr || json_is_null(input)) return "{}";
    return json_dump_compact(input);
}

// One Anthropic message -> one or more OpenAI messages appended to `out`.
void convert_message(const json_t* message, size_t index, json_t* out) {
    std::string where = path("messages", index);
    if (!json_is_object(message)) invalid(where, "Input should be an object");
    std::string_view role = json_string_view(message, "role");
    if (role != "user" && role != "assistant") invalid(path(where, "role"), "Input should be 'user' or 'assistant'");
    const json_t* content = json_object_get(message, "content");
    std::string content_where = path(where, "content");
    if (json_is_string(content)) {
        json_t* m = new_json_object();
        set_json_member(m, "role", new_json_string(role));
        set_json_member(m, "content", json_incref(const_cast<json_t*>(content)));
        append_json_element(out, m);
        return;
    }
    if (!json_is_array(content)) invalid(content_where, "Input should be a valid string or list");
    JsonPtr parts(new_json_array());
    JsonPtr tool_calls(new_json_array());
    std::string assistant_text;
    size_t i;
    const json_t* block;
    json_array_foreach(content, i, block) {
        std::string at = path(content_where, i);
        if (!json_is_object(block)) invalid(at, "Input should be an object");
        const json_t* type_value = json_object_get(block, "type");
        if (!json_is_string(type_value)) invalid(path(at, "type"), "Field required");
        std::string_view type = json_string_view(type_value);
        if (type == "text") {
            const json_t* text = require_string(block, "text", at);
            if (role == "assistant") assistant_text += json_string_view(text);
            else append_json_element(parts.get(), text_part(text));
        } else if (type == "image" && role == "user") {
            append_json_element(parts.get(), image_part(block, at));
        } else if (type == "tool_use" && role == "assistant") {
            json_t* call = new_json_object();
            append_json_element(tool_calls.get(), call);
            set_json_member(call, "id", json_incref(const_cast<json_t*>(require_string(block, "id", at))));
            set_json_member(call, "type", new_json_string("function"));
            json_t* function = new_json_object();
            set_json_member(call, "function", function);
            set_json_member(function, "name", json_incref(const_cast<json_t*>(require_string(block, "name", at))));
            set_json_member(function, "arguments", new_json_string(arguments_text(json_object_get(block, "input"))));
        } else if (type == "tool_result" && role == "user") {
            // OpenAI carries results as tool messages, before the user's other content of this turn
            json_t* m = new_json_object();
            append_json_element(out, m);
            set_json_member(m, "role", new_json_string("tool"));
            set_json_member(m, "tool_call_id",
                            json_incref(const_cast<json_t*>(require_string(block, "tool_use_id", at))));
            set_json_member(m, "content", tool_result_content(json_object_get(block, "content"), path(at, "content")));
        } else if ((type == "thinking" || type == "redacted_thinking") && role == "assistant") {
            // earlier reasoning: providers that are not Anthropic cannot take it back
        } else {
            invalid(path(at, "type"), "content block type '" + std::string(type) + "' is not supported in a " +
                                          std::string(role) + " message by this gateway");
        }
    }
    if (role == "assistant") append_assistant_message(out, assistant_text, tool_calls);
    else append_user_parts_message(out, parts);  // none when the turn held only tool results
}

json_t* system_message(const json_t* system) {
    std::string text;
    if (json_is_string(system)) {
        text = json_string_view(system);
    } else if (json_is_array(system)) {
        size_t i;
        const json_t* block;
        json_array_foreach(system, i, block) {
            std::string at = path("system", i);
            if (!json_is_object(block) || json_string_view(block, "type") != "text") {
                invalid(path(at, "type"), "Input should be 'text'");
            }
            if (!text.empty()) text += "\n";
            text += json_string_view(require_string(block, "text", at));
        }
    } else {
        invalid("system", "Input should be a valid string or list");
    }
    json_t* m = new_json_object();
    set_json_member(m, "role", new_json_string("system"));
    set_json_member(m, "content", new_json_string(text));
    return m;
}

json_t* convert_tools(const json_t* tools) {
    if (!json_is_array(tools)) invalid("tools", "Input should be a valid list");
    json_t* out = new_json_array();
    JsonPtr guard(out);
    size_t i;
    const json_t* tool;
    json_array_foreach(tools, i, tool) {
        std::string at = path("tools", i);
        if (!json_is_object(tool)) invalid(at, "Input should be an object");
        std::string_view type = json_string_view(tool, "type");
        if (!type.empty() && type != "custom") invalid(path(at, "type"), "server tools are not supported by this gateway");
        json_t* function = new_json_object();
        json_t* entry = new_json_object();
        append_json_element(out, entry);
        set_json_member(entry, "type", new_json_string("function"));
        set_json_member(entry, "function", function);
        set_json_member(function, "name", json_incref(const_cast<json_t*>(require_string(tool, "name", at))));
        if (const json_t* d = json_object_get(tool, "description"); json_is_string(d)) {
            set_json_member(function, "description", json_incref(const_cast<json_t*>(d)));
        }
        const json_t* schema = json_object_get(tool, "input_schema");
        if (!json_is_object(schema)) invalid(path(at, "input_schema"), "Field required (an object)");
        set_json_member(function, "parameters", json_incref(const_cast<json_t*>(schema)));
    }
    return guard.release();
}

// tool_choice {type: auto|any|tool|none, disable_parallel_tool_use} -> OpenAI's.
void convert_tool_choice(const json_t* choice, json_t* out) {
    if (!json_is_object(choice)) invalid("tool_choice", "Input should be an object");
    std::string_view type = json_string_view(choice, "type");
    if (type == "auto") set_json_member(out, "tool_choice", new_json_string("auto"));
    else if (type == "any") set_json_member(out, "tool_choice", new_json_string("required"));
    else if (type == "none") set_json_member(out, "tool_choice", new_json_string("none"));
    else if (type == "tool") {
        json_t* named = new_json_object();
        set_json_member(out, "tool_choice", named);
        set_json_member(named, "type", new_json_string("function"));
        json_t* function = new_json_object();
        set_json_member(named, "function", function);
        set_json_member(function, "name", json_incref(const_cast<json_t*>(require_string(choice, "name", "tool_choice"))));
    } else {
        invalid("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
    }
    if (json_is_true(json_object_get(choice, "disable_parallel_tool_use"))) {
        set_json_member(out, "parallel_tool_calls", json_false());
    }
}

void copy_number(const json_t* in, const char* key, json_t* out, const char* out_key) {
    const json_t* v = json_object_get(in, key);
    if (!json_present(v)) return;
    if (!json_is_number(v)) invalid(key, "Input should be a valid number");
    set_json_member(out, out_key, json_incref(const_cast<json_t*>(v)));
}

JsonPtr convert(const json_t* in, AnthropicBodyKind kind) {
    JsonPtr out(new_json_object());
    const json_t* model = json_object_get(in, "model");
    if (!json_is_string(model) || json_string_length(model) == 0) invalid("model", "Field required");
    set_json_member(out.get(), "model", json_incref(const_cast<json_t*>(model)));

    const json_t* max_tokens = json_object_get(in, "max_tokens");
    if (kind == AnthropicBodyKind::messages) {
        if (!json_is_integer(max_tokens)) invalid("max_tokens", "Field required (an integer)");
        if (json_integer_value(max_tokens) < 1) invalid("max_tokens", "Input should be greater than or equal to 1");
        set_json_member(out.get(), "max_tokens", json_incref(const_cast<json_t*>(max_tokens)));
    }

    json_t* messages = new_json_array();
    set_json_member(out.get(), "messages", messages);
    if (const json_t* system = json_object_get(in, "system"); json_present(system)) {
        append_json_element(messages, system_message(system));
    }
    const json_t* in_messages = json_object_get(in, "messages");
    if (!json_is_array(in_messages)) invalid("messages", "Field required (a list)");
    if (json_array_size(in_messages) == 0) invalid("messages", "List should have at least 1 item");
    size_t i;
    const json_t* message;
    json_array_foreach(in_messages, i, message) convert_message(message, i, messages);
    if (json_array_size(messages) == 0) invalid("messages", "no message with content");

    if (kind == AnthropicBodyKind::messages) {
        if (const json_t* stream = json_object_get(in, "stream"); json_present(stream)) {
            if (!json_is_boolean(stream)) invalid("stream", "Input should be a valid boolean");
            set_json_member(out.get(), "stream", json_incref(const_cast<json_t*>(stream)));
        }
        copy_number(in, "temperature", out.get(), "temperature");
        copy_number(in, "top_p", out.get(), "top_p");
        // carried for the wires that have it (Gemini topK, Bedrock additionalModelRequestFields,
        // Together, DashScope); the OpenAI wire drops it elsewhere (§18)
        if (const json_t* top_k = json_object_get(in, "top_k"); json_present(top_k)) {
            if (!json_is_integer(top_k) || json_integer_value(top_k) < 0)
                invalid("top_k", "Input should be a valid integer greater than or equal to 0");
            set_json_member(out.get(), "top_k", json_incref(const_cast<json_t*>(top_k)));
        }
        if (const json_t* stop = json_object_get(in, "stop_sequences"); json_present(stop)) {
            if (!json_is_array(stop)) invalid("stop_sequences", "Input should be a valid list");
            size_t k;
            const json_t* s;
            json_array_foreach(stop, k, s) {
                if (!json_is_string(s)) invalid(path("stop_sequences", k), "Input should be a valid string");
            }
            set_json_member(out.get(), "stop", json_incref(const_cast<json_t*>(stop)));
        }
        if (const json_t* choice = json_object_get(in, "tool_choice"); json_present(choice)) {
            convert_tool_choice(choice, out.get());
        }
        if (const json_t* thinking = json_object_get(in, "thinking"); json_present(thinking)) {
            if (!json_is_object(thinking)) invalid("thinking", "Input should be an object");
            set_json_member(out.get(), "thinking", json_incref(const_cast<json_t*>(thinking)));
        }
    }
    if (const json_t* tools = json_object_get(in, "tools"); json_present(tools)) {
        set_json_member(out.get(), "tools", convert_tools(tools));
    }
    if (const json_t* metadata = json_object_get(in, "metadata"); json_present(metadata)) {
        if (!json_is_object(metadata)) invalid("metadata", "Input should be an object");
        if (const json_t* user = json_object_get(metadata, "user_id"); json_is_string(user)) {
            set_json_member(out.get(), "user", json_incref(const_cast<json_t*>(user)));
        }
        // the gateway's own metadata (route_hint, session_id) keeps its meaning in both dialects
        json_t* ours = new_json_object();
        set_json_member(out.get(), "metadata", ours);
        for (const char* key : {"route_hint", "session_id"}) {
            if (const json_t* v = json_object_get(metadata, key)) set_json_member(ours, key, json_incref(const_cast<json_t*>(v)));
        }
    }
    return out;
}

}  // namespace

bool anthropic_messages_to_openai(std::string_view body, AnthropicBodyKind kind, std::string* openai_body,
                                  ApiError* err) {
    std::string parse_error;
    JsonPtr in = json_parse(body, &parse_error);
    try {
        if (!in) invalid("", "The request body is not valid JSON: " + parse_error);
        if (!json_is_object(in.get())) invalid("", "The request body must be a JSON object");
        JsonPtr out = convert(in.get(), kind);
        *openai_body = json_dump_compact(out.get());
        return true;
    } catch (InvalidRequest& e) {
        return refuse(e, err);
    }
}

std::string anthropic_body_with_model(std::string_view body, std::string_view model) {
    JsonMembers members;
    JsonValue root;
    std::string out;
    if (!json_scan(body, &root, &members, nullptr) || !root.is(JsonType::object)) return std::string(body);
    JsonValue old = json_find(members, "model");
    out.reserve(body.size() + model.size());
    if (!old) {  // cannot happen for an accepted body; keep the client's bytes and add the member
        size_t open = body.find('{');
        out.append(body.substr(0, open + 1));
        out += "\"model\":";
        json_quoted_append(out, model);
        out += members.empty() ? "" : ",";
        out.append(body.substr(open + 1));
        return out;
    }
    size_t at = (size_t)(old.text.data() - body.data());
    out.append(body.substr(0, at));
    json_quoted_append(out, model);
    out.append(body.substr(at + old.text.size()));
    return out;
}

}  // namespace routeshift
