#include "ingress/gemini_embed_ingress.hpp"

#include "ingress/body_conversion_error.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"


namespace routeshift {
namespace {

std::string at(const std::string& base, const std::string& member) { return base.empty() ? member : base + "." + member; }

std::string_view string_member(const json_t* object, const char* key, const std::string& where) {
    const json_t* value = json_object_get(object, key);
    if (!json_present(value)) return {};
    if (!json_is_string(value)) invalid(at(where, key), "must be a string.");
    return json_string_view(value);
}

// One EmbedContentRequest (the whole body, or one of a batch's requests) -> one input.
void read_request(const json_t* request, const std::string& where, std::string_view model, bool batch,
                  EmbeddingRequest* out, bool* dimensions_seen) {
    if (!json_is_object(request)) invalid(where, "must be an object.");
    only_known(request, where, {"model", "content", "taskType", "title", "outputDimensionality"});
    std::string_view named = string_member(request, "model", where);
    if (batch && named.empty()) invalid(at(where, "model"), "is required in a batch request.");
    if (!named.empty()) {
        std::string_view bare = named.starts_with("models/") ? named.substr(7) : named;
        if (bare != model) invalid(at(where, "model"), "must be the model of the path, models/" + std::string(model) + ".");
    }
    const json_t* content = json_object_get(request, "content");
    std::string content_at = at(where, "content");
    if (!json_is_object(content)) invalid(content_at, "is required and must be a Content object.");
    only_known(content, content_at, {"parts", "role"});
    const json_t* parts = json_object_get(content, "parts");
    if (!json_is_array(parts) || json_array_size(parts) == 0) invalid(at(content_at, "parts"), "must be a non-empty array.");
    EmbeddingInput input;
    size_t i;
    const json_t* part;
    json_array_foreach(parts, i, part) {
        std::string part_at = at(content_at, "parts[" + std::to_string(i) + "]");
        if (!json_is_object(part)) invalid(part_at, "must be an object.");
        const json_t* text = json_object_get(part, "text");
        if (json_object_size(part) != 1 || !json_is_string(text))
            invalid(part_at, "only text parts can be embedded by this gateway.");
        input.text += json_string_view(text);
    }
    if (input.text.empty()) invalid(at(content_at, "parts"), "the text to embed is empty.");
    input.task_type.assign(string_member(request, "taskType", where));
    input.title.assign(string_member(request, "title", where));
    const json_t* dimensions = json_object_get(request, "outputDimensionality");
    if (json_present(dimensions)) {
        if (!json_is_integer(dimensions) || json_integer_value(dimensions) < 1 || json_integer_value(dimensions) > 65536)
            invalid(at(where, "outputDimensionality"), "must be a positive integer.");
        if (*dimensions_seen && out->dimensions != json_integer_value(dimensions))
            invalid(at(where, "outputDimensionality"), "every request of a batch must ask for the same dimensionality.");
        out->dimensions = json_integer_value(dimensions);
    } else if (*dimensions_seen && out->dimensions != 0) {
        invalid(at(where, "outputDimensionality"), "every request of a batch must ask for the same dimensionality.");
    }
    *dimensions_seen = true;
    out->inputs.push_back(std::move(input));
}

}  // namespace

bool gemini_embed_method(std::string_view method, GeminiEmbedMethod* out) {
    if (method == "embedContent") *out = GeminiEmbedMethod::embed_content;
    else if (method == "batchEmbedContents") *out = GeminiEmbedMethod::batch_embed_contents;
    else return false;
    return true;
}

bool parse_gemini_embed_body(std::string_view body, std::string_view model, GeminiEmbedMethod method,
                             EmbeddingRequest* out, ApiError* err) {
    *out = EmbeddingRequest{};
    out->model.assign(model);
    try {
        std::string parse_error;
        JsonPtr root = json_parse(body, &parse_error);
        if (!root || !json_is_object(root.get())) invalid("", "Invalid JSON payload received: the body must be a JSON object.");
        bool dimensions_seen = false;
        if (method == GeminiEmbedMethod::embed_content) {
            out->single = true;
            read_request(root.get(), "", model, false, out, &dimensions_seen);
            return true;
        }
        only_known(root.get(), "", {"requests"});
        const json_t* requests = json_object_get(root.get(), "requests");
        if (!json_is_array(requests) || json_array_size(requests) == 0) invalid("requests", "must be a non-empty array.");
        if (json_array_size(requests) > kMaxGeminiEmbedRequests)
            invalid("requests", "at most " + std::to_string(kMaxGeminiEmbedRequests) + " requests are allowed in a batch.");
        size_t i;
        const json_t* request;
        json_array_foreach(requests, i, request) {
            read_request(request, "requests[" + std::to_string(i) + "]", model, true, out, &dimensions_seen);
        }
        return true;
    } catch (InvalidRequest& e) {
        return refuse(e, err);
    }
}

}  // namespace routeshift
