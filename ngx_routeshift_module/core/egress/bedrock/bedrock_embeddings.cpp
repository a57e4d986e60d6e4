#include "egress/bedrock/bedrock_embeddings.hpp"

#include "egress/embeddings_wire.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

namespace routeshift {

BedrockEmbeddingFamily bedrock_embedding_family(std::string_view model_id) {
    if (model_id.find("amazon.titan-embed-text") != std::string_view::npos) return BedrockEmbeddingFamily::titan;
    if (model_id.find("cohere.embed-") != std::string_view::npos) return BedrockEmbeddingFamily::cohere;
    return BedrockEmbeddingFamily::none;
}

bool bedrock_embeddings_expressible(std::string_view model_id, const EmbeddingRequest& request, std::string* why) {
    BedrockEmbeddingFamily family = bedrock_embedding_family(model_id);
    if (family == BedrockEmbeddingFamily::none) {
        *why = "the Bedrock model '" + std::string(model_id.substr(0, 128)) +
               "' is not a Titan or Cohere embedding model";
        return false;
    }
    if (request.token_input) {
        *why = "Bedrock embedding models take text only, not token ids";
        return false;
    }
    if (family == BedrockEmbeddingFamily::titan) {
        if (request.inputs.size() != 1) {
            *why = "Titan embedding models on Bedrock embed one text per request; send the inputs one by one";
            return false;
        }
        if (request.dimensions > 0 && model_id.find("titan-embed-text-v1") != std::string_view::npos) {
            *why = "amazon.titan-embed-text-v1 has a fixed dimensionality; 'dimensions' is not supported";
            return false;
        }
        return true;
    }
    if (request.inputs.size() > kBedrockCohereMaxTexts) {
        *why = "Cohere embedding models on Bedrock take at most " + std::to_string(kBedrockCohereMaxTexts) +
               " inputs per request";
        return false;
    }
    if (request.dimensions > 0 && model_id.find("embed-v4") == std::string_view::npos) {
        *why = "this Cohere embedding model has a fixed dimensionality; 'dimensions' is not supported";
        return false;
    }
    return true;
}

namespace {

std::string_view cohere_input_type(std::string_view task_type) {
    if (task_type == "RETRIEVAL_QUERY" || task_type == "QUESTION_ANSWERING" || task_type == "CODE_RETRIEVAL_QUERY")
        return "search_query";
    if (task_type == "CLASSIFICATION") return "classification";
    if (task_type == "CLUSTERING") return "clustering";
    return "search_document";
}

}  // namespace

std::string bedrock_embeddings_body(const EmbeddingRequest& request, std::string_view model_id) {
    JsonPtr body(new_json_object());
    if (bedrock_embedding_family(model_id) == BedrockEmbeddingFamily::titan) {
        set_json_member(body.get(), "inputText", new_json_string(request.inputs[0].text));
        if (request.dimensions > 0) set_json_member(body.get(), "dimensions", json_integer(request.dimensions));
        return json_dump_compact(body.get());
    }
    json_t* texts = new_json_array();
    set_json_member(body.get(), "texts", texts);
    for (const EmbeddingInput& input : request.inputs) append_json_element(texts, new_json_string(input.text));
    set_json_member(body.get(), "input_type", new_json_string(cohere_input_type(request.inputs[0].task_type)));
    json_t* types = new_json_array();
    set_json_member(body.get(), "embedding_types", types);
    append_json_element(types, new_json_string("float"));
    if (request.dimensions > 0) set_json_member(body.get(), "output_dimension", json_integer(request.dimensions));
    return json_dump_compact(body.get());
}

bool bedrock_embeddings_answer(std::string_view model_id, std::string_view json, EmbeddingResult* out,
                               std::string* error) {
    JsonPtr root = json_parse(json, error);
    if (!root || !json_is_object(root.get())) {
        *error = "the answer is not a JSON object";
        return false;
    }
    if (bedrock_embedding_family(model_id) == BedrockEmbeddingFamily::titan) {
        out->vectors.emplace_back();
        if (!embedding_vector_from_json(json_object_get(root.get(), "embedding"), &out->vectors.back())) {
            *error = "the Titan answer has no embedding array";
            return false;
        }
        long long tokens;
        if (json_get_int(root.get(), "inputTextTokenCount", &tokens)) out->prompt_tokens = tokens;
        return true;
    }
    const json_t* embeddings = json_object_get(root.get(), "embeddings");
    if (json_is_object(embeddings)) embeddings = json_object_get(embeddings, "float");
    if (!json_is_array(embeddings)) {
        *error = "the Cohere answer has no embeddings";
        return false;
    }
    size_t i;
    const json_t* vector;
    json_array_foreach(embeddings, i, vector) {
        out->vectors.emplace_back();
        if (!embedding_vector_from_json(vector, &out->vectors.back())) {
            *error = "a Cohere embedding is not an array of numbers";
            return false;
        }
    }
    return true;
}

bool bedrock_embeddings_path(std::string_view chat_path, std::string* out) {
    constexpr std::string_view kConverse = "/converse";
    if (!chat_path.ends_with(kConverse)) return false;
    out->assign(chat_path.substr(0, chat_path.size() - kConverse.size()));
    out->append("/invoke");
    return true;
}

}  // namespace routeshift
