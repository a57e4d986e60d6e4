#include "egress/openai/openai_embeddings.hpp"

#include "egress/embeddings_wire.hpp"
#include "util/base64.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cstdint>
#include <cstring>

namespace routeshift {

std::string openai_embeddings_body(const EmbeddingRequest& request, std::string_view upstream_model) {
    JsonPtr body(new_json_object());
    set_json_member(body.get(), "model", new_json_string(upstream_model));
    if (request.single) {
        set_json_member(body.get(), "input", new_json_string(request.inputs[0].text));
    } else {
        json_t* inputs = new_json_array();
        set_json_member(body.get(), "input", inputs);
        for (const EmbeddingInput& input : request.inputs) append_json_element(inputs, new_json_string(input.text));
    }
    if (request.dimensions > 0) set_json_member(body.get(), "dimensions", json_integer(request.dimensions));
    if (!request.user.empty()) set_json_member(body.get(), "user", new_json_string(request.user));
    set_json_member(body.get(), "encoding_format", new_json_string("float"));
    return json_dump_compact(body.get());
}

namespace {

// A base64 embedding: little-endian float32 bytes.
bool float32_vector(std::string_view text, std::vector<double>* out) {
    std::string bytes;
    if (!base64_decode(text, &bytes) || bytes.size() % 4 != 0) return false;
    out->clear();
    for (size_t i = 0; i < bytes.size(); i += 4) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; b++) bits |= (uint32_t)(unsigned char)bytes[i + (size_t)b] << (8 * b);
        float f;
        std::memcpy(&f, &bits, 4);
        out->push_back(f);
    }
    return true;
}

}  // namespace

bool openai_embeddings_answer(std::string_view json, EmbeddingResult* out, std::string* error) {
    JsonPtr root = json_parse(json, error);
    const json_t* data = root ? json_object_get(root.get(), "data") : nullptr;
    if (!json_is_array(data)) {
        *error = "the answer has no data array";
        return false;
    }
    out->vectors.assign(json_array_size(data), {});
    std::vector<bool> seen(out->vectors.size(), false);
    size_t i;
    const json_t* item;
    json_array_foreach(data, i, item) {
        long long index = (long long)i;
        if (json_object_get(item, "index") && !json_get_int(item, "index", &index)) index = -1;
        const json_t* embedding = json_object_get(item, "embedding");
        if (index < 0 || (size_t)index >= seen.size() || seen[(size_t)index]) {
            *error = "the answer's data indexes are not 0..n-1";
            return false;
        }
        seen[(size_t)index] = true;
        std::vector<double>& vector = out->vectors[(size_t)index];
        bool ok = json_is_string(embedding) ? float32_vector(json_string_view(embedding), &vector)
                                            : embedding_vector_from_json(embedding, &vector);
        if (!ok) {
            *error = "an embedding is neither an array of numbers nor base64";
            return false;
        }
    }
    long long tokens;
    if (json_get_int(json_object_get(root.get(), "usage"), "prompt_tokens", &tokens)) out->prompt_tokens = tokens;
    return true;
}

bool openai_embeddings_path(std::string_view chat_path, std::string* out) {
    constexpr std::string_view kChat = "/chat/completions";
    size_t at = chat_path.find(kChat);
    if (at == std::string_view::npos) return false;
    out->assign(chat_path.substr(0, at));
    out->append("/embeddings");
    out->append(chat_path.substr(at + kChat.size()));
    return true;
}

}  // namespace routeshift
