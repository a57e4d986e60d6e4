#include "ingress/openai_embeddings_ingress.hpp"

#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cstring>

namespace routeshift {
namespace {

bool invalid(ApiError* err, std::string message, std::string param, std::string code = "invalid_value") {
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = std::move(message);
    err->param = std::move(param);
    err->code = std::move(code);
    return false;
}

// A token-id array: non-empty, every element a non-negative integer.
bool token_array(const json_t* value, size_t* count) {
    if (!json_is_array(value) || json_array_size(value) == 0) return false;
    size_t i;
    const json_t* element;
    json_array_foreach(value, i, element) {
        if (!json_is_integer(element) || json_integer_value(element) < 0) return false;
    }
    *count += json_array_size(value);
    return true;
}

bool read_input(const json_t* input, EmbeddingRequest* out, ApiError* err) {
    constexpr std::string_view kShape =
        "'input' must be a non-empty string, an array of non-empty strings, an array of token ids or an array "
        "of token-id arrays.";
    if (!json_present(input)) return invalid(err, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
    if (json_is_string(input)) {
        if (json_string_length(input) == 0) return invalid(err, std::string(kShape), "input");
        out->single = true;
        out->inputs.push_back(EmbeddingInput{std::string(json_string_view(input)), {}, {}});
        return true;
    }
    if (!json_is_array(input) || json_array_size(input) == 0) return invalid(err, std::string(kShape), "input");
    if (json_array_size(input) > kMaxOpenAIEmbeddingInputs) {
        return invalid(err, "'input' holds " + std::to_string(json_array_size(input)) + " items; at most " +
                                std::to_string(kMaxOpenAIEmbeddingInputs) + " are allowed.",
                       "input");
    }
    const json_t* first = json_array_get(input, 0);
    if (json_is_integer(first)) {  // one token-id array
        if (!token_array(input, &out->token_count)) return invalid(err, std::string(kShape), "input");
        out->token_input = true;
        out->inputs.resize(1);
        return true;
    }
    size_t i;
    const json_t* element;
    json_array_foreach(input, i, element) {
        if (json_is_array(element)) {
            if (i > 0 && !out->token_input) return invalid(err, std::string(kShape), "input");
            if (!token_array(element, &out->token_count)) return invalid(err, std::string(kShape), "input");
            out->token_input = true;
            out->inputs.emplace_back();
            continue;
        }
        if (out->token_input || !json_is_string(element) || json_string_length(element) == 0)
            return invalid(err, std::string(kShape), "input");
        out->inputs.push_back(EmbeddingInput{std::string(json_string_view(element)), {}, {}});
    }
    return true;
}

}  // namespace

bool parse_openai_embeddings_body(std::string_view body, std::string_view path_model, EmbeddingRequest* out,
                                  ApiError* err) {
    *out = EmbeddingRequest{};
    std::string parse_error;
    JsonPtr root = json_parse(body, &parse_error);
    if (!root || !json_is_object(root.get())) {
        return invalid(err, "We could not parse the JSON body of your request: it must be a JSON object.", "",
                       "invalid_json");
    }
    const char* name;
    const json_t* value;
    json_object_foreach(root.get(), name, value) {
        static constexpr const char* kKnown[] = {"model", "input", "encoding_format", "dimensions", "user"};
        bool known = false;
        for (const char* k : kKnown) known = known || std::strcmp(k, name) == 0;
        if (!known) {
            std::string shown;
            for (const char* p = name; *p && shown.size() < 64; ++p)
                shown += ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\') ? '?' : *p;
            return invalid(err, "Unrecognized request argument supplied: " + shown, shown, "unknown_parameter");
        }
    }
    const json_t* model = json_object_get(root.get(), "model");
    if (!path_model.empty()) {
        out->model.assign(path_model);
    } else if (!json_present(model)) {
        return invalid(err, "You must provide a model parameter.", "model", "missing_model");
    } else if (!json_is_string(model) || json_string_length(model) == 0) {
        return invalid(err, "'model' must be a non-empty string.", "model", "invalid_type");
    } else {
        out->model.assign(json_string_view(model));
    }
    if (!read_input(json_object_get(root.get(), "input"), out, err)) return false;
    const json_t* encoding = json_object_get(root.get(), "encoding_format");
    if (json_present(encoding)) {
        std::string_view e = json_string_view(encoding);
        if (e == "base64") out->encoding = EmbeddingEncoding::base64;
        else if (e != "float")
            return invalid(err, "'encoding_format' must be \"float\" or \"base64\".", "encoding_format");
    }
    const json_t* dimensions = json_object_get(root.get(), "dimensions");
    if (json_present(dimensions)) {
        if (!json_is_integer(dimensions) || json_integer_value(dimensions) < 1 || json_integer_value(dimensions) > 65536)
            return invalid(err, "'dimensions' must be a positive integer.", "dimensions");
        out->dimensions = json_integer_value(dimensions);
    }
    const json_t* user = json_object_get(root.get(), "user");
    if (json_present(user)) {
        if (!json_is_string(user)) return invalid(err, "'user' must be a string.", "user", "invalid_type");
        out->user.assign(json_string_view(user));
    }
    return true;
}

}  // namespace routeshift
