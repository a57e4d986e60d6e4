#include "egress/embeddings_wire.hpp"

#include "egress/bedrock/bedrock_embeddings.hpp"
#include "egress/gemini/gemini_embeddings.hpp"
#include "egress/openai/openai_embeddings.hpp"

namespace routeshift {

bool embeddings_expressible(WireFormat wire, std::string_view upstream_model, const EmbeddingRequest& request,
                            std::string* why) {
    switch (wire) {
    case WireFormat::openai: return true;
    case WireFormat::anthropic:
        *why = "providers of the Anthropic Messages API have no embeddings endpoint";
        return false;
    case WireFormat::gemini: return gemini_embeddings_expressible(request, why);
    case WireFormat::bedrock: return bedrock_embeddings_expressible(upstream_model, request, why);
    }
    return false;
}

bool embeddings_upstream_path(WireFormat wire, std::string_view chat_path, std::string* out) {
    switch (wire) {
    case WireFormat::openai: return openai_embeddings_path(chat_path, out);
    case WireFormat::gemini: return gemini_embeddings_path(chat_path, out);
    case WireFormat::bedrock: return bedrock_embeddings_path(chat_path, out);
    case WireFormat::anthropic: break;
    }
    return false;
}

std::string embeddings_upstream_body(WireFormat wire, const EmbeddingRequest& request, std::string_view upstream_model) {
    switch (wire) {
    case WireFormat::gemini: return gemini_embeddings_body(request, upstream_model);
    case WireFormat::bedrock: return bedrock_embeddings_body(request, upstream_model);
    case WireFormat::openai:
    case WireFormat::anthropic: break;
    }
    return openai_embeddings_body(request, upstream_model);
}

bool embeddings_decode_answer(WireFormat wire, std::string_view upstream_model, std::string_view json,
                              EmbeddingResult* out, std::string* error) {
    *out = EmbeddingResult{};
    switch (wire) {
    case WireFormat::gemini: return gemini_embeddings_answer(json, out, error);
    case WireFormat::bedrock: return bedrock_embeddings_answer(upstream_model, json, out, error);
    case WireFormat::openai:
    case WireFormat::anthropic: break;
    }
    return openai_embeddings_answer(json, out, error);
}

bool embedding_vector_from_json(const json_t* array, std::vector<double>* out) {
    if (!json_is_array(array)) return false;
    out->clear();
    out->reserve(json_array_size(array));
    size_t i;
    const json_t* value;
    json_array_foreach(array, i, value) {
        if (!json_is_number(value)) return false;
        out->push_back(json_number_value(value));
    }
    return true;
}

}  // namespace routeshift
