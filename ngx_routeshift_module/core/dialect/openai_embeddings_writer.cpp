#include "dialect/openai_embeddings_writer.hpp"

#include "util/base64.hpp"
#include "util/json_util.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace routeshift {

void embedding_numbers_append(std::string& out, const std::vector<double>& values) {
    out += '[';
    char number[32];
    for (size_t i = 0; i < values.size(); i++) {
        if (i) out += ',';
        double v = std::isfinite(values[i]) ? values[i] : 0.0;
        auto [end, ec] = std::to_chars(number, number + sizeof number, v);
        out.append(number, ec == std::errc() ? end : number);
    }
    out += ']';
}

void embedding_float32_base64_append(std::string& out, const std::vector<double>& values) {
    std::string bytes;
    bytes.resize(values.size() * 4);
    for (size_t i = 0; i < values.size(); i++) {
        float f = (float)values[i];
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        for (int b = 0; b < 4; b++) bytes[i * 4 + (size_t)b] = (char)((bits >> (8 * b)) & 0xff);  // little-endian
    }
    base64_append(out, bytes);
}

std::string openai_embeddings_answer_body(const EmbeddingResult& result, std::string_view model,
                                          EmbeddingEncoding encoding, int64_t prompt_tokens) {
    std::string out = "{\"object\":\"list\",\"data\":[";
    for (size_t i = 0; i < result.vectors.size(); i++) {
        if (i) out += ',';
        out += "{\"object\":\"embedding\",\"index\":";
        out += std::to_string(i);
        out += ",\"embedding\":";
        if (encoding == EmbeddingEncoding::base64) {
            out += '"';
            embedding_float32_base64_append(out, result.vectors[i]);
            out += '"';
        } else {
            embedding_numbers_append(out, result.vectors[i]);
        }
        out += '}';
    }
    out += "],\"model\":";
    json_quoted_append(out, model);
    std::string tokens = std::to_string(prompt_tokens < 0 ? 0 : prompt_tokens);
    out += ",\"usage\":{\"prompt_tokens\":" + tokens + ",\"total_tokens\":" + tokens + "}}";
    return out;
}

}  // namespace routeshift
