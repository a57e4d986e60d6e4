// The OpenAI Chat Completions wire (openai, azure, together, groq, zai, mimo, dashscope,
// openai_compat): body spliced, JSON answers relayed untouched, SSE through the stream relay.
#include "egress/error_class.hpp"
#include "egress/openai/openai_compat_errors.hpp"
#include "egress/openai/openai_stream_translator.hpp"
#include "egress/wire_adapters.hpp"

namespace routeshift {
namespace {

class OpenAIWire final : public WireAdapter {
public:
    bool endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model, bool,
                  UpstreamEndpoint* out, std::string* error) const override {
        return chat_endpoint(cfg, key, upstream_model, out, error);
    }
    bool build_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                    std::string_view upstream_model, std::string* out, ApiError*) const override {
        if (req.host_splices_body) out->clear();  // spliced_request builds it per attempt
        else *out = build_chat_body(cfg, key, req, upstream_model);
        return true;
    }
    bool spliced_request(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep, const ChatRequest& req,
                         std::string_view upstream_model, std::string* head, SplicedBody* body) const override {
        splice_chat_body(cfg, key, req, upstream_model, body);
        *head = build_http_request_head(cfg, key, ep, req.stream, body->size);
        return true;
    }
    bool body_depends_on_key(const Config& cfg, const ProviderKey& key) const override {
        return cfg.providers[key.provider].kind == ProviderKind::azure;  // v1: deployment from metadata
    }
    bool request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                      std::string_view body, int64_t, std::string* out, std::string*) const override {
        *out = build_http_request_head(cfg, key, ep, stream, body.size());
        return true;
    }
    bool converts() const override { return false; }
    std::unique_ptr<ResponseTranslator> translator(const TranslatorOptions& opt,
                                                   std::string_view content_type) const override {
        if (opt.stream && content_type.find("text/event-stream") != std::string_view::npos) {
            return openai_stream_translator(opt.include_usage);
        }
        return nullptr;  // JSON passes through untouched
    }
    ErrorVerdict classify_error(int status, std::string_view body, const ErrorContext&) const override {
        return openai_classify_error(status, body);
    }
    std::string client_error_body(int status, std::string_view body, const ErrorContext& ctx) const override {
        std::string envelope = normalize_upstream_error(status, body, ctx.secrets);
        if (status < 400 || status >= 500) return envelope;
        return error_body_with_class_code(std::move(envelope), upstream_error_class(openai_classify_error(status, body)));
    }
};

}  // namespace

const WireAdapter& openai_wire() {
    static const OpenAIWire adapter;
    return adapter;
}

}  // namespace routeshift
