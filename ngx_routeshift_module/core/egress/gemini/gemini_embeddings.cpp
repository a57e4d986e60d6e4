#include "egress/gemini/gemini_embeddings.hpp"

#include "egress/embeddings_wire.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

namespace routeshift {

bool gemini_embeddings_expressible(const EmbeddingRequest& request, std::string* why) {
    if (request.token_input) {
        *why = "Gemini embedding models take text only, not token ids";
        return false;
    }
    if (request.inputs.size() > kGeminiMaxBatchEmbedRequests) {
        *why = "Gemini embedding models take at most " + std::to_string(kGeminiMaxBatchEmbedRequests) +
               " inputs per request";
        return false;
    }
    return true;
}

std::string gemini_embeddings_body(const EmbeddingRequest& request, std::string_view upstream_model) {
    std::string model = upstream_model.starts_with("models/") || upstream_model.starts_with("tunedModels/")
                            ? std::string(upstream_model)
                            : "models/" + std::string(upstream_model);
    JsonPtr body(new_json_object());
    json_t* requests = new_json_array();
    set_json_member(body.get(), "requests", requests);
    for (const EmbeddingInput& input : request.inputs) {
        json_t* one = new_json_object();
        append_json_element(requests, one);
        set_json_member(one, "model", new_json_string(model));
        json_t* content = new_json_object();
        set_json_member(one, "content", content);
        json_t* parts = new_json_array();
        set_json_member(content, "parts", parts);
        json_t* part = new_json_object();
        append_json_element(parts, part);
        set_json_member(part, "text", new_json_string(input.text));
        if (!input.task_type.empty()) set_json_member(one, "taskType", new_json_string(input.task_type));
        if (!input.title.empty()) set_json_member(one, "title", new_json_string(input.title));
        if (request.dimensions > 0) set_json_member(one, "outputDimensionality", json_integer(request.dimensions));
    }
    return json_dump_compact(body.get());
}

bool gemini_embeddings_answer(std::string_view json, EmbeddingResult* out, std::string* error) {
    JsonPtr root = json_parse(json, error);
    if (!root || !json_is_object(root.get())) {
        *error = "the answer is not a JSON object";
        return false;
    }
    const json_t* single = json_object_get(root.get(), "embedding");
    const json_t* many = json_object_get(root.get(), "embeddings");
    if (json_is_object(single)) {
        out->vectors.emplace_back();
        if (embedding_vector_from_json(json_object_get(single, "values"), &out->vectors.back())) return true;
    } else if (json_is_array(many)) {
        bool ok = true;
        size_t i;
        const json_t* item;
        json_array_foreach(many, i, item) {
            out->vectors.emplace_back();
            ok = ok && embedding_vector_from_json(json_object_get(item, "values"), &out->vectors.back());
        }
        if (ok) return true;
    }
    *error = "the answer has no embeddings[].values";
    return false;
}

bool gemini_embeddings_path(std::string_view chat_path, std::string* out) {
    constexpr std::string_view kGenerate = ":generateContent";
    size_t at = chat_path.rfind(kGenerate);
    if (at == std::string_view::npos) return false;
    out->assign(chat_path.substr(0, at));
    out->append(":batchEmbedContents");
    out->append(chat_path.substr(at + kGenerate.size()));
    return true;
}

}  // namespace routeshift
