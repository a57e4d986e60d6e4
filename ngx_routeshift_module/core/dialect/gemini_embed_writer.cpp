#include "dialect/gemini_embed_writer.hpp"

#include "dialect/openai_embeddings_writer.hpp"

namespace routeshift {

std::string gemini_embed_answer_body(const EmbeddingResult& result, bool single) {
    std::string out;
    if (single && result.vectors.size() == 1) {
        out = "{\"embedding\":{\"values\":";
        embedding_numbers_append(out, result.vectors[0]);
        out += "}}";
        return out;
    }
    out = "{\"embeddings\":[";
    for (size_t i = 0; i < result.vectors.size(); i++) {
        if (i) out += ',';
        out += "{\"values\":";
        embedding_numbers_append(out, result.vectors[i]);
        out += '}';
    }
    out += "]}";
    return out;
}

}  // namespace routeshift
