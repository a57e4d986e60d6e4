// Embeddings (docs/design.md §22): the two ingress parsers and every wire's answer decoder behind
// the answer translator. A refused body is a 400 with a valid error body; an accepted one has at
// least one input and every wire's body built from it is valid JSON; any provider answer becomes
// either a complete answer that is valid JSON in the client's dialect, or an error body (valid
// JSON) — never a crash, never a half-written document.
#include "fuzz_support.hpp"
#include "dialect/google_error.hpp"
#include "dialect/openai_error.hpp"
#include "egress/embeddings_answer.hpp"
#include "egress/embeddings_wire.hpp"
#include "ingress/gemini_embed_ingress.hpp"
#include "ingress/openai_embeddings_ingress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace routeshift;
    if (size < 2) return 0;
    const uint8_t selector = data[0];
    std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

    EmbeddingRequest req;
    ApiError err;
    bool ok;
    switch (selector % 4) {
    case 0: ok = parse_openai_embeddings_body(body, "", &req, &err); break;
    case 1: ok = parse_gemini_embed_body(body, "m", GeminiEmbedMethod::embed_content, &req, &err); break;
    case 2: ok = parse_gemini_embed_body(body, "m", GeminiEmbedMethod::batch_embed_contents, &req, &err); break;
    default: {
        // an answer of one wire, for a client of one dialect
        static constexpr WireFormat kWires[] = {WireFormat::openai, WireFormat::gemini, WireFormat::bedrock,
                                                WireFormat::bedrock};
        static constexpr const char* kModels[] = {"text-embedding-3-small", "gemini-embedding-001",
                                                  "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"};
        size_t pick = (selector >> 2) % 4;
        EmbeddingsAnswerOptions options;
        options.wire = kWires[pick];
        options.upstream_model = kModels[pick];
        options.dialect = (selector & 0x40) ? Dialect::google : Dialect::openai;
        options.gemini_single = (selector & 0x80) != 0;
        options.encoding = (selector & 0x10) ? EmbeddingEncoding::base64 : EmbeddingEncoding::floats;
        options.inputs = 1 + ((selector >> 5) & 1);
        auto translator = embeddings_answer_translator(options);
        std::string out;
        for (size_t at = 0; at < body.size(); at += 7) translator->feed(body.substr(at, 7), &out);
        bool complete = translator->finish(&out);
        fuzz::check(complete == translator->complete(), "finish and complete disagree", out);
        fuzz::check(complete != translator->saw_error(), "an answer both complete and in error", out);
        fuzz::check(fuzz::valid_json_document(out), "the embeddings answer is not valid JSON", out);
        return 0;
    }
    }
    if (!ok) {
        fuzz::check(err.status == 400, "a refused embeddings body is not a 400", err.message);
        fuzz::check(fuzz::valid_json_document(openai_error_body(err)), "the OpenAI error body is not valid JSON", err.message);
        fuzz::check(fuzz::valid_json_document(google_error_body(err)), "the Google error body is not valid JSON", err.message);
        return 0;
    }
    fuzz::check(!req.inputs.empty(), "an accepted body without inputs", std::string(body));
    for (WireFormat wire : {WireFormat::openai, WireFormat::gemini, WireFormat::bedrock}) {
        for (const char* model : {"text-embedding-3-small", "amazon.titan-embed-text-v2:0", "cohere.embed-v4:0"}) {
            std::string why;
            if (!embeddings_expressible(wire, model, req, &why)) continue;
            std::string upstream = embeddings_upstream_body(wire, req, model);
            fuzz::check(fuzz::valid_json_document(upstream), "an upstream embeddings body is not valid JSON", upstream);
        }
    }
    return 0;
}
